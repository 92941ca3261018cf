// ECharts options shared by the dashboard and the wall screen (light and dark).
import { t } from '../i18n.js';

const PALETTE = ['#1d5bd8', '#22a352', '#f2b01e', '#e5533d', '#7b5cd6', '#13a39a', '#e08a1e', '#5a6b85', '#d6457a', '#2aa8e0'];
const FONT = 'system-ui, "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", sans-serif';

function theme(dark) {
  return {
    text: dark ? '#bcd2ff' : '#3b4a63',
    axis: dark ? 'rgba(120,160,255,0.35)' : '#cbd3df',
    split: dark ? 'rgba(120,160,255,0.12)' : '#edf0f5',
    tooltipBg: dark ? 'rgba(8,20,48,0.95)' : '#fff',
    tooltipText: dark ? '#e6eeff' : '#1b2433',
  };
}

function base(dark) {
  const th = theme(dark);
  return {
    color: PALETTE,
    textStyle: { fontFamily: FONT, color: th.text },
    tooltip: { backgroundColor: th.tooltipBg, borderColor: th.axis, textStyle: { color: th.tooltipText } },
    grid: { left: 12, right: 24, top: 36, bottom: 12, containLabel: true },
    animationDuration: 500,
  };
}

const axisStyle = (dark) => {
  const th = theme(dark);
  return { axisLine: { lineStyle: { color: th.axis } }, axisLabel: { color: th.text }, splitLine: { lineStyle: { color: th.split } }, axisTick: { show: false } };
};

/** YYYYMMDD (number) or YYYY-MM-DD → MM-DD. */
function dayLabel(d) {
  const s = String(d).replace(/-/g, '');
  return `${s.slice(4, 6)}-${s.slice(6, 8)}`;
}

/** Every day from `from` to `to` (YYYY-MM-DD), with the counters of `daily` (zeros where missing). */
export function fillDays(daily, from, to) {
  const byDay = new Map((daily || []).map((d) => [String(d.day).replace(/-/g, ''), d.counters]));
  const out = [];
  const start = Date.parse(`${from}T00:00:00Z`);
  const end = Date.parse(`${to}T00:00:00Z`);
  for (let ms = start; ms <= end && out.length < 4000; ms += 86400000) {
    const key = new Date(ms).toISOString().slice(0, 10).replace(/-/g, '');
    out.push({ day: key, counters: byDay.get(key) || { reported: 0, closed: 0 } });
  }
  return out;
}

export function trendOption(days, dark = false) {
  return {
    ...base(dark),
    legend: { top: 0, right: 10, textStyle: { color: theme(dark).text } },
    tooltip: { ...base(dark).tooltip, trigger: 'axis' },
    xAxis: { type: 'category', data: days.map((d) => dayLabel(d.day)), boundaryGap: false, ...axisStyle(dark) },
    yAxis: { type: 'value', minInterval: 1, ...axisStyle(dark) },
    series: [
      { name: t('fig.reported'), type: 'line', smooth: true, symbol: 'none', data: days.map((d) => d.counters.reported || 0), areaStyle: { opacity: 0.12 }, lineStyle: { width: 2.5 } },
      { name: t('fig.closed'), type: 'line', smooth: true, symbol: 'none', data: days.map((d) => d.counters.closed || 0), areaStyle: { opacity: 0.12 }, lineStyle: { width: 2.5 } },
    ],
  };
}

