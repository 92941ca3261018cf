// 四务公开: a village's public notices — party, village, finance and service affairs. Those who
// speak for the village write a notice, publish it, pin it and withdraw it with a reason; a
// published notice reaches the village's residents on their phones and takes their questions.
import { t } from '../i18n.js';
import { api, get, post } from '../api.js';
import { h, put, loading, empty, errorBox, fmtTime, toast, field, formDialog } from '../dom.js';
import { duties, villages, speaksFor, villagePicker } from './village.js';
import { questionsPanel } from './questions.js';

const KINDS = ['party', 'village', 'finance', 'service', 'rules', 'powers'];
const STATES = ['draft', 'published', 'withdrawn'];
const badge = (state) => h('span', { class: `badge dstate-${state}` }, t(`disclosure.state.${state}`));

export async function render(ctx) {
  const { params } = ctx;
  if (params && params[0]) return noticePage(ctx, Number(params[0]));
  return listPage(ctx);
}

async function listPage(ctx) {
  const { content, me, query } = ctx;
  const held = await duties(me);
  const list = await villages(me, held);
  if (!list.length) {
    put(content, empty(t('ledger.noVillage'), t('ledger.noVillageHint')));
    return undefined;
  }
  const village = villagePicker('disclosure-village', list, query.get('node'), t('ledger.village'));
  const state = h('select', { id: 'disclosure-state' }, h('option', { value: '' }, t('disclosure.allStates')), STATES.map((s) => h('option', { value: s }, t(`disclosure.state.${s}`))));
  const kind = h('select', { id: 'disclosure-kind' }, h('option', { value: '' }, t('disclosure.allKinds')), KINDS.map((k) => h('option', { value: k }, t(`pnotice.kind.${k}`))));
  const tbody = h('tbody');
  const status = h('div');
  const actions = h('div', { style: { display: 'flex', gap: '8px' } });
  const more = h('button', { type: 'button', class: 'btn', hidden: true }, t('common.more'));
  let cursor = null;
  const row = (d) => h('tr', { dataset: { id: d.id } },
    h('td', h('a', { href: `/console/disclosures/${d.id}` }, d.title)), h('td', t(`pnotice.kind.${d.kind}`)),
    h('td', badge(d.state), d.pinned ? h('span', { class: 'badge' }, ` ${t('pnotice.pinned')}`) : null), h('td', d.published_at ? fmtTime(d.published_at) : '—'));
  const load = async (next = false) => {
    if (!next) {
      cursor = null;
      put(status, loading());
      put(tbody);
    }
    more.disabled = true;
    try {
      const page = await get('disclosures', { node: village.select.value, limit: 50, ...(state.value ? { state: state.value } : {}), ...(kind.value ? { kind: kind.value } : {}), ...(cursor ? { before: cursor } : {}) });
      tbody.append(...page.items.map(row));
      put(status, tbody.children.length ? null : empty(t('disclosure.none')));
      cursor = page.next_cursor;
      more.hidden = !cursor;
      put(actions, speaksFor(me, held, village.select.value)
        ? h('button', { type: 'button', class: 'btn btn-primary', id: 'disclosure-new', onclick: () => noticeForm(ctx, village.select.value, null) }, t('disclosure.new'))
        : null);
    } catch (err) {
      put(status, errorBox(err, () => load()));
    } finally {
      more.disabled = false;
    }
  };
  more.addEventListener('click', () => load(true));
  for (const el of [village.select, state, kind]) el.addEventListener('change', () => load());
  put(content,
    h('section', { class: 'card' }, h('div', { class: 'card-body' },
      h('div', { class: 'form-grid' }, village.field, field(t('disclosure.col.state'), state), field(t('disclosure.col.kind'), kind)), actions)),
    h('section', { class: 'card' }, status,
      h('div', { class: 'table-wrap' }, h('table', { class: 'data responsive', id: 'disclosure-list' },
        h('thead', h('tr', ['disclosure.col.title', 'disclosure.col.kind', 'disclosure.col.state', 'disclosure.col.published'].map((c) => h('th', { scope: 'col' }, t(c))))), tbody)), more));
  await load();
  return undefined;
}

