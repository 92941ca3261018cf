// One clue or risk (风险): what was found and where, the joint assessment (level, lead and helper
// departments, measures), the level's countdown, the daily progress reports and the days a
// department missed, the timeline, and exactly the moves the server allows this user now.
import { t } from '../i18n.js';
import { get, post, ApiError } from '../api.js';
import { h, put, empty, field, formDialog, fmtTime, toast } from '../dom.js';
import { LEVELS, label, levelBadge, stateBadge, countdown } from './risks.js';

export const ORDER = ['assess', 'report', 'finish', 'review', 'regrade', 'reassign', 'dismiss'];
const PRIMARY = new Set(['assess', 'report', 'finish', 'review']);

const area = (name, required) => h('textarea', { name, required, maxlength: 2000, rows: 3 });

let deptCache = null;
function departments() {
  if (!deptCache) deptCache = get('departments').then((r) => r.items || r).catch(() => []);
  return deptCache;
}

async function departmentFields(r) {
  const all = await departments();
  const lead = h('select', { name: 'lead', required: true, id: 'risk-lead' }, all.map((d) => h('option', { value: d.id, selected: d.id === r.lead_department_id }, d.name)));
  const helpers = h('div', { class: 'check-list', id: 'risk-helpers' }, all.map((d) => h('label',
    h('input', { type: 'checkbox', name: 'helpers', value: d.id, checked: (r.helper_ids || []).includes(d.id) }), ' ', d.name)));
  return {
    nodes: [field(t('risk.f.lead'), lead), field(t('risk.f.helpers'), helpers)],
    read: (f) => {
      const leadId = Number(f.elements.lead.value);
      return { lead_department_id: leadId, helper_ids: [...f.querySelectorAll('input[name=helpers]:checked')].map((x) => Number(x.value)).filter((x) => x !== leadId) };
    },
  };
}

const levelSelect = (current) => h('select', { name: 'level', required: true, id: 'risk-level' },
  LEVELS.map((l) => h('option', { value: l, selected: l === current }, label('risk.level', l))));

/** Opens the dialog for `action`; resolves to the updated record, or null. */
export async function openRiskAction(action, r) {
  let body;
  let build = () => ({});
  switch (action) {
    case 'assess': {
      const d = await departmentFields(r);
      body = h('div', field(t('risk.f.level'), levelSelect('orange')), ...d.nodes, field(t('risk.f.measures'), area('measures', true)));
      build = (f) => ({ level: f.elements.level.value, ...d.read(f), measures: f.elements.measures.value.trim() });
      break;
    }
    case 'reassign': {
      const d = await departmentFields(r);
      body = h('div', ...d.nodes);
      build = (f) => d.read(f);
      break;
    }
    case 'regrade':
      body = h('div', field(t('risk.f.level'), levelSelect(r.level)), field(t('risk.f.reason'), area('reason', true)));
      build = (f) => ({ level: f.elements.level.value, reason: f.elements.reason.value.trim() });
      break;
    case 'dismiss':
      body = field(t('risk.f.reason'), area('reason', true));
      build = (f) => ({ reason: f.elements.reason.value.trim() });
      break;
    case 'report':
      body = field(t('risk.f.text'), area('text', true));
      build = (f) => ({ text: f.elements.text.value.trim() });
      break;
    case 'finish':
      body = field(t('risk.f.summary'), area('summary', true));
      build = (f) => ({ summary: f.elements.summary.value.trim() });
      break;
    case 'review':
      body = h('div',
        field(t('risk.f.approve'), h('div', { class: 'radio-row', role: 'radiogroup' },
          h('label', h('input', { type: 'radio', name: 'approve', value: 'true', checked: true }), h('span', t('risk.approve.yes'))),
          h('label', h('input', { type: 'radio', name: 'approve', value: 'false' }), h('span', t('risk.approve.no'))))),
        field(t('risk.f.note'), area('note', false), t('risk.f.noteHint')));
      build = (f) => ({ approve: f.querySelector('input[name=approve]:checked').value === 'true', note: f.elements.note.value.trim() || null });
      break;
    default:
      body = h('p', t('risk.confirm'));
  }
  return formDialog({
    title: `${label('risk.action', action)} · ${r.number}`,
    body,
    danger: action === 'dismiss',
    submitLabel: label('risk.action', action),
    onSubmit: (f) => post(`risks/${r.id}/actions`, { action, ...build(f) }),
  });
}

function timeline(r) {
  const log = r.timeline || [];
  return h('ol', { class: 'timeline', id: 'risk-timeline' }, log.map((l) => h('li', { class: l.actor_id ? '' : 'sys' },
    h('div', { class: 'when' }, fmtTime(l.at)),
    h('div', { class: 'what' }, label('risk.action', l.action), l.data && l.data.level ? ' · ' : '', l.data && l.data.level ? label('risk.level', l.data.level) : ''),
    l.note ? h('div', { class: 'note' }, l.note) : null)));
}

