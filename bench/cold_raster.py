#!/usr/bin/env python3
"""Cold raster: `tuilerie seed` vs renderd's render_list on the same Mapnik XML, then a viewport burst.

Seeding: the flood and overview tilesets over their bounds, PNG, BENCH_RENDER_THREADS threads on both
sides (renderd num_threads and render_list -n), metatile 8 on both sides (renderd's is fixed at build
time). Tiles are counted the same way for both: the tiles inside the bbox over the zoom range, and the
tiles written (every tile of each rendered metatile). Tuilerie's time is the whole `seed` process,
style loading included; renderd's is render_list's run against a daemon whose styles are loaded.

Viewport burst: 20 cold tiles (5 × 4 around Orléans) sent at once, one connection each, to a running
Tuilerie with an empty cache and to Apache + mod_tile with an empty renderd tile folder.
"""

import os
import re
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402
import peer_servers  # noqa: E402

# Zoom ranges chosen so that one seed run stays well under a minute here (2 shared cores); the
# tileset names and ranges can be changed with BENCH_SEEDS="flood:0-13 overview:0-11".
SEEDS = os.environ.get("BENCH_SEEDS", "flood:0-13 overview:0-11")
BURST_TILESET = "overview"
BURST_ZOOMS = (13, 14, 15)
SEED_TIMEOUT = 900


def parse_seeds():
    seeds = []
    for item in SEEDS.split():
        tileset, _, zooms = item.partition(":")
        low, _, high = zooms.partition("-")
        seeds.append((tileset, range(int(low), int(high or low) + 1)))
    return seeds


def tiles_per_metatile(zoom):
    return min(8, 2 ** zoom) ** 2


