// The side panel: rendering choice, layer switcher and legends.
import { element } from './dom.js';
import { localized, translate } from './i18n.js';

const zoomIcon = '<svg viewBox="0 0 20 20" width="18" height="18" aria-hidden="true" focusable="false">'
  + '<path d="M3 7V3h4M13 3h4v4M17 13v4h-4M7 17H3v-4" fill="none" stroke="currentColor" stroke-width="2"/>'
  + '<circle cx="10" cy="10" r="2.5" fill="currentColor"/></svg>';

export class Panel {
  // tilesets: [{name, title, description, note, legend, vector}] in list order;
  // actions: {toggle(name, checked), opacity(name, value 0..1), zoomTo(name), rendering(kind)}.
  constructor(root, language, tilesets, baseNames, actions) {
    this.root = root;
    this.language = language;
    this.tilesets = tilesets;
    this.actions = actions;
    this.items = new Map();  // tileset name -> its controls that update() changes
    this.renderingInputs = this.buildRendering(tilesets.some((tileset) => tileset.vector));
    this.fillList(root.querySelector('#base-list'), tilesets.filter((tileset) => baseNames.includes(tileset.name)));
    this.fillList(root.querySelector('#overlay-list'), tilesets.filter((tileset) => !baseNames.includes(tileset.name)));
    this.legends = root.querySelector('#legends');
  }

  // Shows the state: which tilesets are visible, their opacity and the rendering in use.
  update({ rendering, visible, opacity }) {
    for (const input of this.renderingInputs) input.checked = input.value === rendering;
    for (const tileset of this.tilesets) {
      const item = this.items.get(tileset.name);
      const isVisible = visible.includes(tileset.name);
      item.checkbox.checked = isVisible;
      item.opacityRow.hidden = !isVisible;
      item.slider.value = String(Math.round(opacity(tileset.name) * 100));
      item.output.value = `${item.slider.value} %`;
      item.imagesOnly.hidden = rendering !== 'vector' || tileset.vector;
    }
    this.showLegends(visible);
  }

  buildRendering(anyVector) {
    const fieldset = this.root.querySelector('#rendering');
    const inputs = ['raster', 'vector'].map((kind) => element('input', {
      type: 'radio', name: 'rendering', id: `rendering-${kind}`, value: kind,
      disabled: kind === 'vector' && !anyVector,
    }));
    for (const input of inputs) input.addEventListener('change', () => this.actions.rendering(input.value));
    fieldset.querySelector('.choices').append(...inputs.map((input) => element('span', { className: 'choice' }, [
      input, element('label', { for: input.id, textContent: translate(this.language, `rendering_${input.value}`) }),
    ])));
    return inputs;
  }

  fillList(list, tilesets) {
    list.replaceChildren(...tilesets.map((tileset) => this.buildItem(tileset)));
  }

  buildItem(tileset) {
    const t = (key, values) => translate(this.language, key, values);
    const id = (part) => `${part}-${tileset.name}`;
    const checkbox = element('input', { type: 'checkbox', id: id('show'), 'aria-describedby': id('about') });
    checkbox.addEventListener('change', () => this.actions.toggle(tileset.name, checkbox.checked));
    const zoom = element('button', {
      type: 'button', className: 'zoom-to', title: t('zoom_to'), 'aria-label': t('zoom_to_of', { title: tileset.title }),
    });
    zoom.innerHTML = zoomIcon;
    zoom.addEventListener('click', () => this.actions.zoomTo(tileset.name));

    const slider = element('input', {
      type: 'range', id: id('opacity'), min: '0', max: '100', step: '5',
      'aria-label': t('opacity_of', { title: tileset.title }),
    });
    const output = element('output', { for: id('opacity') });
    slider.addEventListener('input', () => {
      output.value = `${slider.value} %`;
      this.actions.opacity(tileset.name, Number(slider.value) / 100);
    });
    const opacityRow = element('div', { className: 'opacity' }, [
      element('label', { for: id('opacity'), textContent: t('opacity'), 'aria-hidden': 'true' }), slider, output,
    ]);

    const imagesOnly = element('p', { className: 'note', textContent: t('images_only'), hidden: true });
    const about = element('div', { id: id('about'), className: 'about' }, [
      element('p', { className: 'note', textContent: tileset.note ?? '', hidden: !tileset.note }),
      imagesOnly,
    ]);
    if (tileset.description) {
      about.append(element('details', {}, [
        element('summary', { textContent: t('about_layer') }),
        element('p', { textContent: tileset.description }),
      ]));
    }
    this.items.set(tileset.name, { checkbox, opacityRow, slider, output, imagesOnly });
    return element('li', { className: 'tileset' }, [
      element('div', { className: 'tileset-row' }, [
        checkbox, element('label', { for: id('show'), textContent: tileset.title }), zoom,
      ]),
      about,
      opacityRow,
    ]);
  }

  showLegends(visible) {
    const shown = this.tilesets.filter((tileset) => tileset.legend && visible.includes(tileset.name));
    if (shown.length === 0) {
      this.legends.replaceChildren(element('p', { className: 'note', textContent: translate(this.language, 'legend_empty') }));
      return;
    }
    // The most recently shown tileset is drawn on top, so its legend comes first.
    shown.sort((a, b) => visible.indexOf(b.name) - visible.indexOf(a.name));
    this.legends.replaceChildren(...shown.map((tileset) => this.buildLegend(tileset.legend)));
  }

  buildLegend(legend) {
    const items = (legend.items ?? []).map((item) => {
      const swatch = element('span', { className: `swatch swatch-${item.kind}`, 'aria-hidden': 'true' });
      swatch.style.setProperty('--swatch', item.color);
      return element('li', {}, [swatch, element('span', { textContent: localized(item.label, this.language) })]);
    });
    const source = localized(legend.source, this.language);
    return element('section', { className: 'legend' }, [
      element('h3', { textContent: localized(legend.title, this.language) }),
      element('ul', {}, items),
      element('p', {
        className: 'legend-source', hidden: !source,
        textContent: translate(this.language, 'legend_source', { source }),
      }),
    ]);
  }
}
