// Contents of the popup opened by a click on the map.
import { element } from './dom.js';
import { translate } from './i18n.js';

const maxFeatures = 5;  // listed per click; the popup gives the count of the others

// Two style layers often draw one feature (a fill and its outline), so features are distinguished by
// their source, MVT layer, id and attributes.
function distinctFeatures(features) {
  const seen = new Set();
  return features.filter((feature) => {
    const key = JSON.stringify([feature.source, feature.sourceLayer, feature.id, feature.properties]);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function attributeTable(properties) {
  const rows = Object.entries(properties).map(([key, value]) => element('tr', {}, [
    element('th', { scope: 'row', textContent: key }),
    element('td', { textContent: String(value) }),
  ]));
  return element('table', { className: 'attributes' }, [element('tbody', {}, rows)]);
}

// Lists the attributes of the features under the click, grouped under their tileset's title, each
// headed by its MVT layer's name. Returns null when there is none.
export function featureDetails(features, language, tilesetTitleOf) {
  const distinct = distinctFeatures(features);
  if (distinct.length === 0) return null;
  const groups = new Map();  // tileset title -> its features' sections, in the order found
  for (const feature of distinct.slice(0, maxFeatures)) {
    const title = tilesetTitleOf(feature.layer.id);
    if (!groups.has(title)) groups.set(title, []);
    groups.get(title).push(element('section', { className: 'feature' }, [
      element('h4', { textContent: translate(language, 'popup_layer', { layer: feature.sourceLayer }) }),
      attributeTable(feature.properties),
    ]));
  }
  const children = [...groups].map(([title, sections]) => element('section', {}, [
    element('h3', { textContent: title }), ...sections,
  ]));
  const more = distinct.length - maxFeatures;
  if (more > 0) children.push(element('p', { className: 'note', textContent: translate(language, 'popup_more', { count: more }) }));
  return element('div', { className: 'popup-content' }, children);
}

// Explains that raster tiles carry no attributes, with a button to switch to vector rendering when a
// visible tileset has vector tiles.
export function rasterNotice(language, canSwitch, switchToVector) {
  const children = [element('p', { textContent: translate(language, canSwitch ? 'popup_raster' : 'popup_images_only') })];
  if (canSwitch) {
    const button = element('button', { type: 'button', className: 'button', textContent: translate(language, 'popup_switch') });
    button.addEventListener('click', switchToVector);
    children.push(button);
  }
  return element('div', { className: 'popup-content' }, children);
}
