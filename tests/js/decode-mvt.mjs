// Decodes Mapbox Vector Tiles with @mapbox/vector-tile and prints them as JSON, for the C++ tests.
//
// Usage: node tests/js/decode-mvt.mjs TILE.mvt [TILE.mvt...]
// Prints one JSON array with, per file: {file, layers: [{name, version, extent, features: [{id, type,
// properties, geometry}]}]}. `geometry` is loadGeometry()'s raw tile coordinates as [[[x, y], ...], ...],
// one array per point group, linestring or ring (rings closed, as the library returns them). `type` is
// the MVT GeomType: 1 point, 2 linestring, 3 polygon. Integers beyond 2^53 lose precision, because the
// library reads them as JavaScript numbers. Exits with status 1 and a message on stderr when a file
// cannot be read or decoded.
import { readFileSync } from 'node:fs';
import Pbf from 'pbf';
import { VectorTile } from '@mapbox/vector-tile';

function decodeFeature(layer, index) {
  const feature = layer.feature(index);
  return {
    id: feature.id ?? null,
    type: feature.type,
    properties: feature.properties,
    geometry: feature.loadGeometry().map((part) => part.map((point) => [point.x, point.y])),
  };
}

function decodeLayer(layer) {
  const features = [];
  for (let i = 0; i < layer.length; i++) features.push(decodeFeature(layer, i));
  return { name: layer.name, version: layer.version, extent: layer.extent, features };
}

function decodeFile(file) {
  // A copy with its own ArrayBuffer: pbf 4.0.2 reads doubles and floats through a DataView on
  // buffer.buffer that ignores byteOffset, and readFileSync returns small files as slices of a
  // shared pool, so reading the Buffer directly gives wrong doubles.
  const tile = new VectorTile(new Pbf(new Uint8Array(readFileSync(file))));
  return { file, layers: Object.values(tile.layers).map(decodeLayer) };
}

const files = process.argv.slice(2);
if (files.length === 0) {
  process.stderr.write('usage: node decode-mvt.mjs TILE.mvt [TILE.mvt...]\n');
  process.exit(2);
}
try {
  process.stdout.write(JSON.stringify(files.map(decodeFile)) + '\n');
} catch (error) {
  process.stderr.write(`decode-mvt: ${error.message}\n`);
  process.exit(1);
}
