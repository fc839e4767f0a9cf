#!/usr/bin/env python3
"""Cold MVT: `tuilerie seed --format mvt` vs `ogr2ogr -f MVT` vs geojson-vt + vt-pbf on the same layers.

The layers are the tileset's `vector.layers` of config/demo.yaml (name, minzoom, fields), read from the
datasources of its Mapnik XML. ogr2ogr reads them through an OGR VRT written from that XML. geojson-vt
needs GeoJSON in WGS 84, so ogr2ogr converts each layer first; that conversion is timed on its own and
added in the "with conversion" column. All three write gzip-compressed tiles with extent 4096 and a
buffer of 64 units. Tiles/s divides the tiles inside the tileset's bounds over the zoom range (the same
figure for all three) by the whole process's wall time, reading included.
"""

import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path
from xml.sax.saxutils import escape

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402

# Zoom ranges chosen so that one run of the slowest tool stays near a minute here (2 shared cores);
# change them with BENCH_MVT_SEEDS="flood:0-14 noise:0-14".
SEEDS = os.environ.get("BENCH_MVT_SEEDS", "flood:0-12 noise:0-12")
RUN_TIMEOUT = 900
JS_DIR = benchlib.BENCH_DIR / "js"


def parse_seeds():
    seeds = []
    for item in SEEDS.split():
        tileset, _, zooms = item.partition(":")
        low, _, high = zooms.partition("-")
        seeds.append((tileset, int(low), int(high or low)))
    return seeds


def vector_layers(tileset, config=benchlib.DEMO_CONFIG):
    """Return [(layer, minzoom, [fields])] of TILESET's `vector.layers` in a config like demo.yaml."""
    text = Path(config).read_text()
    block = re.search(rf"\n  {tileset}:\n(.*?)(?=\n  \S|\n\S|\Z)", text, re.S).group(1)
    layers_text = block.split("      layers:\n", 1)[1]
    layers = []
    for match in re.finditer(r"^        (\w+):\n((?:          .*\n?)*)", layers_text, re.M):
        body = match.group(2)
        minzoom = re.search(r"minzoom: (\d+)", body)
        fields = re.search(r"fields: \[(.*?)\]", body, re.S)
        layers.append((match.group(1), int(minzoom.group(1)) if minzoom else 0,
                       [f.strip() for f in fields.group(1).split(",")] if fields else []))
    return layers


def style_datasources(tileset):
    """Return {layer: (srs, {parameter: value})} of the Mapnik XML styles/TILESET.xml, paths made absolute."""
    style = benchlib.ROOT_DIR / "styles" / f"{tileset}.xml"
    sources = {}
    for layer in ElementTree.parse(style).getroot().iter("Layer"):
        parameters = {p.get("name"): p.text for p in layer.iter("Parameter")}
        if "file" in parameters:
            parameters["file"] = str((style.parent / parameters["file"]).resolve())
        sources[layer.get("name")] = (layer.get("srs"), parameters)
    return sources


def source_layer_name(path):
    output = subprocess.run(["ogrinfo", "-q", "-ro", path], capture_output=True, text=True).stdout
    return re.search(r"^1: (.+?) \(", output, re.M).group(1)


def write_vrt(tileset, layers, path):
    sources = style_datasources(tileset)
    parts = ["<OGRVRTDataSource>"]
    for name, _, fields in layers:
        srs, parameters = sources[name]
        parts.append(f'  <OGRVRTLayer name="{name}">')
        parts.append(f"    <SrcDataSource>{escape(parameters['file'])}</SrcDataSource>")
        if "layer_by_sql" in parameters:
            parts.append(f"    <SrcSQL>{escape(parameters['layer_by_sql'])}</SrcSQL>")
        else:
            parts.append(f"    <SrcLayer>{escape(parameters.get('layer') or source_layer_name(parameters['file']))}"
                         "</SrcLayer>")
        parts.append(f"    <LayerSRS>{srs.upper()}</LayerSRS>")
        parts += [f'    <Field name="{f}" src="{f}"/>' for f in fields]
        parts.append("  </OGRVRTLayer>")
    parts.append("</OGRVRTDataSource>")
    Path(path).write_text("\n".join(parts) + "\n")


