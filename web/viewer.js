// Tuilerie's map viewer: shows the catalog's tilesets over a plain background and keeps the visible
// tilesets, the rendering and the language in the page URL (?layers=flood,air&mode=vector&lang=fr,
// and ?fit=flood to zoom to a tileset once); MapLibre keeps the map position in the URL fragment.
import { element } from './dom.js';
import { chooseLanguage, hasText, languageNames, languages, localized, maplibreLocale, translate } from './i18n.js';
import { TilesetLayers } from './map-layers.js';
import { Panel } from './panel.js';
import { fetchCollections, fetchPointQuery } from './point-query.js';
import { spotDetails, spotFailed, spotLoading } from './popup.js';

const maplibregl = window.maplibregl;

const startView = { center: [1.909, 47.902], zoom: 10 };  // Orléans
// Drawn at the bottom in this order, and the ones shown when the URL names none. Other tilesets are
// drawn in the order they were switched on, the latest on top.
const baseTilesets = ['communes', 'rivers'];
const backgroundColour = '#e4e9ed';
// From this device pixel ratio on, raster tiles come at scale 2 (@2x).
const highDpiRatio = 1.5;
const requestTimeout = 15000;  // milliseconds, for the catalog, legends, styles and point queries
const narrowScreen = '(max-width: 640px)';  // matches the media query of viewer.css
const popupMargin = 8;  // pixels kept between the popup and the panel

async function fetchJson(url) {
  const response = await fetch(url, { signal: AbortSignal.timeout(requestTimeout) });
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return response.json();
}

function containsPoint(bounds, [lon, lat]) {
  const [west, south, east, north] = bounds;
  return lon >= west && lon <= east && lat >= south && lat <= north;
}

// Says where the data lie when that is away from the start view, so that an empty map is not a surprise.
function locationNote(entry, language) {
  if (hasText(language, `note.${entry.name}`)) return translate(language, `note.${entry.name}`);
  return containsPoint(entry.bounds, startView.center) ? null : translate(language, 'outside_view');
}

// Fetches what the viewer needs of a catalog entry: its legend and, for tilesets with vector tiles,
// its MapLibre style. Without a legend the tileset keeps its catalog title, and without a style it is
// shown as images.
async function loadTileset(entry, language) {
  const legend = !entry.legend ? null : await fetchJson(entry.legend).catch((error) => {
    console.error(`the legend of tileset ${entry.name} failed to load:`, error);
    return null;
  });
  let style = null;
  if (entry.formats.includes('mvt')) {
    style = await fetchJson(`/styles/${encodeURIComponent(entry.name)}.json`).catch((error) => {
      console.error(`tileset ${entry.name} is shown as images because its MapLibre style failed to load:`, error);
      return null;
    });
  }
  return {
    name: entry.name,
    title: legend ? localized(legend.title, language) : entry.title,
    description: entry.description,
    attribution: entry.attribution,
    bounds: entry.bounds,
    maxzoom: entry.maxzoom,
    tilejson: entry.tilejson,
    rasterFormat: ['png', 'webp'].find((format) => entry.formats.includes(format)),
    style,
    vector: Boolean(style),
    legend,
    note: locationNote(entry, language),
  };
}

// Fills the page's texts: data-text names the key of an element's text, data-label that of its
// aria-label.
function applyPageTexts(language) {
  document.documentElement.lang = language;
  document.title = translate(language, 'page_title');
  for (const node of document.querySelectorAll('[data-text]')) node.textContent = translate(language, node.dataset.text);
  for (const node of document.querySelectorAll('[data-label]')) {
    node.setAttribute('aria-label', translate(language, node.dataset.label));
  }
}

// One link per language; the links reload the page in their language with the same map and layers.
function buildLanguageLinks(language) {
  const links = languages.map((code) => element('a', {
    lang: code, hreflang: code, href: `?lang=${code}`, 'aria-label': languageNames[code],
    'aria-current': code === language ? 'true' : undefined, textContent: code.toUpperCase(),
  }));
  document.getElementById('languages').replaceChildren(...links);
}

// On narrow screens the panel covers the map, so it starts folded and a button unfolds it.
function setUpPanelToggle(language) {
  const button = document.getElementById('panel-toggle');
  const body = document.getElementById('panel-body');
  const setOpen = (open) => {
    body.hidden = !open;
    button.setAttribute('aria-expanded', String(open));
    button.textContent = translate(language, open ? 'panel_hide' : 'panel_show');
  };
  setOpen(!window.matchMedia(narrowScreen).matches);
  button.addEventListener('click', () => setOpen(body.hidden));
}

