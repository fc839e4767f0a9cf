// Cuts GeoJSON layers into gzip-compressed vector tiles with geojson-vt and vt-pbf, the JavaScript peer
// of the cold MVT benchmark. Prints one JSON line with the tiles written and their bytes.
//
// node geojson_vt_tiles.js OUT_DIR MINZOOM MAXZOOM WEST,SOUTH,EAST,NORTH NAME=FILE.geojson:LAYER_MINZOOM...

import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

import geojsonvt from 'geojson-vt';
import vtpbf from 'vt-pbf';

// The same tile extent and buffer (in tile units) as Tuilerie's vector tiles.
const EXTENT = 4096;
const BUFFER = 64;

function tileRange(bbox, zoom) {
  const n = 2 ** zoom;
  const column = (lon) => Math.min(n - 1, Math.max(0, Math.floor(((lon + 180) / 360) * n)));
  const row = (lat) => {
    const radians = (Math.max(-85.0511287798, Math.min(85.0511287798, lat)) * Math.PI) / 180;
    const y = Math.floor(((1 - Math.asinh(Math.tan(radians)) / Math.PI) / 2) * n);
    return Math.min(n - 1, Math.max(0, y));
  };
  const [west, south, east, north] = bbox;
  return { xmin: column(west), xmax: column(east), ymin: row(north), ymax: row(south) };
}

function loadLayers(specs, maxZoom) {
  return specs.map((spec) => {
    const [name, rest] = spec.split('=');
    const [file, minzoom] = rest.split(':');
    const data = JSON.parse(fs.readFileSync(file, 'utf8'));
    const index = geojsonvt(data, { maxZoom, indexMaxZoom: 5, extent: EXTENT, buffer: BUFFER });
    return { name, minzoom: Number(minzoom || 0), index };
  });
}

function main() {
  const [outDir, minArg, maxArg, bboxArg, ...specs] = process.argv.slice(2);
  const minZoom = Number(minArg);
  const maxZoom = Number(maxArg);
  const bbox = bboxArg.split(',').map(Number);
  const layers = loadLayers(specs, maxZoom);
  let tiles = 0;
  let bytes = 0;
  for (let z = minZoom; z <= maxZoom; z++) {
    const { xmin, xmax, ymin, ymax } = tileRange(bbox, z);
    for (let x = xmin; x <= xmax; x++) {
      for (let y = ymin; y <= ymax; y++) {
        const tileLayers = {};
        let empty = true;
        for (const layer of layers) {
          if (z < layer.minzoom) continue;
          const tile = layer.index.getTile(z, x, y);
          if (tile && tile.features.length > 0) {
            tileLayers[layer.name] = tile;
            empty = false;
          }
        }
        if (empty) continue;
        const body = zlib.gzipSync(vtpbf.fromGeojsonVt(tileLayers, { version: 2, extent: EXTENT }));
        const dir = path.join(outDir, String(z), String(x));
        fs.mkdirSync(dir, { recursive: true });
        fs.writeFileSync(path.join(dir, `${y}.pbf`), body);
        tiles += 1;
        bytes += body.length;
      }
    }
  }
  console.log(JSON.stringify({ tiles, bytes }));
}

main();
