// One dispute case (矛盾纠纷案件): facts, parties (masked), sessions, timeline, the agreement, and
// exactly the moves the server allows this user now, each a dialog with the fields it needs.
// Assigning shows the server's ranked suggestions of mediators.
import { t, has } from '../i18n.js';
import { get, post, patch, ApiError } from '../api.js';
import { h, put, empty, field, formDialog, fmtTime, lightBadge, toast } from '../dom.js';
import { disputeTypes, disputeState, label, riskFlags, yuan, OPEN } from './disputes.js';

/** Moves in the order their buttons appear: forward moves first, refusals and transfers last. */
export const ORDER = ['accept', 'assign', 'schedule_session', 'record_outcome', 'follow_up', 'close', 'decide_extension', 'judicial_confirmation',
  'invite_panel', 'request_extension', 'transfer_up', 'transfer_down', 'decline'];
const PRIMARY = new Set(['accept', 'assign', 'schedule_session', 'record_outcome', 'follow_up', 'close', 'decide_extension']);

const area = (name, required, maxlength = 2000) => h('textarea', { name, required, maxlength, rows: 3 });
const radios = (name, options) => h('div', { class: 'radio-row', role: 'radiogroup' }, options.map(([value, text, checked]) =>
  h('label', h('input', { type: 'radio', name, value, checked: !!checked, required: true }), h('span', text))));

/** The agreement's terms typed one a line → the list the server keeps. */
export const termsOf = (text) => text.split('\n').map((s) => s.trim()).filter(Boolean);

/** A local date-time input's value → epoch milliseconds (China time is the browser's here). */
const msOf = (v) => new Date(v).getTime();

async function suggestionList(id, picked) {
  const box = h('div', { class: 'suggestions', id: 'dispute-suggestions' }, h('p', { class: 'muted' }, t('common.loading')));
  get(`disputes/${id}/suggestions`).then((r) => {
    const items = Array.isArray(r) ? r : r.items || [];
    if (!items.length) return put(box, h('p', { class: 'muted' }, t('dispute.suggest.none')));
    put(box, h('ul', { class: 'staff' }, items.map((s, i) => h('li',
      h('label', h('input', { type: 'radio', name: 'mediator_id', value: s.mediator.id, required: true, checked: i === 0 || s.mediator.id === picked }),
        ' ', h('strong', s.mediator.name), ' ', h('span', { class: 'muted' }, label('mkind', s.mediator.kind))),
      h('span', { class: 'muted' }, (s.reasons || []).map((r) => label('dispute.reason', r)).join(' · '), ` · ${t('dispute.suggest.score', { n: Math.round(s.score * 100) / 100 })}`)))));
  }).catch((err) => put(box, h('p', { class: 'form-error' }, err.describe ? err.describe() : String(err))));
  return box;
}

