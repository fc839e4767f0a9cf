// The popup's sections on flood and other natural hazards: the zones of the risk prevention plans
// (PPR, COVADIS fields) that contain the clicked spot, its regulatory zone and the nearest
// high-water mark.
import { element } from './dom.js';
import { badge, formatDistance, formatNumber, formatPartialDate, nbsp } from './format.js';
import { hasText, translate } from './i18n.js';
import { badgeLine, collectionKind, sourceLine, topicSection } from './spot-topics.js';

// Fill colours of the COVADIS hazard levels (nivalea) in styles/flood.xml.
const hazardColours = { Fai: '#bdd7ee', M: '#6baed6', F: '#08519c', 'F+': '#08306b' };

// Colours of the COVADIS regulatory zone types (typereg) in styles/flood.xml: 01 is the white zone,
// outside hazard zones, 02 the blue zone of prescriptions and 03 the red zone of interdiction.
const regulationColours = { '01': '#ffffff', '02': '#2b3a8f', '03': '#d7191c' };

// GASPAR hazard codes starting with 11 are floods ("Inondation - ..." in nomrisque).
const isFloodZone = (feature) => String(feature.properties.coderisque ?? '').startsWith('11');
// The Bourg-d'Oisans plan codes zones of several hazards 9999999 (nomrisque "multirisques").
const multipleHazardCode = '9999999';
const isMultipleHazardZone = (feature) => feature.properties.coderisque === multipleHazardCode;

const isHttpUrl = (text) => typeof text === 'string' && /^https?:\/\//.test(text);

// Whether the bbox of a hazard zone collection contains the point, so that the lack of a zone
// there means something.
// NOTE: a plan's perimeter is not its bbox, so near a corner of the bbox the popup may report "no
// flood zone mapped here" for a spot that the plan does not cover.
function floodMapsCover(collections, { lng, lat }) {
  for (const [id, { bbox }] of collections) {
    if (collectionKind(id) !== 'hazard_zone' || !bbox) continue;
    const [west, south, east, north] = bbox;
    if (lng >= west && lng <= east && lat >= south && lat <= north) return true;
  }
  return false;
}

function hazardLevelBadge(language, level) {
  const key = `hazard_level.${level}`;
  return hasText(language, key) ? badge(translate(language, key), hazardColours[level]) : badge(String(level));
}

// The type of hazard in words: the GASPAR code translated when known, else the source's own
// French name (nomrisque).
function hazardType(language, { coderisque, nomrisque, descript }) {
  if (coderisque === multipleHazardCode) return translate(language, 'hazard_type.multiple', { zone: descript ?? '?' });
  const key = `hazard_type.${coderisque}`;
  return hasText(language, key) ? translate(language, key) : (nomrisque ?? String(coderisque));
}

function hazardLine(language, feature) {
  return badgeLine(hazardLevelBadge(language, feature.properties.nivalea), hazardType(language, feature.properties));
}

function regulationLine(language, { typereg, codezone }) {
  const known = hasText(language, `typereg.${typereg}`);
  const zoneBadge = known ? badge(translate(language, `typereg.${typereg}`), regulationColours[typereg]) : badge(String(typereg));
  const meaning = known ? translate(language, `typereg_meaning.${typereg}`) : '';
  // The white zones have no zone code, only "-".
  const coded = codezone && codezone !== '-';
  const text = translate(language, coded ? 'regulation_zone' : 'regulation_zone_uncoded', { code: codezone, meaning });
  return badgeLine(zoneBadge, text);
}

function floodMarkLines(language, feature) {
  const { COMMUNE, DATE_CRUE, Z_REPERE } = feature.properties;
  const where = COMMUNE ? ` (${COMMUNE})` : '';
  const details = [translate(language, 'flood_mark_date', { date: formatPartialDate(language, DATE_CRUE) ?? '?' })];
  if (typeof Z_REPERE === 'number') {
    details.push(translate(language, 'flood_mark_level', { altitude: `${formatNumber(language, Z_REPERE, 2)}${nbsp}m` }));
  }
  return [
    element('p', { textContent: translate(language, 'flood_mark', { distance: formatDistance(language, feature.distance_m) }) + where }),
    element('p', { className: 'topic-detail', textContent: details.join(' · ') }),
  ];
}

// A link to the plan's hazard map document, when a zone gives one.
function planDocumentLink(language, zones) {
  const url = zones.map((zone) => zone.properties.urlfic).find(isHttpUrl);
  if (!url) return null;
  const label = translate(language, 'hazard_document') + (/\.pdf$/i.test(url) ? ' (PDF)' : '');
  return element('p', {}, [element('a', { href: url, target: '_blank', rel: 'noopener noreferrer', textContent: label })]);
}

// The flood section: the hazard zones that contain the spot, its regulatory zone and the nearest
// high-water mark. Where the flood maps cover the spot without a zone, it states that none is
// mapped. Returns null when no flood data concern the spot.
export function floodSection(language, groups, collections, position) {
  const zones = (groups.get('hazard_zone') ?? []).filter(isFloodZone);
  const regulation = groups.get('regulatory_zone') ?? [];
  const marks = groups.get('flood_mark') ?? [];
  const covered = floodMapsCover(collections, position);
  if (zones.length + regulation.length + marks.length === 0 && !covered) return null;

  const children = zones.map((zone) => hazardLine(language, zone));
  if (zones.length === 0 && covered) {
    // A zone of several hazards may include a flood hazard, so its absence is not claimed there.
    const multiple = (groups.get('hazard_zone') ?? []).some(isMultipleHazardZone);
    children.push(element('p', { textContent: translate(language, multiple ? 'flood_in_multiple' : 'flood_none') }));
  }
  children.push(...regulation.map((zone) => regulationLine(language, zone.properties)));
  children.push(...marks.flatMap((mark) => floodMarkLines(language, mark)));
  const link = planDocumentLink(language, zones);
  if (link) children.push(link);
  const sources = [...zones, ...regulation, ...marks];
  if (sources.length > 0) children.push(sourceLine(language, sources, collections));
  return topicSection(language, 'flood_title', children);
}

// Hazard zones of other natural hazards (avalanche, rockfall, landslide, several at once), or null.
export function otherHazardsSection(language, groups, collections) {
  const zones = (groups.get('hazard_zone') ?? []).filter((zone) => !isFloodZone(zone));
  if (zones.length === 0) return null;
  const children = zones.map((zone) => hazardLine(language, zone));
  const link = planDocumentLink(language, zones);
  if (link) children.push(link);
  children.push(sourceLine(language, zones, collections));
  return topicSection(language, 'other_hazards_title', children);
}
