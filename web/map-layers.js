// The MapLibre sources and layers of each tileset shown, as raster tiles or as vector tiles
// drawn with the tileset's MapLibre style.

// Paint properties that hold a layer type's opacity, scaled by the opacity slider.
const opacityProperties = {
  background: ['background-opacity'],
  circle: ['circle-opacity', 'circle-stroke-opacity'],
  fill: ['fill-opacity'],
  'fill-extrusion': ['fill-extrusion-opacity'],
  heatmap: ['heatmap-opacity'],
  line: ['line-opacity'],
  raster: ['raster-opacity'],
  symbol: ['icon-opacity', 'text-opacity'],
};

// Hatch images are named hatch-{up|down}-{rrggbb}: "up" strokes run like "/", "down" like "\".
// The cell matches styles/symbols/make-hatches.sh, so both renderings hatch alike.
const hatchName = /^hatch-(up|down)-([0-9a-f]{6})$/;
const hatchCell = 12;  // CSS pixels per side
const hatchStroke = 1.5;  // CSS pixels

// A tileset's layers in the map: their ids in drawing order, and the opacity each had in its style.
class ShownTileset {
  constructor(rendering) {
    this.rendering = rendering;
    this.sourceIds = [];
    this.layerIds = [];
    this.styleOpacity = new Map();  // layer id -> {property: value from the style}
  }
}

export class TilesetLayers {
  constructor(map) {
    this.map = map;
    this.shown = new Map();  // tileset name -> ShownTileset
    map.on('styleimagemissing', (event) => this.addHatch(event.id));
  }

  // Adds a tileset as raster tiles described by the TileJSON at tilejsonUrl. The attribution, from the
  // catalog, is shown by MapLibre's attribution control while the tileset is visible.
  showRaster(name, tilejsonUrl, attribution, opacity) {
    this.hide(name);
    const shown = new ShownTileset('raster');
    const id = `${name}/raster`;
    // TileJSON gives tileSize 512 for @2x tiles; 256 draws each 512-pixel image over 256 CSS pixels,
    // so high-DPI screens get one image pixel per device pixel at the zoom the tile was made for.
    this.map.addSource(id, { type: 'raster', url: tilejsonUrl, tileSize: 256, attribution });
    this.addLayer(shown, { id, type: 'raster', source: id }, opacity);
    shown.sourceIds.push(id);
    this.shown.set(name, shown);
  }

  // Adds a tileset drawn with its MapLibre style: the style's sources and layers, renamed under the
  // tileset's name so that two tilesets never share an id. Background layers are left out, since
  // the viewer draws one background under every tileset.
  showVector(name, style, attribution, opacity) {
    this.hide(name);
    const shown = new ShownTileset('vector');
    for (const [sourceId, source] of Object.entries(style.sources)) {
      this.map.addSource(`${name}/${sourceId}`, { ...source, attribution });
      shown.sourceIds.push(`${name}/${sourceId}`);
    }
    for (const layer of style.layers) {
      if (layer.type === 'background') continue;
      this.addLayer(shown, { ...layer, id: `${name}/${layer.id}`, source: `${name}/${layer.source}` }, opacity);
    }
    this.shown.set(name, shown);
  }

  hide(name) {
    const shown = this.shown.get(name);
    if (!shown) return;
    for (const id of shown.layerIds) this.map.removeLayer(id);
    for (const id of shown.sourceIds) this.map.removeSource(id);
    this.shown.delete(name);
  }

  renderingOf(name) {
    return this.shown.get(name)?.rendering;
  }

  setOpacity(name, opacity) {
    const shown = this.shown.get(name);
    if (!shown) return;
    for (const [id, properties] of shown.styleOpacity) {
      for (const [property, value] of Object.entries(properties)) {
        this.map.setPaintProperty(id, property, value * opacity);
      }
    }
  }

  // Moves the layers so that tilesets are drawn in the order of names, the first at the bottom.
  order(names) {
    for (const name of names) {
      for (const id of this.shown.get(name)?.layerIds ?? []) this.map.moveLayer(id);
    }
  }

  addLayer(shown, layer, opacity) {
    const paint = { ...layer.paint };
    const styleOpacity = {};
    for (const property of opacityProperties[layer.type] ?? []) {
      const value = paint[property] ?? 1;
      // NOTE: an opacity given as an expression stays as the style has it: a zoom expression
      // cannot be multiplied, because MapLibre accepts "zoom" only at the top of the expression.
      if (typeof value !== 'number') continue;
      styleOpacity[property] = value;
      paint[property] = value * opacity;
    }
    this.map.addLayer({ ...layer, paint });
    shown.layerIds.push(layer.id);
    shown.styleOpacity.set(layer.id, styleOpacity);
  }

  addHatch(imageId) {
    const match = hatchName.exec(imageId);
    if (!match || this.map.hasImage(imageId)) return;
    const [, direction, colour] = match;
    const pixelRatio = Math.max(1, Math.round(window.devicePixelRatio || 1));
    const canvas = document.createElement('canvas');
    canvas.width = canvas.height = hatchCell * pixelRatio;
    const context = canvas.getContext('2d');
    context.scale(pixelRatio, pixelRatio);
    context.strokeStyle = `#${colour}`;
    context.lineWidth = hatchStroke;
    // The middle stroke crosses the cell corner to corner; the two short ones continue it across
    // the edges, so that cells tile without seams.
    const strokes = direction === 'up'
      ? [[-3, 3, 3, -3], [0, 12, 12, 0], [9, 15, 15, 9]]
      : [[-3, 9, 3, 15], [0, 0, 12, 12], [9, -3, 15, 3]];
    context.beginPath();
    for (const [x0, y0, x1, y1] of strokes) {
      context.moveTo(x0, y0);
      context.lineTo(x1, y1);
    }
    context.stroke();
    this.map.addImage(imageId, context.getImageData(0, 0, canvas.width, canvas.height), { pixelRatio });
  }
}
