// Loads Tuilerie's viewer in headless Chromium, waits until the map is complete, saves a screenshot and
// prints what the page reported as JSON. Exits with 1 when the page had errors or failed requests or
// the map never became idle, 2 on bad arguments and 3 when the browser could not run the page.
//
// Usage: node viewer-check.mjs URL OUT.png [--vector] [--locale fr-FR] [--layers flood,air]
//                              [--view ZOOM/LAT/LON] [--size 1280x800] [--timeout SECONDS]
// URL is the server's root, e.g. http://127.0.0.1:8095/. Without --view the viewer zooms to the first
// of --layers (default flood).
import { chromium } from 'playwright-core';

const usage = 'usage: node viewer-check.mjs URL OUT.png [--vector] [--locale fr-FR] [--layers flood,air] '
  + '[--view ZOOM/LAT/LON] [--size 1280x800] [--timeout SECONDS]';

// Debian's Chromium, so that the test needs no browser download. SwiftShader gives WebGL without a
// GPU; Chromium 156 picks it alone, and the flags keep it from dropping that fallback.
const chromiumPath = '/usr/bin/chromium';
const chromiumArguments = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--use-angle=swiftshader', '--enable-unsafe-swiftshader',
];

function parseArguments(argv) {
  const options = { vector: false, locale: 'en-US', layers: 'flood', view: null, width: 1280, height: 800, timeout: 120 };
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
    && report.failed_requests.length === 0;
  process.exitCode = clean ? 0 : 1;
} catch (error) {
  console.error(`viewer check failed: ${error.message}`);
  process.exitCode = 3;
} finally {
  clearTimeout(deadline);
}