function createMap(language) {
  const map = new maplibregl.Map({
    container: 'map',
    style: { version: 8, sources: {}, layers: [{ id: 'background', type: 'background', paint: { 'background-color': backgroundColour } }] },
    center: startView.center,
    zoom: startView.zoom,
    hash: true,
    locale: maplibreLocale(language),
    attributionControl: false,
    dragRotate: false,
    pitchWithRotate: false,
    touchPitch: false,
  });
  map.touchZoomRotate.disableRotation();
  map.keyboard.disableRotation();
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), 'top-right');
  map.addControl(new maplibregl.ScaleControl({ unit: 'metric' }), 'bottom-right');
  map.addControl(new maplibregl.AttributionControl({ compact: true }), 'bottom-right');
  return map;
}

class Viewer {
  // collections: a promise of the feature collections, as fetchCollections() returns them.
  constructor(map, language, tilesets, params, collections) {
    this.map = map;
    this.language = language;
    this.tilesets = new Map(tilesets.map((tileset) => [tileset.name, tileset]));
    this.layers = new TilesetLayers(map);
    this.rendering = params.get('mode') === 'vector' ? 'vector' : 'raster';
    this.explicitLanguage = params.has('lang');
    this.visible = this.initialVisible(params.get('layers'));
    this.opacity = new Map();  // tileset name -> 0..1; absent means 1
    this.collections = collections;
    // Every click queries its spot, so a click moves the popup instead of closing it.
    this.popup = new maplibregl.Popup({ maxWidth: '360px', focusAfterOpen: true, closeOnClick: false });
    this.spotRequest = null;  // the AbortController of the point query in progress
    this.popup.on('close', () => this.spotRequest?.abort());
    const base = baseTilesets.filter((name) => this.tilesets.has(name));
    const others = tilesets.map((tileset) => tileset.name).filter((name) => !baseTilesets.includes(name));
    this.panel = new Panel(document.getElementById('panel'), language,
      [...base, ...others].map((name) => this.tilesets.get(name)), baseTilesets, {
        toggle: (name, checked) => this.setVisible(name, checked),
        opacity: (name, value) => this.setOpacity(name, value),
        zoomTo: (name) => this.zoomTo(name),
        rendering: (kind) => this.setRendering(kind),
      });
    map.on('click', (event) => this.showSpot(event.lngLat.wrap()));
    map.on('moveend', () => this.updateLanguageLinks());
  }

  initialVisible(requested) {
    const names = requested === null ? baseTilesets : requested.split(',');
    return [...new Set(names)].filter((name) => this.tilesets.has(name));
  }

  // Base tilesets first, then the others in the order they were switched on.
  drawingOrder() {
    const base = baseTilesets.filter((name) => this.visible.includes(name));
    return [...base, ...this.visible.filter((name) => !baseTilesets.includes(name))];
  }

  // The rendering chosen in the panel when the tileset offers it, else the one it has.
  renderingFor(tileset) {
    if (!tileset.rasterFormat) return 'vector';
    return this.rendering === 'vector' && tileset.vector ? 'vector' : 'raster';
  }

  // Brings the map, the panel and the URL in line with the state.
  sync() {
    for (const tileset of this.tilesets.values()) {
      if (!this.visible.includes(tileset.name)) {
        this.layers.hide(tileset.name);
        continue;
      }
      const rendering = this.renderingFor(tileset);
      if (this.layers.renderingOf(tileset.name) === rendering) continue;
      const opacity = this.opacityOf(tileset.name);
      if (rendering === 'vector') {
        this.layers.showVector(tileset.name, tileset.style, tileset.attribution, opacity);
      } else {
        const scale = window.devicePixelRatio >= highDpiRatio ? 2 : 1;
        const url = `${tileset.tilejson}?format=${tileset.rasterFormat}&scale=${scale}`;
        this.layers.showRaster(tileset.name, url, tileset.attribution, opacity);
      }
    }
    this.layers.order(this.drawingOrder());
    this.panel.update({ rendering: this.rendering, visible: this.visible, opacity: (name) => this.opacityOf(name) });
    this.writeUrl();
  }

  opacityOf(name) {
    return this.opacity.get(name) ?? 1;
  }

  setVisible(name, visible) {
    this.visible = this.visible.filter((shown) => shown !== name);
    if (visible) this.visible.push(name);
    this.sync();
  }

  setOpacity(name, value) {
    this.opacity.set(name, value);
    this.layers.setOpacity(name, value);
  }

  setRendering(kind) {
    this.rendering = kind;
    this.sync();
  }

  // Shows the tileset and fits the map to its bounds, leaving room for the panel when it is open.
  zoomTo(name, animate = true) {
    const tileset = this.tilesets.get(name);
    if (!this.visible.includes(name)) this.setVisible(name, true);
    const [west, south, east, north] = tileset.bounds;
    const panel = document.getElementById('panel').getBoundingClientRect();
    const besidePanel = panel.right < this.map.getContainer().clientWidth / 2;
    this.map.fitBounds([[west, south], [east, north]], {
      padding: { top: 40, bottom: 40, right: 60, left: besidePanel ? panel.right + 20 : 40 },
      // MapLibre zoom z draws 256-pixel raster tiles of zoom z + 1.
      maxZoom: tileset.maxzoom - 1,
      animate,
    });
  }

