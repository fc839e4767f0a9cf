// Loads Tuilerie's viewer in headless Chromium, waits until the map is complete, optionally clicks the
// map, saves a screenshot and prints what the page reported as JSON. Exits with 1 when the page had
// errors or failed requests, the map never became idle or the click opened no popup, 2 on bad
// arguments and 3 when the browser could not run the page.
//
// Usage: node viewer-check.mjs URL OUT.png [--vector] [--locale fr-FR] [--layers flood,air]
//                              [--view ZOOM/LAT/LON] [--size 1280x800] [--timeout SECONDS]
//                              [--click LON,LAT]
// URL is the server's root, e.g. http://127.0.0.1:8095/. Without --view the viewer zooms to the first
// of --layers (default flood). --click clicks the map at that point once it is idle and waits for the
// popup's final content. The report then gives its text as popup_text, and the window boxes of the
// popup and the panel as popup_box and panel_box. The point must be in view.
import { chromium } from 'playwright-core';

const usage = 'usage: node viewer-check.mjs URL OUT.png [--vector] [--locale fr-FR] [--layers flood,air] '
  + '[--view ZOOM/LAT/LON] [--size 1280x800] [--timeout SECONDS] [--click LON,LAT]';

// Debian's Chromium, so that the test needs no browser download. SwiftShader gives WebGL without a
// GPU; Chromium 156 picks it alone, and the flags keep it from dropping that fallback.
const chromiumPath = '/usr/bin/chromium';
const chromiumArguments = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--use-angle=swiftshader', '--enable-unsafe-swiftshader',
];

// Parses "LON,LAT" in decimal degrees.
function parsePoint(text) {
  const point = text.split(',').map(Number);
  const [lon, lat] = point;
  if (point.length !== 2 || !(Math.abs(lon) <= 180) || !(Math.abs(lat) <= 90)) {
    throw new Error(`--click expects LON,LAT in decimal degrees, such as 1.9011,47.9071; got ${text}`);
  }
  return point;
}

function parseArguments(argv) {
  const options = {
    vector: false, locale: 'en-US', layers: 'flood', view: null, width: 1280, height: 800, timeout: 120, click: null,
  };
  const positional = [];
  for (let i = 0; i < argv.length; ++i) {
    const argument = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new Error(`${argument} needs a value`);
      return argv[++i];
    };
    if (argument === '--vector') options.vector = true;
    else if (argument === '--locale') options.locale = value();
    else if (argument === '--layers') options.layers = value();
    else if (argument === '--view') options.view = value();
    else if (argument === '--size') [options.width, options.height] = value().split('x').map(Number);
    else if (argument === '--timeout') options.timeout = Number(value());
    else if (argument === '--click') options.click = parsePoint(value());
    else if (argument.startsWith('--')) throw new Error(`unknown option ${argument}`);
    else positional.push(argument);
  }
  if (positional.length !== 2) throw new Error('expected URL and OUT.png');
  if (!(options.width > 0 && options.height > 0 && options.timeout > 0)) throw new Error('--size and --timeout must be positive');
  [options.url, options.screenshot] = positional;
  return options;
}

// The viewer URL: the tilesets to show, the rendering, and either a map position in the fragment
// (MapLibre's #zoom/lat/lon) or a tileset to zoom to.
function viewerUrl(options) {
  const url = new URL(options.url);
  url.searchParams.set('layers', options.layers);
  if (options.vector) url.searchParams.set('mode', 'vector');
  if (options.view) url.hash = options.view;
  else url.searchParams.set('fit', options.layers.split(',')[0]);
  return url.toString();
}

// Records console errors, uncaught exceptions, and requests that failed or returned an HTTP error.
function watchPage(page, report) {
  page.on('console', (message) => {
    if (message.type() === 'error') report.console_errors.push(message.text());
  });
  page.on('pageerror', (error) => report.page_errors.push(String(error)));
  page.on('requestfailed', (request) => {
    report.failed_requests.push({ url: request.url(), failure: request.failure()?.errorText ?? 'unknown' });
  });
  page.on('response', (response) => {
    if (response.status() >= 400) report.failed_requests.push({ url: response.url(), status: response.status() });
  });
}

// What the page shows: its language, title, the panel's text, the map's layers and the WebGL renderer.
function describePage() {
  const canvas = document.createElement('canvas');
  const gl = canvas.getContext('webgl2') || canvas.getContext('webgl');
  const debug = gl?.getExtension('WEBGL_debug_renderer_info');
  const map = window.tuilerieMap;
  return {
    language: document.documentElement.lang,
    title: document.title,
    panel_text: document.getElementById('panel')?.innerText ?? '',
    map_layers: map ? map.getStyle().layers.map((layer) => `${layer.id}:${layer.type}`) : [],
    zoom: map ? map.getZoom() : null,
    webgl_renderer: debug ? gl.getParameter(debug.UNMASKED_RENDERER_WEBGL) : null,
  };
}

