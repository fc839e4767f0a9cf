#!/usr/bin/env python3
"""Writes fuzz/corpus/mvt_geometry/geojson-*.txt from the GeoJSON cases of tests/data/mvt/.

Each feature becomes directives of the mvt_geometry_fuzzer input format (fuzz/README.md) in the tile
units of tile 14/8299/5636, central Paris, where the cases lie, with an extent of 4096. Run it again
after a case changes; it only needs Python 3.
"""

import json
import math
import pathlib

ROOT = pathlib.Path(__file__).resolve().parent.parent
CASES = ROOT / "tests" / "data" / "mvt"
OUTPUT = ROOT / "fuzz" / "corpus" / "mvt_geometry"

ZOOM, TILE_X, TILE_Y, EXTENT = 14, 8299, 5636, 4096


def to_tile_units(lon, lat):
    """Spherical Mercator in XYZ tile units, y growing southwards: the formulas of the tile scheme."""
    scale = 2**ZOOM
    x = (lon + 180) / 360 * scale
    y = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * scale
    return (x - TILE_X) * EXTENT, (y - TILE_Y) * EXTENT


def coordinates(positions):
    words = []
    for lon, lat in positions:
        x, y = to_tile_units(lon, lat)
        words += [f"{x:.3f}", f"{y:.3f}"]
    return " ".join(words)


def polygon_lines(rings):
    lines = [f"polygon {coordinates(rings[0])}"]
    lines += [f"hole {coordinates(ring)}" for ring in rings[1:]]
    return lines


def geometry_lines(geometry):
    kind, parts = geometry["type"], geometry["coordinates"]
    if kind == "Point":
        return [f"points {coordinates([parts])}"]
    if kind == "MultiPoint":
        return [f"points {coordinates(parts)}"]
    if kind == "LineString":
        return [f"line {coordinates(parts)}"]
    if kind == "MultiLineString":
        return [f"line {coordinates(part)}" for part in parts]
    if kind == "Polygon":
        return polygon_lines(parts)
    if kind == "MultiPolygon":
        return [line for polygon in parts for line in polygon_lines(polygon)]
    raise ValueError(f"unsupported geometry type {kind}")


def tag_lines(properties):
    """Returns a tag directive per property, with '_' for spaces because the fuzzer splits lines on them."""
    lines = []
    for key, value in properties.items():
        if value is None or " " in key:
            continue
        text = json.dumps(value) if isinstance(value, bool) else str(value)
        lines.append(f"tag {key} {text.replace(' ', '_') or '_'}")
    return lines


def main():
    for case in sorted(CASES.glob("*.geojson")):
        collection = json.loads(case.read_text(encoding="utf-8"))
        # lambert93_point.geojson is in EPSG:2154 metres, which these formulas do not take.
        if case.stem.startswith("lambert93"):
            continue
        lines = [f"# {case.name}, tile {ZOOM}/{TILE_X}/{TILE_Y}", f"extent {EXTENT}", "buffer 64", "simplify 1"]
        for index, feature in enumerate(collection["features"]):
            lines.append(f"id {index + 1}")
            lines += geometry_lines(feature["geometry"])
            lines += tag_lines(feature.get("properties") or {})
        (OUTPUT / f"geojson-{case.stem}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
