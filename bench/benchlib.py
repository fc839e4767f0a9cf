"""Shared parts of the benchmark scripts: processes, ports, wrk, RSS sampling, tile math and the record.

Every benchmark imports this module. Servers started here are stopped by PID when the script exits,
whatever the cause, and every load is bounded by a count or a timeout.
"""

import atexit
import http.client
import json
import math
import os
import shlex
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
ROOT_DIR = BENCH_DIR.parent
TUILERIE_BIN = Path(os.environ.get("TUILERIE_BIN", ROOT_DIR / "build" / "release" / "tuilerie"))
DEMO_CONFIG = ROOT_DIR / "config" / "demo.yaml"
BENCH_DOC = Path(os.environ.get("BENCH_DOC", ROOT_DIR / "docs" / "benchmarks.md"))
# Runs per measurement; tables give the median of these.
RUNS = int(os.environ.get("BENCH_RUNS", "3"))
# Seconds of load per wrk run.
LOAD_SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))
# Threads of the load generator; the server and wrk share the machine's cores.
WRK_THREADS = int(os.environ.get("BENCH_WRK_THREADS", "2"))
# Render threads on both sides of the cold benchmarks.
RENDER_THREADS = int(os.environ.get("BENCH_RENDER_THREADS", "2"))

# Orléans, place du Martroi (lon, lat in degrees).
ORLEANS = (1.9093, 47.9029)
# The Loiret, as in the communes tileset of config/demo.yaml (west, south, east, north).
LOIRET_BBOX = (1.45, 47.45, 3.20, 48.40)

_started = []


def fail(message):
    print(message, file=sys.stderr)
    sys.exit(2)


def require(*commands):
    missing = [c for c in commands if not any(
        (Path(d) / c).is_file() and os.access(Path(d) / c, os.X_OK)
        for d in os.environ.get("PATH", "").split(":") + ["/usr/sbin", "/usr/bin"])]
    if missing:
        fail(f"missing commands: {' '.join(missing)}; run scripts/install-deps.sh --bench")


def require_tuilerie():
    if not os.access(TUILERIE_BIN, os.X_OK):
        fail(f"no executable at TUILERIE_BIN={TUILERIE_BIN}; build it (make build) or set TUILERIE_BIN")


def make_temp_dir(name):
    path = Path(tempfile.mkdtemp(prefix=f"tuilerie-bench-{name}."))
    if not os.environ.get("BENCH_KEEP_TMP"):
        atexit.register(lambda: subprocess.run(["rm", "-rf", str(path)], check=False))
    return path


# ---- processes ----------------------------------------------------------------------------------

def start(command, log_path, **kwargs):
    """Start a background process whose output goes to LOG_PATH; it is stopped when the script exits."""
    log = open(log_path, "ab")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                               **kwargs)
    _started.append(process)
    return process


def stop(process, seconds=15):
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(seconds)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    if process in _started:
        _started.remove(process)


def _stop_all():
    for process in list(_started):
        stop(process)


def _exit_on_signal(number, _frame):
    sys.exit(128 + number)


atexit.register(_stop_all)
signal.signal(signal.SIGTERM, _exit_on_signal)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(host, port, path="/", seconds=60, process=None):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            fail(f"the server exited with status {process.returncode} before answering on port {port}")
        try:
            connection = http.client.HTTPConnection(host, port, timeout=2)
            connection.request("GET", path)
            connection.getresponse().read()
            connection.close()
            return
        except OSError:
            time.sleep(0.1)
    fail(f"no answer from http://{host}:{port}{path} after {seconds} s")


def start_tuilerie(config, cache_dir, log_path, port=None):
    port = port or free_port()
    process = start([str(TUILERIE_BIN), "serve", "--config", str(config), "--cache", str(cache_dir),
                     "--listen", f"127.0.0.1:{port}", "--log-level", "warn"], log_path)
    wait_http("127.0.0.1", port, "/health", 60, process)
    return process, port


def run_timed(command, seconds, log_path=None, **kwargs):
    """Run COMMAND to its end (at most SECONDS) and return (wall seconds, exit status, output)."""
    begin = time.monotonic()
    result = subprocess.run(command, capture_output=True, text=True, timeout=seconds, **kwargs)
    wall = time.monotonic() - begin
    output = result.stdout + result.stderr
    if log_path:
        with open(log_path, "a") as log:
            log.write(f"$ {shlex.join(map(str, command))}\n{output}\n")
    return wall, result.returncode, output


