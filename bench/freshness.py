#!/usr/bin/env python3
"""Freshness: time from a changed data file to the first tile response that carries the new ETag.

A copy of config/, styles/ and data/ goes to a temp dir and a server runs on it. Each run changes the
communes GeoJSON: the communes within 0.15° of Orléans are removed, then put back on the next run.
The change is made either by writing a new file and renaming it over the old one, as editors and GIS
tools do, or by rewriting the file in place. The script then polls the z10 tile over Orléans every
10 ms until its ETag changes. No peer
is measured: nginx serves files and does not render, and renderd only re-renders tiles older than a
planet timestamp that its import tools set.
"""

import http.client
import json
import os
import shutil
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402

TILESET = "communes"
DATA_FILE = "data/admin/communes-45-loiret.geojson"
TARGET_SECONDS = 2.0
POLL_SECONDS = 0.01
TIMEOUT_SECONDS = 15


def tile_etag(connection, path):
    connection.request("GET", path)
    response = connection.getresponse()
    response.read()
    return response.status, response.getheader("ETag")


def variant_without_orleans(original):
    """Return the GeoJSON text without the communes whose first vertex lies within 0.15° of Orléans."""
    collection = json.loads(original)
    lon0, lat0 = benchlib.ORLEANS

    def first_vertex(geometry):
        coordinates = geometry["coordinates"]
        while isinstance(coordinates[0], list):
            coordinates = coordinates[0]
        return coordinates

    collection["features"] = [
        f for f in collection["features"]
        if max(abs(first_vertex(f["geometry"])[0] - lon0), abs(first_vertex(f["geometry"])[1] - lat0)) > 0.15]
    return json.dumps(collection)


def write_data(path, text, mode):
    if mode == "rename":
        temporary = path.with_suffix(".tmp")
        temporary.write_text(text)
        os.replace(temporary, path)
    else:
        with open(path, "w") as data:
            data.write(text)


def one_change(port, tile_path, data_path, text, mode):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    status, before = tile_etag(connection, tile_path)
    if status != 200:
        benchlib.fail(f"{tile_path} answered {status} before the change")
    begin = time.monotonic()
    write_data(data_path, text, mode)
    while time.monotonic() - begin < TIMEOUT_SECONDS:
        status, etag = tile_etag(connection, tile_path)
        if status == 200 and etag != before:
            connection.close()
            return time.monotonic() - begin
        time.sleep(POLL_SECONDS)
    connection.close()
    return None


def main():
    benchlib.require_tuilerie()
    load_before = benchlib.load_average()
    tmp = benchlib.make_temp_dir("freshness")
    tree = tmp / "tree"
    for folder in ("config", "styles", "data"):
        shutil.copytree(benchlib.ROOT_DIR / folder, tree / folder)
    data_path = tree / DATA_FILE
    original = data_path.read_text()
    variants = [variant_without_orleans(original), original]

    server, port = benchlib.start_tuilerie(tree / "config" / "demo.yaml", tmp / "cache", tmp / "tuilerie.log")
    x, y = benchlib.lonlat_to_tile(*benchlib.ORLEANS, 10)
    tile_path = f"/tiles/{TILESET}/10/{x}/{y}.png"
    results = {"rename": [], "in place": []}
    change = 0
    for run in range(benchlib.RUNS):
        for mode in results:
            seconds = one_change(port, tile_path, data_path, variants[change % 2], mode)
            change += 1
            results[mode].append(seconds)
            print(f"{mode} run {run + 1}: " + (f"{seconds:.3f} s" if seconds is not None else "no new ETag"))
            # Let the watcher settle so that one change does not fold into the next.
            time.sleep(1)
    benchlib.stop(server)

    rows = []
    for mode, seconds in results.items():
        value = benchlib.median([s for s in seconds if s is not None]) if None not in seconds else None
        verdict = "met" if value is not None and value <= TARGET_SECONDS else "missed"
        rows.append([mode, benchlib.fmt(value, 3), f"≤ {TARGET_SECONDS:.0f} s: {verdict}",
                     " / ".join(f"{s:.3f}" if s is not None else f"> {TIMEOUT_SECONDS}" for s in seconds)])
    table = benchlib.markdown_table(["Change", "Seconds to new ETag (median)", "Target", "Seconds per run"], rows)
    notes = (f"`{DATA_FILE}` changed under a running server, `{tile_path}` polled every "
             f"{POLL_SECONDS * 1000:.0f} ms; a run that sees no new ETag within {TIMEOUT_SECONDS} s counts as "
             "missed. The server's file watch waits 300 ms after the last change before it reloads.")
    benchlib.publish("Freshness (bench/freshness.py)", load_before, table, notes)


if __name__ == "__main__":
    main()
