// The filterable list of work orders. Filters live in the URL, so a list can be bookmarked.
import { t } from '../i18n.js';
import { get, categories } from '../api.js';
import { h, put, loading, empty, errorBox, field } from '../dom.js';
import { eventTable, exportLink } from './table.js';

const STATES = ['reported', 'accepted', 'dispatched', 'in_progress', 'resolved', 'closed', 'rejected', 'merged'];

/** A YYYY-MM-DD date (China time) as unix ms of its start, or of the next day's start. */
function dayMs(d, endOfDay) {
  if (!d) return undefined;
  const ms = Date.parse(`${d}T00:00:00+08:00`);
  return isNaN(ms) ? undefined : ms + (endOfDay ? 86400000 : 0);
}

export async function render(ctx) {
  const { me, content, query } = ctx;
  const cats = await categories();
  let deps = [];
  if (me.scope_node) {
    try {
      deps = (await get('departments')).items;
    } catch {
      deps = [];
    }
  }

  const q = (k) => query.get(k) || '';
  const stateSel = h('select', { name: 'state' }, h('option', { value: '' }, t('common.all')),
    STATES.map((s) => h('option', { value: s, selected: q('state') === s }, t(`state.${s}`))));
  const catSel = h('select', { name: 'category' }, h('option', { value: '' }, t('common.all')),
    cats.items.filter((c) => !c.parent_id).map((top) => h('optgroup', { label: top.name },
      h('option', { value: top.id, selected: q('category') === String(top.id) }, top.name),
      cats.items.filter((c) => c.parent_id === top.id).map((c) => h('option', { value: c.id, selected: q('category') === String(c.id) }, `· ${c.name}`)))));
  const depSel = deps.length
    ? h('select', { name: 'department' }, h('option', { value: '' }, t('common.all')),
      deps.map((d) => h('option', { value: d.id, selected: q('department') === String(d.id) }, d.name)))
    : null;
  const text = h('input', { type: 'search', name: 'q', value: q('q'), placeholder: t('events.q.ph'), maxlength: 100 });
  const from = h('input', { type: 'date', name: 'from', value: q('from') });
  const to = h('input', { type: 'date', name: 'to', value: q('to') });
  const overdue = h('input', { type: 'checkbox', name: 'overdue', checked: q('overdue') === 'true' });

  const form = h('form', { class: 'toolbar', role: 'search', 'aria-label': t('events.filters') },
    field(t('events.state'), stateSel),
    field(t('events.category'), catSel),
    depSel ? field(t('events.department'), depSel) : null,
    h('div', { style: { minWidth: '220px', flex: '1' } }, field(t('events.q'), text)),
    field(t('events.from'), from),
    field(t('events.to'), to),
    h('div', { class: 'field field-inline', style: { minHeight: '36px' } }, overdue, h('label', { for: overdue.id || (overdue.id = 'f-overdue') }, t('events.overdue'))),
    h('button', { class: 'btn btn-primary', type: 'submit' }, t('common.search')),
    h('a', { class: 'btn', href: '/console/events' }, t('common.reset')));

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const p = new URLSearchParams();
    for (const [k, v] of [['state', stateSel.value], ['category', catSel.value], ['department', depSel && depSel.value], ['q', text.value.trim()], ['from', from.value], ['to', to.value]]) {
      if (v) p.set(k, v);
    }
    if (overdue.checked) p.set('overdue', 'true');
    if (q('under')) p.set('under', q('under'));
    const s = p.toString();
    ctx.navigate(`/console/events${s ? '?' + s : ''}`);
  });

  const body = h('div', { class: 'card' }, loading());
  let underChip = null;
  if (q('under')) {
    let name = q('under');
    try {
      name = (await get(`nodes/${q('under')}`)).name;
    } catch {
      /* keep the code */
    }
    const rest = new URLSearchParams(query);
    rest.delete('under');
    const s = rest.toString();
    underChip = h('div', { class: 'summary-row' }, h('span', { class: 'pill' }, `${t('dash.node')}：${name}`, ' ',
      h('a', { href: `/console/events${s ? '?' + s : ''}`, 'aria-label': t('common.reset') }, '×')));
  }
  put(content, underChip, h('div', { class: 'card', style: { padding: '14px 16px 0', marginBottom: '16px' } }, form), body);

  const filter = {
    under: q('under'), state: q('state'), category: q('category'), department: q('department'), q: q('q'),
    from: dayMs(q('from'), false), to: dayMs(q('to'), true), overdue: q('overdue') === 'true' ? 'true' : undefined, limit: 50,
  };
  const { table, add } = eventTable(cats);
  const foot = h('div', { class: 'list-foot' });
  let count = 0;
  const { limit: _limit, ...exported } = filter;
  form.append(exportLink('events/export.xlsx', exported));

  async function load(before) {
    const r = await get('events', { ...filter, before });
    if (!ctx.isCurrent()) return;
    if (!before && !r.items.length) {
      put(body, empty(t('events.empty'), t('events.emptyHint')));
      return;
    }
    if (!before) put(body, h('div', { class: 'table-wrap' }, table), foot);
    add(r.items);
    count += r.items.length;
    put(foot, h('span', t('events.shown', { n: count })),
      r.next_before ? h('button', { class: 'btn', type: 'button', onclick: (e) => more(e, r.next_before) }, t('common.more')) : null);
  }

  async function more(e, cursor) {
    e.target.disabled = true;
    e.target.classList.add('busy');
    try {
      await load(cursor);
    } catch (err) {
      put(foot, errorBox(err));
    }
  }

  try {
    await load();
  } catch (err) {
    put(body, errorBox(err, () => ctx.navigate(location.pathname + location.search, { replace: true })));
  }
}