def directory_tiles(path):
    files = [p for p in Path(path).rglob("*.pbf")]
    return len(files), sum(p.stat().st_size for p in files)


def run_tuilerie(tmp, tileset, minzoom, maxzoom):
    cache = tmp / "mvt-cache"
    shutil.rmtree(cache, ignore_errors=True)
    command = [str(benchlib.TUILERIE_BIN), "seed", "--config", str(benchlib.DEMO_CONFIG), "--cache",
               str(cache), "--tileset", tileset, "--zoom", f"{minzoom}-{maxzoom}", "--format", "mvt",
               "--threads", str(benchlib.RENDER_THREADS)]
    wall, status, output = benchlib.run_timed(command, RUN_TIMEOUT, tmp / "tuilerie-seed.log")
    if status != 0:
        benchlib.fail(f"tuilerie seed exited with status {status}: {output[-500:]}")
    mbtiles = tmp / "tuilerie.mbtiles"
    subprocess.run([str(benchlib.TUILERIE_BIN), "cache", "export", "--config", str(benchlib.DEMO_CONFIG),
                    "--cache", str(cache), "--tileset", tileset, "--format", "mvt", "--mbtiles", str(mbtiles)],
                   check=True, capture_output=True)
    with sqlite3.connect(mbtiles) as database:
        tiles, size = database.execute(
            "SELECT count(*), coalesce(sum(length(tile_data)), 0) FROM tiles WHERE length(tile_data) > 0"
        ).fetchone()
    mbtiles.unlink()
    return wall, tiles, size


def run_ogr2ogr(tmp, vrt, layers, minzoom, maxzoom):
    out = tmp / "ogr2ogr-tiles"
    shutil.rmtree(out, ignore_errors=True)
    conf = {name: {"minzoom": max(minzoom, layer_minzoom), "maxzoom": maxzoom}
            for name, layer_minzoom, _ in layers}
    command = ["ogr2ogr", "-f", "MVT", str(out), str(vrt), "-dsco", f"MINZOOM={minzoom}",
               "-dsco", f"MAXZOOM={maxzoom}", "-dsco", "EXTENT=4096", "-dsco", "BUFFER=64",
               "-dsco", f"CONF={json.dumps(conf)}", "-dsco", "COMPRESS=YES"]
    wall, status, output = benchlib.run_timed(command, RUN_TIMEOUT, tmp / "ogr2ogr.log",
                                              env=dict(os.environ, GDAL_NUM_THREADS=str(benchlib.RENDER_THREADS)))
    if status != 0:
        benchlib.fail(f"ogr2ogr -f MVT exited with status {status}: {output[-500:]}")
    return (wall,) + directory_tiles(out)


def convert_geojson(tmp, vrt, layers):
    """Write each layer as GeoJSON in WGS 84 for geojson-vt; return the wall time and the files."""
    out = tmp / "geojson"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir()
    total = 0.0
    files = []
    for name, layer_minzoom, _ in layers:
        target = out / f"{name}.geojson"
        wall, status, output = benchlib.run_timed(
            ["ogr2ogr", "-f", "GeoJSON", "-t_srs", "EPSG:4326", str(target), str(vrt), name], RUN_TIMEOUT,
            tmp / "geojson.log")
        if status != 0:
            benchlib.fail(f"ogr2ogr -f GeoJSON for layer {name} exited with status {status}: {output[-500:]}")
        total += wall
        files.append(f"{name}={target}:{layer_minzoom}")
    return total, files


def run_geojson_vt(tmp, files, bbox, minzoom, maxzoom):
    out = tmp / "geojson-vt-tiles"
    shutil.rmtree(out, ignore_errors=True)
    command = ["node", str(JS_DIR / "geojson_vt_tiles.js"), str(out), str(minzoom), str(maxzoom),
               ",".join(map(str, bbox))] + files
    wall, status, output = benchlib.run_timed(command, RUN_TIMEOUT, tmp / "geojson-vt.log")
    if status != 0:
        benchlib.fail(f"geojson-vt exited with status {status}: {output[-500:]}")
    summary = json.loads(output.strip().splitlines()[-1])
    return wall, summary["tiles"], summary["bytes"]


