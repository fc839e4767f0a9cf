#!/usr/bin/env python3
"""Memory: Tuilerie's peak and steady resident memory under 256 connections and during a seed.

Peak is VmHWM from /proc/PID/status at the end of the run. Steady is the median VmRSS sampled every
0.5 s over the second half of the run. Each run starts a new process. No peer is measured: nginx's
memory does not depend on the tiles it serves, and renderd's would need the same load through mod_tile.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402
from tile_list import metatile_cluster_tiles  # noqa: E402

SERVE_TILESET = "communes"
SEED_TILESET, SEED_ZOOMS = "overview", "0-11"
TARGET_MB = 300
SAMPLE_SECONDS = 0.5


def summarize(samples):
    """Return (peak MB, steady MB) from sampler rows (seconds, rss kB, hwm kB, fds)."""
    if not samples:
        return None, None
    half = samples[len(samples) // 2:]
    return samples[-1][2] / 1024, benchlib.median([s[1] for s in half]) / 1024


def serve_run(tmp, run, list_file, tiles):
    server, port = benchlib.start_tuilerie(benchlib.DEMO_CONFIG, tmp / f"cache-{run}", tmp / "tuilerie.log")
    benchlib.fetch_all(port, [f"/tiles/{SERVE_TILESET}/{z}/{x}/{y}.png" for z, x, y in tiles])
    with benchlib.sampler(server.pid, SAMPLE_SECONDS) as samples:
        result = benchlib.run_wrk(port, "tiles.lua", [list_file, f"/tiles/{SERVE_TILESET}/", ".png"], 256,
                                  benchlib.LOAD_SECONDS * 2)
    benchlib.stop(server)
    peak, steady = summarize(samples.samples)
    print(f"serve run {run + 1}: {result['rps']:.0f} req/s, peak {peak:.0f} MB, steady {steady:.0f} MB")
    return peak, steady


def seed_run(tmp, run):
    command = [str(benchlib.TUILERIE_BIN), "seed", "--config", str(benchlib.DEMO_CONFIG), "--cache",
               str(tmp / f"seed-cache-{run}"), "--tileset", SEED_TILESET, "--zoom", SEED_ZOOMS,
               "--threads", str(benchlib.RENDER_THREADS)]
    process = benchlib.start(command, tmp / "seed.log")
    with benchlib.sampler(process.pid, SAMPLE_SECONDS) as samples:
        status = process.wait(900)
    if status != 0:
        benchlib.fail(f"tuilerie seed exited with status {status}; see {tmp / 'seed.log'}")
    peak, steady = summarize(samples.samples)
    print(f"seed run {run + 1}: peak {peak:.0f} MB, steady {steady:.0f} MB")
    return peak, steady


def row(case, results):
    peak = benchlib.median([p for p, _ in results])
    steady = benchlib.median([s for _, s in results])
    verdict = "met" if peak is not None and peak <= TARGET_MB else "missed"
    return [case, benchlib.fmt(peak, 0), benchlib.fmt(steady, 0), f"≤ {TARGET_MB} MB: {verdict}",
            " / ".join(f"{p:.0f}" for p, _ in results)]


def main():
    benchlib.require_tuilerie()
    benchlib.require("wrk")
    load_before = benchlib.load_average()
    tmp = benchlib.make_temp_dir("memory")
    tiles = metatile_cluster_tiles(benchlib.LOIRET_BBOX, range(8, 17), 4, seed=8)
    list_file = tmp / "tiles.txt"
    list_file.write_text("".join(f"{z}/{x}/{y}\n" for z, x, y in tiles))
    serve = [serve_run(tmp, run, list_file, tiles) for run in range(benchlib.RUNS)]
    seed = [seed_run(tmp, run) for run in range(benchlib.RUNS)]
    table = benchlib.markdown_table(
        ["Case", "Peak MB (VmHWM, median)", "Steady MB (VmRSS, median)", "Target", "Peak MB per run"],
        [row(f"serve, 256 connections on warm `{SERVE_TILESET}` tiles, {benchlib.LOAD_SECONDS * 2} s", serve),
         row(f"seed `{SEED_TILESET}` PNG z{SEED_ZOOMS}, {benchlib.RENDER_THREADS} threads", seed)])
    notes = ("Demo configuration (7 tilesets, 2 I/O and 2 render threads, LMDB map 64 MiB growing to "
             "1 GiB); the LMDB map is file-backed, so its pages read count in VmRSS. MB are MiB.")
    benchlib.publish("Memory (bench/memory.py)", load_before, table, notes)


if __name__ == "__main__":
    main()
