// The mediator's workbench (调解工作台): my open cases by deadline, and this week's sessions.
// The server scopes /disputes to the cases assigned to a mediator.
import { t } from '../i18n.js';
import { get } from '../api.js';
import { h, put, loading, empty, errorBox, fmtTime } from '../dom.js';
import { disputeTypes, disputeTable, OPEN } from './disputes.js';

/** Monday 00:00 and the next Monday, China time, as epoch ms. */
export function weekOf(now = Date.now()) {
  const china = new Date(now + 8 * 3600000);
  const day = (china.getUTCDay() + 6) % 7;
  const monday = Date.UTC(china.getUTCFullYear(), china.getUTCMonth(), china.getUTCDate() - day) - 8 * 3600000;
  return [monday, monday + 7 * 86400000];
}

export async function render(ctx) {
  const { content } = ctx;
  const types = await disputeTypes();
  const cases = h('div', { class: 'table-wrap', id: 'work-cases' }, loading());
  const sessions = h('div', { class: 'card-body', id: 'work-sessions' }, loading());
  put(content, h('section', { class: 'card' }, h('div', { class: 'card-head' }, h('h2', t('work.sessions'))), sessions),
    h('section', { class: 'card' }, h('div', { class: 'card-head' }, h('h2', t('work.cases'))), cases));
  try {
    // The server answers a mediator the cases assigned to them.
    const r = await get('disputes', { limit: 200 });
    if (!ctx.isCurrent()) return;
    const mine = (r.items || []).filter((d) => OPEN.has(d.state) || d.state === 'agreed')
      .sort((a, b) => (a.due_at ?? Infinity) - (b.due_at ?? Infinity));
    if (!mine.length) put(cases, empty(t('work.noCases')));
    else {
      const tbl = disputeTable(types);
      tbl.add(mine);
      put(cases, tbl.table);
    }
    // Sessions come with each case's detail; read those of the open cases this week.
    const [from, to] = weekOf();
    const details = await Promise.all(mine.filter((d) => ['assigned', 'in_session'].includes(d.state)).slice(0, 50)
      .map((d) => get(`disputes/${d.id}`).catch(() => null)));
    const week = details.filter(Boolean).flatMap((d) => (d.sessions || []).filter((s) => s.at >= from && s.at < to).map((s) => ({ ...s, d })))
      .sort((a, b) => a.at - b.at);
    put(sessions, week.length ? h('ol', { class: 'timeline' }, week.map((s) => h('li',
      h('div', { class: 'when' }, fmtTime(s.at), ' · ', s.place),
      h('div', { class: 'what' }, h('a', { href: `/console/disputes/${s.d.id}` }, s.d.number || `#${s.d.id}`), ' ', s.d.summary)))) : h('p', { class: 'muted' }, t('work.noSessions')));
  } catch (err) {
    put(cases, errorBox(err));
    put(sessions, '');
  }
}
