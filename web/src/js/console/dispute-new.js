// Staff intake of a dispute (登记): where it is held, what kind, where it came from, the parties.
// ID numbers and phones typed here go in the request body only; the server seals them.
import { t } from '../i18n.js';
import { post } from '../api.js';
import { h, put, field, toast } from '../dom.js';
import { areaPicker } from './picker.js';
import { disputeTypes, SOURCES, label } from './disputes.js';

function partyRow(role) {
  return h('fieldset', { class: 'party-row' }, h('legend', label('dispute.role', role)),
    h('input', { type: 'hidden', name: 'role', value: role }),
    h('div', { class: 'form-grid' },
      field(t('dispute.party.name'), h('input', { name: 'name', required: role !== 'other', maxlength: 50 })),
      field(t('resident.gender'), h('select', { name: 'gender' }, h('option', { value: '' }, '—'), ['male', 'female'].map((g) => h('option', { value: g }, t(`resident.gender.${g}`))))),
      field(t('resident.idNumber'), h('input', { name: 'id_number', maxlength: 18, autocomplete: 'off' })),
      field(t('resident.phone'), h('input', { name: 'phone', type: 'tel', maxlength: 20, autocomplete: 'off' })),
      field(t('dispute.party.address'), h('input', { name: 'address', maxlength: 200 }))));
}

export async function render(ctx) {
  const { content, me } = ctx;
  ctx.setTitle(t('dispute.new'));
  const types = await disputeTypes();
  const parties = h('div', partyRow('applicant'), partyRow('respondent'));
  const err = h('div', { class: 'form-error', role: 'alert', hidden: true });
  const form = h('form', { class: 'card card-body', id: 'dispute-new' },
    h('div', { class: 'form-grid' },
      field(t('dispute.node'), areaPicker({ name: 'node', value: me.scope_node || '', required: true })),
      field(t('dispute.type'), h('select', { name: 'type', required: true }, types.items.map((x) => h('option', { value: x.code }, types.name(x.code))))),
      field(t('dispute.source'), h('select', { name: 'source', required: true }, SOURCES.filter((s) => s !== 'event' && s !== 'online').map((s) => h('option', { value: s }, label('dsource', s))))),
      field(t('dispute.amountYuan'), h('input', { name: 'amount', type: 'number', min: 0, step: '0.01' })),
      field(t('dispute.people'), h('input', { name: 'people_involved', type: 'number', min: 1, max: 100000 })),
      field(t('dispute.risk.violence'), h('input', { name: 'violence', type: 'checkbox' }), null, { inline: true })),
    field(t('dispute.summary'), h('textarea', { name: 'summary', required: true, maxlength: 2000, rows: 4 })),
    parties,
    h('button', { type: 'button', class: 'btn btn-small', onclick: () => parties.append(partyRow('other')) }, t('dispute.party.add')),
    err,
    h('div', { class: 'actions' }, h('button', { class: 'btn btn-primary', type: 'submit', id: 'dispute-submit' }, t('dispute.submit'))));
  put(content, form);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (!form.reportValidity()) return;
    const f = form.elements;
    const people = [...parties.querySelectorAll('fieldset')].map((fs) => {
      const v = (n) => fs.querySelector(`[name=${n}]`).value.trim() || null;
      return { role: v('role'), name: v('name'), gender: v('gender'), id_number: v('id_number'), phone: v('phone'), address: v('address') };
    }).filter((p) => p.name);
    const body = {
      node: f.node.value, type: f.type.value, source: f.source.value, summary: f.summary.value.trim(),
      amount_cents: f.amount.value ? Math.round(Number(f.amount.value) * 100) : null,
      people_involved: f.people_involved.value ? Number(f.people_involved.value) : null,
      violence: f.violence.checked, parties: people,
    };
    try {
      const d = await post('disputes', body);
      toast(t('dispute.takenIn', { number: d.number || `#${d.id}` }));
      ctx.navigate(`/console/disputes/${d.id}`);
    } catch (x) {
      err.hidden = false;
      put(err, x.describe ? x.describe() : String(x));
    }
  });
}
