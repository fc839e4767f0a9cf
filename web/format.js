// Numbers, distances, dates and map positions written in the viewer's language, and the coloured
// badges of the popup.
import { element } from './dom.js';
import { translate } from './i18n.js';

// Keeps a number and its unit on one line.
export const nbsp = '\u00a0';

// The sample data record local times of mainland France.
const dataTimeZone = 'Europe/Paris';

export function formatNumber(language, value, fractionDigits = 1) {
  return new Intl.NumberFormat(language, {
    minimumFractionDigits: fractionDigits, maximumFractionDigits: fractionDigits,
  }).format(value);
}

// Writes a distance in metres as it reads best: "less than 10 m away", "310 m away", "1.2 km away".
// Under 10 m the click itself is less precise than the number.
export function formatDistance(language, metres) {
  if (metres < 10) return translate(language, 'distance_near');
  const distance = metres < 1000
    ? `${formatNumber(language, Math.round(metres / 10) * 10, 0)}${nbsp}m`
    : `${formatNumber(language, metres / 1000, 1)}${nbsp}km`;
  return translate(language, 'distance_away', { distance });
}

// Writes a longitude and latitude as "47.90707° N, 1.90114° E". Five decimals are about a metre.
export function formatPosition(language, { lng, lat }) {
  const latitude = `${formatNumber(language, Math.abs(lat), 5)}°${nbsp}${lat < 0 ? 'S' : 'N'}`;
  const longitude = `${formatNumber(language, Math.abs(lng), 5)}°${nbsp}${lng < 0 ? 'W' : 'E'}`;
  return `${latitude}, ${longitude}`;
}

// Writes the days from start to end, such as "14–18 août 2023", or null when a date is invalid.
export function formatPeriod(language, start, end) {
  const first = new Date(start);
  const last = new Date(end);
  if (Number.isNaN(first.getTime()) || Number.isNaN(last.getTime())) return null;
  const days = new Intl.DateTimeFormat(language, {
    day: 'numeric', month: 'long', year: 'numeric', timeZone: dataTimeZone,
  });
  return days.formatRange(first, last);
}

// Writes a date given as "YYYY/MM/DD" where unknown parts are "??", as the high-water marks record
// them: "18 December 1997", "December 1997" or "1997". Returns the text unchanged when it has
// another form.
export function formatPartialDate(language, text) {
  const match = /^(\d{4})\/(\d{2}|\?\?)\/(\d{2}|\?\?)$/.exec(text ?? '');
  if (!match) return text;
  const [, year, month, day] = match;
  if (month === '??') return year;
  // Noon UTC, so that the time zone never moves the day.
  const date = new Date(Date.UTC(Number(year), Number(month) - 1, day === '??' ? 1 : Number(day), 12));
  const parts = day === '??' ? { month: 'long', year: 'numeric' } : { day: 'numeric', month: 'long', year: 'numeric' };
  return new Intl.DateTimeFormat(language, { ...parts, timeZone: 'UTC' }).format(date);
}

export function formatList(language, items) {
  return new Intl.ListFormat(language, { type: 'conjunction' }).format(items);
}

// Relative luminance of an sRGB colour "#rrggbb", as the WCAG contrast ratio uses it.
function luminance(colour) {
  const channels = [1, 3, 5].map((start) => parseInt(colour.slice(start, start + 2), 16) / 255);
  const [red, green, blue] = channels.map((c) => (c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4));
  return 0.2126 * red + 0.7152 * green + 0.0722 * blue;
}

const darkText = '#1f2933';  // --text of viewer.css

// Creates a badge filled with a map colour, with dark or white text, whichever contrasts more (WCAG
// contrast ratio). Without a colour the badge is grey.
export function badge(text, colour) {
  const node = element('span', { className: 'badge', textContent: text });
  if (!colour) {
    node.classList.add('badge-plain');
    return node;
  }
  const background = luminance(colour) + 0.05;
  const darkContrast = background / (luminance(darkText) + 0.05);
  const whiteContrast = 1.05 / background;
  node.style.setProperty('--badge', colour);
  node.style.setProperty('--badge-text', darkContrast > whiteContrast ? darkText : '#ffffff');
  return node;
}