/** Horizontal bars: rows [{name, values: [..]}], series names. */
export function barOption(rows, seriesNames, dark = false, { percent = false } = {}) {
  const th = theme(dark);
  return {
    ...base(dark),
    legend: seriesNames.length > 1 ? { top: 0, right: 10, textStyle: { color: th.text } } : undefined,
    tooltip: { ...base(dark).tooltip, trigger: 'axis', axisPointer: { type: 'shadow' }, valueFormatter: percent ? (v) => (v === null || v === undefined ? '—' : `${v.toFixed(1)}%`) : undefined },
    grid: { ...base(dark).grid, right: percent ? 64 : 24 },
    xAxis: { type: 'value', max: percent ? 100 : undefined, minInterval: percent ? undefined : 1, ...axisStyle(dark), axisLabel: { color: th.text, formatter: percent ? '{value}%' : '{value}' } },
    yAxis: { type: 'category', inverse: true, data: rows.map((r) => r.name), ...axisStyle(dark), axisLabel: { color: th.text, width: 110, overflow: 'truncate' } },
    series: seriesNames.map((name, i) => ({
      name, type: 'bar', barMaxWidth: 16, data: rows.map((r) => r.values[i]),
      itemStyle: { borderRadius: [0, 4, 4, 0] },
      label: percent ? { show: true, position: 'right', color: th.text, formatter: (p) => (p.value === null || p.value === undefined ? '' : `${p.value.toFixed(1)}%`) } : undefined,
    })),
  };
}

/** The ranking colours bars by the rate: green high, red low. */
export function rankOption(rows, dark = false) {
  const opt = barOption(rows.map((r) => ({ name: r.name, values: [r.rate === null ? null : r.rate * 100] })), [t('fig.on_time_rate')], dark, { percent: true });
  opt.series[0].itemStyle = {
    borderRadius: [0, 4, 4, 0],
    color: (p) => (p.value >= 95 ? '#22a352' : p.value >= 85 ? '#8cc152' : p.value >= 70 ? '#f2b01e' : '#e5533d'),
  };
  return opt;
}

export function shareOption(counters, dark = false) {
  const th = theme(dark);
  const parts = [['village', counters.closed_village], ['town', counters.closed_town], ['county', counters.closed_county], ['city', counters.closed_city], ['province', counters.closed_province]]
    .filter(([, v]) => v > 0);
  return {
    ...base(dark),
    tooltip: { ...base(dark).tooltip, trigger: 'item', formatter: '{b}: {c} ({d}%)' },
    legend: { bottom: 0, textStyle: { color: th.text } },
    series: [{
      type: 'pie', radius: ['45%', '70%'], center: ['50%', '45%'], avoidLabelOverlap: true,
      itemStyle: { borderColor: dark ? '#0a1a3c' : '#fff', borderWidth: 2 },
      label: { color: th.text, formatter: '{b}\n{d}%' },
      data: parts.map(([l, v]) => ({ name: t(`level.${l}`), value: v })),
    }],
  };
}

export function pieOption(rows, dark = false) {
  const th = theme(dark);
  return {
    ...base(dark),
    tooltip: { ...base(dark).tooltip, trigger: 'item', formatter: '{b}: {c} ({d}%)' },
    series: [{
      type: 'pie', radius: ['38%', '66%'], center: ['50%', '52%'],
      itemStyle: { borderColor: dark ? '#0a1a3c' : '#fff', borderWidth: 1, borderRadius: 4 },
      label: { color: th.text },
      data: rows.map((r) => ({ name: r.name, value: r.value })),
    }],
  };
}

/** Sums the counters of leaf categories into their top-level category. */
export function byTopCategory(byCategory, cats) {
  const sums = new Map();
  for (const c of byCategory || []) {
    const top = cats.top(c.category_id);
    const key = top ? top.id : c.category_id;
    const name = top ? top.name : c.name || `#${c.category_id}`;
    const s = sums.get(key) || { name, reported: 0, closed: 0 };
    s.reported += c.figures.counters.reported;
    s.closed += c.figures.counters.closed;
    sums.set(key, s);
  }
  return Array.from(sums.values()).sort((a, b) => b.reported - a.reported);
}

/** A chart that follows its container's size; returns {chart, dispose}. */
export function mount(echarts, el, option, dark = false) {
  const chart = echarts.init(el, null, { renderer: 'canvas' });
  chart.setOption(option);
  const ro = new ResizeObserver(() => chart.resize());
  ro.observe(el);
  return {
    chart,
    set(opt) {
      chart.setOption(opt, true);
    },
    dispose() {
      ro.disconnect();
      chart.dispose();
    },
    dark,
  };
}