/** Opens the dialog for `action`; resolves to the updated case, or null when cancelled. */
export async function openDisputeAction(action, d) {
  let body = null;
  let build = () => ({});
  let danger = false;
  switch (action) {
    case 'accept':
    case 'close':
      body = h('p', t(`dispute.confirm.${action}`));
      break;
    case 'decline':
    case 'transfer_up':
    case 'request_extension':
      danger = action === 'decline';
      body = field(t('dispute.f.reason'), area('reason', true, 500));
      build = (f) => ({ reason: f.elements.reason.value.trim() });
      break;
    case 'transfer_down': {
      const children = await get(`nodes/${d.node_code}/children`).then((r) => r.items || r).catch(() => []);
      const centres = (children || []).filter((c) => ['town', 'village'].includes(c.level));
      body = h('div', field(t('dispute.f.toNode'), h('select', { name: 'to_node', required: true }, centres.map((c) => h('option', { value: c.code }, `${c.name} · ${c.code}`)))),
        field(t('dispute.f.reason'), area('reason', true, 500)));
      build = (f) => ({ to_node: f.elements.to_node.value, reason: f.elements.reason.value.trim() });
      break;
    }
    case 'assign':
      body = h('div', h('p', { class: 'muted' }, t('dispute.suggest.lead')), await suggestionList(d.id, d.mediator && d.mediator.id));
      build = (f) => ({ mediator_id: Number(f.querySelector('input[name=mediator_id]:checked').value) });
      break;
    case 'schedule_session':
      return sessionDialog(d);
    case 'record_outcome': {
      const terms = area('terms', false, 4000);
      terms.rows = 6;
      body = h('div',
        field(t('dispute.f.outcome'), radios('outcome', [['agreement', t('dispute.outcome.agreement'), true], ['failure', t('dispute.outcome.failure')], ['withdrawal', t('dispute.outcome.withdrawal')]])),
        field(t('dispute.f.terms'), terms, t('dispute.f.termsHint')),
        field(t('dispute.f.referral'), h('select', { name: 'referral' }, h('option', { value: '' }, '—'), ['court', 'arbitration', 'admin_review'].map((r) => h('option', { value: r }, label('dispute.referral', r))))),
        field(t('dispute.f.reason'), area('reason', false, 500)));
      build = (f) => {
        const outcome = f.querySelector('input[name=outcome]:checked').value;
        if (outcome === 'agreement') return { outcome, terms: termsOf(f.elements.terms.value).join('\n') };
        if (outcome === 'failure') return { outcome, referral: f.elements.referral.value || null, reason: f.elements.reason.value.trim() };
        return { outcome, reason: f.elements.reason.value.trim() };
      };
      break;
    }
    case 'follow_up':
      body = h('div', field(t('dispute.f.honoured'), radios('honoured', [['true', t('dispute.honoured.yes'), true], ['false', t('dispute.honoured.no')]])),
        field(t('dispute.f.note'), area('note', false, 1000)));
      build = (f) => ({ honoured: f.querySelector('input[name=honoured]:checked').value === 'true', note: f.elements.note.value.trim() || null });
      break;
    case 'decide_extension':
      body = field(t('dispute.f.approve'), radios('approve', [['true', t('dispute.approve.yes'), true], ['false', t('dispute.approve.no')]]));
      build = (f) => ({ approve: f.querySelector('input[name=approve]:checked').value === 'true' });
      break;
    case 'judicial_confirmation':
      body = h('div', field(t('dispute.f.court'), h('input', { name: 'court', required: true, maxlength: 100 })),
        field(t('dispute.f.number'), h('input', { name: 'number', required: true, maxlength: 100 })),
        field(t('dispute.f.date'), h('input', { name: 'date', type: 'date', required: true })));
      build = (f) => ({ court: f.elements.court.value.trim(), number: f.elements.number.value.trim(), date: f.elements.date.value });
      break;
    case 'invite_panel': {
      const panels = await get('panels').then((r) => r.items || r).catch(() => []);
      body = field(t('dispute.f.panel'), h('select', { name: 'panel_id', required: true }, (panels || []).map((p) => h('option', { value: p.id }, p.name))));
      build = (f) => ({ panel_id: Number(f.elements.panel_id.value) });
      break;
    }
    default:
      body = h('p', t('dispute.confirm.other'));
  }
  return formDialog({
    title: `${label('daction', action)} · ${d.number || '#' + d.id}`,
    body,
    danger,
    submitLabel: label('daction', action),
    onSubmit: (f) => post(`disputes/${d.id}/actions`, { action, ...build(f) }),
  });
}

/** Schedules a session (调解会): time, place, attendees. */
function sessionDialog(d, s) {
  const at = h('input', { name: 'at', type: 'datetime-local', required: !s });
  const body = h('div',
    s ? null : field(t('dispute.session.at'), at),
    s ? null : field(t('dispute.session.place'), h('input', { name: 'place', required: true, maxlength: 200 })),
    field(t('dispute.session.attendees'), h('input', { name: 'attendees', maxlength: 500, value: s ? (s.attendees || []).join('、') : '' }), t('dispute.session.attendeesHint')),
    s ? field(t('dispute.session.record'), h('textarea', { name: 'record', maxlength: 20000, rows: 8 }, s.record || '')) : null,
    s ? field(t('dispute.session.held'), h('input', { type: 'checkbox', name: 'held', checked: !!s.held }), null, { inline: true }) : null);
  const attendees = (f) => f.elements.attendees.value.split(/[,，、;；]/).map((x) => x.trim()).filter(Boolean);
  return formDialog({
    title: s ? t('dispute.session.edit') : t('dispute.session.new'),
    body,
    submitLabel: t('common.save'),
    onSubmit: async (f) => {
      if (s) await patch(`disputes/${d.id}/sessions/${s.id}`, { record: f.elements.record.value, attendees: attendees(f), held: f.elements.held.checked });
      else await post(`disputes/${d.id}/sessions`, { at: msOf(f.elements.at.value), place: f.elements.place.value.trim(), attendees: attendees(f) });
      return true;
    },
  });
}

