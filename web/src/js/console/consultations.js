// 协商议事: a village's consultation topics. Those who speak for the village put a topic to its
// residents, answer in the comments as the village, record the meeting (date, place, how many
// came, the record) and publish the outcome; a topic is withdrawn with a reason before its
// meeting. Residents comment on their phones (/m/consultations).
import { t } from '../i18n.js';
import { get, post } from '../api.js';
import { h, put, loading, empty, errorBox, fmtTime, toast, field, formDialog } from '../dom.js';
import { duties, villages, speaksFor, villagePicker } from './village.js';

const STATES = ['open', 'held', 'concluded', 'withdrawn'];
const DECISIONS = ['agreed', 'rejected', 'deferred'];
const badge = (state) => h('span', { class: `badge consult-${state}` }, t(`consult.state.${state}`));

export async function render(ctx) {
  const { params } = ctx;
  if (params && params[0]) return topicPage(ctx, Number(params[0]));
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
  const village = villagePicker('consult-village', list, query.get('node'), t('ledger.village'));
  const state = h('select', { id: 'consult-state' }, h('option', { value: '' }, t('consult.allStates')), STATES.map((s) => h('option', { value: s }, t(`consult.state.${s}`))));
  const tbody = h('tbody');
  const status = h('div');
  const actions = h('div', { style: { display: 'flex', gap: '8px' } });
  const more = h('button', { type: 'button', class: 'btn', hidden: true }, t('common.more'));
  let cursor = null;
  const row = (c) => h('tr', { dataset: { id: c.id } },
    h('td', h('a', { href: `/console/consultations/${c.id}` }, c.title)), h('td', badge(c.state)),
    h('td', String(c.comments)), h('td', fmtTime(c.opened_at)));
  const load = async (next = false) => {
    if (!next) {
      cursor = null;
      put(status, loading());
      put(tbody);
    }
    more.disabled = true;
    try {
      const page = await get('consultations', { node: village.select.value, limit: 50, ...(state.value ? { state: state.value } : {}), ...(cursor ? { before: cursor } : {}) });
      tbody.append(...page.items.map(row));
      put(status, tbody.children.length ? null : empty(t('consult.noneStaff')));
      cursor = page.next_cursor;
      more.hidden = !cursor;
      put(actions, speaksFor(me, held, village.select.value)
        ? h('button', { type: 'button', class: 'btn btn-primary', id: 'consult-new', onclick: () => newTopic(ctx, village.select.value) }, t('consult.new'))
        : null);
    } catch (err) {
      put(status, errorBox(err, () => load()));
    } finally {
      more.disabled = false;
    }
  };
  more.addEventListener('click', () => load(true));
  for (const el of [village.select, state]) el.addEventListener('change', () => load());
  put(content,
    h('section', { class: 'card' }, h('div', { class: 'card-body' }, h('p', { class: 'muted' }, t('consult.staffLead')),
      h('div', { class: 'form-grid' }, village.field, field(t('consult.col.state'), state)), actions)),
    h('section', { class: 'card' }, status,
      h('div', { class: 'table-wrap' }, h('table', { class: 'data responsive', id: 'consult-list' },
        h('thead', h('tr', ['consult.col.title', 'consult.col.state', 'consult.col.comments', 'consult.col.opened'].map((c) => h('th', { scope: 'col' }, t(c))))), tbody)), more));
  await load();
  return undefined;
}

async function newTopic(ctx, village) {
  const title = h('input', { name: 'title', required: true, maxlength: 100 });
  const body = h('textarea', { name: 'body', required: true, rows: 8, maxlength: 5000 });
  const saved = await formDialog({
    title: t('consult.new'),
    body: h('div', { id: 'consult-form' }, field(t('consult.col.title'), title), field(t('consult.body'), body)),
    submitLabel: t('consult.put'),
    onSubmit: () => post('consultations', { node: village, title: title.value, body: body.value }),
  });
  if (saved) {
    toast(t('consult.opened'));
    ctx.navigate(`/console/consultations/${saved.id}`);
  }
}

/** A local date-time input's value for now ("2026-12-04T10:30"). */
function nowLocal() {
  const d = new Date();
  d.setMinutes(d.getMinutes() - d.getTimezoneOffset());
  return d.toISOString().slice(0, 16);
}

