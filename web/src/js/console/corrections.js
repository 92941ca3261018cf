// Correction requests (更正申请) from citizens about their own household, for the grid workers
// of its node: accept (the record changes) or reject, with a note the citizen reads.
import { t } from '../i18n.js';
import { get, post } from '../api.js';
import { h, put, field, loading, empty, errorBox, fmtTime, formDialog, toast } from '../dom.js';

function card(c, canDecide, redraw) {
  const decide = (accept) => async () => {
    const note = h('input', { name: 'note', maxlength: 500 });
    const ok = await formDialog({ title: t(accept ? 'correction.accept' : 'correction.reject'), body: field(t('correction.note'), note),
      onSubmit: (form) => post(`corrections/${c.id}/decide`, { accept, note: form.note.value }) });
    if (ok) {
      toast(t(accept ? 'correction.accepted' : 'correction.rejected'));
      redraw();
    }
  };
  return h('div', { class: 'order correction', dataset: { id: c.id } },
    h('div', { class: 'top' }, h('a', { href: `/console/residents/${c.resident_id}` }, c.resident ? c.resident.name : `#${c.resident_id}`), h('span', fmtTime(c.created_at))),
    h('p', t(`correction.field.${c.field}`), ' → ', h('strong', { class: 'mono' }, c.value || '')),
    c.note ? h('p', { class: 'muted' }, c.note) : null,
    h('div', { class: 'top' }, h('span', { class: 'badge' }, t(`correction.state.${c.state}`)),
      c.state === 'pending' && canDecide
        ? h('span', { style: { display: 'flex', gap: '6px' } },
          h('button', { type: 'button', class: 'btn btn-small btn-primary', onclick: decide(true) }, t('correction.accept')),
          h('button', { type: 'button', class: 'btn btn-small', onclick: decide(false) }, t('correction.reject')))
        : h('span', { class: 'muted' }, c.decision_note || '')));
}

export async function render(ctx) {
  const { content, me } = ctx;
  const canDecide = ['grid_worker', 'dispatcher', 'admin'].includes(me.role);
  const state = h('select', { id: 'corr-state', 'aria-label': t('correction.stateFilter') },
    ['pending', 'accepted', 'rejected', ''].map((s) => h('option', { value: s }, s ? t(`correction.state.${s}`) : t('resident.any'))));
  const list = h('div', { class: 'card-body', id: 'corr-list' });
  put(content, h('section', { class: 'card' }, h('div', { class: 'card-head' }, h('h2', t('nav.corrections')), state), list));
  async function draw() {
    put(list, loading());
    try {
      const r = await get('corrections', { state: state.value, limit: 100 });
      if (!ctx.isCurrent()) return;
      put(list, r.items.length ? r.items.map((c) => card(c, canDecide, draw)) : empty(t('correction.none')));
    } catch (err) {
      put(list, errorBox(err, draw));
    }
  }
  state.addEventListener('change', draw);
  await draw();
}
