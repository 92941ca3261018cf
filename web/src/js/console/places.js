// Places (场所) of the user's area: filter by kind and by overdue safety checks, record a check
// (passed / hazards found / failed, with what was found), see licences and the check history.
import { t } from '../i18n.js';
import { get, post } from '../api.js';
import { h, put, field, loading, empty, errorBox, fmtTime, formDialog, toast } from '../dom.js';
import { areaPicker } from './picker.js';

export const KINDS = ['shop', 'school', 'hospital', 'enterprise_site', 'small_shop', 'small_restaurant', 'small_hotel',
  'small_entertainment', 'small_internet_cafe', 'small_beauty_bath', 'small_school', 'small_clinic', 'small_workshop'];

export async function render(ctx) {
  const { content, me, query } = ctx;
  const canCheck = ['admin', 'dispatcher', 'grid_worker'].includes(me.role);
  const kind = h('select', { id: 'place-kind', name: 'kind' }, h('option', { value: '' }, t('place.anyKind')),
    KINDS.map((k) => h('option', { value: k, selected: query.get('kind') === k }, t(`place.kind.${k}`))));
  const overdue = h('input', { type: 'checkbox', id: 'place-overdue', checked: query.get('overdue') === 'true' });
  const form = h('form', { class: 'filters', role: 'search', 'aria-label': t('place.filters') },
    h('div', { class: 'form-grid' }, field(t('place.kind'), kind), field(t('place.overdueOnly'), overdue, null, { inline: true })));
  const body = h('div', { class: 'table-wrap' }, loading());
  const cols = ['place.name', 'place.kind', 'place.licence', 'place.nextCheck', 'place.lastResult', 'place.actions'];

  async function check(p) {
    const result = h('select', { name: 'result', id: 'check-result', required: true },
      ['passed', 'hazards_found', 'failed'].map((r) => h('option', { value: r }, t(`place.result.${r}`))));
    const note = h('textarea', { name: 'note', id: 'check-note', maxlength: 2000, rows: 3 });
    const ok = await formDialog({
      title: t('place.checkTitle', { name: p.name }),
      body: h('div', field(t('place.result'), result), field(t('place.note'), note, t('place.noteHint'))),
      submitLabel: t('place.record'),
      onSubmit: () => post(`places/${p.id}/checks`, { result: result.value, note: note.value || null }),
    });
    if (ok) {
      toast(t('place.recorded'));
      load();
    }
  }

  // 新增场所: one place by hand (many come in through the import).
  async function create() {
    const name = h('input', { name: 'name', id: 'new-place-name', required: true, maxlength: 100 });
    const kindSel = h('select', { name: 'kind', id: 'new-place-kind', required: true }, KINDS.map((k) => h('option', { value: k }, t(`place.kind.${k}`))));
    const node = areaPicker({ name: 'new-place-node', root: me.scope_node, value: query.get('node') || me.scope_node, required: true });
    const address = h('input', { name: 'address', id: 'new-place-address', maxlength: 200 });
    const licence = h('input', { name: 'licence_no', id: 'new-place-licence', maxlength: 64 });
    const expires = h('input', { type: 'date', name: 'licence_expires', id: 'new-place-expires' });
    const ok = await formDialog({
      title: t('place.new'),
      body: h('div', field(t('place.fName'), name), field(t('place.kind'), kindSel), field(t('place.fNode'), node),
        field(t('place.fAddress'), address), field(t('place.fLicence'), licence), field(t('place.fExpires'), expires)),
      submitLabel: t('place.create'),
      onSubmit: (form) => post('places', {
        node_code: form.elements['new-place-node'].value || me.scope_node,
        kind: kindSel.value,
        name: name.value,
        address: address.value || null,
        licence_no: licence.value || null,
        licence_expires: expires.value || null,
      }),
    });
    if (ok) {
      toast(t('place.created', { name: ok.name }));
      load();
    }
  }

  async function history(p, cell) {
    const full = await get(`places/${p.id}`);
    put(cell, full.checks.length ? h('ul', { class: 'plain-list' }, full.checks.map((c) => h('li', fmtTime(c.at), ' · ', t(`place.result.${c.result}`), c.note ? ` · ${c.note}` : '')))
      : h('span', { class: 'muted' }, t('place.noChecks')));
  }

  async function load() {
    const q = { node: query.get('node') || undefined, kind: kind.value || undefined, overdue: overdue.checked || undefined, limit: 500 };
    const r = await get('places', q);
    if (!ctx.isCurrent()) return;
    put(body, r.items.length ? h('table', { class: 'data responsive', id: 'place-list' },
      h('thead', h('tr', cols.map((k) => h('th', { scope: 'col' }, t(k))))),
      h('tbody', r.items.map((p) => {
        const more = h('div');
        return h('tr', { dataset: { place: p.id } },
          h('td', { 'data-label': t(cols[0]) }, p.name, more),
          h('td', { 'data-label': t(cols[1]) }, t(`place.kind.${p.kind}`)),
          h('td', { 'data-label': t(cols[2]) }, p.licence_no ? `${p.licence_no}${p.licence_expires ? ` · ${p.licence_expires}` : ''}` : '—'),
          h('td', { 'data-label': t(cols[3]) }, fmtTime(p.next_check_at).slice(0, 10), ' ', p.overdue ? h('span', { class: 'badge roster-unreachable' }, t('place.overdue')) : null),
          h('td', { 'data-label': t(cols[4]) }, p.last_result ? t(`place.result.${p.last_result}`) : '—'),
          h('td', { 'data-label': t(cols[5]) },
            canCheck ? h('button', { type: 'button', class: 'btn btn-small', dataset: { check: p.id }, onclick: () => check(p) }, t('place.check')) : null, ' ',
            h('button', { type: 'button', class: 'btn-link', onclick: () => history(p, more).catch((err) => put(more, errorBox(err))) }, t('place.history'))));
      }))) : empty(t('place.none')));
  }
  const run = () => load().catch((err) => put(body, errorBox(err, run)));
  kind.addEventListener('change', run);
  overdue.addEventListener('change', run);
  form.addEventListener('submit', (e) => e.preventDefault());
  put(content, h('p', { class: 'lead' }, t('place.lead')),
    h('section', { class: 'card' }, h('div', { class: 'card-body' }, form)),
    h('section', { class: 'card' }, h('div', { class: 'card-head' }, h('h2', t('place.title')),
      canCheck ? h('div', { class: 'row-actions' },
        h('button', { type: 'button', class: 'btn btn-small btn-primary', id: 'place-new', onclick: () => create() }, t('place.new')), ' ',
        h('a', { class: 'btn btn-small', href: '/console/places/import', id: 'place-import' }, t('place.import'))) : null), body));
  run();
}