function partiesCard(d) {
  return h('section', { class: 'card', id: 'dispute-parties' }, h('div', { class: 'card-head' }, h('h2', t('dispute.parties'))),
    h('div', { class: 'card-body' }, h('ul', { class: 'staff' }, (d.parties || []).map((p) => h('li',
      h('span', h('strong', p.name), ' ', h('span', { class: 'muted' }, label('dispute.role', p.role)), p.gender ? ` · ${label('resident.gender', p.gender)}` : ''),
      h('span', { class: 'mono muted' }, [p.id_mask, p.phone_mask].filter(Boolean).join(' · ')),
      p.resident_id ? h('a', { href: `/console/residents/${p.resident_id}` }, t('dispute.resident')) : null)))));
}

function sessionsCard(d, canEdit, refresh) {
  const items = d.sessions || [];
  return h('section', { class: 'card', id: 'dispute-sessions' }, h('div', { class: 'card-head' }, h('h2', t('dispute.sessions'))),
    h('div', { class: 'card-body' }, items.length ? h('ol', { class: 'timeline' }, items.map((s) => h('li', { dataset: { id: s.id } },
      h('div', { class: 'when' }, fmtTime(s.at), ' · ', s.place, s.held ? ` · ${t('dispute.session.wasHeld')}` : ''),
      (s.attendees || []).length ? h('div', { class: 'muted' }, t('dispute.session.attendees'), '：', s.attendees.join('、')) : null,
      s.record ? h('div', { class: 'note', style: { whiteSpace: 'pre-wrap' } }, s.record) : null,
      canEdit ? h('button', { type: 'button', class: 'btn btn-small', dataset: { session: s.id }, onclick: async () => {
        if (await sessionDialog(d, s)) refresh();
      } }, t('dispute.session.writeRecord')) : null)))
      : h('p', { class: 'muted' }, t('dispute.session.none'))));
}

function timeline(d) {
  const log = d.log || [];
  if (!log.length) return h('p', { class: 'muted' }, t('common.noData'));
  return h('ol', { class: 'timeline', id: 'dispute-timeline' }, log.map((l) => h('li', { class: l.actor ? '' : 'sys' },
    h('div', { class: 'when' }, fmtTime(l.at), l.actor ? ` · ${l.actor.name}` : ''),
    h('div', { class: 'what' }, label('daction', l.action)),
    l.note ? h('div', { class: 'note' }, l.note) : null)));
}

/** The terms as the mediator typed them (one text), or as a list when the server splits them. */
export function termsView(terms) {
  return Array.isArray(terms) ? h('ol', terms.map((x) => h('li', x))) : h('p', { class: 'agreement-text', style: { whiteSpace: 'pre-wrap' } }, String(terms || ''));
}

function agreementCard(d) {
  const a = d.agreement;
  if (!a) return null;
  return h('section', { class: 'card', id: 'dispute-agreement' }, h('div', { class: 'card-head' }, h('h2', t('dispute.agreement')),
    h('a', { class: 'btn btn-small', href: `/console/disputes/${d.id}/agreement`, id: 'dispute-print' }, t('agreement.open'))),
  h('div', { class: 'card-body' }, termsView(a.terms),
    a.signed_at ? h('p', { class: 'muted' }, t('dispute.signedAt', { time: fmtTime(a.signed_at) })) : null,
    d.judicial ? h('p', { class: 'muted' }, t('dispute.judicial', { court: d.judicial.court, number: d.judicial.number, date: d.judicial.date })) : null));
}

