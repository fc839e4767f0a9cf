"""The peers of the benchmarks: nginx on static tiles, renderd with render_list, Apache with mod_tile.

Each is started from a configuration written into the benchmark's temp dir from the templates in
bench/peers/, on a free 127.0.0.1 port, and stopped by PID when the script exits.
"""

import os
import socket
import string
import subprocess
import time
from pathlib import Path

import benchlib

PEERS_DIR = benchlib.BENCH_DIR / "peers"


def _write_config(template, target, **values):
    text = string.Template((PEERS_DIR / template).read_text()).substitute(**values)
    Path(target).write_text(text)
    return target


def open_to_workers(path):
    """Let nginx's and Apache's unprivileged workers read PATH: temp dirs are created mode 0700."""
    os.chmod(path, 0o755)


def start_nginx(tmp, tiles_dir, tileset):
    port = benchlib.free_port()
    config = _write_config("nginx.conf.in", tmp / "nginx.conf", tmp=tmp, port=port, tiles=tiles_dir,
                           tileset=tileset)
    process = benchlib.start(["nginx", "-c", str(config), "-p", str(tmp)], tmp / "nginx.log")
    benchlib.wait_http("127.0.0.1", port, "/", 20, process)
    return process, port


class renderd:
    """A renderd daemon with one map per tileset of TILESETS, from styles/NAME.xml, writing to TILE_DIR."""

    def __init__(self, tmp, tilesets, threads, tile_dir):
        self.tmp = Path(tmp)
        self.tile_dir = Path(tile_dir)
        self.socket = self.tmp / "renderd.sock"
        self.tile_dir.mkdir(parents=True, exist_ok=True)
        self.config = _write_config("renderd.conf.in", self.tmp / "renderd.conf", socket=self.socket,
                                    threads=threads, tile_dir=self.tile_dir, tmp=self.tmp)
        map_template = string.Template((PEERS_DIR / "renderd-map.conf.in").read_text())
        with open(self.config, "a") as config:
            for tileset in tilesets:
                style = benchlib.ROOT_DIR / "styles" / f"{tileset}.xml"
                config.write("\n" + map_template.substitute(tileset=tileset, tile_dir=self.tile_dir,
                                                             style=style))
        self.process = None

    def start(self):
        self.process = benchlib.start(["renderd", "-f", "-c", str(self.config)], self.tmp / "renderd.log")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                benchlib.fail(f"renderd exited with status {self.process.returncode}; "
                              f"see {self.tmp / 'renderd.log'}")
            if self.socket.exists():
                with socket.socket(socket.AF_UNIX) as client:
                    try:
                        client.connect(str(self.socket))
                        return self
                    except OSError:
                        pass
            time.sleep(0.1)
        benchlib.fail(f"renderd opened no socket at {self.socket} within 60 s")

    def stop(self):
        if self.process:
            benchlib.stop(self.process)
            self.process = None

    def render_list(self, tileset, tiles, threads, seconds, log_path, force=False):
        """Render TILES ([(z, x, y)]) with render_list; return its wall time in seconds.

        renderd renders the whole metatile for every tile sent, even several of the same metatile,
        so callers send one tile per metatile. render_list's default --max-load of 16 would pause on a
        busy shared machine, so it is set out of reach.
        """
        command = ["render_list", "-m", tileset, "-s", str(self.socket), "-t", str(self.tile_dir),
                   "-n", str(threads), "-l", "1000"]
        if force:
            command.append("-f")
        lines = "".join(f"{x} {y} {z}\n" for z, x, y in tiles)
        begin = time.monotonic()
        result = subprocess.run(command, input=lines, capture_output=True, text=True, timeout=seconds)
        wall = time.monotonic() - begin
        with open(log_path, "a") as log:
            log.write(f"$ {' '.join(command)} < {len(tiles)} tiles\n{result.stdout}{result.stderr}\n")
        if result.returncode != 0:
            benchlib.fail(f"render_list exited with status {result.returncode}; see {log_path}")
        return wall


def start_apache(tmp, renderd_server):
    port = benchlib.free_port()
    config = _write_config("apache-mod_tile.conf.in", Path(tmp) / "apache.conf", tmp=tmp, port=port,
                           renderd_conf=renderd_server.config, socket=renderd_server.socket,
                           tile_dir=renderd_server.tile_dir)
    process = benchlib.start(["apache2", "-f", str(config), "-DFOREGROUND"], Path(tmp) / "apache.log",
                             env=dict(os.environ, APACHE_RUN_DIR=str(tmp), APACHE_LOG_DIR=str(tmp)))
    benchlib.wait_http("127.0.0.1", port, "/", 20, process)
    return process, port


def metatile_files(tile_dir, tileset):
    """Return {zoom: count} of the .meta files renderd wrote for TILESET."""
    counts = {}
    for path in (Path(tile_dir) / tileset).rglob("*.meta"):
        zoom = int(path.relative_to(Path(tile_dir) / tileset).parts[0])
        counts[zoom] = counts.get(zoom, 0) + 1
    return counts
