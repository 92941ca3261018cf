// The stability command centre's board (风险研判预警): today's open risks by colour level with
// their countdowns, the departments that missed a daily report (日清日结), the clues waiting for
// a joint assessment, and the list of clues and risks with filters. The server scopes it all.
import { t, has } from '../i18n.js';
import { get, post } from '../api.js';
import { h, put, loading, empty, errorBox, fmtTime, dueText, field, formDialog, toast } from '../dom.js';

export const LEVELS = ['red', 'orange', 'yellow', 'blue'];
export const STATES = ['clue', 'active', 'review', 'closed', 'dismissed'];
export const TYPES = ['disaster', 'safety', 'stability', 'dispute', 'public_order', 'public_health', 'finance', 'other'];
export const SOURCES = ['manual', 'rule', 'event', 'dispute', 'department'];
/** Who enters clues by hand: the centre and departments. */
export const ENTERS = ['analyst', 'dispatcher', 'admin', 'handler'];

export const label = (prefix, code) => (code && has(`${prefix}.${code}`) ? t(`${prefix}.${code}`) : code || '—');

export function levelBadge(level) {
  if (!level) return h('span', { class: 'badge risk-clue' }, t('risk.state.clue'));
  return h('span', { class: `badge risk-${level}`, dataset: { level } }, label('risk.level', level));
}

export function stateBadge(state) {
  return h('span', { class: `badge rstate-${state}` }, label('risk.state', state));
}

/** The countdown of an active risk: time left, or how long overdue. */
export function countdown(r) {
  const c = r.clock || {};
  if (r.state !== 'active' || !c.due_at) return h('span', { class: 'muted' }, '—');
  return h('span', { class: `light light-${c.light || 'green'}`, dataset: { due: c.due_at } },
    h('span', { class: 'dot', 'aria-hidden': 'true' }), dueText(c.due_at));
}

function riskRow(r) {
  const href = `/console/risks/${r.id}`;
  return h('tr', { dataset: { id: r.id }, class: r.clock && r.clock.light === 'red' && r.state === 'active' ? 'row-red' : '' },
    h('td', { class: 'id', 'data-label': t('risk.col.number') }, h('a', { href }, r.number)),
    h('td', { class: 'desc', 'data-label': t('risk.col.title') }, h('a', { href, style: { color: 'inherit' } }, r.title)),
    h('td', { 'data-label': t('risk.col.level') }, levelBadge(r.level)),
    h('td', { 'data-label': t('risk.col.type') }, label('risk.type', r.type), h('div', { class: 'muted' }, r.node_name || r.node)),
    h('td', { 'data-label': t('risk.col.lead') }, r.lead_department || h('span', { class: 'muted' }, '—')),
    h('td', { 'data-label': t('risk.col.state') }, stateBadge(r.state)),
    h('td', { 'data-label': t('risk.col.due') }, countdown(r)),
    h('td', { 'data-label': t('risk.col.created'), class: 'muted' }, fmtTime(r.created_at)));
}

export function riskTable(id) {
  const tbody = h('tbody');
  const cols = ['risk.col.number', 'risk.col.title', 'risk.col.level', 'risk.col.type', 'risk.col.lead', 'risk.col.state', 'risk.col.due', 'risk.col.created'];
  const table = h('table', { class: 'data responsive', id }, h('thead', h('tr', cols.map((c) => h('th', { scope: 'col' }, t(c))))), tbody);
  return { table, add: (rows) => rows.forEach((r) => tbody.append(riskRow(r))), clear: () => put(tbody) };
}

/** The dialog that enters a clue by hand; resolves to the new record or null. */
export function newClueDialog(me, preset = {}) {
  const body = h('div',
    field(t('risk.f.node'), h('input', { name: 'node', required: true, pattern: '[0-9]{12,27}', value: preset.node || me.scope_node || '' }), t('risk.f.nodeHint')),
    field(t('risk.f.type'), h('select', { name: 'type', required: true }, TYPES.map((x) => h('option', { value: x, selected: x === preset.type }, label('risk.type', x))))),
    field(t('risk.f.title'), h('input', { name: 'title', required: true, maxlength: 200, value: preset.title || '' })),
    field(t('risk.f.detail'), h('textarea', { name: 'detail', rows: 3, maxlength: 2000 }, preset.detail || '')));
  return formDialog({
    title: t('risk.new'),
    body,
    submitLabel: t('risk.new'),
    onSubmit: (f) => post('risks', {
      node: f.elements.node.value.trim(), type: f.elements.type.value, title: f.elements.title.value.trim(),
      detail: f.elements.detail.value.trim() || null, event_id: preset.event_id || null, dispute_id: preset.dispute_id || null,
    }),
  });
}

