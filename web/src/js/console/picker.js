// Form controls the admin pages share: an area picked from the tree (browse or search by name)
// and a duration entered in minutes, working hours or working days.
import { t } from '../i18n.js';
import { get } from '../api.js';
import { h, put, debounce } from '../dom.js';

/**
 * An area picker. The chosen code sits in a hidden input named `name` (so forms read it like any
 * field); the visible part shows the area's name with its code, and a panel lets the user browse
 * the tree from the top of their scope or search it by name.
 */
export function areaPicker({ name, value = '', required = false, root }) {
  const hidden = h('input', { type: 'hidden', name, value });
  const label = h('span', { class: 'picker-label' }, value || t('picker.none'));
  const button = h('button', { type: 'button', id: `${name}-picker`, class: 'picker-button', 'aria-haspopup': 'dialog', 'aria-expanded': 'false' }, label, h('span', { 'aria-hidden': 'true' }, ' ▾'));
  const search = h('input', { type: 'search', class: 'picker-search', placeholder: t('picker.search'), 'aria-label': t('picker.search'), autocomplete: 'off' });
  const crumbs = h('nav', { class: 'picker-crumbs', 'aria-label': t('picker.path') });
  const list = h('ul', { class: 'picker-list', role: 'listbox', 'aria-label': t('picker.areas') });
  const panel = h('div', { class: 'picker-panel', hidden: true, role: 'dialog', 'aria-label': t('picker.title') }, search, crumbs, list);
  const el = h('div', { class: 'picker' }, hidden, button, panel);
  let trail = [];
  let shown = [];

  const choose = (n) => {
    hidden.value = n.code;
    put(label, `${n.name} · ${n.code}`);
    hidden.dispatchEvent(new Event('change', { bubbles: true }));
    close();
    button.focus();
  };
  const item = (n, canOpen) => h('li', { role: 'option' },
    h('button', { type: 'button', class: 'picker-choose', onclick: () => choose(n) }, n.name, ' ', h('span', { class: 'mono muted' }, n.code),
      n.chain ? h('span', { class: 'muted picker-chain' }, n.chain) : null),
    canOpen && n.kind !== 'grid' ? h('button', { type: 'button', class: 'btn btn-small picker-open', 'aria-label': t('picker.open', { name: n.name }), onclick: () => open(n) }, '›') : null);
  const drawCrumbs = () => put(crumbs, trail.map((n, i) => [i ? ' / ' : '', h('button', { type: 'button', class: 'btn-link', onclick: () => {
    trail = trail.slice(0, i);
    open(n);
  } }, n.name)]));

  async function open(n) {
    trail.push(n);
    drawCrumbs();
    put(list, h('li', { class: 'muted' }, t('common.loading')));
    try {
      shown = (await get(`nodes/${n.code}/children`)).items;
      put(list, [item(n, false)].concat(shown.map((c) => item(c, true))));
    } catch (err) {
      put(list, h('li', { class: 'form-error' }, err.describe ? err.describe() : String(err)));
    }
  }
  async function start() {
    trail = [];
    const top = root ? { code: root, name: root } : (await get('nodes')).items[0];
    if (top) await open(top);
  }
  const find = debounce(async () => {
    const q = search.value.trim();
    if (!q) {
      if (trail.length) open(trail.pop());
      return;
    }
    try {
      const r = await get('nodes/search', { q, limit: 30 });
      put(list, r.items.length ? r.items.map((n) => item(n, false)) : h('li', { class: 'muted' }, t('picker.noMatch')));
    } catch {
      // No search here: filter what this level shows.
      const hits = shown.filter((n) => n.name.includes(q) || n.code.startsWith(q));
      put(list, hits.length ? hits.map((n) => item(n, true)) : h('li', { class: 'muted' }, t('picker.noMatch')));
    }
  }, 250);
  search.addEventListener('input', find);

  function close() {
    panel.hidden = true;
    button.setAttribute('aria-expanded', 'false');
  }
  button.addEventListener('click', () => {
    if (!panel.hidden) return close();
    panel.hidden = false;
    button.setAttribute('aria-expanded', 'true');
    search.value = '';
    search.focus();
    start().catch(() => {});
  });
  panel.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') {
      e.stopPropagation();
      close();
      button.focus();
    }
  });
  el.button = button;
  // A required picker with nothing chosen stops the form like an empty required input would.
  hidden.required = required;
  el.check = () => !required || !!hidden.value;
  el.reset = (v) => {
    hidden.value = v || '';
    put(label, v || t('picker.none'));
  };
  // Show the starting value's name once known.
  if (value) get(`nodes/${value}`).then((n) => put(label, `${n.name} · ${n.code}`)).catch(() => {});
  return el;
}

/** Working minutes in one working day, from the calendar's periods (8 h when unknown). */
export async function workingDayMinutes() {
  try {
    const cal = await get('calendar');
    const mins = (s) => {
      const [hh, mm] = s.split(':').map(Number);
      return hh * 60 + mm;
    };
    const total = (cal.periods || []).reduce((a, [s, e]) => a + mins(e) - mins(s), 0);
    return total > 0 ? total : 480;
  } catch {
    return 480;
  }
}

/**
 * A duration field kept in working minutes: a number and a unit (hours or working days; minutes
 * when the stored value is not a whole number of either). `el.minutes()` reads it back.
 */
export function durationInput({ name, minutes, dayMinutes }) {
  const units = [['day', dayMinutes], ['hour', 60], ['minute', 1]];
  const start = units.find(([, m]) => minutes % m === 0 && minutes >= m) || units[2];
  const num = h('input', { type: 'number', name, min: 1, step: 1, required: true, inputmode: 'numeric', value: minutes / start[1] });
  const unit = h('select', { name: `${name}_unit`, 'aria-label': t('picker.unit') }, units.map(([u]) => h('option', { value: u, selected: u === start[0] }, t(`picker.unit.${u}`))));
  const per = () => units.find(([u]) => u === unit.value)[1];
  const sync = () => {
    num.max = String(Math.floor(525600 / per()));
  };
  unit.addEventListener('change', sync);
  sync();
  const el = h('span', { class: 'duration' }, num, unit);
  el.input = num;
  el.minutes = () => Math.round(Number(num.value) * per());
  return el;
}

/** Working minutes as working days, hours or minutes, whichever is whole (6 个工作日, 4 工作小时). */
export function fmtWorking(minutes, dayMinutes) {
  if (minutes === null || minutes === undefined || !Number.isFinite(minutes)) return '—';
  if (minutes >= dayMinutes && minutes % dayMinutes === 0) return t('picker.days', { n: minutes / dayMinutes });
  if (minutes >= 60 && minutes % 60 === 0) return t('picker.hours', { n: minutes / 60 });
  return t('picker.minutes', { n: minutes });
}
