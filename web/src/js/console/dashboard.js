// The dashboard: the closed loop's figures for the user's subtree (or a lower region), as
// cards and charts: trend by day, by category, by department, share resolved per level,
// and rankings of departments and lower regions by on-time rate.
import { t } from '../i18n.js';
import { get, categories } from '../api.js';
import { h, put, echarts as loadEcharts, fmtNum, fmtPct, fmtMinutes, chinaDate, empty } from '../dom.js';
import { contains } from '../codes.js';
import { exportLink } from './table.js';
import { tagCatalogue, tagName } from './visits.js';
import { disputeFigures } from './dispute-figures.js';
import { disputeTypes } from './disputes.js';
import { trendOption, barOption, rankOption, shareOption, fillDays, byTopCategory, mount } from './charts.js';

const RANGES = [7, 30, 90, 365];

/** The query for a range of `days` ending today (the server's today when `days` is 30). */
export function rangeQuery(days) {
  if (days === 30) return {};
  return { from: chinaDate(Date.now() - (days - 1) * 86400000) };
}

export function kpiCards(f, live) {
  const c = f.counters;
  const rate = (r) => (r && r.value !== null ? r.value : null);
  const cls = (v, good, ok) => (v === null ? '' : v >= good ? 'good' : v >= ok ? 'warn' : 'bad');
  const card = (key, value, sub, extra = '', id) => h('div', { class: `kpi ${extra}`, dataset: { kpi: id || key } },
    h('div', { class: 'label' }, t(key)), h('div', { class: 'value' }, value), sub ? h('div', { class: 'sub' }, sub) : null);
  return [
    live ? card('fig.open', fmtNum(live.open), null, '', 'open') : null,
    live ? card('fig.overdue', fmtNum(live.overdue), null, live.overdue ? 'bad' : 'good', 'overdue') : null,
    card('fig.reported', fmtNum(c.reported), null, '', 'reported'),
    card('fig.closed', fmtNum(c.closed), null, '', 'closed'),
    card('fig.on_time_rate', fmtPct(f.on_time_rate), `${fmtNum(c.closed_on_time)} / ${fmtNum(c.closed)}`, cls(rate(f.on_time_rate), 0.95, 0.85), 'on_time_rate'),
    card('fig.satisfaction', f.satisfaction_mean.value === null ? '—' : fmtNum(f.satisfaction_mean.value, 2), `${t('fig.satisfaction_rate')} ${fmtPct(f.satisfaction_rate)}`, cls(rate(f.satisfaction_mean), 4.5, 4), 'satisfaction'),
    card('fig.share_village', fmtPct(f.share_village), null, '', 'share_village'),
    card('fig.median_close', fmtMinutes(f.median_close_minutes), `P90 ${fmtMinutes(f.p90_close_minutes)}`, '', 'median_close'),
    card('fig.reopen_rate', fmtPct(f.reopen_rate), `${t('fig.returns')} ${fmtPct(f.returns_per_dispatch)}`, '', 'reopen_rate'),
  ];
}

export function departmentRanking(byDepartment) {
  return (byDepartment || []).filter((d) => d.figures.counters.closed > 0)
    .map((d) => ({ name: d.name || `#${d.department_id}`, rate: d.figures.on_time_rate.value, closed: d.figures.counters.closed }))
    .sort((a, b) => (b.rate ?? -1) - (a.rate ?? -1) || b.closed - a.closed);
}

export function regionRanking(children) {
  return (children || []).filter((c) => c.figures.counters.closed > 0)
    .map((c) => ({ name: c.name, code: c.code, rate: c.figures.on_time_rate.value, closed: c.figures.counters.closed }))
    .sort((a, b) => (b.rate ?? -1) - (a.rate ?? -1) || b.closed - a.closed);
}