// Returns the window position of a longitude and latitude, and whether the map is the element there
// (and not the panel or a control over it).
function mapPointAt([lon, lat]) {
  const map = window.tuilerieMap;
  const point = map.project([lon, lat]);
  const box = map.getContainer().getBoundingClientRect();
  const x = box.left + point.x;
  const y = box.top + point.y;
  const inWindow = x >= 0 && y >= 0 && x < window.innerWidth && y < window.innerHeight;
  const onMap = inWindow && map.getCanvas() === document.elementFromPoint(x, y);
  return { x, y, onMap };
}

// The text of the popup once the viewer has filled it: the viewer sets aria-busy while it waits for
// the server.
function popupText() {
  const content = document.querySelector('.maplibregl-popup .popup-content');
  if (!content || content.getAttribute('aria-busy') === 'true') return null;
  return content.innerText;
}

// The window boxes of the popup and of the panel, as {left, top, right, bottom} in CSS pixels.
function popupAndPanelBoxes() {
  const box = (node) => {
    const { left, top, right, bottom } = node.getBoundingClientRect();
    return { left, top, right, bottom };
  };
  return { popup_box: box(document.querySelector('.maplibregl-popup')), panel_box: box(document.getElementById('panel')) };
}

// Clicks the map at options.click like a user and records the popup's text and box, or why there is
// none.
async function clickMap(page, options, report) {
  const [lon, lat] = options.click;
  const point = await page.evaluate(mapPointAt, options.click);
  report.click = { lon, lat, x: point.x, y: point.y };
  if (!point.onMap) {
    report.popup_error = `the map is not visible at lon ${lon}, lat ${lat} (window x ${Math.round(point.x)}, `
      + `y ${Math.round(point.y)}); choose a --view that shows it clear of the panel`;
    return;
  }
  await page.mouse.click(point.x, point.y);
  try {
    const text = await page.waitForFunction(popupText);
    report.popup_text = await text.jsonValue();
    // The viewer may pan the map to bring the popup clear of the panel; the screenshot waits for it.
    await page.waitForFunction(() => !window.tuilerieMap.isMoving());
    Object.assign(report, await page.evaluate(popupAndPanelBoxes));
  } catch (error) {
    report.popup_error = `no popup content after the click: ${error.message}`;
  }
}

async function check(options) {
  const report = {
    url: viewerUrl(options), locale: options.locale, ready: false, ready_error: null,
    console_errors: [], page_errors: [], failed_requests: [],
  };
  const browser = await chromium.launch({
    executablePath: chromiumPath, args: chromiumArguments, timeout: 30000,
  });
  try {
    const context = await browser.newContext({
      locale: options.locale, viewport: { width: options.width, height: options.height },
    });
    const page = await context.newPage();
    page.setDefaultTimeout(options.timeout * 1000);
    watchPage(page, report);
    await page.goto(report.url, { waitUntil: 'load' });
    await page.waitForFunction(() => window.tuilerieReady !== undefined);
    try {
      // page.evaluate has no timeout of its own, so the page bounds the wait.
      report.ready = await page.evaluate((milliseconds) => Promise.race([
        window.tuilerieReady.then(() => true),
        new Promise((resolve, reject) => setTimeout(() => reject(new Error(`map not idle after ${milliseconds} ms`)), milliseconds)),
      ]), options.timeout * 1000);
    } catch (error) {
      report.ready_error = String(error);
    }
    Object.assign(report, await page.evaluate(describePage));
    if (options.click && report.ready) await clickMap(page, options, report);
    await page.screenshot({ path: options.screenshot });
  } finally {
    await browser.close();
  }
  return report;
}

let options;
try {
  options = parseArguments(process.argv.slice(2));
} catch (error) {
  console.error(`${error.message}\n${usage}`);
  process.exit(2);
}
// Bounds the whole run, browser start and close included.
const deadline = setTimeout(() => {
  console.error(`viewer check timed out after ${options.timeout + 60} s`);
  process.exit(3);
}, (options.timeout + 60) * 1000);
try {
  const report = await check(options);
  console.log(JSON.stringify(report, null, 2));
  const clean = report.ready && report.console_errors.length === 0 && report.page_errors.length === 0
    && report.failed_requests.length === 0 && !report.popup_error;
  process.exitCode = clean ? 0 : 1;
} catch (error) {
  console.error(`viewer check failed: ${error.message}`);
  process.exitCode = 3;
} finally {
  clearTimeout(deadline);
}
