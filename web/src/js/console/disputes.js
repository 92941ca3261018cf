// The centre's case board (矛调中心案件看板): the disputes held at the user's centre and below,
// filtered by state, level, type, source, mediator and deadline light; near-due and overdue
// cases stand out. The server scopes the list (a mediator sees the cases assigned to them).
import { t, has } from '../i18n.js';
import { get } from '../api.js';
import { h, put, loading, empty, errorBox, fmtTime, fmtNum, lightBadge } from '../dom.js';

export const STATES = ['intake', 'accepted', 'assigned', 'in_session', 'agreed', 'failed', 'withdrawn', 'declined', 'closed'];
export const OPEN = new Set(['intake', 'accepted', 'assigned', 'in_session']);
export const LEVELS = ['village', 'town', 'county'];
export const SOURCES = ['patrol', 'walk_in', 'hotline', 'petition', 'court', 'police', 'procuratorate', 'event', 'online'];

/** A label for a code of `prefix`, or the code itself when there is no translation. */
export const label = (prefix, code) => (code && has(`${prefix}.${code}`) ? t(`${prefix}.${code}`) : code || '—');

/** The dispute types as a map code → name in the current language (the tree flattened). */
let typesCache = null;
export function disputeTypes() {
  if (!typesCache) {
    typesCache = get('dispute-types').then((r) => {
      const items = Array.isArray(r) ? r : r.items || [];
      const en = document.documentElement.lang === 'en';
      return { items, name: (code) => { const x = items.find((i) => i.code === code); return x ? (en ? x.name_en : x.name_zh) : code || '—'; } };
    }).catch(() => ({ items: [], name: (code) => code || '—' }));
  }
  return typesCache;
}

export function disputeState(state) {
  return h('span', { class: `badge dstate-${state}` }, label('dstate', state));
}

/** Amount in yuan from cents. */
export const yuan = (cents) => (cents === null || cents === undefined ? '—' : `¥${fmtNum(cents / 100, 2)}`);

export function riskFlags(risk) {
  if (!risk) return null;
  const on = ['many_parties', 'violence', 'repeat'].filter((k) => risk[k]);
  return on.length ? on.map((k) => h('span', { class: 'badge sup-red', dataset: { risk: k } }, t(`dispute.risk.${k}`))) : null;
}

/** The table of cases. */
export function disputeTable(types) {
  const tbody = h('tbody');
  const cols = ['dispute.col.number', 'dispute.col.summary', 'dispute.col.type', 'dispute.col.level', 'dispute.col.mediator', 'dispute.col.state', 'dispute.col.due', 'dispute.col.created'];
  const table = h('table', { class: 'data responsive', id: 'dispute-table' },
    h('thead', h('tr', cols.map((c) => h('th', { scope: 'col' }, t(c))))), tbody);
  const add = (rows) => {
    for (const d of rows) {
      const open = OPEN.has(d.state);
      const href = `/console/disputes/${d.id}`;
      tbody.append(h('tr', { class: open && d.light === 'red' ? 'row-red' : open && d.light === 'yellow' ? 'row-yellow' : '', dataset: { id: d.id } },
        h('td', { class: 'id', 'data-label': t('dispute.col.number') }, h('a', { href }, d.number || `#${d.id}`)),
        h('td', { class: 'desc', 'data-label': t('dispute.col.summary') }, h('a', { href, style: { color: 'inherit' }, title: d.summary }, d.summary), ' ', riskFlags(d.risk)),
        h('td', { 'data-label': t('dispute.col.type') }, types.name(d.type)),
        h('td', { 'data-label': t('dispute.col.level') }, label('dlevel', d.level), h('div', { class: 'muted' }, d.node_name || d.node_code)),
        h('td', { 'data-label': t('dispute.col.mediator') }, d.mediator ? d.mediator.name : h('span', { class: 'muted' }, t('dispute.unassigned'))),
        h('td', { 'data-label': t('dispute.col.state') }, disputeState(d.state)),
        h('td', { 'data-label': t('dispute.col.due') }, d.due_at ? lightBadge(d.light, d.due_at, open) : '—'),
        h('td', { 'data-label': t('dispute.col.created'), class: 'muted' }, fmtTime(d.created_at))));
    }
  };
  return { table, tbody, add };
}

export async function render(ctx) {
  const { content, query } = ctx;
  const types = await disputeTypes();
  const select = (name, values, prefix, nameOf) => h('select', { name, id: `dsp-${name}` }, h('option', { value: '' }, t('dispute.any')),
    values.map((v) => h('option', { value: v, selected: query.get(name) === v }, nameOf ? nameOf(v) : label(prefix, v))));
  const form = h('form', { class: 'filters', role: 'search', 'aria-label': t('dispute.filters') },
    h('div', { class: 'form-grid' },
      field('dispute.state', select('state', STATES, 'dstate')),
      field('dispute.level', select('level', LEVELS, 'dlevel')),
      field('dispute.type', select('type', types.items.map((x) => x.code), null, types.name)),
      field('dispute.source', select('source', SOURCES, 'dsource')),
      field('dispute.light', select('light', ['green', 'yellow', 'red'], 'light'))),
    h('div', { style: { marginTop: '8px', display: 'flex', gap: '8px', flexWrap: 'wrap' } },
      h('button', { class: 'btn btn-primary', type: 'submit', id: 'dsp-search' }, t('dispute.searchBtn')),
      ['dispatcher', 'grid_worker'].includes(ctx.me.role) ? h('a', { class: 'btn', href: '/console/disputes/new', id: 'dsp-new' }, t('dispute.new')) : null,
      h('a', { class: 'btn', href: '/console/mediators' }, t('nav.mediators'))));
  const { table, add } = disputeTable(types);
  const list = h('div', { class: 'table-wrap' }, table);
  const status = h('div', { class: 'card-body' });
  const more = h('button', { class: 'btn', type: 'button', hidden: true, id: 'dsp-more' }, t('dispute.more'));
  put(content, form, h('section', { class: 'card' }, status, list, more));

  let filters = {};
  for (const k of ['state', 'level', 'type', 'source', 'light', 'node', 'mediator']) if (query.get(k)) filters[k] = query.get(k);
  let after = null;
  async function load(append) {
    if (!append) {
      put(table.tBodies[0]);
      put(status, loading());
    }
    try {
      const r = await get('disputes', { ...filters, after: append ? after : undefined, limit: 50 });
      if (!ctx.isCurrent()) return;
      put(status);
      const items = r.items || [];
      if (!append && !items.length) put(status, empty(t('dispute.none'), t('dispute.noneHint')));
      add(items);
      after = r.next_cursor ?? r.after ?? null;
      more.hidden = after === null || after === undefined;
    } catch (err) {
      put(status, errorBox(err, () => load(false)));
    }
  }
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    filters = {};
    for (const [k, v] of new FormData(form).entries()) if (String(v).trim()) filters[k] = String(v).trim();
    const qs = new URLSearchParams(filters).toString();
    history.replaceState(null, '', `/console/disputes${qs ? '?' + qs : ''}`);
    load(false);
  });
  more.addEventListener('click', () => load(true));
  await load(false);
}

function field(key, control) {
  control.setAttribute('aria-label', t(key));
  return h('div', { class: 'field' }, h('label', { for: control.id }, t(key)), control);
}
