// What waits on me: every open order with a move of mine now, red first, then yellow, then by
// due time; the kinds (待受理, 待核查 …) as filter chips with their counts, 重办 marked.
import { t } from '../i18n.js';
import { get, categories } from '../api.js';
import { h, put, loading, empty, errorBox } from '../dom.js';
import { eventTable, eventRow, exportLink } from './table.js';

export async function render(ctx) {
  const { me, content } = ctx;
  const leadKey = ['dispatcher', 'handler', 'grid_worker'].includes(me.role) ? `inbox.lead.${me.role}` : 'inbox.lead.other';
  const summary = h('div', { class: 'summary-row' });
  const chips = h('div', { class: 'chip-row', role: 'group', 'aria-label': t('inbox.kinds') });
  const body = h('div', { class: 'card' }, loading());
  put(content, h('p', { class: 'lead' }, t(leadKey)), summary, chips, body);

  const cats = await categories();
  let kind = ctx.query.get('kind') || '';
  let last = '';

  function draw(r) {
    const { counts } = r;
    put(chips, [['', r.total]].concat(Object.entries(counts).filter(([, n]) => n > 0)).map(([k, n]) =>
      h('button', {
        type: 'button', class: 'chip', 'aria-pressed': String(k === kind), dataset: { kind: k || 'all' },
        onclick: () => {
          kind = k;
          history.replaceState(null, '', k ? `?kind=${k}` : location.pathname);
          draw(r);
        },
      }, t(k ? `inbox.kind.${k}` : 'inbox.all'), h('span', { class: 'n' }, String(n)))));
    const items = r.items.filter((e) => !kind || e.waits_for.includes(kind));
    const red = r.items.filter((e) => e.light === 'red').length;
    const yellow = r.items.filter((e) => e.light === 'yellow').length;
    put(summary,
      h('span', { class: 'pill' }, t('inbox.count', { n: r.total })),
      red ? h('span', { class: 'pill red' }, t('inbox.overdue', { n: red })) : null,
      yellow ? h('span', { class: 'pill yellow' }, t('inbox.near', { n: yellow })) : null,
      r.capped ? h('span', { class: 'pill' }, t('inbox.capped')) : null,
      h('span', { class: 'spacer' }), exportLink('inbox/export.xlsx'));
    if (!r.total) {
      put(chips);
      put(body, empty(t('inbox.empty'), t('inbox.emptyHint'), h('a', { class: 'btn', href: '/console/events' }, t('nav.events'))));
      return;
    }
    const { table, tbody } = eventTable(cats);
    for (const e of items) {
      const row = eventRow(e, cats);
      // The kinds and the 重办 mark go under the description.
      const desc = row.querySelector('td.desc');
      desc.append(h('div', { class: 'kinds' },
        e.reopened ? h('span', { class: 'tag tag-redo', title: t('inbox.redo.hint') }, t('inbox.redo')) : null,
        e.waits_for.map((k) => h('span', { class: 'tag', dataset: { kind: k } }, t(`inbox.kind.${k}`)))));
      tbody.append(row);
    }
    put(body, h('div', { class: 'table-wrap' }, table));
  }

  async function load() {
    const r = await get('inbox', { limit: 500 });
    if (!ctx.isCurrent()) return;
    last = r.items.map((e) => `${e.id}:${e.version}`).join(',');
    draw(r);
  }

  try {
    await load();
  } catch (err) {
    put(body, errorBox(err, () => ctx.navigate(location.pathname, { replace: true })));
  }
  // Keep the inbox fresh while it is open.
  const timer = setInterval(async () => {
    try {
      const r = await get('inbox', { limit: 500 });
      if (r.items.map((e) => `${e.id}:${e.version}`).join(',') !== last && ctx.isCurrent()) {
        last = r.items.map((e) => `${e.id}:${e.version}`).join(',');
        draw(r);
      }
    } catch {
      /* offline for a moment: try again next minute */
    }
  }, 60000);
  return () => clearInterval(timer);
}
