// The kinds of feature that /query returns, and the popup's sections on noise, air quality and public
// transport, with their coded values written out in words. The hazard sections are in spot-hazards.js.
import { element } from './dom.js';
import { badge, formatDistance, formatNumber, formatPeriod, nbsp } from './format.js';
import { hasText, translate } from './i18n.js';

// The kind of each collection of config/demo.yaml, which sets how its fields are read. Features of
// other collections are named by their collection's title, and their attributes listed as they are.
const collectionKinds = {
  flood_hazard: 'hazard_zone',
  flood_hazard_oisans: 'hazard_zone',
  flood_regulation: 'regulatory_zone',
  flood_marks: 'flood_mark',
  noise_receivers: 'noise_receiver',
  noise_zones_roads: 'noise_limit_zone',
  noise_lden_bordeaux: 'noise_band',
  air_stations: 'air_station',
  communes: 'commune',
  tao_lines: 'transit_line',
  tao_stops: 'transit_stop',
};

// Metres up to which the nearest feature of a kind still describes the clicked spot, a judgement
// rather than a standard. The server searches further because of the air-quality stations, which
// keep its whole radius.
const nearbyLimits = {
  flood_mark: 1000,
  noise_receiver: 500,
  transit_line: 500,
  transit_stop: 500,
};

// 5 dB classes of noise levels with their NF S 31-130 colours, as in styles/noise.xml: the lower
// bound of each class in dB(A), then its colour.
const noiseClasses = [
  [-Infinity, '#48c901'], [45, '#53fe00'], [50, '#b6fe74'], [55, '#fffe02'],
  [60, '#ffa800'], [65, '#fd0000'], [70, '#cf03fd'], [75, '#920167'],
];

// ATMO NO2 sub-index classes (arrêté of 10 July 2020) applied to the hourly maximum, as the air
// legend and styles/air.xml do: the upper bound of each class in µg/m³, its key and its colour.
const no2Classes = [
  [40, 'good', '#50f0e6'], [90, 'fair', '#50ccaa'], [120, 'degraded', '#f0e641'],
  [230, 'poor', '#ff5050'], [340, 'very_poor', '#960032'], [Infinity, 'extremely_poor', '#7d2181'],
];

const pollutants = ['no2', 'pm10', 'pm25', 'o3'];

export const collectionKind = (id) => collectionKinds[id] ?? 'other';
const kindOf = (feature) => collectionKind(feature.collection);

// Leaves out the nearest features that lie too far away to describe the spot.
export function nearbyFeatures(features) {
  return features.filter((feature) => !(feature.distance_m > (nearbyLimits[kindOf(feature)] ?? Infinity)));
}

// Sorts the features by the kind of their collection. Features of unknown collections go under 'other'.
export function groupByKind(features) {
  const groups = new Map();
  for (const feature of features) {
    const kind = kindOf(feature);
    if (!groups.has(kind)) groups.set(kind, []);
    groups.get(kind).push(feature);
  }
  return groups;
}

export function topicSection(language, titleKey, children) {
  return element('section', { className: 'topic' }, [
    element('h4', { textContent: translate(language, titleKey) }),
    ...children,
  ]);
}

// A line opening with a coloured badge, then the text.
export function badgeLine(badgeNode, text) {
  return element('p', { className: 'topic-line' }, [badgeNode, element('span', { textContent: text })]);
}

// Names the collections that the features come from, so that readers can check the source.
export function sourceLine(language, features, collections) {
  const titles = [...new Set(features.map((feature) => collections.get(feature.collection)?.title ?? feature.collection))];
  return element('p', { className: 'topic-source', textContent: translate(language, 'legend_source', { source: titles.join(' · ') }) });
}

// Returns the class of a level in dB(A) as [lower bound, colour, upper bound or undefined].
function noiseClassOf(level) {
  const index = noiseClasses.findLastIndex(([lower]) => level >= lower);
  return [...noiseClasses[index], noiseClasses[index + 1]?.[0]];
}

// A badge with the 5 dB class of a level in dB(A): "55–60 dB(A)", "below 45 dB(A)".
function noiseClassBadge(language, level) {
  const [lower, colour, upper] = noiseClassOf(level);
  let text;
  if (lower === -Infinity) text = translate(language, 'noise_class_below', { upper });
  else if (upper === undefined) text = translate(language, 'noise_class_above', { lower });
  else text = translate(language, 'noise_class', { lower, upper });
  return badge(text, colour);
}

function noiseReceiverLine(language, feature) {
  const { laeq } = feature.properties;
  if (typeof laeq !== 'number') return null;
  return badgeLine(noiseClassBadge(language, laeq), translate(language, 'noise_receiver', {
    level: `${formatNumber(language, laeq, 1)}${nbsp}dB(A)`, distance: formatDistance(language, feature.distance_m),
  }));
}

// Bands of a strategic noise map such as "Lden6064" (60 to 64 dB) or "LdenGreaterThan75".
function noiseBandLine(language, { category, source }) {
  const match = /^Lden(?:(\d{2})\d{2}|GreaterThan(\d{2}))$/.exec(category ?? '');
  if (!match) return null;
  const lower = Number(match[1] ?? match[2]);
  let origin = 'other';
  if (/^railways/i.test(source ?? '')) origin = 'rail';
  else if (/^roads/i.test(source ?? '')) origin = 'road';
  return badgeLine(noiseClassBadge(language, lower), translate(language, `noise_band.${origin}`));
}