def metatile_starts(bbox, zooms):
    """Return one tile (z, x, y) per metatile that intersects BBOX at each zoom."""
    tiles = []
    for zoom in zooms:
        xmin, xmax, ymin, ymax = benchlib.tile_range(bbox, zoom)
        for mx in range(xmin // 8, xmax // 8 + 1):
            for my in range(ymin // 8, ymax // 8 + 1):
                tiles.append((zoom, max(mx * 8, xmin), max(my * 8, ymin)))
    return tiles


def seed_tuilerie(tmp, tileset, zooms, run):
    cache = tmp / f"seed-cache-{tileset}-{run}"
    command = [str(benchlib.TUILERIE_BIN), "seed", "--config", str(benchlib.DEMO_CONFIG), "--cache",
               str(cache), "--tileset", tileset, "--zoom", f"{zooms[0]}-{zooms[-1]}",
               "--threads", str(benchlib.RENDER_THREADS)]
    wall, status, output = benchlib.run_timed(command, SEED_TIMEOUT, tmp / "seed.log")
    shutil.rmtree(cache, ignore_errors=True)
    match = re.search(r"(\d+) tiles rendered, (\d+) skipped, (\d+) failed", output)
    if status != 0 or not match:
        benchlib.fail(f"tuilerie seed exited with status {status}: {output[-500:]}")
    return wall, int(match.group(1))


def seed_renderd(tmp, daemon, tileset, bbox, zooms):
    shutil.rmtree(daemon.tile_dir / tileset, ignore_errors=True)
    wall = daemon.render_list(tileset, metatile_starts(bbox, zooms), benchlib.RENDER_THREADS, SEED_TIMEOUT,
                              tmp / "render_list.log")
    written = peer_servers.metatile_files(daemon.tile_dir, tileset)
    return wall, sum(count * tiles_per_metatile(zoom) for zoom, count in written.items())


def measure_seeds(tmp, daemon):
    rows = []
    for tileset, zooms in parse_seeds():
        bbox = benchlib.tileset_bounds(tileset)
        inside = benchlib.tiles_in_bbox(bbox, zooms)
        runs = {"tuilerie": [], "renderd": []}
        for run in range(benchlib.RUNS):
            runs["tuilerie"].append(seed_tuilerie(tmp, tileset, zooms, run))
            if daemon:
                runs["renderd"].append(seed_renderd(tmp, daemon, tileset, bbox, zooms))
            print(f"{tileset} run {run + 1}: " + ", ".join(
                f"{name} {r[-1][0]:.1f} s, {r[-1][1]} tiles written" for name, r in runs.items() if r))
        renderd_rate = benchlib.median([inside / wall for wall, _ in runs["renderd"]]) if daemon else None
        for name, results in runs.items():
            if not results:
                continue
            rate = benchlib.median([inside / wall for wall, _ in results])
            written_rate = benchlib.median([written / wall for wall, written in results])
            rows.append([tileset, f"z{zooms[0]}-{zooms[-1]}", name, inside, results[0][1],
                         benchlib.fmt(benchlib.median([wall for wall, _ in results]), 1),
                         benchlib.fmt(rate, 1), benchlib.fmt(written_rate, 1),
                         benchlib.ratio(rate, renderd_rate),
                         " / ".join(f"{wall:.1f}" for wall, _ in results)])
    return benchlib.markdown_table(
        ["Tileset", "Zooms", "Renderer", "Tiles in bbox", "Tiles written", "Seconds (median)",
         "Tiles in bbox/s", "Tiles written/s", "vs renderd", "Seconds per run"], rows)


def viewport(zoom):
    """Return 20 tiles, 5 across and 4 down, around Orléans at ZOOM."""
    x0, y0 = benchlib.lonlat_to_tile(*benchlib.ORLEANS, zoom)
    return [(zoom, x, y) for x in range(x0 - 2, x0 + 3) for y in range(y0 - 2, y0 + 2)]


def percentile_95(values):
    ordered = sorted(values)
    return ordered[max(0, -(-95 * len(ordered) // 100) - 1)]


def burst_once(port, zoom):
    paths = [f"/tiles/{BURST_TILESET}/{z}/{x}/{y}.png" for z, x, y in viewport(zoom)]
    results = benchlib.burst(port, paths, 120)
    failures = [status for _, status in results if status != 200]
    return percentile_95([ms for ms, _ in results]), max(ms for ms, _ in results), len(failures)


def load_styles_tuilerie(port):
    """Load the style on both render threads: two tiles of different metatiles far from Orléans."""
    benchlib.burst(port, [f"/tiles/{BURST_TILESET}/12/2040/1400.png", f"/tiles/{BURST_TILESET}/12/2060/1420.png"])


def measure_bursts(tmp, daemon):
    runs = {(name, zoom): [] for name in ("tuilerie", "apache+mod_tile") for zoom in BURST_ZOOMS}
    apache_port = peer_servers.start_apache(tmp, daemon)[1] if daemon else None
    for run in range(benchlib.RUNS):
        for zoom in BURST_ZOOMS:
            server, port = benchlib.start_tuilerie(benchlib.DEMO_CONFIG, tmp / f"burst-cache-{run}-{zoom}",
                                                   tmp / "tuilerie.log")
            load_styles_tuilerie(port)
            runs[("tuilerie", zoom)].append(burst_once(port, zoom))
            benchlib.stop(server)
            if apache_port:
                shutil.rmtree(daemon.tile_dir / BURST_TILESET, ignore_errors=True)
                runs[("apache+mod_tile", zoom)].append(burst_once(apache_port, zoom))
            print(f"burst z{zoom} run {run + 1}: " + ", ".join(
                f"{name} p95 {r[-1][0]:.0f} ms" for (name, z), r in runs.items() if z == zoom and r))
    rows = []
    for zoom in BURST_ZOOMS:
        peer = benchlib.median([p95 for p95, _, _ in runs[("apache+mod_tile", zoom)]])
        for name in ("tuilerie", "apache+mod_tile"):
            results = runs[(name, zoom)]
            if not results:
                continue
            p95 = benchlib.median([p95 for p95, _, _ in results])
            rows.append([zoom, name, benchlib.fmt(p95, 0), benchlib.ratio(p95, peer),
                         benchlib.fmt(benchlib.median([m for _, m, _ in results]), 0),
                         sum(f for _, _, f in results), " / ".join(f"{p:.0f}" for p, _, _ in results)])
    return benchlib.markdown_table(
        ["Zoom", "Server", "p95 ms (median)", "vs mod_tile (time, lower is better)", "max ms (median)", "Non-200", "p95 ms per run"],
        rows)


def main():
    benchlib.require_tuilerie()
    load_before = benchlib.load_average()
    tmp = benchlib.make_temp_dir("cold-raster")
    peer_servers.open_to_workers(tmp)
    daemon, note = None, ""
    if shutil.which("renderd") and shutil.which("render_list"):
        tilesets = sorted({t for t, _ in parse_seeds()} | {BURST_TILESET})
        daemon = peer_servers.renderd(tmp, tilesets, benchlib.RENDER_THREADS, tmp / "renderd-tiles").start()
    else:
        note = "renderd not measured: renderd or render_list missing (scripts/install-deps.sh --bench)."

    seeds = measure_seeds(tmp, daemon)
    notes = (f"PNG, {benchlib.RENDER_THREADS} render threads on both sides, metatile 8. Tiles in bbox: the "
             "tiles that intersect the tileset's bounds, the same figure for both. Tiles written: every "
             "tile of each rendered metatile (Tuilerie's `tiles rendered`; for renderd, its .meta files "
             "times the tiles per metatile). Tuilerie's seconds are the whole `tuilerie seed` process; "
             "renderd's are `render_list` fed one tile per metatile, with the daemon already running.")
    if note:
        notes += "\n\n" + note
    benchlib.publish("Cold raster seeding (bench/cold_raster.py)", load_before, seeds, notes,
                     packages=("renderd",))

    load_before = benchlib.load_average()
    bursts = measure_bursts(tmp, daemon)
    notes = (f"20 cold PNG tiles of `{BURST_TILESET}` (5 × 4 around Orléans) requested at once on 20 "
             "connections. Tuilerie: a new server and an empty cache per run, its style loaded on both "
             "render threads by two tiles elsewhere first. Apache + mod_tile: renderd's tile folder emptied "
             "before each run. p95 of 20 values is the 19th slowest.")
    benchlib.publish("Viewport burst (bench/cold_raster.py)", load_before, bursts, notes,
                     packages=("apache2", "libapache2-mod-tile", "renderd"))


if __name__ == "__main__":
    main()
