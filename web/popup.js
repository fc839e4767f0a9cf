// Contents of the popup opened by a click on the map: what the point query found at that spot.
import { element } from './dom.js';
import { formatDistance, formatList, formatPosition } from './format.js';
import { translate } from './i18n.js';
import { floodSection, otherHazardsSection } from './spot-hazards.js';
import {
  airSection, communeOf, groupByKind, nearbyFeatures, noiseSection, otherDataSection, transitSection,
} from './spot-topics.js';

// The topics that a citizen looks up on every click; the popup names those without data at the spot.
const mainTopics = ['flood', 'noise', 'air'];

function spotHeader(language, title, position) {
  return element('header', { className: 'spot-header' }, [
    element('h3', { textContent: title }),
    element('p', { className: 'spot-position', textContent: formatPosition(language, position) }),
  ]);
}

// The popup while the query runs. aria-busy marks the content as about to change, for screen
// readers and for the tests.
export function spotLoading(language, position) {
  return element('div', { className: 'popup-content', 'aria-busy': 'true' }, [
    spotHeader(language, translate(language, 'spot_here'), position),
    element('p', { className: 'spot-status', textContent: translate(language, 'spot_loading') }),
  ]);
}

export function spotFailed(language, position, message) {
  return element('div', { className: 'popup-content' }, [
    spotHeader(language, translate(language, 'spot_here'), position),
    element('p', { className: 'spot-status spot-error', textContent: translate(language, 'spot_failed', { error: message }) }),
  ]);
}

function attributeTable(properties) {
  const rows = Object.entries(properties).map(([key, value]) => element('tr', {}, [
    element('th', { scope: 'row', textContent: key }),
    element('td', { textContent: value === null ? '–' : String(value) }),
  ]));
  return element('table', { className: 'attributes' }, [element('tbody', {}, rows)]);
}

// A folded list of each feature's attributes as the server sent them, for readers who need the codes.
function allAttributes(language, features, collections) {
  const sections = features.map((feature) => {
    const title = collections.get(feature.collection)?.title ?? feature.collection;
    const distance = feature.distance_m === undefined ? '' : ` · ${formatDistance(language, feature.distance_m)}`;
    return element('section', { className: 'feature' }, [
      element('h5', { textContent: title + distance }),
      attributeTable(feature.properties),
    ]);
  });
  return element('details', { className: 'all-attributes' }, [
    element('summary', { textContent: translate(language, 'all_attributes') }),
    ...sections,
  ]);
}

// Describes the spot from the features of the point query: one section per topic with data, a
// line naming the main topics without data, and every attribute in a folded list. Reports that
// nothing is known when no feature concerns the spot. collections maps collection ids to {title, bbox}.
export function spotDetails(language, features, collections, position) {
  const nearby = nearbyFeatures(features);
  const groups = groupByKind(nearby);
  const commune = communeOf(groups);
  const sections = {
    flood: floodSection(language, groups, collections, position),
    hazards: otherHazardsSection(language, groups, collections),
    noise: noiseSection(language, groups, collections),
    air: airSection(language, groups, collections),
    transit: transitSection(language, groups),
    other: otherDataSection(language, groups, collections),
  };
  const filledSections = Object.values(sections).filter(Boolean);
  const children = [spotHeader(language, commune ?? translate(language, 'spot_here'), position)];
  if (filledSections.length === 0 && !commune) {
    children.push(element('p', { className: 'spot-status', textContent: translate(language, 'spot_nothing') }));
    return element('div', { className: 'popup-content' }, children);
  }

  children.push(...filledSections);
  const missing = mainTopics.filter((topic) => !sections[topic]);
  if (missing.length > 0) {
    const topics = formatList(language, missing.map((topic) => translate(language, `topic.${topic}`)));
    children.push(element('p', { className: 'spot-missing', textContent: translate(language, 'spot_missing', { topics }) }));
  }
  children.push(allAttributes(language, nearby, collections));
  return element('div', { className: 'popup-content' }, children);
}