// Type C zones of a strategic noise map (COVADIS CBS fields): Lden above the limit value of a road
// (TYPESOURCE R) or railway (F) in LEGENDE.
function noiseLimitLine(language, { TYPESOURCE, LEGENDE, CODINFRA }) {
  const limit = Number(LEGENDE);
  if (!Number.isFinite(limit)) return null;
  const source = TYPESOURCE === 'F' ? 'rail' : 'road';
  let text = translate(language, `noise_limit.${source}`);
  if (CODINFRA) text += translate(language, `noise_infrastructure.${source}`, { code: CODINFRA });
  const [, colour] = noiseClassOf(limit);
  return badgeLine(badge(translate(language, 'noise_over', { limit }), colour), text);
}

// The noise section: the modelled level at the nearest receiver, the bands and the zones above
// limit values that contain the spot, or null when there is none.
export function noiseSection(language, groups, collections) {
  const receivers = groups.get('noise_receiver') ?? [];
  const bands = groups.get('noise_band') ?? [];
  const limitZones = groups.get('noise_limit_zone') ?? [];
  const lines = [
    ...receivers.map((feature) => noiseReceiverLine(language, feature)),
    ...bands.map((feature) => noiseBandLine(language, feature.properties)),
    ...limitZones.map((feature) => noiseLimitLine(language, feature.properties)),
  ].filter(Boolean);
  if (lines.length === 0) return null;
  lines.push(sourceLine(language, [...receivers, ...bands, ...limitZones], collections));
  return topicSection(language, 'noise_title', lines);
}

// A line with the ATMO NO2 class of the station's highest hourly value, as its marker shows it.
function no2IndexLine(language, no2Max) {
  const [, key, colour] = no2Classes.find(([upper]) => no2Max <= upper);
  return badgeLine(badge(translate(language, `no2_class.${key}`), colour), translate(language, 'no2_index'));
}

// A table of the mean and hourly maximum of each pollutant, "not measured" where both are null.
function pollutantTable(language, properties) {
  const value = (number) => (typeof number === 'number' ? formatNumber(language, number, 1) : '–');
  const rows = pollutants.map((pollutant) => {
    const mean = properties[`${pollutant}_moy`];
    const max = properties[`${pollutant}_max`];
    const name = element('th', { scope: 'row', textContent: translate(language, `pollutant.${pollutant}`) });
    if (mean === null && max === null) {
      return element('tr', { className: 'not-measured' }, [
        name, element('td', { colSpan: 2, textContent: translate(language, 'air_not_measured') }),
      ]);
    }
    return element('tr', {}, [name, element('td', { textContent: value(mean) }), element('td', { textContent: value(max) })]);
  });
  const head = element('tr', {}, [
    element('td'),
    element('th', { scope: 'col', textContent: translate(language, 'air_mean') }),
    element('th', { scope: 'col', textContent: translate(language, 'air_max') }),
  ]);
  return element('table', { className: 'pollutants' }, [element('thead', {}, [head]), element('tbody', {}, rows)]);
}

// The air section: the nearest station with its concentrations, or null when none lies within the
// search radius.
export function airSection(language, groups, collections) {
  const station = (groups.get('air_station') ?? [])[0];
  if (!station) return null;
  const properties = station.properties;
  const describe = (prefix, value) => (hasText(language, `${prefix}.${value}`) ? translate(language, `${prefix}.${value}`) : value);
  const setting = [describe('station_area', properties.typologie), describe('station_influence', properties.influence)]
    .filter(Boolean).join(', ');
  const name = String(properties.nom_station ?? properties.code_station ?? '?').replaceAll('_', ' ');
  const children = [element('p', {
    textContent: translate(language, 'air_station', { name, setting, distance: formatDistance(language, station.distance_m) }),
  })];
  if (typeof properties.no2_max === 'number') children.push(no2IndexLine(language, properties.no2_max));
  children.push(pollutantTable(language, properties));
  const period = formatPeriod(language, properties.premiere_heure, properties.derniere_heure);
  if (period) children.push(element('p', { className: 'topic-detail', textContent: translate(language, 'air_period', { period }) }));
  children.push(sourceLine(language, [station], collections));
  return topicSection(language, 'air_title', children);
}

// Describes a line as "Tram A (Hôpital de La Source – Jules Verne), 210 m away".
function transitLineText(language, feature) {
  const { route_type: routeType, short_name: shortName, origin, terminus } = feature.properties;
  const modeKey = `route_type.${routeType}`;
  let name = [hasText(language, modeKey) ? translate(language, modeKey) : null, shortName].filter(Boolean).join(' ');
  if (origin && terminus) name += ` (${origin} – ${terminus})`;
  return `${name}, ${formatDistance(language, feature.distance_m)}`;
}

function transitStopText(language, feature) {
  const { stop_name: name, short_name: line } = feature.properties;
  return translate(language, 'transit_stop', { name, line, distance: formatDistance(language, feature.distance_m) });
}

// The nearest public transport line and stop, or null.
export function transitSection(language, groups) {
  const lines = (groups.get('transit_line') ?? []).map((feature) => transitLineText(language, feature));
  const stops = (groups.get('transit_stop') ?? []).map((feature) => transitStopText(language, feature));
  if (lines.length + stops.length === 0) return null;
  const children = [...lines, ...stops].map((text) => element('p', { textContent: text }));
  return topicSection(language, 'transit_title', children);
}

// Names the other collections with features at the spot, whose attributes the popup cannot read.
export function otherDataSection(language, groups, collections) {
  const features = groups.get('other') ?? [];
  if (features.length === 0) return null;
  const titles = [...new Set(features.map((feature) => collections.get(feature.collection)?.title ?? feature.collection))];
  return topicSection(language, 'other_data_title', titles.map((title) => element('p', { textContent: title })));
}

// The name of the commune that contains the spot, or null.
export function communeOf(groups) {
  const commune = (groups.get('commune') ?? [])[0];
  return commune?.properties.nom ?? null;
}
