// Colour scales for the map's figures, and the legend that explains them.
import { t } from '../i18n.js';
import { h } from '../dom.js';

export const FIGURES = ['open', 'overdue', 'reported', 'closed', 'on_time_rate', 'satisfaction'];
const NO_DATA = '#d5dbe4';

// Counts: more is worse (light yellow → dark red). Rates: higher is better (red → green).
const COUNT_COLOURS = ['#f4f6f9', '#fde9b6', '#fbb970', '#f1784a', '#d23b2f', '#8f1d1d'];
const GOOD_COLOURS = ['#c0392b', '#e67e22', '#f4d03f', '#82c36a', '#1f8b4c'];

/** Nice upper bounds of 5 classes over the positive values. */
function countBreaks(values) {
  const max = Math.max(0, ...values.filter((v) => v !== null && v !== undefined));
  if (max <= 5) return [1, 2, 3, 4, 5].filter((b, i) => i < 5);
  const step = Math.ceil(max / 5);
  return [1, 2, 3, 4, 5].map((i) => i * step);
}

/** A scale for `figure` over the values in view: {colour(v), legend()}. */
export function scaleFor(figure, values) {
  if (figure === 'on_time_rate' || figure === 'satisfaction') {
    const rate = figure === 'on_time_rate';
    const breaks = rate ? [0.6, 0.8, 0.9, 0.95] : [3, 3.5, 4, 4.5];
    const fmt = (v) => (rate ? `${Math.round(v * 100)}%` : v.toFixed(1));
    const labels = [`< ${fmt(breaks[0])}`, `${fmt(breaks[0])} – ${fmt(breaks[1])}`, `${fmt(breaks[1])} – ${fmt(breaks[2])}`, `${fmt(breaks[2])} – ${fmt(breaks[3])}`, `≥ ${fmt(breaks[3])}`];
    const colour = (v) => {
      if (v === null || v === undefined) return NO_DATA;
      let i = 0;
      while (i < breaks.length && v >= breaks[i]) i++;
      return GOOD_COLOURS[i];
    };
    return { colour, rows: GOOD_COLOURS.map((c, i) => [c, labels[i]]).reverse().concat([[NO_DATA, t('map.noValue')]]) };
  }
  const breaks = countBreaks(values);
  const colour = (v) => {
    if (v === null || v === undefined) return NO_DATA;
    if (v <= 0) return COUNT_COLOURS[0];
    let i = 0;
    while (i < breaks.length - 1 && v > breaks[i]) i++;
    return COUNT_COLOURS[i + 1];
  };
  const rows = [[COUNT_COLOURS[0], '0']];
  let lo = 1;
  breaks.forEach((b, i) => {
    rows.push([COUNT_COLOURS[i + 1], i === breaks.length - 1 ? `≥ ${lo}` : lo === b ? String(b) : `${lo} – ${b}`]);
    lo = b + 1;
  });
  return { colour, rows: rows.reverse() };
}

export function legendEl(figure, scale) {
  return h('div', { class: 'legend', role: 'group', 'aria-label': t('map.legend') },
    h('h3', t(`fig.${figure}`)),
    scale.rows.map(([c, label]) => h('div', { class: 'row' }, h('span', { class: 'sw', style: { background: c } }), h('span', label))));
}

/** State colours of event points. */
export const STATE_COLOURS = {
  reported: '#2f6fe0', accepted: '#6d4bd1', dispatched: '#e08a1e', in_progress: '#e0b21e',
  resolved: '#13a39a', closed: '#2a9d55', rejected: '#8a94a6', merged: '#8a94a6',
};
