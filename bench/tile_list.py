#!/usr/bin/env python3
"""Write a reproducible random list of tiles (z/x/y, one a line) inside a box, clustered by metatile.

Map viewers request neighbouring tiles, so the list takes whole metatiles (8 × 8 tiles, clipped to
the box) picked at random at each zoom, rather than scattered single tiles. A warm-cache benchmark
then needs one render per metatile to warm, as a server in use would.
"""

import argparse
import random
import sys

sys.path.insert(0, __import__("os").path.dirname(__file__))
import benchlib  # noqa: E402


def metatile_cluster_tiles(bbox, zooms, metatiles_per_zoom, seed, metatile=8):
    """Return [(z, x, y)] of METATILES_PER_ZOOM random metatiles per zoom, clipped to BBOX."""
    rng = random.Random(seed)
    tiles = []
    for zoom in zooms:
        xmin, xmax, ymin, ymax = benchlib.tile_range(bbox, zoom)
        metatiles = [(mx, my) for mx in range(xmin // metatile, xmax // metatile + 1)
                     for my in range(ymin // metatile, ymax // metatile + 1)]
        chosen = rng.sample(metatiles, min(metatiles_per_zoom, len(metatiles)))
        for mx, my in sorted(chosen):
            for x in range(max(mx * metatile, xmin), min(mx * metatile + metatile - 1, xmax) + 1):
                for y in range(max(my * metatile, ymin), min(my * metatile + metatile - 1, ymax) + 1):
                    tiles.append((zoom, x, y))
    return tiles


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bbox", default=",".join(map(str, benchlib.LOIRET_BBOX)),
                        help="west,south,east,north in degrees (default: the Loiret)")
    parser.add_argument("--zoom", default="8-16", help="MIN-MAX zoom levels (default 8-16)")
    parser.add_argument("--metatiles", type=int, default=4, help="metatiles per zoom (default 4)")
    parser.add_argument("--seed", type=int, default=8, help="random seed, for the same list every run")
    args = parser.parse_args()
    bbox = tuple(float(v) for v in args.bbox.split(","))
    low, _, high = args.zoom.partition("-")
    zooms = range(int(low), int(high or low) + 1)
    for z, x, y in metatile_cluster_tiles(bbox, zooms, args.metatiles, args.seed):
        print(f"{z}/{x}/{y}")


if __name__ == "__main__":
    main()
