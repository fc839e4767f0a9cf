// The viewer's texts in English and French, and the choice of language.

// Every text the viewer shows. {name} marks a value filled in by translate().
const texts = {
  en: {
    app_name: 'Tuilerie',
    page_title: 'Tuilerie: maps of the Loiret and Orléans Métropole',
    app_subtitle: 'Open data maps of the Loiret and Orléans Métropole',
    languages_label: 'Language',
    panel_show: 'Show layers',
    panel_hide: 'Hide layers',
    rendering_title: 'Rendering',
    rendering_raster: 'Images',
    rendering_vector: 'Vector',
    rendering_help: 'Vector rendering draws the features in your browser: click one to read its attributes.',
    base_title: 'Base map',
    overlays_title: 'Layers',
    opacity: 'Opacity',
    opacity_of: 'Opacity of {title}',
    zoom_to: 'Zoom to layer',
    zoom_to_of: 'Zoom to {title}',
    outside_view: 'Data outside the Orléans area: use “Zoom to layer”.',
    about_layer: 'About this layer',
    // Where the demonstration tilesets that lie away from Orléans come from; config/demo.yaml
    // describes them in one language only.
    'note.flood': 'Stand-in data from the Isère (Romanche valley) and the Hérault, not from the Loiret: use “Zoom to layer”.',
    'note.relief': 'Data from the Isère (Romanche valley around Le Bourg-d’Oisans), not from the Loiret: use “Zoom to layer”.',
    'note.noise': 'Stand-in data from the Gironde, Loire-Atlantique and Eure-et-Loir, not from the Loiret: use “Zoom to layer”.',
    images_only: 'Images only: this layer has no vector tiles.',
    legend_title: 'Legend',
    legend_empty: 'Show a layer to see its legend.',
    legend_source: 'Source: {source}',
    popup_raster: 'Feature details come with the vector rendering.',
    popup_switch: 'Switch to vector rendering',
    popup_images_only: 'The visible layers exist as images only, so no feature details are available here.',
    popup_layer: 'Layer {layer}',
    popup_more: '{count} more features not shown.',
    catalog_failed: 'The layer list could not be loaded ({error}). Reload the page, or check that the server is running.',
    'Map.Title': 'Map',
    'NavigationControl.ZoomIn': 'Zoom in',
    'NavigationControl.ZoomOut': 'Zoom out',
    'NavigationControl.ResetBearing': 'Reset bearing to north',
    'AttributionControl.ToggleAttribution': 'Show or hide the data sources',
    'Popup.Close': 'Close',
  },
  fr: {
    app_name: 'Tuilerie',
    page_title: 'Tuilerie : cartes du Loiret et d’Orléans Métropole',
    app_subtitle: 'Cartes de données ouvertes du Loiret et d’Orléans Métropole',
    languages_label: 'Langue',
    panel_show: 'Afficher les couches',
    panel_hide: 'Masquer les couches',
    rendering_title: 'Rendu',
    rendering_raster: 'Images',
    rendering_vector: 'Vectoriel',
    rendering_help: 'Le rendu vectoriel dessine les objets dans votre navigateur : cliquez sur l’un d’eux pour lire ses attributs.',
    base_title: 'Fond de carte',
    overlays_title: 'Couches',
    opacity: 'Opacité',
    opacity_of: 'Opacité de la couche {title}',
    zoom_to: 'Zoomer sur la couche',
    zoom_to_of: 'Zoomer sur la couche {title}',
    outside_view: 'Données hors de la région d’Orléans : utilisez « Zoomer sur la couche ».',
    about_layer: 'À propos de cette couche',
    'note.flood': 'Données de démonstration de l’Isère (vallée de la Romanche) et de l’Hérault, pas du Loiret : utilisez « Zoomer sur la couche ».',
    'note.relief': 'Données de l’Isère (vallée de la Romanche autour du Bourg-d’Oisans), pas du Loiret : utilisez « Zoomer sur la couche ».',
    'note.noise': 'Données de démonstration de Gironde, de Loire-Atlantique et d’Eure-et-Loir, pas du Loiret : utilisez « Zoomer sur la couche ».',
    images_only: 'Images seulement : cette couche n’a pas de tuiles vectorielles.',
    legend_title: 'Légende',
    legend_empty: 'Affichez une couche pour voir sa légende.',
    legend_source: 'Source : {source}',
    popup_raster: 'Le détail des objets est disponible en rendu vectoriel.',
    popup_switch: 'Passer au rendu vectoriel',
    popup_images_only: 'Les couches affichées n’existent qu’en images : aucun détail d’objet n’est disponible ici.',
    popup_layer: 'Couche {layer}',
    popup_more: '{count} autres objets non affichés.',
    catalog_failed: 'La liste des couches n’a pas pu être chargée ({error}). Rechargez la page ou vérifiez que le serveur fonctionne.',
    'Map.Title': 'Carte',
    'NavigationControl.ZoomIn': 'Zoom avant',
    'NavigationControl.ZoomOut': 'Zoom arrière',
    'NavigationControl.ResetBearing': 'Réorienter vers le nord',
    'AttributionControl.ToggleAttribution': 'Afficher ou masquer les sources des données',
    'Popup.Close': 'Fermer',
  },
};

export const languages = Object.keys(texts);

// Each language's name in itself, the same whatever the page's language.
export const languageNames = { en: 'English', fr: 'Français' };

// Keys of MapLibre GL JS's own control labels (such as NavigationControl.ZoomIn), passed to it as
// its `locale` option.
const maplibreKeys = Object.keys(texts.en).filter((key) => /^[A-Z]\w*\.\w+$/.test(key));

// Picks the language from ?lang= when it names a known one, else from the browser's
// preferred languages: the first French or English one wins, and English is the default.
export function chooseLanguage(requested, browserLanguages) {
  if (languages.includes(requested)) return requested;
  for (const tag of browserLanguages) {
    const primary = tag.toLowerCase().split('-')[0];
    if (languages.includes(primary)) return primary;
  }
  return 'en';
}

export function hasText(language, key) {
  return key in texts[language];
}

export function translate(language, key, values = {}) {
  const text = texts[language][key];
  if (text === undefined) throw new Error(`missing text "${key}" in language "${language}"`);
  return text.replace(/\{(\w+)\}/g, (placeholder, name) => (name in values ? String(values[name]) : placeholder));
}

// Returns the text of a {"en": ..., "fr": ...} object, as legends carry them, in the language, falling
// back to English and then to any language present.
export function localized(pair, language) {
  if (!pair || typeof pair !== 'object') return '';
  return pair[language] ?? pair.en ?? Object.values(pair)[0] ?? '';
}

export function maplibreLocale(language) {
  return Object.fromEntries(maplibreKeys.map((key) => [key, texts[language][key]]));
}