async function topicPage(ctx, id) {
  const { content, me } = ctx;
  const [c, held] = await Promise.all([get(`consultations/${id}`), duties(me)]);
  ctx.setTitle(`${t('nav.consultations')} · ${c.title}`);
  const speaks = speaksFor(me, held, c.node);
  const again = () => topicPage(ctx, id);
  const act = async (title, fields, submitLabel, send, danger = false) => {
    const ok = await formDialog({ title, body: h('div', { id: 'consult-move' }, fields), submitLabel, danger, onSubmit: send });
    if (ok) {
      toast(t('consult.moved'));
      await again();
    }
  };
  const holdForm = () => {
    const at = h('input', { type: 'datetime-local', name: 'held_at', required: true, value: nowLocal() });
    const place = h('input', { name: 'place', required: true, maxlength: 100 });
    const attendees = h('input', { type: 'number', name: 'attendees', required: true, min: 1, max: 10000, step: 1 });
    const record = h('textarea', { name: 'record', required: true, rows: 8, maxlength: 10000 });
    return act(t('consult.act.hold'), [field(t('consult.heldAt'), at), field(t('consult.place'), place),
      field(t('consult.attendees'), attendees), field(t('consult.record'), record)], t('consult.act.hold'),
    () => post(`consultations/${id}/hold`, { held_at: new Date(at.value).getTime(), place: place.value, attendees: Number(attendees.value), record: record.value, version: c.version }));
  };
  const concludeForm = () => {
    const decision = h('select', { name: 'decision' }, DECISIONS.map((d) => h('option', { value: d }, t(`consult.decision.${d}`))));
    const text = h('textarea', { name: 'text', required: true, rows: 5, maxlength: 2000 });
    return act(t('consult.act.conclude'), [field(t('consult.decisionLabel'), decision), field(t('consult.outcome'), text)], t('consult.act.conclude'),
      () => post(`consultations/${id}/conclude`, { decision: decision.value, text: text.value, version: c.version }));
  };
  const withdrawForm = () => {
    const reason = h('textarea', { name: 'reason', required: true, rows: 3, maxlength: 500 });
    return act(t('consult.act.withdraw'), [field(t('disclosure.reason'), reason)], t('consult.act.withdraw'),
      () => post(`consultations/${id}/withdraw`, { reason: reason.value, version: c.version }), true);
  };
  const btn = (key, fn, cls = 'btn') => h('button', { type: 'button', class: cls, dataset: { act: key }, onclick: fn }, t(`consult.act.${key}`));
  const moves = [];
  if (speaks && c.state === 'open') moves.push(btn('hold', holdForm, 'btn btn-primary'), btn('withdraw', withdrawForm, 'btn btn-danger'));
  if (speaks && c.state === 'held') moves.push(btn('conclude', concludeForm, 'btn btn-primary'));
  // The village's own reply in the comments, while the topic is open.
  let reply = null;
  if (speaks && c.state === 'open') {
    const text = h('textarea', { name: 'text', rows: 3, maxlength: 500, required: true, id: 'consult-reply' });
    const errorEl = h('p', { class: 'form-error', role: 'alert', hidden: true });
    const send = h('button', { type: 'submit', class: 'btn' }, t('consult.reply'));
    reply = h('form', { class: 'question-form', noValidate: true }, field(t('consult.replyLabel'), text), errorEl, send);
    reply.addEventListener('submit', async (e) => {
      e.preventDefault();
      if (send.disabled) return;
      errorEl.hidden = true;
      send.disabled = true;
      try {
        await post(`consultations/${id}/comments`, { text: text.value });
        toast(t('consult.sent'));
        await again();
      } catch (err) {
        errorEl.hidden = false;
        put(errorEl, err.describe ? err.describe() : String(err));
        send.disabled = false;
      }
    });
  }
  const m = c.meeting;
  put(content,
    h('p', h('a', { href: `/console/consultations?node=${c.node}` }, '← ', t('consult.back'))),
    h('section', { class: 'card', id: 'consultation' }, h('div', { class: 'card-body' },
      h('h2', c.title, ' ', badge(c.state)),
      h('p', { class: 'muted' }, fmtTime(c.opened_at)),
      h('div', { class: 'disclosure-body' }, c.body),
      c.state === 'withdrawn' ? h('p', { class: 'muted' }, t('consult.withdrawn', { reason: c.reason })) : null,
      moves.length ? h('div', { class: 'actions', id: 'consult-actions', style: { display: 'flex', gap: '8px', marginTop: '12px' } }, moves) : null)),
    h('section', { class: 'card' }, h('h2', t('consult.comments', { n: c.comments })),
      h('ul', { class: 'questions', id: 'consult-comments' }, c.comment_list.length ? c.comment_list.map((x) => h('li', { class: 'question', dataset: { id: x.id } },
        h('p', x.text), h('p', { class: 'muted' }, fmtTime(x.at), ' · ', x.by_village ? t('consult.byVillage') : t('pquestion.villager')))) : h('li', { class: 'muted' }, t('consult.noComments'))),
      reply ? h('div', { class: 'card-body' }, reply) : null),
    m ? h('section', { class: 'card', id: 'consult-record' }, h('div', { class: 'card-body' }, h('h2', t('consult.record')),
      h('p', { class: 'muted' }, t('consult.meeting', { at: fmtTime(m.held_at), place: m.place, n: m.attendees })),
      h('div', { class: 'disclosure-body' }, m.record))) : null,
    c.decision ? h('section', { class: 'card', id: 'consult-outcome' }, h('div', { class: 'card-body' },
      h('h2', `${t('consult.outcome')}：${t(`consult.decision.${c.decision}`)}`), h('div', { class: 'disclosure-body' }, c.outcome))) : null,
    c.timeline ? h('section', { class: 'card' }, h('h2', t('ledger.timeline')), h('ol', { class: 'timeline' }, c.timeline.map((l) => h('li',
      h('strong', t(`consult.act.${l.action}`)), ' · ', fmtTime(l.at), l.note ? h('div', { class: 'muted' }, l.note) : null)))) : null);
  return undefined;
}
