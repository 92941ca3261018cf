// 申请调解 on the citizen's phone: apply for mediation of a dispute, and follow my applications
// with their progress and timeline. The server defaults the centre to the citizen's household.
import { t, has } from '../i18n.js';
import { get, post } from '../api.js';
import { h, put, empty, loading, fmtTime, toast } from '../dom.js';

const OPEN = ['intake', 'accepted', 'assigned', 'in_session'];
const label = (prefix, code) => (code && has(`${prefix}.${code}`) ? t(`${prefix}.${code}`) : code || '');

/** The steps a citizen sees: applied → accepted → mediating → result → closed. */
export function disputeSteps(state) {
  const order = ['applied', 'accepted', 'mediating', 'result', 'closed'];
  const at = { intake: 0, accepted: 1, assigned: 2, in_session: 2, agreed: 3, failed: 3, withdrawn: 3, declined: 4, closed: 4 }[state];
  return h('ol', { class: 'steps', 'aria-label': t('portal.progress') }, order.map((s, i) =>
    h('li', { class: `step${at !== undefined && i < at ? ' done' : ''}${i === at ? (['closed', 'declined'].includes(state) ? ' done' : ' now') : ''}`, 'aria-current': i === at ? 'step' : null }, t(`pdispute.step.${s}`))));
}

async function typeNames() {
  const r = await get('dispute-types').catch(() => []);
  const items = Array.isArray(r) ? r : r.items || [];
  const en = document.documentElement.lang === 'en';
  return { items, name: (code) => { const x = items.find((i) => i.code === code); return x ? (en ? x.name_en : x.name_zh) : code; } };
}

/** My applications, newest first, and the way to apply. */
export async function myDisputesPage(content) {
  const host = h('section', { class: 'p-card', id: 'my-disputes' }, h('h2', t('pdispute.mine')), loading());
  put(content, h('section', { class: 'p-hero' }, h('h1', t('pdispute.title')), h('p', t('pdispute.lead')),
    h('a', { class: 'btn', href: '/m/mediation/apply', id: 'start-apply' }, t('pdispute.apply'))), host);
  const [r, types] = await Promise.all([get('me/disputes', { limit: 50 }), typeNames()]);
  const items = r.items || r;
  if (!items.length) {
    put(host, h('h2', t('pdispute.mine')), empty(t('pdispute.none'), t('pdispute.noneHint')));
    return;
  }
  put(host, h('h2', t('pdispute.mine')), h('ul', { class: 'p-list' }, items.map((d) => h('li', { class: 'p-item', dataset: { id: d.id } },
    h('a', { href: `/m/mediation/${d.id}` }, h('strong', types.name(d.type)), ' · ', label('dstate', d.state)),
    h('div', { class: 'muted' }, d.summary),
    h('div', { class: 'muted' }, fmtTime(d.created_at))))));
}

/** The application form: type, what happened, the other side, the amount. */
export async function applyPage(content, navigate) {
  const types = await typeNames();
  const type = h('select', { id: 'pd-type', name: 'type', required: true }, types.items.filter((x) => !x.parent).map((x) => h('option', { value: x.code }, types.name(x.code))));
  const summary = h('textarea', { id: 'pd-summary', name: 'summary', required: true, maxlength: 2000, rows: 5, placeholder: t('pdispute.summaryHint') });
  const respondent = h('input', { id: 'pd-respondent', name: 'respondent_name', maxlength: 50, autocomplete: 'off' });
  const amount = h('input', { id: 'pd-amount', name: 'amount', type: 'number', min: 0, step: '0.01', inputmode: 'decimal' });
  const errorEl = h('p', { class: 'form-error', role: 'alert', hidden: true });
  const send = h('button', { class: 'btn btn-primary btn-block', type: 'submit', id: 'pd-send' }, t('pdispute.send'));
  const lab = (el, key) => h('label', { for: el.id }, t(key));
  const form = h('form', { class: 'p-card', id: 'pd-form', novalidate: true }, h('h2', t('pdispute.apply')),
    h('div', { class: 'field' }, lab(type, 'pdispute.type'), type),
    h('div', { class: 'field' }, lab(summary, 'pdispute.summary'), summary),
    h('div', { class: 'field' }, lab(respondent, 'pdispute.respondent'), respondent),
    h('div', { class: 'field' }, lab(amount, 'pdispute.amount'), amount),
    h('p', { class: 'muted' }, t('pdispute.privacy')),
    errorEl, send);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (!form.reportValidity()) return;
    errorEl.hidden = true;
    send.disabled = true;
    try {
      const d = await post('me/disputes', {
        type: type.value, summary: summary.value.trim(), respondent_name: respondent.value.trim() || null,
        amount_cents: amount.value ? Math.round(Number(amount.value) * 100) : null,
      });
      toast(t('pdispute.sent'));
      navigate(`/m/mediation/${d.id}`);
    } catch (err) {
      errorEl.hidden = false;
      put(errorEl, err.describe ? err.describe() : String(err));
      send.disabled = false;
    }
  });
  put(content, form, h('p', { style: { textAlign: 'center' } }, h('a', { href: '/m/mediation' }, '← ', t('pdispute.mine'))));
}

/** One application: its progress, the sessions the citizen is invited to, and the timeline. */
export async function myDisputePage(content, id) {
  const [d, types] = await Promise.all([get(`disputes/${id}`), typeNames()]);
  const sessions = (d.sessions || []).filter((s) => !s.held);
  put(content,
    h('section', { class: 'p-card', id: 'pd-case' },
      h('div', { style: { display: 'flex', justifyContent: 'space-between', gap: '8px', alignItems: 'center' } },
        h('h2', { style: { margin: 0 } }, `${types.name(d.type)} ${d.number || ''}`), h('span', { class: 'badge', id: 'pd-state' }, label('dstate', d.state))),
      disputeSteps(d.state),
      h('p', { class: 'description' }, d.summary),
      d.mediator ? h('p', t('pdispute.mediator', { name: d.mediator.name })) : null,
      d.node_name ? h('p', { class: 'muted' }, t('pdispute.centre', { name: d.node_name })) : null,
      OPEN.includes(d.state) && d.due_at ? h('p', { class: 'muted' }, t('pdispute.due', { time: fmtTime(d.due_at) })) : null),
    sessions.length ? h('section', { class: 'p-card' }, h('h2', t('pdispute.sessions')), h('ul', { class: 'p-list' }, sessions.map((s) =>
      h('li', { class: 'p-item' }, h('strong', fmtTime(s.at)), ' · ', s.place)))) : null,
    d.agreement ? h('section', { class: 'p-card', id: 'pd-agreement' }, h('h2', t('pdispute.agreement')),
      Array.isArray(d.agreement.terms) ? h('ol', d.agreement.terms.map((x) => h('li', x))) : h('p', { style: { whiteSpace: 'pre-wrap' } }, String(d.agreement.terms || ''))) : null,
    h('section', { class: 'p-card' }, h('h2', t('portal.progress')), h('ol', { class: 'timeline', id: 'pd-timeline' }, (d.log || []).filter((l) => l.action !== 'supervise').reverse().map((l) => h('li',
      h('div', { class: 'when' }, fmtTime(l.at)), h('div', { class: 'what' }, label('daction', l.action)),
      l.note && ['decline', 'record_outcome', 'follow_up', 'close'].includes(l.action) ? h('div', { class: 'note' }, l.note) : null)))),
    h('p', { style: { textAlign: 'center' } }, h('a', { href: '/m/mediation' }, '← ', t('pdispute.mine'))));
}
