// The grid worker's phone page (网格工作台): report what I see (the portal's report page, the
// same code), the reports waiting for my grid to take (待接单), the orders I took (我的接单) and my
// grid's open orders. Each order opens its page, where the moves are.
import { t } from '../i18n.js';
import { get, categories } from '../api.js';
import { h, put, loading, errorBox, stateBadge, lightBadge, fmtTime } from '../dom.js';

const OPEN = 'reported,accepted,dispatched,in_progress,resolved';

function orderCard(e, cats) {
  const cat = cats.byId.get(e.category_id);
  return h('a', { class: 'order', href: `/console/events/${e.id}`, dataset: { id: e.id } },
    h('div', { class: 'top' }, h('span', `#${e.id} · ${cat ? cat.name : ''}`), h('span', fmtTime(e.created_at))),
    h('p', e.description),
    h('div', { class: 'top' }, h('span', stateBadge(e.state), e.grid_stage ? ` ${t(`grid.stage.${e.grid_stage}`)}` : ''), lightBadge(e.light, e.due_at, true)));
}

function section(id, title, items, cats, none) {
  return h('section', { class: 'card', id },
    h('div', { class: 'card-head' }, h('h2', title, ` (${items.length})`)),
    h('div', { class: 'card-body' }, items.length ? items.map((e) => orderCard(e, cats)) : h('p', { class: 'muted' }, none)));
}

export async function render(ctx) {
  const { content } = ctx;
  put(content, loading());
  try {
    const cats = await categories();
    const [inbox, mine, open] = await Promise.all([
      get('inbox', { limit: 500 }),
      get('events', { taken_by_me: true, limit: 50 }),
      get('events', { state: OPEN, limit: 100 }),
    ]);
    if (!ctx.isCurrent()) return;
    const waiting = inbox.items.filter((e) => e.waits_for.includes('take'));
    put(content, h('div', { class: 'grid-page' },
      h('a', { class: 'btn btn-primary big-btn', id: 'grid-report', href: '/m/report' }, '＋ ', t('grid.report')),
      h('p', { class: 'hint', style: { margin: '6px 0 14px' } }, t('grid.report.hint')),
      section('grid-waiting', t('grid.waiting'), waiting, cats, t('grid.waiting.none')),
      section('grid-mine', t('grid.mine'), mine.items, cats, t('grid.mine.none')),
      section('grid-open', t('grid.open'), open.items, cats, t('grid.open.none'))));
  } catch (err) {
    put(content, errorBox(err, () => ctx.navigate(location.pathname, { replace: true })));
  }
}
