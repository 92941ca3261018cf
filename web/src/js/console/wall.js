// The wall screen (大屏) of a command centre: dark, full screen, refreshing itself every 60 s.
import { t } from '../i18n.js';
import { get, categories } from '../api.js';
import { h, put, echarts as loadEcharts, leaflet, fmtNum, fmtPct, fmtTime, fmtClock, stateBadge, chinaDate, OPEN_STATES, dueText } from '../dom.js';
import { geometryBounds, removeMap } from '../map/base.js';
import { scaleFor, legendEl, STATE_COLOURS } from '../map/scale.js';
import { trendOption, rankOption, pieOption, fillDays, byTopCategory, mount } from './charts.js';
import { regionRanking, departmentRanking } from './dashboard.js';

const REFRESH_MS = 60000;
const CHILD_LEVEL = { province: 'city', city: 'county', county: 'town', town: 'village', village: 'grid' };

export async function render(ctx) {
  const { content, me } = ctx;
  const [echarts, L, cats, root] = await Promise.all([loadEcharts(), leaflet(), categories(), get(`nodes/${me.scope_node}`)]);
  if (!ctx.isCurrent()) return;

  const clock = h('div', { class: 'clock', 'aria-live': 'off' });
  const refreshed = h('span');
  const fsBtn = h('button', { type: 'button', class: 'btn btn-small', onclick: () => {
    if (document.fullscreenElement) document.exitFullscreen();
    else document.documentElement.requestFullscreen().catch(() => {});
  } }, t('wall.fullscreen'));
  const kpis = h('div', { class: 'wall-kpis', id: 'wall-kpis' });
  const panel = (title, body) => h('section', { class: 'wall-panel' }, h('h2', title), body);
  const chartEl = (label) => h('div', { class: 'chart', role: 'img', 'aria-label': label });
  const trendEl = chartEl(t('dash.trend'));
  const catEl = chartEl(t('dash.byCategory'));
  const rankEl = chartEl(t('dash.rankRegions'));
  const mapEl = h('div', { class: 'wall-map', role: 'region', 'aria-label': t('wall.map') });
  const latest = h('ul', { class: 'wall-list' });
  const depEl = chartEl(t('dash.rankDepartments'));
  const cards = h('ul', { class: 'wall-list', id: 'wall-cards' });
  const rosters = h('ul', { class: 'wall-list', id: 'wall-rosters' });
  const risks = h('ul', { class: 'wall-list', id: 'wall-risks' });

  const screen = h('div', { class: 'wall-screen' });
  put(content, put(screen,
    h('header', { class: 'wall-head' }, clock, h('h1', t('wall.title', { name: root.name })),
      h('div', { class: 'tools' }, h('span', t('wall.refresh')), refreshed, fsBtn, h('a', { class: 'btn btn-small', href: '/console/dashboard' }, t('wall.exit')))),
    kpis,
    h('div', { class: 'wall-body' },
      h('div', { class: 'wall-col' }, panel(t('common.lastDays', { n: 30 }) + ' · ' + t('dash.trend'), trendEl), panel(t('dash.byCategory'), catEl),
        h('section', { class: 'wall-panel', id: 'wall-departments' }, h('h2', t('dash.rankDepartments')), depEl)),
      h('div', { class: 'wall-col', style: { gridAutoRows: 'minmax(0,1fr)' } }, panel(t('wall.map'), mapEl)),
      h('div', { class: 'wall-col' }, panel(t('dash.rankRegions'), rankEl),
        h('section', { class: 'wall-panel', id: 'wall-cards-panel' }, h('h2', t('wall.cards')), cards),
        h('section', { class: 'wall-panel', id: 'wall-risks-panel' }, h('h2', t('wall.risks')), risks),
        h('section', { class: 'wall-panel', id: 'wall-rosters-panel' }, h('h2', t('wall.emergency')), rosters),
        panel(t('wall.latest'), latest)))));

  const tick = () => {
    clock.textContent = `${fmtTime(Date.now()).slice(0, 10)} ${fmtClock(Date.now())}`;
  };
  tick();
  const clockTimer = setInterval(tick, 1000);

  const trend = mount(echarts, trendEl, {}, true);
  const cat = mount(echarts, catEl, {}, true);
  const rank = mount(echarts, rankEl, {}, true);
  const deps = mount(echarts, depEl, {}, true);

  // The map: the level below the user's root, coloured by open events, on a dark plain background.
  await new Promise((r) => requestAnimationFrame(r));
  const map = L.map(mapEl, { zoomControl: false, attributionControl: false, dragging: false, scrollWheelZoom: false, doubleClickZoom: false, boxZoom: false, keyboard: false, touchZoom: false, preferCanvas: true });
  if (root.geometry) map.fitBounds(geometryBounds(root.geometry), { padding: [10, 10] });
  else map.setView([23, 113], 8);
  const level = CHILD_LEVEL[root.level] || 'grid';
  const refit = () => {
    map.invalidateSize();
    if (root.geometry) map.fitBounds(geometryBounds(root.geometry), { padding: [10, 10] });
  };
  const ro = new ResizeObserver(refit);
  ro.observe(mapEl);
  let shapes = null;
  const points = L.layerGroup().addTo(map);
  const legendCtl = L.control({ position: 'bottomright' });
  let legendHost;
  legendCtl.onAdd = () => (legendHost = h('div'));
  legendCtl.addTo(map);

  async function refresh() {
    const b = map.getBounds();
    const bbox = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map((v) => v.toFixed(5)).join(',');
    const today = chinaDate();
    const [fig, card, list, fc, evs, day, red, open] = await Promise.all([
      get('figures', { node: me.scope_node, children: true, daily: true }),
      get('map/card', { code: me.scope_node }).catch(() => null),
      get('events', { limit: 12 }),
      get('map/nodes', { level, bbox, zoom: Math.round(map.getZoom()), figure: 'open' }),
      get('map/events', { bbox, open: true }),
      get('figures', { node: me.scope_node, from: today, to: today }),
      // 红牌: past the deadline; 黄牌: near it (the newest open orders, filtered here).
      get('events', { state: OPEN_STATES.join(','), overdue: true, limit: 20 }),
      get('events', { state: OPEN_STATES.join(','), limit: 200 }),
    ]);
    if (!ctx.isCurrent()) return;
    const f = fig.figures;
    const c = f.counters;
    const k = (label, value, cls = '', id = '') => h('div', { class: `wall-kpi ${cls}`, dataset: { kpi: id } }, h('div', { class: 'label' }, label), h('div', { class: 'value' }, value));
    put(kpis,
      k(t('wall.open'), fmtNum(card ? card.open : null), '', 'open'),
      k(t('wall.overdue'), fmtNum(card ? card.overdue : null), card && card.overdue ? 'bad' : 'good', 'overdue'),
      k(t('wall.todayReported'), fmtNum(day.figures.counters.reported), '', 'today_reported'),
      k(t('wall.todayClosed'), fmtNum(day.figures.counters.closed), '', 'today_closed'),
      k(`${t('fig.reported')} · ${t('common.lastDays', { n: 30 })}`, fmtNum(c.reported), '', 'reported'),
      k(`${t('fig.closed')} · ${t('common.lastDays', { n: 30 })}`, fmtNum(c.closed), '', 'closed'),
      k(t('fig.on_time_rate'), fmtPct(f.on_time_rate), 'good', 'on_time_rate'),
      k(t('fig.satisfaction_rate'), fmtPct(f.satisfaction_rate), '', 'satisfaction_rate'));
    trend.set(trendOption(fillDays(fig.daily, fig.from, fig.to), true));
    cat.set(pieOption(byTopCategory(fig.by_category, cats).filter((r) => r.reported > 0).slice(0, 8).map((r) => ({ name: r.name, value: r.reported })), true));
    rank.set(rankOption(regionRanking(fig.children).slice(0, 12), true));
    deps.set(rankOption(departmentRanking(fig.by_department).slice(0, 10), true));
    // Red cards first, then yellow, each by due time.
    const yellow = open.items.filter((e) => e.light === 'yellow');
    const carded = red.items.concat(yellow).sort((a, b) => (a.light === b.light ? (a.due_at || 0) - (b.due_at || 0) : a.light === 'red' ? -1 : 1)).slice(0, 8);
    put(cards, carded.length ? carded.map((e) => h('li', { class: `card-${e.light}` },
      h('span', { class: `badge wall-card ${e.light}` }, t(e.light === 'red' ? 'wall.red' : 'wall.yellow')),
      h('span', { class: 'desc' }, `#${e.id} ${e.place || ''} · ${e.description}`),
      h('span', { class: 'when' }, e.department || ''))) : h('li', { class: 'muted' }, t('wall.noCards')));

    const scale = scaleFor('open', fc.features.map((x) => x.properties.value));
    if (shapes) shapes.remove();
    shapes = L.geoJSON(fc, {
      interactive: false,
      style: (x) => ({ color: '#4d8dff', weight: level === 'grid' ? 0.6 : 1.2, fillColor: x.properties.value ? scale.colour(x.properties.value) : '#1d3a7a', fillOpacity: x.properties.value ? 0.8 : 0.45 }),
    }).addTo(map);
    points.clearLayers();
    for (const e of evs.features) {
      const [lon, lat] = e.geometry.coordinates;
      const red = e.properties.light === 'red';
      L.circleMarker([lat, lon], { radius: red ? 6 : 4, color: red ? '#ff5b5b' : '#9fd0ff', weight: 2, fillColor: STATE_COLOURS[e.properties.state] || '#fff', fillOpacity: 0.95, interactive: false }).addTo(points);
    }
    // Areas with nothing open are drawn dark on the wall: say so in the legend.
    if (legendHost) put(legendHost, legendEl('open', { ...scale, rows: scale.rows.map(([c, l]) => [l === '0' ? '#1d3a7a' : c, l]) }));

    put(latest, list.items.map((e) => {
      const catRow = cats.byId.get(e.category_id);
      return h('li', stateBadge(e.state), h('span', { class: 'desc' }, `${catRow ? catRow.name + ' · ' : ''}${e.description}`), h('span', { class: 'when' }, fmtTime(e.created_at).slice(5)));
    }));
    await refreshRosters();
    refreshed.textContent = t('common.refreshed', { time: fmtClock(Date.now()) });
    screen.dataset.refreshed = String(Date.now());
  }

  // Emergency rosters (平急转换): Σ marked / Σ entries per roster, polled more often than the rest.
  async function refreshRosters() {
    const r = await get('emergency/rosters').catch(() => ({ items: [] }));
    if (!ctx.isCurrent()) return;
    put(rosters, r.items.length ? r.items.slice(0, 4).map((x) => h('li',
      h('span', { class: 'desc' }, x.name),
      h('span', { class: 'when', dataset: { marked: x.progress.marked, total: x.progress.total } },
        `${t('emergency.progress', { marked: x.progress.marked, total: x.progress.total })} · ${t('emergency.state.unreachable')} ${x.progress.unreachable}`)))
      : h('li', { class: 'muted' }, t('wall.noRosters')));
  }
  const rosterTimer = setInterval(() => refreshRosters(), 15000);

  // The risk layer (风险预警): open risks on the map by colour level, the red and orange ones
  // with their countdowns, and the departments that missed yesterday's report.
  const riskLayer = L.layerGroup().addTo(map);
  const RISK_COLOURS = { red: '#e53935', orange: '#e65100', yellow: '#fdd835', blue: '#42a5f5' };
  async function refreshRisks() {
    const b = await get('risks/board', { days: 1 }).catch(() => null);
    if (!ctx.isCurrent()) return;
    // The board is the centre's and leaders' (others see the wall without it).
    risks.closest('section').hidden = !b;
    if (!b) return;
    riskLayer.clearLayers();
    const open = ['red', 'orange', 'yellow', 'blue'].flatMap((l) => b.open[l] || []);
    for (const r of open) {
      if (!r.at) continue;
      L.circleMarker([r.at[1], r.at[0]], { radius: r.level === 'red' ? 9 : 7, color: '#fff', weight: 1.5, fillColor: RISK_COLOURS[r.level], fillOpacity: 0.95 })
        .bindTooltip(`${t(`risk.level.${r.level}`)} · ${r.title}`).addTo(riskLayer);
    }
    const urgent = ['red', 'orange'].flatMap((l) => b.open[l] || []).slice(0, 5);
    const lag = (b.lagging_departments || []).slice(0, 3);
    put(risks, urgent.length || lag.length
      ? [...urgent.map((r) => h('li', { dataset: { level: r.level } },
        h('span', { class: `badge risk-${r.level}` }, t(`risk.level.${r.level}`)), ' ', h('span', { class: 'desc' }, r.title),
        h('span', { class: 'when' }, r.clock && r.clock.due_at ? dueText(r.clock.due_at) : ''))),
      ...lag.map((d) => h('li', { class: 'lag' }, h('span', { class: 'desc' }, t('wall.lagging', { name: d.department || `#${d.department_id}` })),
        h('span', { class: 'when' }, t('risk.missedDays', { n: d.missed_days, risks: d.risks }))))]
      : h('li', { class: 'muted' }, t('risk.noUrgent')));
  }
  refreshRisks();
  const riskTimer = setInterval(() => refreshRisks(), 30000);

  try {
    await refresh();
  } catch (err) {
    refreshed.textContent = err.describe ? err.describe() : String(err);
  }
  const timer = setInterval(() => refresh().catch((err) => {
    refreshed.textContent = err.describe ? err.describe() : String(err);
  }), REFRESH_MS);
  window.__shanzhiWall = { refresh };

  return () => {
    clearInterval(timer);
    clearInterval(clockTimer);
    clearInterval(rosterTimer);
    clearInterval(riskTimer);
    ro.disconnect();
    [trend, cat, rank, deps].forEach((c) => c.dispose());
    removeMap(map);
    delete window.__shanzhiWall;
  };
}
