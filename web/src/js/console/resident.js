// A person's card (人员详情): the record masked, their household and its members, their tags,
// and 查看: revealing one field (ID number or phone) after stating why, which the server
// writes to the audit log.
import { t } from '../i18n.js';
import { get, post } from '../api.js';
import { h, put, field, errorBox, formDialog, toast } from '../dom.js';
import { visitLog } from './visits.js';

function row(label, value, id) {
  return h('div', { class: 'kv' }, h('dt', label), h('dd', { id }, value === null || value === undefined || value === '' ? '—' : value));
}

/** Asks the purpose and reveals `fieldName` of resident `id` into `slot`. */
async function reveal(id, fieldName, slot) {
  const purpose = h('textarea', { name: 'purpose', id: 'reveal-purpose', required: true, minlength: 2, maxlength: 200, rows: 3 });
  const value = await formDialog({
    title: t('resident.reveal.title', { field: t(`resident.${fieldName === 'phone' ? 'phone' : 'idNumber'}`) }),
    body: [h('p', { class: 'muted' }, t('resident.reveal.lead')), field(t('resident.reveal.purpose'), purpose)],
    submitLabel: t('resident.reveal'),
    onSubmit: async (form) => (await post(`residents/${id}/reveal`, { field: fieldName, purpose: form.purpose.value.trim() })).value,
  });
  if (!value) return;
  put(slot, h('span', { class: 'mono revealed' }, value), ' ', h('small', { class: 'muted' }, t('resident.reveal.logged')));
}

export function memberList(members, current) {
  return h('ul', { class: 'members' }, members.map((m) => h('li', m.id === current ? h('strong', m.name) : h('a', { href: `/console/residents/${m.id}` }, m.name),
    ' · ', t(`household.relation.${m.relation || 'other'}`), m.status !== 'present' ? ` · ${t(`resident.status.${m.status}`)}` : '')));
}

export async function render(ctx) {
  const { content, params } = ctx;
  const id = Number(params[0]);
  try {
    const r = await get(`residents/${id}`);
    if (!ctx.isCurrent()) return;
    ctx.setTitle(r.name);
    const revealable = (name, masked, slotId) => {
      const slot = h('span', { id: slotId }, h('span', { class: 'mono' }, masked || '—'));
      if (masked && r.can && r.can.reveal) {
        slot.append(' ', h('button', { type: 'button', class: 'btn btn-small', id: `${slotId}-reveal`, onclick: () => reveal(id, name, slot) }, t('resident.reveal')));
      }
      return slot;
    };
    const hh = r.household;
    const actions = h('div', { style: { display: 'flex', gap: '8px', flexWrap: 'wrap' } });
    if (r.can && r.can.write && r.status === 'present') {
      actions.append(h('button', { type: 'button', class: 'btn', id: 'res-move-out', onclick: async () => {
        const note = h('input', { name: 'note', maxlength: 500 });
        const ok = await formDialog({ title: t('resident.moveOut'), body: field(t('resident.note'), note), danger: true,
          onSubmit: (form) => post(`residents/${id}/move_out`, { status: 'moved_out', note: form.note.value }) });
        if (ok) {
          toast(t('resident.movedOut'));
          ctx.navigate(location.pathname, { replace: true });
        }
      } }, t('resident.moveOut')));
    }
    put(content, h('div', { class: 'person-card' },
      h('section', { class: 'card' }, h('div', { class: 'card-head' }, h('h2', r.name), h('span', { class: 'badge' }, t(`resident.status.${r.status}`))),
        h('dl', { class: 'card-body kvs' },
          row(t('resident.gender'), t(`resident.gender.${r.gender}`)),
          row(t('resident.birthYear'), r.birth_year),
          row(t('resident.idKind'), t(`resident.idKind.${r.id_kind}`)),
          row(t('resident.idNumber'), revealable('id_number', r.id_number, 'res-id-number')),
          row(t('resident.phone'), revealable('phone', r.phone, 'res-phone-value')),
          row(t('resident.ethnicity'), r.ethnicity),
          row(t('resident.residence'), t(`resident.residence.${r.residence}`)),
          row(t('resident.workplace'), r.workplace),
          row(t('resident.area'), h('span', { class: 'mono' }, r.node)),
          row(t('resident.house'), r.house_id ? `#${r.house_id}` : null),
          row(t('resident.tags'), r.tags.length ? r.tags.map((c) => h('span', { class: 'badge' }, c)) : null)),
        h('div', { class: 'card-body' }, actions)),
      h('section', { class: 'card', id: 'res-household' }, h('div', { class: 'card-head' }, h('h2', t('household.title'))),
        h('div', { class: 'card-body' }, hh
          ? [h('p', h('a', { href: `/console/households/${hh.id}` }, t('household.number', { number: hh.number || `#${hh.id}` }))), memberList(hh.members, r.id)]
          : h('p', { class: 'muted' }, t('household.none')))),
      visitLog(r.id).el));
  } catch (err) {
    put(content, errorBox(err));
  }
}
