// Morning and evening briefings (早晚报): the archive of the centre's briefings, one briefing as
// a printable A4 page (totals with their change since the last one, events by category and area,
// hotspots, overdue orders, new clues and graded risks, disputes, lagging departments, warnings),
// with its charts, a Word download, and "generate now" for the centre's staff.
import { t, has } from '../i18n.js';
import { get, post } from '../api.js';
import { h, put, loading, empty, errorBox, fmtTime, fmtNum, toast, echarts as loadEcharts } from '../dom.js';
import { barOption, mount } from './charts.js';

const MAKERS = ['analyst', 'dispatcher', 'admin'];
const TOTALS = ['events', 'overdue', 'clues_new', 'risks_new', 'risks_regraded', 'disputes', 'lagging_departments', 'missed_reports', 'warnings'];
const day = (d) => `${String(d).slice(0, 4)}-${String(d).slice(4, 6)}-${String(d).slice(6)}`;

function change(c) {
  if (c === null || c === undefined) return h('span', { class: 'muted' }, t('briefing.noPrevious'));
  const cls = c > 0 ? 'up' : c < 0 ? 'down' : 'same';
  return h('span', { class: `change change-${cls}` }, c > 0 ? `↑${fmtNum(c)}` : c < 0 ? `↓${fmtNum(-c)}` : t('briefing.same'));
}

function table(id, rows, cols) {
  if (!rows || !rows.length) return h('p', { class: 'muted' }, t('briefing.none'));
  return h('table', { class: 'data', id },
    h('thead', h('tr', cols.map(([k]) => h('th', { scope: 'col' }, t(k))))),
    h('tbody', rows.map((r) => h('tr', cols.map(([, f]) => h('td', f(r)))))));
}

const name = (r) => r.name || r.code || r.number || (r.department_id ? `#${r.department_id}` : '—');
const label = (prefix, code) => (code && has(`${prefix}.${code}`) ? t(`${prefix}.${code}`) : code || '—');

async function one(ctx, id) {
  const { content } = ctx;
  const b = await get(`briefings/${id}`);
  const f = b.figures || {};
  ctx.setTitle(t('briefing.title', { name: (f.node || {}).name || b.node_code, day: day(b.day), kind: t(`briefing.kind.${b.kind}`) }));
  const totals = f.totals || {};
  const section = (key, body) => h('section', { class: 'brief-section' }, h('h2', t(key)), body);
  const catChart = h('div', { class: 'chart', role: 'img', 'aria-label': t('briefing.byCategory') });
  const areaChart = h('div', { class: 'chart', role: 'img', 'aria-label': t('briefing.byArea') });
  put(content, h('article', { class: 'brief-sheet', id: 'brief-sheet' },
    h('div', { class: 'no-print', style: { display: 'flex', gap: '8px', marginBottom: '12px' } },
      h('a', { class: 'btn btn-small', href: '/console/briefings' }, '← ', t('briefing.back')),
      h('button', { type: 'button', class: 'btn btn-small', id: 'brief-print', onclick: () => window.print() }, t('briefing.print')),
      h('a', { class: 'btn btn-small', id: 'brief-docx', href: `/api/v1/briefings/${b.id}/docx`, download: '' }, t('briefing.docx'))),
    h('h1', { id: 'brief-title' }, t('briefing.title', { name: (f.node || {}).name || b.node_code, day: day(b.day), kind: t(`briefing.kind.${b.kind}`) })),
    h('p', { class: 'muted' }, t('briefing.period', { from: fmtTime(b.from), to: fmtTime(b.to) }), ' · ', t('briefing.generated', { time: fmtTime(b.created_at) })),
    h('div', { class: 'brief-totals', id: 'brief-totals' }, TOTALS.map((k) => h('div', { class: 'brief-total', dataset: { total: k } },
      h('strong', fmtNum((totals[k] || {}).n || 0)), h('span', t(`briefing.total.${k}`)), change((totals[k] || {}).change)))),
    section('briefing.byCategory', h('div', catChart, table('brief-categories', f.events_by_category, [['briefing.col.name', name], ['briefing.col.n', (r) => fmtNum(r.n)], ['briefing.col.change', (r) => change(r.change)]]))),
    section('briefing.byArea', h('div', areaChart, table('brief-areas', f.events_by_area, [['briefing.col.name', name], ['briefing.col.n', (r) => fmtNum(r.n)], ['briefing.col.change', (r) => change(r.change)]]))),
    section('briefing.hotspots', table('brief-hotspots', f.hotspots, [['briefing.col.name', name], ['briefing.col.n', (r) => fmtNum(r.n)], ['briefing.col.change', (r) => change(r.change)]])),
    section('briefing.overdue', table('brief-overdue', f.overdue_by_area, [['briefing.col.name', name], ['briefing.col.n', (r) => fmtNum(r.n)], ['briefing.col.change', (r) => change(r.change)]])),
    section('briefing.risks', h('div',
      table('brief-clues', f.clues, [['briefing.col.number', (r) => h('a', { href: `/console/risks/${r.id}` }, r.number)], ['briefing.col.type', (r) => label('risk.type', r.type || r.type_code)], ['briefing.col.state', (r) => label('risk.state', r.state)]]),
      table('brief-graded', f.risks_graded, [['briefing.col.number', (r) => h('a', { href: `/console/risks/${r.id}` }, r.number)], ['briefing.col.action', (r) => label('risk.action', r.action)], ['briefing.col.level', (r) => [r.from_level ? label('risk.level', r.from_level) + ' → ' : '', label('risk.level', r.level)].join('')]]))),
    section('briefing.disputes', table('brief-disputes', f.disputes_by_type, [['briefing.col.name', (r) => (document.documentElement.lang === 'en' ? r.name_en : r.name) || r.code], ['briefing.col.n', (r) => fmtNum(r.n)], ['briefing.col.change', (r) => change(r.change)]])),
    section('briefing.lagging', table('brief-lagging', f.lagging, [['briefing.col.name', name], ['briefing.col.days', (r) => fmtNum(r.n)], ['briefing.col.risks', (r) => fmtNum(r.risks)]])),
    section('briefing.warnings', table('brief-warnings', f.warnings_by_level, [['briefing.col.level', (r) => label('risk.level', r.level)], ['briefing.col.n', (r) => fmtNum(r.n)], ['briefing.col.change', (r) => change(r.change)]]))));
  const echarts = await loadEcharts();
  const top = (rows) => barOption((rows || []).slice(0, 10).map((r) => ({ name: name(r), values: [r.n] })), [t('briefing.col.n')]);
  const charts = [mount(echarts, catChart, top(f.events_by_category)), mount(echarts, areaChart, top(f.events_by_area))];
  return () => charts.forEach((c) => c.dispose());
}

