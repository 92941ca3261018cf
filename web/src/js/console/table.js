// The work-order table shared by the inbox and the list: overdue and near-due rows stand out.
import { t } from '../i18n.js';
import { h, stateBadge, lightBadge, supervisionBadge, fmtTime, isOpen } from '../dom.js';

/** A table of events; `cats` from api.categories(). Returns {table, add(rows)}. */
export function eventTable(cats) {
  const tbody = h('tbody');
  const cols = ['col.id', 'col.category', 'col.description', 'col.place', 'col.state', 'col.due', 'col.created'];
  const table = h('table', { class: 'data responsive' },
    h('thead', h('tr', cols.map((c) => h('th', { scope: 'col' }, t(c))))), tbody);
  const add = (rows) => {
    for (const e of rows) tbody.append(eventRow(e, cats));
  };
  return { table, tbody, add };
}

export function eventRow(e, cats) {
  const open = isOpen(e.state);
  const cat = cats.byId.get(e.category_id);
  const href = `/console/events/${e.id}`;
  const cls = open && e.light === 'red' ? 'row-red' : open && e.light === 'yellow' ? 'row-yellow' : '';
  return h('tr', { class: cls, dataset: { id: e.id } },
    h('td', { class: 'id', 'data-label': t('col.id') }, h('a', { href }, `#${e.id}`)),
    h('td', { 'data-label': t('col.category') }, cat ? cat.name : `#${e.category_id}`),
    h('td', { class: 'desc', 'data-label': t('col.description') }, h('a', { href, style: { color: 'inherit' }, title: e.description }, e.description)),
    h('td', { 'data-label': t('col.place') }, e.place || e.address || h('span', { class: 'mono' }, e.grid)),
    h('td', { 'data-label': t('col.state') }, stateBadge(e.state), ' ', supervisionBadge(open ? e.supervision : null)),
    h('td', { 'data-label': t('col.due') }, lightBadge(e.light, e.due_at, open)),
    h('td', { 'data-label': t('col.created'), class: 'muted' }, fmtTime(e.created_at)));
}

/** A link that downloads `path` (an …/export.xlsx route) with the filters in `query`. */
export function exportLink(path, query = {}) {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== '') p.set(k, String(v));
  const s = p.toString();
  return h('a', { class: 'btn export-xlsx', href: `/api/v1/${path}${s ? '?' + s : ''}`, download: '' }, '⤓ ', t('common.exportExcel'));
}
