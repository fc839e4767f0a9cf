#!/usr/bin/env python3
"""Warm cache: Tuilerie on cached tiles vs nginx on the same bytes vs Apache + mod_tile on renderd's tiles.

The tile list is metatile-clustered random tiles z8-16 inside the Loiret (bench/tile_list.py) of the
communes tileset. Tuilerie renders them once, then they are fetched again from its cache into a z/x/y
folder that nginx serves; renderd renders the same tiles from the same Mapnik XML for mod_tile. wrk
then draws random tiles from the list at 64 and 256 keep-alive connections, BENCH_RUNS times per server,
the servers taking turns so that a change of machine load falls on all of them.
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402
import peer_servers  # noqa: E402
from tile_list import metatile_cluster_tiles  # noqa: E402

TILESET = "communes"
CONNECTIONS = (64, 256)


def prepare_tuilerie(tmp, tiles):
    cache = tmp / "cache"
    server, port = benchlib.start_tuilerie(benchlib.DEMO_CONFIG, cache, tmp / "tuilerie.log")
    paths = [f"/tiles/{TILESET}/{z}/{x}/{y}.png" for z, x, y in tiles]
    begin = time.monotonic()
    warm = benchlib.fetch_all(port, paths)
    print(f"warmed the cache with {len(paths)} tiles in {time.monotonic() - begin:.1f} s: {warm}")
    exported = benchlib.fetch_all(port, paths, save_dir=tmp / "static")
    if exported != {200: len(paths)}:
        benchlib.fail(f"fetching the warm tiles from Tuilerie gave {exported}, expected 200 for all")
    return server, port


def prepare_mod_tile(tmp, tiles):
    """Start renderd and Apache with the list rendered; return (apache, port) or None with the reason."""
    missing = [c for c in ("renderd", "render_list", "apache2") if not any(
        os.access(os.path.join(d, c), os.X_OK) for d in os.environ["PATH"].split(":") + ["/usr/sbin"])]
    if missing:
        return None, f"not measured: {', '.join(missing)} missing (scripts/install-deps.sh --bench)"
    daemon = peer_servers.renderd(tmp, [TILESET], benchlib.RENDER_THREADS, tmp / "renderd-tiles").start()
    # One tile per metatile: render_list sends every tile it is given, and renderd renders the whole
    # metatile for each of them.
    one_per_metatile = list({(z, x // 8, y // 8): (z, x, y) for z, x, y in tiles}.values())
    wall = daemon.render_list(TILESET, one_per_metatile, benchlib.RENDER_THREADS, 1800, tmp / "render_list.log")
    written = peer_servers.metatile_files(daemon.tile_dir, TILESET)
    print(f"render_list wrote {sum(written.values())} metatiles in {wall:.1f} s")
    apache, port = peer_servers.start_apache(tmp, daemon)
    statuses = benchlib.fetch_all(port, [f"/tiles/{TILESET}/{z}/{x}/{y}.png" for z, x, y in tiles[:50]])
    if statuses != {200: 50}:
        return None, f"not measured: Apache with mod_tile answered {statuses} for 50 rendered tiles"
    return (apache, port), ""


def measure(servers, list_file):
    results = {(name, c): [] for name in servers for c in CONNECTIONS}
    for connections in CONNECTIONS:
        for run in range(benchlib.RUNS):
            for name, port in servers.items():
                result = benchlib.run_wrk(port, "tiles.lua", [list_file, f"/tiles/{TILESET}/", ".png"],
                                          connections, benchlib.LOAD_SECONDS)
                print(f"{name} c={connections} run {run + 1}: {result['rps']:.0f} req/s, "
                      f"p50 {result['p50_ms']:.2f} ms, p99 {result['p99_ms']:.2f} ms")
                results[(name, connections)].append(result)
    return results


def error_summary(runs):
    """Return the wrk errors over RUNS by kind, as `status 12, read 3`, or 0."""
    kinds = ("status", "connect", "read", "write", "timeout")
    totals = {kind: sum(r[f"errors_{kind}"] for r in runs) for kind in kinds}
    return ", ".join(f"{kind} {count}" for kind, count in totals.items() if count) or "0"


def table(servers, results):
    rows = []
    for connections in CONNECTIONS:
        nginx_rps = benchlib.median([r["rps"] for r in results[("nginx", connections)]])
        for name in servers:
            runs = results[(name, connections)]
            rps = benchlib.median([r["rps"] for r in runs])
            errors = error_summary(runs)
            rows.append([name, connections, benchlib.fmt(rps, 0), benchlib.ratio(rps, nginx_rps),
                         benchlib.fmt(benchlib.median([r["p50_ms"] for r in runs]), 2),
                         benchlib.fmt(benchlib.median([r["p99_ms"] for r in runs]), 2),
                         errors, " / ".join(f"{r['rps']:.0f}" for r in runs)])
    return benchlib.markdown_table(
        ["Server", "Connections", "Requests/s (median)", "vs nginx", "p50 ms", "p99 ms", "Errors",
         "Requests/s per run"], rows)


def main():
    benchlib.require_tuilerie()
    benchlib.require("wrk", "nginx")
    load_before = benchlib.load_average()
    tmp = benchlib.make_temp_dir("warm")
    peer_servers.open_to_workers(tmp)
    tiles = metatile_cluster_tiles(benchlib.LOIRET_BBOX, range(8, 17), 4, seed=8)
    list_file = tmp / "tiles.txt"
    list_file.write_text("".join(f"{z}/{x}/{y}\n" for z, x, y in tiles))

    servers = {}
    _, servers["tuilerie"] = prepare_tuilerie(tmp, tiles)
    _, servers["nginx"] = peer_servers.start_nginx(tmp, tmp / "static", TILESET)
    mod_tile, mod_tile_note = prepare_mod_tile(tmp, tiles)
    if mod_tile:
        servers["apache+mod_tile"] = mod_tile[1]

    results = measure(servers, list_file)
    notes = (f"{len(tiles)} tiles of the `{TILESET}` tileset (z8-16, 4 random metatiles per zoom inside "
             f"the Loiret, bench/tile_list.py seed 8), cached before the runs; wrk {benchlib.WRK_THREADS} "
             f"threads on the same machine, {benchlib.LOAD_SECONDS} s per run, runs interleaved. "
             f"Errors over all runs, by kind: `status` is an HTTP status of 400 or more, the others are socket errors and wrk timeouts (10 s).")
    if mod_tile_note:
        notes += f"\n\nApache with mod_tile: {mod_tile_note}."
    benchlib.publish("Warm cache (bench/warm_cache.py)", load_before, table(servers, results), notes,
                     packages=("wrk", "nginx", "apache2", "libapache2-mod-tile", "renderd"))


if __name__ == "__main__":
    main()
