// What waits on me: the inbox, with the overdue and near-due orders counted on top.
import { t } from '../i18n.js';
import { get, categories } from '../api.js';
import { h, put, loading, empty, errorBox, isOpen } from '../dom.js';
import { eventTable, exportLink } from './table.js';

export async function render(ctx) {
  const { me, content } = ctx;
  const leadKey = ['dispatcher', 'handler', 'grid_worker'].includes(me.role) ? `inbox.lead.${me.role}` : 'inbox.lead.other';
  const summary = h('div', { class: 'summary-row' });
  const body = h('div', { class: 'card' }, loading());
  put(content, h('p', { class: 'lead' }, t(leadKey)), summary, body);

  let next = null;
  const cats = await categories();
  const { table, add } = eventTable(cats);
  const foot = h('div', { class: 'list-foot' });
  let shown = [];

  async function load(before) {
    const r = await get('inbox', { limit: 50, before });
    if (!ctx.isCurrent()) return;
    shown = shown.concat(r.items);
    next = r.next_before;
    if (!shown.length) {
      put(body, empty(t('inbox.empty'), t('inbox.emptyHint'), h('a', { class: 'btn', href: '/console/events' }, t('nav.events'))));
      put(summary);
      return;
    }
    if (!before) put(body, h('div', { class: 'table-wrap' }, table), foot);
    add(r.items);
    const open = shown.filter((e) => isOpen(e.state));
    const red = open.filter((e) => e.light === 'red').length;
    const yellow = open.filter((e) => e.light === 'yellow').length;
    put(summary,
      h('span', { class: 'pill' }, t('inbox.count', { n: shown.length })),
      red ? h('span', { class: 'pill red' }, t('inbox.overdue', { n: red })) : null,
      yellow ? h('span', { class: 'pill yellow' }, t('inbox.near', { n: yellow })) : null,
      h('span', { class: 'spacer' }), exportLink('inbox/export.xlsx'));
    put(foot, next ? h('button', { class: 'btn', type: 'button', onclick: more }, t('common.more')) : null);
  }

  async function more(e) {
    e.target.disabled = true;
    try {
      await load(next);
    } catch (err) {
      put(foot, errorBox(err));
    }
  }

  try {
    await load();
  } catch (err) {
    put(body, errorBox(err, () => ctx.navigate(location.pathname, { replace: true })));
  }
  // Keep the inbox fresh while it is open.
  const timer = setInterval(async () => {
    try {
      const r = await get('inbox', { limit: 50 });
      const ids = r.items.map((e) => e.id).join(',');
      if (ids !== shown.slice(0, 50).map((e) => e.id).join(',')) ctx.navigate(location.pathname, { replace: true });
    } catch {
      /* offline for a moment: try again next minute */
    }
  }, 60000);
  return () => clearInterval(timer);
}
