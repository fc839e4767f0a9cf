#!/usr/bin/env python3
"""Soak: SOAK_SECONDS (600 by default) of mixed load at 256 connections, with RSS and descriptors sampled.

Three wrk processes share the 256 connections so that each kind of request keeps its own pace, as
in use. 236 connections request warm PNG and MVT tiles of the communes tileset. 16 request the
feature API: OGC API - Features items in a random box, and /query at a random point. 4 request cold
PNG and MVT tiles of the overview tileset at z13-16 all over the Loiret. One wrk on all 256 connections would
leave nearly every connection waiting on a cold render, because wrk sends the next request only
when the response to the previous one has arrived.

Errors are HTTP statuses other than 2xx, 3xx and 404, plus socket errors and wrk timeouts (10 s).
RSS growth compares the last sample with the first one after the warm-up (the first fifth of the
run, at most 60 s); the target is under 5 %.
"""

import os
import random
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402
from tile_list import metatile_cluster_tiles  # noqa: E402

SOAK_SECONDS = int(os.environ.get("SOAK_SECONDS", "600"))
SAMPLE_SECONDS = 10
RSS_GROWTH_TARGET = 0.05
# (name, connections, wrk threads)
STREAMS = (("warm tiles", 236, 2), ("features", 16, 1), ("cold tiles", 4, 1))


def warm_paths(tiles):
    return ([f"/tiles/communes/{z}/{x}/{y}.png" for z, x, y in tiles]
            + [f"/tiles/communes/{z}/{x}/{y}.mvt" for z, x, y in tiles])


def feature_paths(rng, count=2000):
    west, south, east, north = benchlib.LOIRET_BBOX
    paths = []
    for i in range(count):
        lon, lat = rng.uniform(west, east), rng.uniform(south, north)
        if i % 2:
            paths.append(f"/query?lon={lon:.5f}&lat={lat:.5f}")
        else:
            size = rng.uniform(0.01, 0.1)
            paths.append(f"/ogc/collections/communes/items?bbox={lon:.5f},{lat:.5f},{lon + size:.5f},"
                         f"{lat + size:.5f}&limit=10")
    return paths


def cold_paths(rng, count=20000):
    paths = []
    for _ in range(count):
        zoom = rng.randint(13, 16)
        xmin, xmax, ymin, ymax = benchlib.tile_range(benchlib.LOIRET_BBOX, zoom)
        extension = rng.choice(("png", "mvt"))
        paths.append(f"/tiles/overview/{zoom}/{rng.randint(xmin, xmax)}/{rng.randint(ymin, ymax)}.{extension}")
    return paths


def is_error(status):
    return not (200 <= status < 400 or status == 404)


def main():
    benchlib.require_tuilerie()
    benchlib.require("wrk")
    load_before = benchlib.load_average()
    tmp = benchlib.make_temp_dir("soak")
    rng = random.Random(6)
    tiles = metatile_cluster_tiles(benchlib.LOIRET_BBOX, range(8, 17), 4, seed=8)
    lists = {"warm tiles": warm_paths(tiles), "features": feature_paths(rng), "cold tiles": cold_paths(rng)}
    for name, paths in lists.items():
        (tmp / f"{name.replace(' ', '-')}.txt").write_text("\n".join(paths) + "\n")

    server, port = benchlib.start_tuilerie(benchlib.DEMO_CONFIG, tmp / "cache", tmp / "tuilerie.log")
    warm = benchlib.fetch_all(port, lists["warm tiles"], headers={"Accept-Encoding": "gzip"})
    print(f"warmed {len(lists['warm tiles'])} tiles: {warm}")

    processes = {}
    for name, connections, threads in STREAMS:
        command = benchlib.wrk_command(port, "paths.lua", [tmp / f"{name.replace(' ', '-')}.txt", "gzip"],
                                       connections, SOAK_SECONDS, threads)
        output = open(tmp / f"wrk-{name.replace(' ', '-')}.out", "w")
        processes[name] = (subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT), output)

    samples = []
    begin = time.monotonic()
    while any(p.poll() is None for p, _ in processes.values()):
        sample = benchlib.read_memory(server.pid)
        if sample is None:
            benchlib.fail(f"the server exited during the soak; see {tmp / 'tuilerie.log'}")
        samples.append((time.monotonic() - begin,) + sample + (benchlib.read_anonymous_kb(server.pid) or 0,))
        print(f"{samples[-1][0]:5.0f} s: RSS {sample[0] / 1024:.0f} MB, peak {sample[1] / 1024:.0f} MB, "
              f"{sample[2]} fds", flush=True)
        deadline = time.monotonic() + SAMPLE_SECONDS
        while time.monotonic() < deadline and any(p.poll() is None for p, _ in processes.values()):
            time.sleep(0.5)
        if time.monotonic() - begin > SOAK_SECONDS + 120:
            benchlib.fail("wrk ran 120 s past SOAK_SECONDS")
    samples.append((time.monotonic() - begin,) + benchlib.read_memory(server.pid) +
                   (benchlib.read_anonymous_kb(server.pid) or 0,))
    health_ok = benchlib.fetch_all(port, ["/health"]) == {200: 1}
    benchlib.stop(server)

    results = {}
    for name, (process, output) in processes.items():
        output.close()
        results[name] = benchlib.parse_wrk((tmp / f"wrk-{name.replace(' ', '-')}.out").read_text(),
                                           process.returncode)
    publish(load_before, results, samples, health_ok)


