// 我的家庭: the citizen's own household as the register holds it (masked), and a form asking
// the grid worker to correct one field of one member; earlier requests with their answers.
import { t } from '../i18n.js';
import { get, post } from '../api.js';
import { h, put, empty, fmtTime, toast } from '../dom.js';

const FIELDS = ['phone', 'name', 'id_number', 'ethnicity', 'workplace'];

export async function householdPage(content) {
  let mine;
  try {
    mine = await get('me/household');
  } catch (err) {
    if (err.status === 404) {
      put(content, h('h2', t('portal.household')), empty(t('portal.household.none'), t('portal.household.noneHint')));
      return;
    }
    throw err;
  }
  const members = mine.household ? mine.household.members : [mine.resident];
  const who = h('select', { name: 'resident_id', id: 'corr-who', required: true }, members.map((m) => h('option', { value: m.id }, m.name)));
  const what = h('select', { name: 'field', id: 'corr-field', required: true }, FIELDS.map((f) => h('option', { value: f }, t(`correction.field.${f}`))));
  const value = h('input', { name: 'value', id: 'corr-value', required: true, maxlength: 100, autocomplete: 'off' });
  const note = h('textarea', { name: 'note', id: 'corr-note', maxlength: 500, rows: 2 });
  const errorEl = h('p', { class: 'form-error', role: 'alert', hidden: true });
  const lab = (el, key) => h('label', { for: el.id }, t(key));
  const form = h('form', { class: 'p-card', id: 'corr-form' }, h('h2', t('portal.household.correct')),
    lab(who, 'correction.who'), who, lab(what, 'correction.what'), what, lab(value, 'correction.value'), value, lab(note, 'correction.note'), note, errorEl,
    h('button', { class: 'btn btn-primary btn-block', type: 'submit', id: 'corr-send' }, t('correction.send')));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    errorEl.hidden = true;
    try {
      await post('me/household/corrections', { resident_id: Number(who.value), field: what.value, value: value.value.trim(), note: note.value.trim() });
      toast(t('correction.sent'));
      await householdPage(content);
    } catch (err) {
      errorEl.hidden = false;
      put(errorEl, err.describe ? err.describe() : String(err));
    }
  });
  const person = (m) => h('li', { class: 'p-item' }, h('strong', m.name), ' · ', t(`household.relation.${m.relation || 'other'}`),
    h('div', { class: 'muted mono' }, [m.phone, m.id_number].filter(Boolean).join(' · ')));
  put(content, h('h2', t('portal.household')),
    h('section', { class: 'p-card', id: 'my-household' }, h('ul', { class: 'p-list' }, members.map(person))),
    form,
    mine.corrections.length
      ? h('section', { class: 'p-card', id: 'my-corrections' }, h('h2', t('portal.household.requests')),
        h('ul', { class: 'p-list' }, mine.corrections.map((c) => h('li', { class: 'p-item' },
          t(`correction.field.${c.field}`), ' → ', h('span', { class: 'mono' }, c.value || ''), ' · ', t(`correction.state.${c.state}`),
          c.decision_note ? h('div', { class: 'muted' }, c.decision_note) : null, h('div', { class: 'muted' }, fmtTime(c.created_at))))))
      : null);
}
