// The mediator pool (调解员库) and expert panels (专家库): who mediates, in what, at which level,
// with their load, rating and success rate. Dispatchers at or above a node and admins add and edit.
import { t } from '../i18n.js';
import { get, post, patch } from '../api.js';
import { h, put, loading, empty, errorBox, field, formDialog, fmtPct, toast } from '../dom.js';
import { disputeTypes, LEVELS, label } from './disputes.js';
import { areaPicker } from './picker.js';

export const KINDS = ['peoples', 'lawyer', 'retired_judge', 'specialist'];

function mediatorForm(types, m = {}) {
  const specs = new Set(m.specialties || []);
  return h('div',
    field(t('mediator.name'), h('input', { name: 'name', required: true, maxlength: 50, value: m.name || '' })),
    field(t('mediator.kind'), h('select', { name: 'kind' }, KINDS.map((k) => h('option', { value: k, selected: m.kind === k }, label('mkind', k))))),
    field(t('mediator.organisation'), h('input', { name: 'organisation', maxlength: 100, value: m.organisation || '' })),
    m.id ? null : field(t('dispute.node'), areaPicker({ name: 'node', value: m.node_code || '', required: true })),
    field(t('mediator.dialects'), h('input', { name: 'dialects', maxlength: 200, value: (m.dialects || []).join('、') })),
    h('fieldset', h('legend', t('mediator.specialties')), h('div', { class: 'radio-row' }, types.items.filter((x) => !x.parent).map((x) =>
      h('label', h('input', { type: 'checkbox', name: 'specialty', value: x.code, checked: specs.has(x.code) }), h('span', types.name(x.code)))))),
    m.id ? field(t('mediator.active'), h('input', { type: 'checkbox', name: 'active', checked: m.active !== false }), null, { inline: true }) : null);
}

function bodyOf(f, isNew) {
  const b = {
    name: f.elements.name.value.trim(), kind: f.elements.kind.value, organisation: f.elements.organisation.value.trim() || null,
    dialects: f.elements.dialects.value.split(/[,，、]/).map((x) => x.trim()).filter(Boolean),
    specialties: [...f.querySelectorAll('input[name=specialty]:checked')].map((x) => x.value),
  };
  if (isNew) b.node = f.elements.node.value;
  else b.active = f.elements.active.checked;
  return b;
}

export async function render(ctx) {
  const { content, me, query } = ctx;
  const types = await disputeTypes();
  const canWrite = ['dispatcher', 'admin'].includes(me.role);
  const q = h('input', { name: 'q', type: 'search', id: 'med-q', maxlength: 50, value: query.get('q') || '' });
  const spec = h('select', { name: 'specialty', id: 'med-specialty' }, h('option', { value: '' }, t('dispute.any')), types.items.map((x) => h('option', { value: x.code, selected: query.get('specialty') === x.code }, types.name(x.code))));
  const level = h('select', { name: 'level', id: 'med-level' }, h('option', { value: '' }, t('dispute.any')), LEVELS.map((l) => h('option', { value: l, selected: query.get('level') === l }, label('dlevel', l))));
  const form = h('form', { class: 'filters', role: 'search', 'aria-label': t('mediator.search') },
    h('div', { class: 'form-grid' }, field(t('mediator.q'), q), field(t('mediator.specialty'), spec), field(t('dispute.level'), level)),
    h('div', { style: { marginTop: '8px', display: 'flex', gap: '8px' } },
      h('button', { class: 'btn btn-primary', type: 'submit' }, t('dispute.searchBtn')),
      canWrite ? h('button', { class: 'btn', type: 'button', id: 'med-add', onclick: async () => {
        const r = await formDialog({ title: t('mediator.add'), body: mediatorForm(types), submitLabel: t('common.save'), onSubmit: (f) => post('mediators', bodyOf(f, true)) });
        if (r) { toast(t('mediator.saved')); load(); }
      } }, t('mediator.add')) : null));
  const list = h('div', { class: 'card-body mediator-list', id: 'med-list' });
  const panels = h('div', { class: 'card-body', id: 'panel-list' });
  put(content, form, h('section', { class: 'card' }, h('div', { class: 'card-head' }, h('h2', t('mediator.pool'))), list),
    h('section', { class: 'card' }, h('div', { class: 'card-head' }, h('h2', t('panel.title'))), panels));

  const more = h('button', { class: 'btn', type: 'button', hidden: true, id: 'med-more' }, t('dispute.more'));
  list.after(more);
  let after = null;
  let filters = {};
  const row = (m) => h('tr', { dataset: { id: m.id }, class: m.active === false ? 'muted' : '' },
    h('td', { 'data-label': t('mediator.name') }, h('strong', m.name), m.organisation ? h('div', { class: 'muted' }, m.organisation) : null),
    h('td', { 'data-label': t('mediator.kind') }, label('mkind', m.kind)),
    h('td', { 'data-label': t('mediator.specialties') }, (m.specialties || []).map(types.name).join('、')),
    h('td', { 'data-label': t('dispute.level') }, label('dlevel', m.level)),
    h('td', { 'data-label': t('mediator.load') }, String(m.load ?? 0)),
    h('td', { 'data-label': t('mediator.rating') }, m.rating === null || m.rating === undefined ? '—' : Number(m.rating).toFixed(1)),
    h('td', { 'data-label': t('mediator.success') }, fmtPct(m.success_rate)),
    h('td', canWrite ? h('button', { type: 'button', class: 'btn btn-small', onclick: async () => {
      const r2 = await formDialog({ title: t('mediator.edit'), body: mediatorForm(types, m), submitLabel: t('common.save'), onSubmit: (f) => patch(`mediators/${m.id}`, bodyOf(f, false)) });
      if (r2) { toast(t('mediator.saved')); load(); }
    } }, t('mediator.edit')) : null));

  /** The pool, a page at a time (`append` adds the next page to the table). */
  async function load(append = false) {
    if (!append) {
      put(list, loading());
      filters = {};
      for (const [k, v] of new FormData(form).entries()) if (String(v).trim()) filters[k] = String(v).trim();
    }
    try {
      const r = await get('mediators', { ...filters, limit: 100, after: append ? after : undefined });
      if (!ctx.isCurrent()) return;
      const items = r.items || r;
      after = r.next_cursor ?? null;
      more.hidden = after === null;
      if (append) {
        list.querySelector('tbody').append(...items.map(row));
        return;
      }
      if (!items.length) return put(list, empty(t('mediator.none')));
      put(list, h('table', { class: 'data responsive' },
        h('thead', h('tr', ['mediator.name', 'mediator.kind', 'mediator.specialties', 'dispute.level', 'mediator.load', 'mediator.rating', 'mediator.success', ''].map((c) => h('th', { scope: 'col' }, c ? t(c) : '')))),
        h('tbody', items.map(row))));
    } catch (err) {
      put(list, errorBox(err, () => load(false)));
    }
  }
  more.addEventListener('click', () => load(true));
  async function loadPanels() {
    try {
      const r = await get('panels');
      const items = r.items || r;
      put(panels, items.length ? h('ul', { class: 'staff' }, items.map((p) => h('li', h('strong', p.name),
        h('span', { class: 'muted' }, [(p.specialties || []).map(types.name).join('、'), t('panel.members', { n: (p.member_ids || p.members || []).length })].filter(Boolean).join(' · ')))))
        : h('p', { class: 'muted' }, t('panel.none')));
    } catch (err) {
      put(panels, errorBox(err, loadPanels));
    }
  }
  form.addEventListener('submit', (e) => { e.preventDefault(); load(false); });
  await Promise.all([load(), loadPanels()]);
}