async function boardCard(ctx) {
  const box = h('div', { class: 'card-body' }, loading());
  const card = h('section', { class: 'card', id: 'risk-board' }, h('div', { class: 'card-head' }, h('h2', t('risk.board'))), box);
  if (!['analyst', 'dispatcher', 'admin', 'leader'].includes(ctx.me.role)) return null;
  get('risks/board', { days: 7 }).then((b) => {
    if (!ctx.isCurrent()) return;
    const tiles = h('div', { class: 'risk-tiles' }, LEVELS.concat(['clue']).map((l) => h('a', {
      class: `risk-tile risk-${l}`, href: l === 'clue' ? '/console/risks?state=clue' : `/console/risks?level=${l}&open=true`, dataset: { level: l },
    }, h('strong', String((b.open[l] || []).length)), h('span', l === 'clue' ? t('risk.state.clue') : label('risk.level', l)))));
    const urgent = LEVELS.slice(0, 2).flatMap((l) => b.open[l] || []);
    const lag = b.lagging_departments || [];
    put(box, tiles,
      h('div', { class: 'risk-board-grid' },
        h('div', h('h3', t('risk.urgent')), urgent.length
          ? h('ul', { class: 'staff', id: 'risk-urgent' }, urgent.map((r) => h('li', levelBadge(r.level), ' ', h('a', { href: `/console/risks/${r.id}` }, r.title), ' ', countdown(r))))
          : h('p', { class: 'muted' }, t('risk.noUrgent'))),
        h('div', h('h3', t('risk.lagging')), lag.length
          ? h('ol', { class: 'staff', id: 'risk-lagging' }, lag.map((d) => h('li', { dataset: { department: d.department_id } },
            h('strong', d.department || `#${d.department_id}`), ' ', h('span', { class: 'muted' }, t('risk.missedDays', { n: d.missed_days, risks: d.risks })))))
          : h('p', { class: 'muted' }, t('risk.noLagging')))));
  }).catch((err) => put(box, errorBox(err)));
  return card;
}

export async function render(ctx) {
  const { content, query, me } = ctx;
  const select = (name, values, prefix) => h('select', { name, id: `risk-${name}` }, h('option', { value: '' }, t('risk.any')),
    values.map((v) => h('option', { value: v, selected: query.get(name) === v }, label(prefix, v))));
  const ctl = (key, control) => { control.setAttribute('aria-label', t(key)); return h('div', { class: 'field' }, h('label', { for: control.id }, t(key)), control); };
  const form = h('form', { class: 'filters', role: 'search' },
    h('div', { class: 'form-grid' },
      ctl('risk.f.state', select('state', STATES, 'risk.state')),
      ctl('risk.f.level', select('level', LEVELS, 'risk.level')),
      ctl('risk.f.type', select('type', TYPES, 'risk.type')),
      ctl('risk.f.source', select('source', SOURCES, 'risk.source'))),
    h('div', { style: { marginTop: '8px', display: 'flex', gap: '8px', flexWrap: 'wrap' } },
      h('button', { class: 'btn btn-primary', type: 'submit' }, t('risk.search')),
      ENTERS.includes(me.role) ? h('button', { class: 'btn', type: 'button', id: 'risk-new', onclick: async () => {
        const r = await newClueDialog(me);
        if (r) { toast(t('risk.created')); ctx.navigate(`/console/risks/${r.id}`); }
      } }, t('risk.new')) : null,
      ['analyst', 'dispatcher', 'admin', 'leader'].includes(me.role) ? h('a', { class: 'btn', href: '/console/risks/rules' }, t('risk.rules')) : null,
      ['analyst', 'dispatcher', 'admin'].includes(me.role) ? h('a', { class: 'btn', href: '/console/warnings' }, t('nav.warnings')) : null));
  const { table, add, clear } = riskTable('risk-table');
  const status = h('div', { class: 'card-body' });
  const more = h('button', { class: 'btn', type: 'button', hidden: true }, t('risk.more'));
  put(content, await boardCard(ctx), form, h('section', { class: 'card' }, status, h('div', { class: 'table-wrap' }, table), more));
  let filters = {};
  for (const k of ['state', 'level', 'type', 'source', 'open', 'node']) if (query.get(k)) filters[k] = query.get(k);
  let before = null;
  async function load(append) {
    if (!append) { clear(); put(status, loading()); }
    try {
      const r = await get('risks', { ...filters, before: append ? before : undefined, limit: 50 });
      if (!ctx.isCurrent()) return;
      put(status);
      if (!append && !r.items.length) put(status, empty(t('risk.none'), t('risk.noneHint')));
      add(r.items);
      before = r.next_cursor;
      more.hidden = before === null || before === undefined;
    } catch (err) {
      put(status, errorBox(err, () => load(false)));
    }
  }
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    filters = {};
    for (const [k, v] of new FormData(form).entries()) if (String(v).trim()) filters[k] = String(v).trim();
    history.replaceState(null, '', `/console/risks?${new URLSearchParams(filters)}`);
    load(false);
  });
  more.addEventListener('click', () => load(true));
  await load(false);
}