# ---- HTTP clients -------------------------------------------------------------------------------

def fetch_all(port, paths, headers=None, save_dir=None, suffix=""):
    """GET every path on one keep-alive connection; return a {status: count} map.

    With SAVE_DIR, the body of each 200 response to a path ending in z/x/y+SUFFIX is written to
    SAVE_DIR/z/x/y+SUFFIX, which is the layout nginx and other static servers serve.
    """
    statuses = {}
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    for path in paths:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        body = response.read()
        statuses[response.status] = statuses.get(response.status, 0) + 1
        if save_dir and response.status == 200:
            relative = "/".join(path.split("/")[-3:])
            target = Path(save_dir) / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(body)
    connection.close()
    return statuses


def burst(port, paths, seconds=60):
    """Send every path at once, one connection each; return the latencies (ms) and statuses."""
    barrier = threading.Barrier(len(paths))
    results = [None] * len(paths)

    def one(index, path):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=seconds)
        connection.connect()
        barrier.wait()
        begin = time.monotonic()
        try:
            connection.request("GET", path)
            response = connection.getresponse()
            response.read()
            results[index] = ((time.monotonic() - begin) * 1000, response.status)
        except OSError as error:
            results[index] = ((time.monotonic() - begin) * 1000, str(error))
        connection.close()

    threads = [threading.Thread(target=one, args=(i, p)) for i, p in enumerate(paths)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + 5)
    return [r for r in results if r is not None]


# ---- wrk ----------------------------------------------------------------------------------------

def wrk_command(port, script, script_args, connections, seconds, threads=None):
    threads = min(threads or WRK_THREADS, connections)
    return ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s", "--timeout", "10s",
            "-s", str(BENCH_DIR / "wrk" / script), f"http://127.0.0.1:{port}", "--"] + [str(a) for a in script_args]


def parse_wrk(output, status=0):
    """Return the object of the `BENCH {json}` line that the Lua scripts print, with rps and ms added."""
    for line in output.splitlines():
        if line.startswith("BENCH "):
            result = json.loads(line[len("BENCH "):])
            seconds_measured = result["duration_us"] / 1e6
            result["rps"] = result["requests"] / seconds_measured if seconds_measured else 0.0
            result["p50_ms"] = result["p50_us"] / 1000
            result["p99_ms"] = result["p99_us"] / 1000
            return result
    fail(f"wrk exited with status {status} and no BENCH line:\n{output}")


def run_wrk(port, script, script_args, connections, seconds, threads=None, log_path=None):
    """Run wrk with a Lua script of bench/wrk/ to its end and return its BENCH object."""
    command = wrk_command(port, script, script_args, connections, seconds, threads)
    _, status, output = run_timed(command, seconds + 60, log_path)
    return parse_wrk(output, status)


# ---- memory -------------------------------------------------------------------------------------

def read_memory(pid):
    """Return (VmRSS kB, VmHWM kB, open file descriptors) of PID, or None once it has exited."""
    try:
        fields = {}
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            fields[key] = value.split()[0] if value.split() else "0"
        fds = len(os.listdir(f"/proc/{pid}/fd"))
        return int(fields["VmRSS"]), int(fields["VmHWM"]), fds
    except (FileNotFoundError, ProcessLookupError, KeyError):
        return None


