// The register of residents (实有人口): search by name, exact ID number or phone, filters, an
// area picker; each person opens their card. Cards, not a wide table, so a grid worker's phone
// shows it whole. Personal data arrives masked from the server.
import { t } from '../i18n.js';
import { get, post } from '../api.js';

const num = (v) => (v === undefined || v === '' ? null : Number(v));
import { h, put, field, loading, empty, errorBox, formDialog, toast } from '../dom.js';
import { areaPicker } from './picker.js';
import { exportButton } from './resident-export.js';

/** One resident as a card linking to their page. */
export function residentCard(r) {
  return h('a', { class: 'order resident-card', href: `/console/residents/${r.id}`, dataset: { id: r.id } },
    h('div', { class: 'top' }, h('strong', r.name), h('span', { class: 'muted' }, t(`resident.status.${r.status}`))),
    h('div', { class: 'top' },
      h('span', [t(`resident.gender.${r.gender}`), r.birth_year ? ` · ${r.birth_year}` : '', ` · ${t(`resident.residence.${r.residence}`)}`].join('')),
      h('span', { class: 'mono' }, r.phone || '')),
    h('div', { class: 'mono muted' }, r.id_number || ''));
}

export async function render(ctx) {
  const { content, query } = ctx;
  const canWrite = Boolean(ctx.me.scope_node) && ['admin', 'dispatcher', 'grid_worker'].includes(ctx.me.role);
  const q = h('input', { name: 'q', type: 'search', id: 'res-q', maxlength: 50, value: query.get('q') || '', autocomplete: 'off' });
  const idn = h('input', { name: 'id_number', id: 'res-id', maxlength: 18, value: query.get('id_number') || '', autocomplete: 'off', inputmode: 'text' });
  const phone = h('input', { name: 'phone', id: 'res-phone', type: 'tel', maxlength: 20, value: query.get('phone') || '', autocomplete: 'off' });
  const select = (name, values, prefix) => h('select', { name, id: `res-${name}` }, h('option', { value: '' }, t('resident.any')),
    values.map((v) => h('option', { value: v, selected: query.get(name) === v }, t(`${prefix}.${v}`))));
  const residence = select('residence', ['registered', 'floating', 'overseas'], 'resident.residence');
  const gender = select('gender', ['male', 'female'], 'resident.gender');
  const status = select('status', ['present', 'moved_out', 'deceased'], 'resident.status');
  const ageFrom = h('input', { name: 'age_from', id: 'res-age-from', type: 'number', min: 0, max: 200, value: query.get('age_from') || '' });
  const ageTo = h('input', { name: 'age_to', id: 'res-age-to', type: 'number', min: 0, max: 200, value: query.get('age_to') || '' });
  const area = areaPicker({ name: 'node', value: query.get('node') || '' });
  const form = h('form', { class: 'filters', role: 'search', 'aria-label': t('resident.search') },
    h('div', { class: 'form-grid' },
      field(t('resident.q'), q), field(t('resident.idNumber'), idn, t('resident.exact')), field(t('resident.phone'), phone, t('resident.exact')),
      field(t('resident.residence'), residence), field(t('resident.gender'), gender), field(t('resident.status'), status),
      field(t('resident.ageFrom'), ageFrom), field(t('resident.ageTo'), ageTo), field(t('resident.area'), area)),
    h('div', { style: { marginTop: '8px', display: 'flex', gap: '8px', flexWrap: 'wrap' } },
      h('button', { class: 'btn btn-primary', type: 'submit', id: 'res-search' }, t('resident.searchBtn')),
      h('a', { class: 'btn', href: '/console/corrections' }, t('nav.corrections')),
      canWrite ? h('button', { class: 'btn', type: 'button', id: 'res-new', onclick: () => create() }, t('resident.new')) : null,
      ctx.me.scope_node ? exportButton(() => area.querySelector('input[type=hidden]')?.value || ctx.me.scope_node,
        { canReveal: ['admin', 'dispatcher', 'grid_worker'].includes(ctx.me.role) }) : null));
  const list = h('div', { class: 'card-body', id: 'res-list' });

  // 新增居民: one person by hand (the import and the demo bring most); the card opens after.
  async function create() {
    const v = (name, attrs = {}) => h('input', { name, id: `new-res-${name}`, autocomplete: 'off', ...attrs });
    const name = v('name', { required: true, maxlength: 50 });
    const kind = h('select', { name: 'id_kind', id: 'new-res-id_kind' },
      ['resident_id', 'passport', 'other'].map((k) => h('option', { value: k }, t(`resident.idKind.${k}`))));
    const idNo = v('id_number', { maxlength: 32 });
    const sex = h('select', { name: 'gender', id: 'new-res-gender' }, h('option', { value: '' }, t('resident.fromIdNumber')),
      ['male', 'female'].map((g) => h('option', { value: g }, t(`resident.gender.${g}`))));
    const born = v('birth_year', { type: 'number', min: 1900, max: 2100 });
    const tel = v('phone', { type: 'tel', maxlength: 20 });
    const kindOf = h('select', { name: 'residence', id: 'new-res-residence' },
      ['registered', 'floating', 'overseas'].map((r) => h('option', { value: r }, t(`resident.residence.${r}`))));
    const ethnicity = v('ethnicity', { maxlength: 20 });
    const workplace = v('workplace', { maxlength: 100 });
    const node = areaPicker({ name: 'new-res-node', root: ctx.me.scope_node, value: query.get('node') || ctx.me.scope_node, required: true });
    const ok = await formDialog({
      title: t('resident.new'),
      body: h('div', field(t('resident.name'), name), field(t('resident.idKind'), kind), field(t('resident.idNumber'), idNo, t('resident.idNumberHint')),
        field(t('resident.gender'), sex), field(t('resident.birthYear'), born), field(t('resident.phone'), tel),
        field(t('resident.residence'), kindOf), field(t('resident.ethnicity'), ethnicity), field(t('resident.workplace'), workplace),
        field(t('resident.area'), node)),
      submitLabel: t('resident.create'),
      onSubmit: (form) => post('residents', {
        node: form.elements['new-res-node'].value || ctx.me.scope_node,
        name: name.value,
        id_kind: kind.value,
        id_number: idNo.value.trim() || null,
        gender: sex.value || null,
        birth_year: born.value ? Number(born.value) : null,
        phone: tel.value.trim() || null,
        residence: kindOf.value,
        ethnicity: ethnicity.value.trim() || null,
        workplace: workplace.value.trim() || null,
      }),
    });
    if (ok) {
      toast(t('resident.created', { name: ok.name }));
      ctx.navigate(`/console/residents/${ok.id}`);
    }
  }
  const more = h('button', { class: 'btn', type: 'button', hidden: true, id: 'res-more' }, t('resident.more'));
  put(content, h('div', { class: 'residents-page' }, form, h('section', { class: 'card' }, list, more)));

  let cursor = null;
  let filters = {};
  async function load(append) {
    if (!append) put(list, loading());
    try {
      // An exact search by ID number or phone goes in a body, never in a URL.
      const exact = filters.id_number || filters.phone;
      const r = exact
        ? await post('residents/search', { ...filters, age_from: num(filters.age_from), age_to: num(filters.age_to), cursor: append ? cursor : null, limit: 50 })
        : await get('residents', { ...filters, cursor: append ? cursor : undefined, limit: 50 });
      if (!ctx.isCurrent()) return;
      if (!append) put(list);
      if (!append && !r.items.length) put(list, empty(t('resident.none'), t('resident.noneHint')));
      for (const item of r.items) list.append(residentCard(item));
      cursor = r.next_cursor;
      more.hidden = cursor === null || cursor === undefined;
    } catch (err) {
      put(list, errorBox(err, () => load(false)));
    }
  }
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const data = new FormData(form);
    filters = {};
    for (const [k, v] of data.entries()) if (String(v).trim()) filters[k] = String(v).trim();
    // The address bar keeps the filters but never an ID number or a phone.
    const shown = { ...filters };
    delete shown.id_number;
    delete shown.phone;
    const qs = new URLSearchParams(shown).toString();
    history.replaceState(null, '', `/console/residents${qs ? '?' + qs : ''}`);
    load(false);
  });
  more.addEventListener('click', () => load(true));
  for (const k of ['q', 'residence', 'gender', 'status', 'age_from', 'age_to', 'node']) if (query.get(k)) filters[k] = query.get(k);
  await load(false);
}