  // Opens a popup on what the point query finds at the position, whatever the rendering and the
  // visible tilesets. A new click cancels the query of the previous one.
  async showSpot(position) {
    this.spotRequest?.abort();
    this.popup.setLngLat(position).setDOMContent(spotLoading(this.language, position));
    // addTo() on an open popup closes and reopens it, which would move the keyboard focus again.
    if (!this.popup.isOpen()) this.popup.addTo(this.map);
    this.revealPopup();
    const request = new AbortController();
    this.spotRequest = request;
    let content;
    try {
      const signal = AbortSignal.any([request.signal, AbortSignal.timeout(requestTimeout)]);
      const [features, collections] = await Promise.all([fetchPointQuery(position, signal), this.collections]);
      content = spotDetails(this.language, features, collections, position);
    } catch (error) {
      if (request.signal.aborted) return;  // closed, or replaced by a newer click
      console.error(`the point query at ${position.lng}, ${position.lat} failed:`, error);
      const message = error.name === 'TimeoutError'
        ? translate(this.language, 'spot_timed_out', { seconds: requestTimeout / 1000 }) : error.message;
      content = spotFailed(this.language, position, message);
    }
    if (request.signal.aborted) return;
    this.spotRequest = null;
    this.popup.setDOMContent(content);
    this.revealPopup();
  }

  // Pans the map so that the popup clears the panel, which covers the left of wide screens and the
  // top of narrow ones. Leaves the map alone when the popup would not fit beside the panel.
  revealPopup() {
    const popup = this.popup.getElement()?.getBoundingClientRect();
    const panel = document.getElementById('panel').getBoundingClientRect();
    if (!popup) return;
    const overlaps = popup.left < panel.right && popup.right > panel.left
      && popup.top < panel.bottom && popup.bottom > panel.top;
    if (!overlaps) return;
    const map = this.map.getContainer();
    const besidePanel = panel.right < map.clientWidth / 2;
    // panBy() moves the view, so a negative offset moves the popup right or down.
    const offset = besidePanel ? [popup.left - panel.right - popupMargin, 0] : [0, popup.top - panel.bottom - popupMargin];
    const fits = besidePanel ? popup.right - offset[0] <= map.clientWidth : popup.bottom - offset[1] <= map.clientHeight;
    if (fits) this.map.panBy(offset);
  }

  urlFor(language) {
    const params = new URLSearchParams();
    params.set('layers', this.visible.join(','));
    if (this.rendering === 'vector') params.set('mode', 'vector');
    if (language) params.set('lang', language);
    return `${location.pathname}?${params.toString().replaceAll('%2C', ',')}${location.hash}`;
  }

  writeUrl() {
    history.replaceState(null, '', this.urlFor(this.explicitLanguage ? this.language : null));
    this.updateLanguageLinks();
  }

  updateLanguageLinks() {
    for (const link of document.querySelectorAll('#languages a')) link.href = this.urlFor(link.hreflang);
  }
}

async function start() {
  const params = new URLSearchParams(location.search);
  const language = chooseLanguage(params.get('lang'), navigator.languages ?? [navigator.language]);
  applyPageTexts(language);
  buildLanguageLinks(language);
  setUpPanelToggle(language);
  const map = createMap(language);
  window.tuilerieMap = map;  // for tests/js/viewer-check.mjs and for debugging in the console
  const mapLoaded = new Promise((resolve) => map.once('load', resolve));
  // The popup needs the collections only after a click, so the map never waits for them. Without
  // them, it names collections by id and cannot tell where the flood maps end.
  const collections = fetchCollections(AbortSignal.timeout(requestTimeout)).catch((error) => {
    console.error('the feature collections failed to load, so the popup names collections by id:', error);
    return new Map();
  });
  try {
    const catalog = await fetchJson('/catalog');
    const loaded = await Promise.all(catalog.tilesets.map((entry) => loadTileset(entry, language)));
    const tilesets = loaded.filter((tileset) => tileset.rasterFormat || tileset.vector);
    for (const tileset of loaded.filter((left) => !tilesets.includes(left))) {
      console.error(`tileset ${tileset.name} is left out: it serves no image format and has no MapLibre style`);
    }
    await mapLoaded;
    const viewer = new Viewer(map, language, tilesets, params, collections);
    viewer.sync();
    if (params.has('fit') && viewer.tilesets.has(params.get('fit'))) viewer.zoomTo(params.get('fit'), false);
  } catch (error) {
    const status = document.getElementById('status');
    status.textContent = translate(language, 'catalog_failed', { error: error.message });
    status.hidden = false;
    throw error;
  }
  // The first 'idle' after the tilesets are added: every tile is loaded and drawn.
  await new Promise((resolve) => map.once('idle', resolve));
  return true;
}

// Resolves once the map is complete, for tests and for scripts embedding the viewer.
window.tuilerieReady = start();
