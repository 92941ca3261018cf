// The disputes panel of the dashboard (矛盾纠纷多元化解): found, accepted, mediated, agreements,
// success rate (agreements / concluded), on-time rate and agreements honoured at follow-up, for the
// node's subtree (Σ/Σ from the server's counters), with the leading types and the split by level.
import { t } from '../i18n.js';
import { h, fmtNum, fmtPct } from '../dom.js';
import { label } from './disputes.js';

/** A rate as the server sends it: a number, or {value, numerator, denominator}. */
const rateOf = (r) => (r === null || r === undefined ? null : typeof r === 'number' ? r : r.value ?? null);
const countOf = (v) => (v === null || v === undefined ? 0 : typeof v === 'number' ? v : v.found ?? v.count ?? 0);

export function disputeFigures(f, types) {
  const kpi = (key, value, cls = '', sub) => h('div', { class: `kpi ${cls}`, dataset: { kpi: `dispute-${key}` } },
    h('div', { class: 'label' }, t(`dfig.${key}`)), h('div', { class: 'value' }, value), sub ? h('div', { class: 'sub' }, sub) : null);
  const grade = (v, good, ok) => (v === null ? '' : v >= good ? 'good' : v >= ok ? 'warn' : 'bad');
  const c = f.counters || f;
  const success = rateOf(f.success_rate);
  const onTime = rateOf(f.on_time_rate ?? f.on_time);
  const honoured = rateOf(f.honoured_rate ?? f.honoured);
  const top = (rows, name) => Object.entries(rows || {}).map(([k, v]) => [k, countOf(v)]).filter(([, n]) => n > 0).sort((a, b) => b[1] - a[1]).slice(0, 8)
    .map(([k, n], i) => `${i ? ' · ' : ''}${name(k)} ${fmtNum(n)}`);
  return h('section', { class: 'card', id: 'dispute-figures' },
    h('div', { class: 'card-head' }, h('h2', t('dfig.title')), h('a', { class: 'btn btn-small', href: '/console/disputes' }, t('dfig.open'))),
    h('div', { class: 'card-body' },
      h('div', { class: 'kpis' },
        kpi('found', fmtNum(c.found)), kpi('accepted', fmtNum(c.accepted)), kpi('mediated', fmtNum(c.mediated)),
        kpi('agreements', fmtNum(c.agreements)),
        kpi('success', fmtPct(success), grade(success, 0.9, 0.75), `${fmtNum(c.agreements)} / ${fmtNum(c.concluded)}`),
        kpi('onTime', fmtPct(onTime), grade(onTime, 0.95, 0.85)),
        kpi('honoured', fmtPct(honoured), grade(honoured, 0.95, 0.85))),
      f.by_type ? h('p', h('strong', t('dfig.byType'), ': '), top(f.by_type, types.name)) : null,
      f.by_level ? h('p', h('strong', t('dfig.byLevel'), ': '), top(f.by_level, (k) => label('dlevel', k))) : null,
      f.by_source ? h('p', h('strong', t('dfig.bySource'), ': '), top(f.by_source, (k) => label('dsource', k))) : null));
}