def ensure_node_packages():
    if not (JS_DIR / "node_modules" / "geojson-vt").is_dir():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=JS_DIR, check=True, timeout=600)


def main():
    benchlib.require_tuilerie()
    benchlib.require("ogr2ogr", "ogrinfo", "node", "npm")
    ensure_node_packages()
    load_before = benchlib.load_average()
    tmp = benchlib.make_temp_dir("cold-mvt")
    rows = []
    for tileset, minzoom, maxzoom in parse_seeds():
        layers = vector_layers(tileset)
        bbox = benchlib.tileset_bounds(tileset)
        inside = benchlib.tiles_in_bbox(bbox, range(minzoom, maxzoom + 1))
        vrt = tmp / f"{tileset}.vrt"
        write_vrt(tileset, layers, vrt)
        runs = {"tuilerie": [], "ogr2ogr": [], "geojson-vt": []}
        conversions = []
        for run in range(benchlib.RUNS):
            runs["tuilerie"].append(run_tuilerie(tmp, tileset, minzoom, maxzoom))
            runs["ogr2ogr"].append(run_ogr2ogr(tmp, vrt, layers, minzoom, maxzoom))
            conversion, files = convert_geojson(tmp, vrt, layers)
            conversions.append(conversion)
            runs["geojson-vt"].append(run_geojson_vt(tmp, files, bbox, minzoom, maxzoom))
            print(f"{tileset} run {run + 1}: " + ", ".join(
                f"{name} {r[-1][0]:.1f} s, {r[-1][1]} tiles, {r[-1][2]} bytes" for name, r in runs.items())
                + f" (GeoJSON conversion {conversion:.1f} s)")
        conversion = benchlib.median(conversions)
        geojson_vt_rate = benchlib.median([inside / r[0] for r in runs["geojson-vt"]])
        ogr_rate = benchlib.median([inside / r[0] for r in runs["ogr2ogr"]])
        for name, results in runs.items():
            wall = benchlib.median([r[0] for r in results])
            rate = benchlib.median([inside / r[0] for r in results])
            with_conversion = benchlib.fmt(wall + conversion, 1) if name == "geojson-vt" else "same"
            rows.append([tileset, f"z{minzoom}-{maxzoom}", name, inside, results[0][1], results[0][2],
                         benchlib.fmt(wall, 1), with_conversion, benchlib.fmt(rate, 0),
                         benchlib.ratio(rate, geojson_vt_rate), benchlib.ratio(rate, ogr_rate),
                         " / ".join(f"{r[0]:.1f}" for r in results)])
    table = benchlib.markdown_table(
        ["Tileset", "Zooms", "Tool", "Tiles in bbox", "Tiles written", "Bytes written (gzip)",
         "Seconds (median)", "Seconds with conversion", "Tiles in bbox/s", "vs geojson-vt", "vs ogr2ogr",
         "Seconds per run"], rows)
    notes = (f"Layers, minzooms and fields: the tileset's `vector.layers` in config/demo.yaml. Tuilerie: "
             f"`tuilerie seed --format mvt --threads {benchlib.RENDER_THREADS}`, the whole process; tiles "
             "written and bytes are its non-empty cached tiles (exported to MBTiles). ogr2ogr: GDAL's MVT "
             "writer from an OGR VRT of the same sources (its tiles cover the features, not the bounds). "
             "geojson-vt 4 + vt-pbf 3 in Node.js, every tile of the bounds, from GeoJSON that ogr2ogr "
             "converted first; `Seconds with conversion` adds that step. Ratios are of tiles in bbox/s.")
    benchlib.publish("Cold MVT (bench/cold_mvt.py)", load_before, table, notes, packages=("gdal-bin", "nodejs"))


if __name__ == "__main__":
    main()