export async function render(ctx) {
  const { content, me, query } = ctx;
  const node = query.get('node') && contains(me.scope_node, query.get('node')) ? query.get('node') : me.scope_node;
  const days = RANGES.includes(Number(query.get('days'))) ? Number(query.get('days')) : 30;
  const [echarts, cats, fig, live, info, base] = await Promise.all([
    loadEcharts(),
    categories(),
    get('figures', { node, children: true, daily: true, ...rangeQuery(days) }),
    get('map/card', { code: node }).catch(() => null),
    get(`nodes/${node}`).catch(() => null),
    // Base data: for the roles that hold it (others are refused and see no panel).
    get('figures/base', { node }).catch(() => null),
  ]);
  // Disputes: for the roles that read them (others are refused and see no panel).
  const [dfig, dtypes] = await Promise.all([get('figures/disputes', { node }).catch(() => null), disputeTypes()]);
  const tags = base ? await tagCatalogue().catch(() => new Map()) : new Map();
  if (!ctx.isCurrent()) return;
  ctx.setTitle(`${t('dash.title')} · ${fig.node.name}`);

  const link = (params) => {
    const p = new URLSearchParams({ node, days: String(days), ...params });
    if (p.get('node') === me.scope_node) p.delete('node');
    if (p.get('days') === '30') p.delete('days');
    const s = p.toString();
    return `/console/dashboard${s ? '?' + s : ''}`;
  };

  // Breadcrumb from the user's root down to this node.
  const chain = info ? (info.ancestors || []).filter((a) => contains(me.scope_node, a.code)) : [];
  const crumbs = h('nav', { class: 'crumbs', 'aria-label': t('dash.node') },
    chain.map((a) => [h('a', { href: link({ node: a.code }) }, a.name), h('span', { class: 'sep', 'aria-hidden': 'true' }, '›')]),
    h('strong', { 'aria-current': 'page' }, fig.node.name));
  const seg = h('div', { class: 'seg', role: 'group', 'aria-label': t('dash.range') }, RANGES.map((d) =>
    h('button', { type: 'button', 'aria-pressed': String(d === days), onclick: () => ctx.navigate(link({ days: String(d) })) }, t('common.lastDays', { n: d }))));

  const f = fig.figures;
  const hasData = f.counters.reported > 0 || f.counters.closed > 0;
  const chartBox = (id, title, cls = '', note) => h('section', { class: `card ${cls}` },
    h('div', { class: 'card-head' }, h('h2', title), note ? h('span', { class: 'hint' }, note) : null),
    h('div', { class: 'card-body' }, h('div', { class: `chart${cls.includes('wide') ? '' : ''}`, id, role: 'img', 'aria-label': title })));

  put(content,
    h('div', { class: 'toolbar' }, crumbs, h('span', { class: 'spacer' }), h('span', { class: 'muted' }, `${fig.from} — ${fig.to}`), seg,
      exportLink('figures/export.xlsx', { node, ...rangeQuery(days) }),
      h('a', { class: 'btn', href: '/console/wall' }, '▣ ', t('dash.wall'))),
    h('div', { class: 'kpis', id: 'kpis' }, kpiCards(f, live)),
    base ? baseFigures(base, tags) : null,
    dfig ? disputeFigures(dfig.figures || dfig, dtypes) : null,
    hasData
      ? h('div', { class: 'charts' },
        chartBox('chart-trend', t('dash.trend'), 'wide'),
        chartBox('chart-category', t('dash.byCategory')),
        chartBox('chart-department', t('dash.byDepartment')),
        chartBox('chart-share', t('dash.shareLevel')),
        chartBox('chart-rank-dep', t('dash.rankDepartments')),
        chartBox('chart-rank-region', t('dash.rankRegions'), 'wide', (fig.children || []).length ? t('dash.drill') : null))
      : h('div', { class: 'card' }, empty(t('dash.empty'), t('dash.emptyHint'))));

  if (!hasData) return;
  const charts = [];
  const el = (id) => document.getElementById(id);
  charts.push(mount(echarts, el('chart-trend'), trendOption(fillDays(fig.daily, fig.from, fig.to))));
  const catRows = byTopCategory(fig.by_category, cats).slice(0, 12);
  charts.push(mount(echarts, el('chart-category'), barOption(catRows.map((r) => ({ name: r.name, values: [r.reported, r.closed] })), [t('fig.reported'), t('fig.closed')])));
  const depRows = (fig.by_department || []).map((d) => ({ name: d.name || `#${d.department_id}`, values: [d.figures.counters.dispatched, d.figures.counters.closed] }))
    .sort((a, b) => b.values[0] - a.values[0]).slice(0, 12);
  charts.push(mount(echarts, el('chart-department'), depRows.length ? barOption(depRows, [t('fig.dispatched'), t('fig.closed')]) : noData()));
  charts.push(mount(echarts, el('chart-share'), f.counters.closed ? shareOption(f.counters) : noData()));
  const depRank = departmentRanking(fig.by_department).slice(0, 15);
  charts.push(mount(echarts, el('chart-rank-dep'), depRank.length ? rankOption(depRank) : noData()));
  const regRank = regionRanking(fig.children).slice(0, 20);
  const regionChart = mount(echarts, el('chart-rank-region'), regRank.length ? rankOption(regRank) : noData());
  el('chart-rank-region').style.height = `${Math.max(300, regRank.length * 24 + 60)}px`;
  regionChart.chart.resize();
  regionChart.chart.on('click', (p) => {
    const r = regRank[p.dataIndex];
    if (r && r.code) ctx.navigate(link({ node: r.code }));
  });
  charts.push(regionChart);
  return () => charts.forEach((c) => c.dispose());
}

/** The base-data panel (Σ/Σ): residents, households, visits on schedule and overdue, by tag. */
export function baseFigures(b, tags) {
  const kpi = (key, value, cls = '') => h('div', { class: `kpi ${cls}`, dataset: { kpi: key } }, h('div', { class: 'label' }, t(`base.${key}`)), h('div', { class: 'value' }, fmtNum(value)));
  const byTag = Object.entries(b.tags || {}).filter(([, n]) => n > 0).sort((x, y) => y[1] - x[1]);
  return h('section', { class: 'card', id: 'base-figures' },
    h('div', { class: 'card-head' }, h('h2', t('base.title'))),
    h('div', { class: 'card-body' },
      h('div', { class: 'kpis' },
        kpi('residents', b.residents), kpi('households', b.households),
        kpi('visitsOnSchedule', b.visits.on_schedule, 'good'), kpi('visitsOverdue', b.visits.overdue, b.visits.overdue ? 'bad' : 'good')),
      byTag.length ? h('p', h('strong', t('base.tags'), ': '), byTag.map(([code, n], i) => `${i ? ' · ' : ''}${tagName(tags, code)} ${fmtNum(n)}`)) : null));
}

function noData() {
  return { title: { text: t('common.noData'), left: 'center', top: 'middle', textStyle: { color: '#8a94a6', fontSize: 14, fontWeight: 'normal' } } };
}