def publish(load_before, results, samples, health_ok):
    warmup = min(60, SOAK_SECONDS / 5)
    after = [s for s in samples if s[0] >= warmup] or samples
    baseline, last = after[0], samples[-1]
    growth = (last[1] - baseline[1]) / baseline[1]
    # The target applies to the heap: the LMDB map is file-backed, and its pages read or written
    # during the soak count in VmRSS without being a leak (they are the page cache, mapped).
    heap_growth = (last[4] - baseline[4]) / max(baseline[4], 1)
    # The last sample is taken after wrk has closed its connections, so it leaves the descriptor range.
    fds = [s[3] for s in (after[:-1] if len(after) > 1 else after)]

    rows = []
    total_errors = 0
    for name, connections, _ in STREAMS:
        result = results[name]
        statuses = {int(k): v for k, v in result["statuses"].items()}
        socket_errors = sum(result[f"errors_{k}"] for k in ("connect", "read", "write", "timeout"))
        errors = sum(v for k, v in statuses.items() if is_error(k)) + socket_errors
        total_errors += errors
        rows.append([name, connections, result["requests"], benchlib.fmt(result["rps"], 0),
                     benchlib.fmt(result["p50_ms"], 2), benchlib.fmt(result["p99_ms"], 1),
                     ", ".join(f"{k}: {v}" for k, v in sorted(statuses.items())), errors])

    table = benchlib.markdown_table(
        ["Stream", "Connections", "Requests", "Requests/s", "p50 ms", "p99 ms", "Statuses", "Errors"], rows)
    summary = benchlib.markdown_table(
        ["Measure", "Value", "Target"],
        [["Errors (all streams)", total_errors, "0: " + ("met" if total_errors == 0 else "missed")],
         [f"RSS after warm-up ({baseline[0]:.0f} s) → end ({last[0]:.0f} s), MB",
          f"{baseline[1] / 1024:.0f} → {last[1] / 1024:.0f} ({growth * 100:+.1f} %)",
          "LMDB pages included"],
         ["Anonymous RSS (RssAnon: heap and stacks), same samples, MB",
          f"{baseline[4] / 1024:.0f} → {last[4] / 1024:.0f} ({heap_growth * 100:+.1f} %)",
          "< 5 %: " + ("met" if heap_growth < RSS_GROWTH_TARGET else "missed")],
         ["Peak RSS (VmHWM), MB", f"{last[2] / 1024:.0f}", ""],
         ["Open descriptors after warm-up, min-max", f"{min(fds)}-{max(fds)}",
          "flat: " + ("met" if max(fds) - min(fds) <= 16 else "missed")],
         ["/health after the soak", "200" if health_ok else "not 200", "200"]])
    series = ", ".join(f"{s[0]:.0f} s {s[1] / 1024:.0f} MB/{s[3]} fds" for s in samples)
    notes = (f"SOAK_SECONDS={SOAK_SECONDS}; samples every {SAMPLE_SECONDS} s of VmRSS and of the entries in "
             f"/proc/PID/fd. \"Flat\" allows 16 descriptors of spread, the LMDB and inotify files being "
             f"fixed and connections coming and going. Samples: {series}.")
    benchlib.publish(f"Soak (bench/soak.sh), {SOAK_SECONDS} s", load_before, table + "\n\n" + summary, notes)


if __name__ == "__main__":
    main()
