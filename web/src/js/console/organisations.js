// Organisations of the user's area (enterprises, social organisations, party branches) and a
// grid's party branch (网格党支部) with its members and the officials assigned to the grid.
import { t } from '../i18n.js';
import { get } from '../api.js';
import { h, put, field, loading, empty, errorBox } from '../dom.js';
import { areaPicker } from './picker.js';

export async function render(ctx) {
  const { content, me } = ctx;
  const body = h('div', { class: 'table-wrap' }, loading());
  const gridOut = h('div', { id: 'grid-branch' });
  const picker = areaPicker({ name: 'org-grid', root: me.scope_node });
  picker.addEventListener('change', async (e) => {
    const code = e.target.value;
    if (!code) return;
    put(gridOut, loading());
    try {
      const g = await get(`organisations/grid/${code}`);
      const b = g.party_branch;
      put(gridOut,
        b ? h('div', h('h3', b.name), h('ul', { class: 'plain-list', id: 'branch-members' }, b.members.map((m) => h('li', h('strong', m.name || '—'), ' · ', t(`organisation.role.${m.role}`)))))
          : h('p', { class: 'muted' }, t('organisation.noBranch')),
        h('h3', t('organisation.officials')),
        g.officials.length ? h('ul', { class: 'plain-list' }, g.officials.map((o) => h('li', h('strong', o.display_name), ' · ', o.duty)))
          : h('p', { class: 'muted' }, t('organisation.noOfficials')));
    } catch (err) {
      put(gridOut, errorBox(err));
    }
  });
  put(content,
    h('section', { class: 'card' }, h('div', { class: 'card-head' }, h('h2', t('organisation.branchTitle'))),
      h('div', { class: 'card-body' }, field(t('organisation.grid'), picker), gridOut)),
    h('section', { class: 'card' }, h('div', { class: 'card-head' }, h('h2', t('organisation.title')),
      ['admin', 'dispatcher', 'grid_worker'].includes(me.role) ? h('a', { class: 'btn btn-small', href: '/console/organisations/import', id: 'organisation-import' }, t('place.import')) : null), body));
  try {
    const r = await get('organisations', { limit: 500 });
    if (!ctx.isCurrent()) return;
    put(body, r.items.length ? h('table', { class: 'data responsive', id: 'organisation-list' },
      h('thead', h('tr', ['organisation.name', 'organisation.kind', 'organisation.node'].map((k) => h('th', { scope: 'col' }, t(k))))),
      h('tbody', r.items.map((o) => h('tr',
        h('td', { 'data-label': t('organisation.name') }, o.name),
        h('td', { 'data-label': t('organisation.kind') }, t(`organisation.kind.${o.kind}`)),
        h('td', { 'data-label': t('organisation.node'), class: 'mono' }, o.node_code)))))
      : empty(t('organisation.none')));
  } catch (err) {
    put(body, errorBox(err));
  }
}