/** The notice form: new for `village`, or an unpublished `notice` changed. */
async function noticeForm(ctx, village, notice) {
  const kind = h('select', { name: 'kind', required: true }, KINDS.map((k) => h('option', { value: k }, t(`pnotice.kind.${k}`))));
  const title = h('input', { name: 'title', required: true, maxlength: 100 });
  const body = h('textarea', { name: 'body', required: true, rows: 8, maxlength: 10000 });
  if (notice) {
    kind.value = notice.kind;
    title.value = notice.title;
    body.value = notice.body;
  }
  const saved = await formDialog({
    title: notice ? t('disclosure.edit') : t('disclosure.new'),
    body: h('div', { id: 'disclosure-form' }, field(t('disclosure.col.kind'), kind), field(t('disclosure.col.title'), title), field(t('disclosure.body'), body)),
    submitLabel: t('disclosure.save'),
    onSubmit: () => {
      const b = { kind: kind.value, title: title.value, body: body.value };
      return notice ? api(`disclosures/${notice.id}`, { method: 'PUT', body: { ...b, version: notice.version } }) : post('disclosures', { node: village, ...b });
    },
  });
  if (saved) {
    toast(t('disclosure.saved'));
    ctx.navigate(`/console/disclosures/${saved.id}`);
  }
}

async function noticePage(ctx, id) {
  const { content, me } = ctx;
  const [d, held] = await Promise.all([get(`disclosures/${id}`), duties(me)]);
  ctx.setTitle(`${t('nav.disclosures')} · ${d.title}`);
  const move = async (action) => {
    let reason = null;
    if (action === 'withdraw') {
      const input = h('textarea', { name: 'reason', required: true, maxlength: 500, rows: 3 });
      const ok = await formDialog({ title: t('disclosure.act.withdraw'), body: field(t('disclosure.reason'), input), onSubmit: () => { reason = input.value; } });
      if (!ok) return;
    }
    try {
      await post(`disclosures/${id}/actions`, { action, version: d.version, ...(reason !== null ? { reason } : {}) });
      toast(t('disclosure.moved'));
      await noticePage(ctx, id);
    } catch (err) {
      toast(err.describe ? err.describe() : String(err), 'error');
    }
  };
  const btn = (key, fn, cls = 'btn') => h('button', { type: 'button', class: cls, dataset: { act: key }, onclick: fn }, t(`disclosure.act.${key}`));
  const mine = [];
  if (speaksFor(me, held, d.node)) {
    if (d.state !== 'published') mine.push(btn('publish', () => move('publish'), 'btn btn-primary'), btn('edit', () => noticeForm(ctx, d.node, d)));
    else mine.push(btn(d.pinned ? 'unpin' : 'pin', () => move(d.pinned ? 'unpin' : 'pin')), btn('withdraw', () => move('withdraw'), 'btn btn-danger'));
  }
  put(content,
    h('p', h('a', { href: `/console/disclosures?node=${d.node}` }, '← ', t('disclosure.back'))),
    h('section', { class: 'card', id: 'disclosure' }, h('div', { class: 'card-body' },
      h('h2', d.title, ' ', badge(d.state), d.pinned ? h('span', { class: 'badge' }, ` ${t('pnotice.pinned')}`) : null),
      h('p', { class: 'muted' }, [t(`pnotice.kind.${d.kind}`), d.published_at ? fmtTime(d.published_at) : null].filter(Boolean).join(' · ')),
      h('div', { class: 'disclosure-body' }, d.body),
      mine.length ? h('div', { class: 'actions', id: 'disclosure-actions', style: { display: 'flex', gap: '8px', marginTop: '12px' } }, mine) : null)),
    d.state === 'draft' ? null : questionsPanel(me, held, d.node, 'disclosure', d.id),
    h('section', { class: 'card' }, h('h2', t('ledger.timeline')), h('ol', { class: 'timeline' }, d.timeline.map((l) => h('li',
      h('strong', t(`disclosure.act.${l.action}`)), ' · ', fmtTime(l.at), l.note ? h('div', { class: 'muted' }, l.note) : null)))));
  return undefined;
}
