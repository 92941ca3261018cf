// 村民监督: villagers' questions on the books and the notices, and the village's answers. The
// village answers within its working days; past due the town supervises (督办) — the page lists
// an area's questions by state, and any entry or notice shows its own with the answer form.
import { t } from '../i18n.js';
import { get, post } from '../api.js';
import { h, put, loading, empty, errorBox, fmtTime, toast, field } from '../dom.js';
import { duties, villages, speaksFor, villagePicker } from './village.js';

/** The state of a question in words, with its clock. */
function status(q) {
  if (q.state === 'answered') return h('span', { class: `badge ${q.on_time ? 'qstate-ok' : 'qstate-late'}` }, t(q.on_time ? 'question.onTime' : 'question.late'));
  if (q.supervised) return h('span', { class: 'badge qstate-supervised' }, t('question.supervised'));
  return h('span', { class: `badge ${q.due_at < Date.now() ? 'qstate-late' : 'qstate-open'}` }, t('question.due', { due: fmtTime(q.due_at) }));
}

/** One question, its answer, and for those who speak for the village the form to answer it. */
function item(q, canAnswer, after) {
  const li = h('li', { class: 'question', dataset: { id: q.id, state: q.state } },
    h('p', h('strong', t('question.q')), ' ', q.text),
    h('p', { class: 'muted' }, fmtTime(q.asked_at), ' · ', status(q)));
  if (q.answer) li.append(h('p', { class: 'question-answer' }, h('strong', t('question.a')), ' ', q.answer, h('span', { class: 'muted' }, ` · ${fmtTime(q.answered_at)}`)));
  if (q.state === 'open' && canAnswer) {
    const text = h('textarea', { name: 'answer', rows: 3, maxlength: 2000, required: true, id: `answer-${q.id}` });
    const errorEl = h('p', { class: 'form-error', role: 'alert', hidden: true });
    const send = h('button', { type: 'submit', class: 'btn btn-primary' }, t('question.send'));
    const form = h('form', { class: 'question-form', noValidate: true }, field(t('question.answer'), text), errorEl, send);
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      if (send.disabled) return;
      errorEl.hidden = true;
      send.disabled = true;
      try {
        await post(`questions/${q.id}/answer`, { text: text.value, version: q.version });
        toast(t('question.sent'));
        await after();
      } catch (err) {
        errorEl.hidden = false;
        put(errorEl, err.describe ? err.describe() : String(err));
        send.disabled = false;
      }
    });
    li.append(form);
  }
  return li;
}

/** The questions on one entry or notice of `village`, as a card. */
export function questionsPanel(me, held, village, subject, id) {
  const list = h('ul', { class: 'questions', id: `questions-${subject}-${id}` });
  const card = h('section', { class: 'card' }, h('h2', t('question.title')), list);
  const load = async () => {
    put(list, loading());
    try {
      const page = await get('questions', { node: village, subject, subject_id: id, limit: 100 });
      const can = speaksFor(me, held, village);
      put(list, page.items.length ? page.items.map((q) => item(q, can, load)) : h('li', { class: 'muted' }, t('question.none')));
    } catch (err) {
      put(list, errorBox(err, load));
    }
  };
  load();
  return card;
}

export async function render(ctx) {
  const { content, me, query } = ctx;
  const held = await duties(me);
  const list = await villages(me, held);
  if (!list.length) {
    put(content, empty(t('ledger.noVillage'), t('ledger.noVillageHint')));
    return undefined;
  }
  const village = villagePicker('questions-village', list, query.get('node'), t('ledger.village'));
  const state = h('select', { id: 'questions-state' },
    h('option', { value: 'open' }, t('question.state.open')), h('option', { value: 'supervised' }, t('question.state.supervised')),
    h('option', { value: 'answered' }, t('question.state.answered')), h('option', { value: '' }, t('question.state.all')));
  state.value = query.get('state') || 'open';
  const out = h('ul', { class: 'questions', id: 'questions-list' });
  const more = h('button', { type: 'button', class: 'btn', hidden: true }, t('common.more'));
  let cursor = null;
  const load = async (next = false) => {
    if (!next) {
      cursor = null;
      put(out, loading());
    }
    more.disabled = true;
    try {
      const filter = state.value === 'supervised' ? { state: 'open', supervised: true } : state.value ? { state: state.value } : {};
      const page = await get('questions', { node: village.select.value, limit: 50, ...filter, ...(cursor ? { before: cursor } : {}) });
      const can = speaksFor(me, held, village.select.value);
      const rows = page.items.map((q) => {
        const li = item(q, can, () => load());
        li.prepend(h('p', { class: 'muted' }, q.subject === 'suggestion' ? t('question.onVillage')
          : h('a', { href: q.subject === 'entry' ? `/console/ledger/${q.subject_id}` : `/console/disclosures/${q.subject_id}` },
            t(q.subject === 'entry' ? 'question.onEntry' : 'question.onNotice', { id: q.subject_id }))));
        return li;
      });
      if (next) out.append(...rows);
      else put(out, rows.length ? rows : h('li', { class: 'muted' }, t('question.none')));
      cursor = page.next_cursor;
      more.hidden = !cursor;
    } catch (err) {
      put(out, errorBox(err, () => load()));
    } finally {
      more.disabled = false;
    }
  };
  more.addEventListener('click', () => load(true));
  for (const el of [village.select, state]) el.addEventListener('change', () => load());
  put(content,
    h('section', { class: 'card' }, h('div', { class: 'card-body' }, h('p', { class: 'muted' }, t('question.lead')),
      h('div', { class: 'form-grid' }, village.field, field(t('question.col.state'), state)))),
    h('section', { class: 'card' }, out, more));
  await load();
  return undefined;
}
