// Organisations of the user's area (enterprises, social organisations, party branches) and a
// grid's party branch (网格党支部) with its members and the officials assigned to the grid.
import { t } from '../i18n.js';
import { get, post } from '../api.js';
import { h, put, field, loading, empty, errorBox, formDialog, toast } from '../dom.js';
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
      ['admin', 'dispatcher', 'grid_worker'].includes(me.role) ? h('div', { class: 'row-actions' },
        h('button', { type: 'button', class: 'btn btn-small btn-primary', id: 'organisation-new', onclick: () => create() }, t('organisation.new')), ' ',
        h('a', { class: 'btn btn-small', href: '/console/organisations/import', id: 'organisation-import' }, t('place.import'))) : null), body));
  // 新增组织: one organisation by hand (many come in through the import).
  async function create() {
    const name = h('input', { name: 'name', id: 'new-org-name', required: true, maxlength: 100 });
    const kind = h('select', { name: 'kind', id: 'new-org-kind', required: true },
      ['enterprise', 'social_organisation', 'party_branch'].map((k) => h('option', { value: k }, t(`organisation.kind.${k}`))));
    const node = areaPicker({ name: 'new-org-node', root: me.scope_node, value: me.scope_node, required: true });
    const address = h('input', { name: 'address', id: 'new-org-address', maxlength: 200 });
    const ok = await formDialog({
      title: t('organisation.new'),
      body: h('div', field(t('organisation.fName'), name), field(t('organisation.kind'), kind), field(t('organisation.fNode'), node), field(t('organisation.fAddress'), address)),
      submitLabel: t('organisation.create'),
      onSubmit: (form) => post('organisations', {
        node_code: form.elements['new-org-node'].value || me.scope_node,
        kind: kind.value,
        name: name.value,
        address: address.value || null,
      }),
    });
    if (ok) {
      toast(t('organisation.created', { name: ok.name }));
      loadList();
    }
  }
  async function loadList() {
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
  await loadList();
}