def read_anonymous_kb(pid):
    """Return RssAnon of PID in kB: the heap and stacks, without the file-backed LMDB pages; None once
    it has exited."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("RssAnon:"):
                return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        return None
    return None


class sampler:
    """Samples RSS, peak RSS and open descriptors of a PID every INTERVAL seconds in a thread."""

    def __init__(self, pid, interval):
        self.pid = pid
        self.interval = interval
        self.samples = []  # (seconds since start, rss kB, hwm kB, fds)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self._begin = time.monotonic()
        self._thread.start()
        return self

    def __exit__(self, *_):
        self._stop.set()
        self._thread.join()

    def _run(self):
        while not self._stop.is_set():
            sample = read_memory(self.pid)
            if sample is None:
                return
            self.samples.append((time.monotonic() - self._begin,) + sample)
            self._stop.wait(self.interval)


# ---- tile math ----------------------------------------------------------------------------------

def lonlat_to_tile(lon, lat, zoom):
    """Return the XYZ tile (x, y counted from the north) holding the point, clamped to the grid."""
    n = 2 ** zoom
    lat = max(min(lat, 85.0511287798), -85.0511287798)
    x = int((lon + 180.0) / 360.0 * n)
    y = int((1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n)
    return min(max(x, 0), n - 1), min(max(y, 0), n - 1)


def tile_range(bbox, zoom):
    """Return (xmin, xmax, ymin, ymax), inclusive, of the tiles that intersect BBOX at ZOOM."""
    west, south, east, north = bbox
    xmin, ymin = lonlat_to_tile(west, north, zoom)
    xmax, ymax = lonlat_to_tile(east, south, zoom)
    return xmin, xmax, ymin, ymax


def tiles_in_bbox(bbox, zooms):
    total = 0
    for zoom in zooms:
        xmin, xmax, ymin, ymax = tile_range(bbox, zoom)
        total += (xmax - xmin + 1) * (ymax - ymin + 1)
    return total


def tileset_bounds(name, config=DEMO_CONFIG):
    """Read `bounds:` of tileset NAME from a configuration written like config/demo.yaml."""
    in_tileset = False
    for line in Path(config).read_text().splitlines():
        if line.startswith("  ") and not line.startswith("   ") and line.strip().endswith(":"):
            in_tileset = line.strip() == f"{name}:"
        elif in_tileset and line.strip().startswith("bounds:"):
            values = line.split("[", 1)[1].split("]", 1)[0]
            return tuple(float(v) for v in values.split(","))
    fail(f"no bounds for tileset {name} in {config}")


# ---- figures and the record ---------------------------------------------------------------------

def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt(value, digits=1):
    if value is None:
        return "n/a"
    if isinstance(value, int):
        return str(value)
    return f"{value:.{digits}f}"


def ratio(value, reference, digits=2):
    if value is None or not reference:
        return "n/a"
    return f"{value / reference:.{digits}f}×"


def markdown_table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def load_average():
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def package_version(package):
    result = subprocess.run(["dpkg-query", "-W", "-f=${Version}", package], capture_output=True, text=True)
    return result.stdout.strip() or "not installed"


def tuilerie_version():
    result = subprocess.run(["git", "-C", str(ROOT_DIR), "describe", "--always", "--dirty"],
                            capture_output=True, text=True)
    return result.stdout.strip() or "unknown"


def machine_line():
    cpu = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    kib = int(Path("/proc/meminfo").read_text().split()[1])
    return f"{os.cpu_count()} cores, {cpu}, {kib / 1048576:.1f} GiB memory, Linux {os.uname().release}"


def publish(title, load_before, table, notes="", packages=()):
    """Print a result section and append it to docs/benchmarks.md (unless BENCH_NO_RECORD is set)."""
    versions = [f"tuilerie {tuilerie_version()}", f"libmapnik3.1 {package_version('libmapnik3.1')}"]
    versions += [f"{p} {package_version(p)}" for p in packages]
    command = os.environ.get("BENCH_COMMAND") or shlex.join(["bench/" + Path(sys.argv[0]).name] + sys.argv[1:])
    settings = f"BENCH_RUNS={RUNS}, BENCH_SECONDS={LOAD_SECONDS}, BENCH_WRK_THREADS={WRK_THREADS}"
    section = "\n".join([
        "",
        f"### {title}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}",
        "",
        f"- Command: `{command}` ({settings})",
        f"- Machine: {machine_line()}",
        f"- Load average (1, 5, 15 min) before: {load_before}; after: {load_average()}",
        f"- Versions: {', '.join(versions)}",
        "",
        table,
    ])
    if notes:
        section += "\n\n" + notes.strip()
    section += "\n"
    print(section)
    if not os.environ.get("BENCH_NO_RECORD"):
        with open(BENCH_DOC, "a") as doc:
            doc.write(section)
        print(f"(appended to {BENCH_DOC})")