export async function render(ctx) {
  const { content } = ctx;
  const id = Number(ctx.params[0]);
  let r;
  try {
    r = await get(`risks/${id}`);
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) {
      ctx.setTitle(t('risk.title', { number: `#${id}` }));
      put(content, empty(t('err.404'), null, h('a', { class: 'btn', href: '/console/risks' }, t('risk.back'))));
      return;
    }
    throw err;
  }
  ctx.setTitle(t('risk.title', { number: r.number }));
  const refresh = () => ctx.navigate(location.pathname, { replace: true });
  const depts = await departments();
  const deptName = (id) => (depts.find((d) => d.id === id) || {}).name || (id ? `#${id}` : t('risk.centre'));
  const fact = (k, v) => h('div', h('dt', t(k)), h('dd', v));
  const facts = h('dl', { class: 'facts' },
    fact('risk.f.type', label('risk.type', r.type)),
    fact('risk.f.source', label('risk.source', r.source)),
    fact('risk.f.node', r.node_name || r.node),
    fact('risk.f.lead', r.lead_department || '—'),
    fact('risk.f.helpers', (r.helpers || []).map((x) => x.name || `#${x.id}`).join('、') || '—'),
    fact('risk.f.created', fmtTime(r.created_at)),
    r.assessed_at ? fact('risk.f.assessed', fmtTime(r.assessed_at)) : null,
    r.clock && r.clock.due_at ? fact('risk.f.due', fmtTime(r.clock.due_at)) : null,
    r.event_id ? fact('risk.f.event', h('a', { href: `/console/events/${r.event_id}` }, `#${r.event_id}`)) : null,
    r.dispute_id ? fact('risk.f.dispute', h('a', { href: `/console/disputes/${r.dispute_id}` }, `#${r.dispute_id}`)) : null);
  const allowed = ORDER.filter((a) => r.allowed_actions.includes(a));
  const actions = h('div', { class: 'actions' },
    allowed.map((a) => h('button', { type: 'button', class: PRIMARY.has(a) ? 'btn btn-primary' : 'btn', dataset: { action: a }, onclick: async () => {
      if (await openRiskAction(a, r)) { toast(t('act.done', { action: label('risk.action', a) })); refresh(); }
    } }, label('risk.action', a))),
    r.state === 'active' && ['analyst', 'dispatcher', 'admin'].includes(ctx.me.role)
      ? h('a', { class: 'btn', id: 'risk-warn', href: `/console/warnings?risk=${r.id}&level=${r.level || ''}&title=${encodeURIComponent(r.title)}&node=${r.node}` }, t('risk.warn'))
      : null);
  const reports = r.reports || [];
  const missed = r.missed_days || [];
  const day = (d) => `${String(d).slice(0, 4)}-${String(d).slice(4, 6)}-${String(d).slice(6)}`;
  put(content,
    h('div', { class: 'event-head' },
      h('a', { href: '/console/risks', class: 'btn btn-small' }, '← ', t('risk.back')),
      h('h1', r.title), levelBadge(r.level), stateBadge(r.state), countdown(r)),
    h('div', { class: 'event-grid' },
      h('div',
        h('section', { class: 'card' }, h('div', { class: 'card-head' }, h('h2', t('risk.facts'))),
          h('div', { class: 'card-body' }, r.detail ? h('p', { class: 'description' }, r.detail) : null, facts,
            r.measures ? h('div', h('h3', t('risk.f.measures')), h('p', { style: { whiteSpace: 'pre-wrap' } }, r.measures)) : null)),
        h('section', { class: 'card', id: 'risk-reports' }, h('div', { class: 'card-head' }, h('h2', t('risk.reports'))),
          h('div', { class: 'card-body' }, reports.length
            ? h('ol', { class: 'timeline' }, reports.map((p) => h('li', h('div', { class: 'when' }, fmtTime(p.at), ' · ', deptName(p.department_id)), h('div', { class: 'note' }, p.text))))
            : h('p', { class: 'muted' }, t('risk.noReports')),
          missed.length ? h('p', { class: 'form-error', id: 'risk-missed' }, t('risk.missed', { days: missed.map((m) => `${day(m.day)}（${deptName(m.department_id)}）`).join('、') })) : null)),
        h('section', { class: 'card' }, h('div', { class: 'card-head' }, h('h2', t('risk.timeline'))), h('div', { class: 'card-body' }, timeline(r)))),
      h('div', h('section', { class: 'card', id: 'actions' }, h('div', { class: 'card-head' }, h('h2', t('risk.actions'))),
        h('div', { class: 'card-body' }, allowed.length || r.state === 'active' ? actions : h('p', { class: 'muted' }, t('risk.noActions')))))));
}