export async function render(ctx) {
  const { content } = ctx;
  const id = Number(ctx.params[0]);
  let d;
  try {
    d = await get(`disputes/${id}`);
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) {
      ctx.setTitle(t('dispute.title', { number: `#${id}` }));
      put(content, empty(t('err.404'), null, h('a', { class: 'btn', href: '/console/disputes' }, t('dispute.back'))));
      return;
    }
    throw err;
  }
  const types = await disputeTypes();
  ctx.setTitle(t('dispute.title', { number: d.number || `#${d.id}` }));
  const open = OPEN.has(d.state);
  const refresh = () => ctx.navigate(location.pathname, { replace: true });
  const clocks = d.clocks || { due_at: d.due_at, light: d.light };
  const head = h('div', { class: 'event-head' },
    h('a', { href: '/console/disputes', class: 'btn btn-small' }, '← ', t('dispute.back')),
    h('h1', t('dispute.title', { number: d.number || `#${d.id}` })),
    disputeState(d.state),
    open && clocks.due_at ? lightBadge(clocks.light, clocks.due_at, true) : null,
    clocks.extended ? h('span', { class: 'badge' }, t('dispute.extended')) : null,
    riskFlags(d.risk));
  const fact = (k, v) => h('div', h('dt', t(k)), h('dd', v));
  const facts = h('dl', { class: 'facts' },
    fact('dispute.type', types.name(d.type)),
    fact('dispute.source', label('dsource', d.source)),
    fact('dispute.level', `${label('dlevel', d.level)} · ${d.node_name || d.node_code}`),
    fact('dispute.mediator', d.mediator ? d.mediator.name : t('dispute.unassigned')),
    fact('dispute.amount', yuan(d.amount_cents)),
    d.people_involved ? fact('dispute.people', String(d.people_involved)) : null,
    fact('dispute.created', fmtTime(d.created_at)),
    d.accepted_at ? fact('dispute.accepted', fmtTime(d.accepted_at)) : null,
    fact('dispute.due', open && clocks.due_at ? fmtTime(clocks.due_at) : '—'),
    d.outcome ? fact('dispute.outcome', label('dispute.outcome', d.outcome.kind || d.outcome)) : null,
    d.event_id ? fact('dispute.event', h('a', { href: `/console/events/${d.event_id}` }, `#${d.event_id}`)) : null,
    (d.panels || []).length ? fact('dispute.panels', d.panels.map((p) => p.name).join('、')) : null);
  const allowed = ORDER.filter((a) => d.allowed_actions.includes(a)).concat(d.allowed_actions.filter((a) => !ORDER.includes(a)));
  const actions = allowed.length
    ? h('div', { class: 'actions' }, allowed.map((a) => h('button', {
      type: 'button', class: PRIMARY.has(a) ? 'btn btn-primary' : 'btn', dataset: { action: a },
      onclick: async () => {
        if (await openDisputeAction(a, d)) {
          toast(t('act.done', { action: label('daction', a) }));
          refresh();
        }
      },
    }, label('daction', a))))
    : h('p', { class: 'muted' }, t('dispute.noActions'));
  const canEditSessions = allowed.includes('schedule_session') || allowed.includes('record_outcome');
  put(content, head,
    h('div', { class: 'event-grid' },
      h('div',
        h('section', { class: 'card' }, h('div', { class: 'card-head' }, h('h2', t('dispute.summary'))),
          h('div', { class: 'card-body' }, h('p', { class: 'description' }, d.summary), facts)),
        partiesCard(d),
        sessionsCard(d, canEditSessions, refresh),
        agreementCard(d),
        h('section', { class: 'card' }, h('div', { class: 'card-head' }, h('h2', t('dispute.timeline'))), h('div', { class: 'card-body' }, timeline(d)))),
      h('div',
        h('section', { class: 'card', id: 'actions' }, h('div', { class: 'card-head' }, h('h2', t('dispute.actions'))), h('div', { class: 'card-body' }, actions)))));
  if (!has('dstate.' + d.state)) console.warn('untranslated dispute state', d.state);
}