export async function render(ctx) {
  const { content, me, params } = ctx;
  if (params && params[0]) return one(ctx, Number(params[0]));
  const status = h('div', { class: 'card-body' }, loading());
  const tbody = h('tbody');
  const tbl = h('table', { class: 'data responsive', id: 'brief-list' },
    h('thead', h('tr', ['briefing.col.day', 'briefing.col.kind', 'briefing.col.area', 'briefing.total.events', 'briefing.total.overdue', 'briefing.total.clues_new', 'briefing.col.made'].map((c) => h('th', { scope: 'col' }, t(c))))), tbody);
  const make = MAKERS.includes(me.role) && me.scope_node ? h('form', { class: 'filters', id: 'brief-make' },
    h('div', { class: 'form-grid' },
      h('div', { class: 'field' }, h('label', { for: 'brief-kind' }, t('briefing.col.kind')),
        h('select', { id: 'brief-kind', name: 'kind' }, h('option', { value: '' }, t('briefing.kind.latest')), ['morning', 'evening'].map((k) => h('option', { value: k }, t(`briefing.kind.${k}`)))))),
    h('button', { class: 'btn btn-primary', type: 'submit', id: 'brief-generate', style: { marginTop: '8px' } }, t('briefing.generate'))) : null;
  put(content, make, h('section', { class: 'card' }, status, h('div', { class: 'table-wrap' }, tbl)));
  async function load() {
    try {
      const r = await get('briefings', { limit: 50 });
      if (!ctx.isCurrent()) return;
      put(status, r.items.length ? null : empty(t('briefing.noneYet'), t('briefing.noneHint')));
      put(tbody, r.items.map((b) => h('tr', { dataset: { id: b.id } },
        h('td', h('a', { href: `/console/briefings/${b.id}` }, day(b.day))),
        h('td', t(`briefing.kind.${b.kind}`)), h('td', b.node_name || b.node_code),
        h('td', fmtNum(((b.totals || {}).events || {}).n || 0)), h('td', fmtNum(((b.totals || {}).overdue || {}).n || 0)),
        h('td', fmtNum(((b.totals || {}).clues_new || {}).n || 0)),
        h('td', { class: 'muted' }, b.scheduled ? t('briefing.scheduled') : fmtTime(b.created_at)))));
    } catch (err) {
      put(status, errorBox(err, load));
    }
  }
  if (make) {
    make.addEventListener('submit', async (e) => {
      e.preventDefault();
      try {
        const b = await post('briefings', { node: me.scope_node, kind: make.elements.kind.value || null });
        toast(t('briefing.made'));
        ctx.navigate(`/console/briefings/${b.id}`);
      } catch (err) {
        toast(err.describe ? err.describe() : String(err), 'error');
      }
    });
  }
  await load();
  return undefined;
}
