// Requests to the server's point query (/query) and to the list of the collections it searches.

// The OGC API - Features root, ogc.base_path in config/demo.yaml and config/test.yaml.
// NOTE: /catalog does not give ogc.base_path, so on a server that moves the API the popup loses the
// collection titles and the extent of the flood maps, and never reports "no flood zone here".
const featureApiRoot = '/ogc';

// Metres searched around a click for points and lines: ogc.point_query.max_radius_m of the demo
// configuration, because the air-quality stations lie kilometres apart. Each kind of feature has a
// nearer limit of its own (nearbyLimits in spot-topics.js). The server rejects a radius above its
// max_radius_m with 400.
const searchRadius = 5000;

async function errorMessage(response) {
  const body = await response.json().catch(() => null);
  return body?.error ?? `HTTP ${response.status}`;
}

// Fetches the GeoJSON features at or near a point: the polygons that contain it and, per collection,
// the nearest point or line within searchRadius. Each feature carries `collection`, its collection
// id, and nearest ones `distance_m`. Throws an Error with the server's message when the query fails.
export async function fetchPointQuery({ lng, lat }, signal) {
  // Seven decimals are about a centimetre, finer than any click.
  const url = `/query?lon=${lng.toFixed(7)}&lat=${lat.toFixed(7)}&radius=${searchRadius}`;
  const response = await fetch(url, { signal });
  if (!response.ok) throw new Error(await errorMessage(response));
  return (await response.json()).features;
}

// Fetches the feature collections as a Map from collection id to {title, bbox}, where bbox is
// [west, south, east, north] in degrees (CRS84).
export async function fetchCollections(signal) {
  const response = await fetch(`${featureApiRoot}/collections`, { signal });
  if (!response.ok) throw new Error(`${featureApiRoot}/collections: ${await errorMessage(response)}`);
  const { collections } = await response.json();
  return new Map(collections.map((collection) => [collection.id, {
    title: collection.title ?? collection.id,
    bbox: collection.extent?.spatial?.bbox?.[0] ?? null,
  }]));
}
