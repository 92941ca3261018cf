// 我要监督: villagers' questions on an entry of the books or a public notice, and the village's
// answers. Public to the village, the asker unnamed (the reader's own are marked 我的提问); the
// village answers within its working days, or the town supervises it.
import { t } from '../i18n.js';
import { get, post } from '../api.js';
import { h, put, fmtTime, toast, empty } from '../dom.js';

/** One question and its answer. */
export function qaItem(q) {
  const status = q.state === 'answered'
    ? (q.on_time ? t('pquestion.answeredOnTime') : t('pquestion.answeredLate'))
    : (q.supervised ? t('pquestion.supervised') : t('pquestion.waiting', { due: fmtTime(q.due_at) }));
  return h('li', { class: 'p-qa-item', dataset: { id: q.id, state: q.state } },
    h('p', { class: 'p-qa-q' }, h('strong', `${t('pquestion.q')} `), q.text),
    h('p', { class: 'muted p-qa-meta' }, [fmtTime(q.asked_at), q.mine ? t('pquestion.mine') : t('pquestion.villager'), status].join(' · ')),
    q.answer ? h('p', { class: 'p-qa-a' }, h('strong', `${t('pquestion.a')} `), q.answer, h('span', { class: 'muted' }, ` · ${fmtTime(q.answered_at)}`)) : null);
}

/** The questions on one subject and a form to ask one: opened under an entry or a notice. */
export function questionsBlock(subject, id) {
  const list = h('ul', { class: 'p-qa-list' });
  const text = h('textarea', { name: 'text', rows: 3, maxlength: 500, required: true, id: `ask-${subject}-${id}` });
  const errorEl = h('p', { class: 'form-error', role: 'alert', hidden: true });
  const send = h('button', { type: 'submit', class: 'btn btn-primary btn-block' }, t('pquestion.send'));
  const form = h('form', { class: 'p-qa-form', noValidate: true },
    h('label', { for: text.id }, t('pquestion.ask')), text,
    h('p', { class: 'muted', style: { fontSize: '12px' } }, t('pquestion.rule')), errorEl, send);
  const load = async () => {
    const page = await get('me/questions', { subject, subject_id: id, limit: 50 });
    put(list, page.items.length ? page.items.map(qaItem) : h('li', { class: 'muted' }, t('pquestion.none')));
  };
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (send.disabled) return;
    errorEl.hidden = true;
    send.disabled = true;
    try {
      await post('questions', { subject, subject_id: id, text: text.value });
      text.value = '';
      toast(t('pquestion.sent'));
      await load();
    } catch (err) {
      errorEl.hidden = false;
      put(errorEl, err.describe ? err.describe() : String(err));
    } finally {
      send.disabled = false;
    }
  });
  const box = h('div', { class: 'p-qa', dataset: { subject, id } }, list, form);
  load().catch((err) => put(list, h('li', { class: 'form-error' }, err.describe ? err.describe() : String(err))));
  return box;
}

/** A button that opens (and closes) the questions of a subject below `host`. */
export function superviseButton(host, subject, id) {
  let block = null;
  const b = h('button', { type: 'button', class: 'btn btn-sm p-supervise', 'aria-expanded': 'false' }, t('pquestion.open'));
  b.addEventListener('click', () => {
    if (block) {
      block.remove();
      block = null;
      b.setAttribute('aria-expanded', 'false');
      return;
    }
    block = questionsBlock(subject, id);
    host.append(block);
    b.setAttribute('aria-expanded', 'true');
  });
  return b;
}

/** 我要监督: every question of the citizen's villages, newest first. */
export async function questionsPage(content, me) {
  if (me.role !== 'citizen') {
    put(content, h('h2', t('pquestion.title')), empty(t('pquestion.staff'), null, h('a', { class: 'btn', href: '/console/questions' }, t('portal.staff'))));
    return;
  }
  const list = h('ul', { class: 'p-qa-list', id: 'my-questions' });
  const more = h('button', { type: 'button', class: 'btn btn-block', hidden: true }, t('pledger.more'));
  let cursor = null;
  const load = async () => {
    more.disabled = true;
    try {
      const page = await get('me/questions', { limit: 30, ...(cursor ? { before: cursor } : {}) });
      for (const q of page.items) {
        const li = qaItem(q);
        li.prepend(h('p', { class: 'muted' }, t({ entry: 'pquestion.onEntry', disclosure: 'pquestion.onNotice', suggestion: 'pquestion.onVillage' }[q.subject])));
        list.append(li);
      }
      cursor = page.next_cursor;
      more.hidden = !cursor;
      return page.items.length;
    } finally {
      more.disabled = false;
    }
  };
  more.addEventListener('click', () => load());
  const n = await load();
  put(content, h('h2', t('pquestion.title')),
    h('section', { class: 'p-card' }, h('p', { class: 'p-note', role: 'note' }, t('pquestion.lead')),
      n ? list : empty(t('pquestion.noneAll'), t('pquestion.noneHint')), more,
      h('p', null, h('a', { class: 'btn btn-block', href: '/m/ledger' }, t('pledger.title')), ' ',
        h('a', { class: 'btn btn-block', href: '/m/notices' }, t('portal.notices')))));
}

/** 建言献策: a suggestion to the village, and the village's suggestions with their answers. */
export async function suggestionsPage(content, me) {
  if (me.role !== 'citizen') {
    put(content, h('h2', t('psuggest.title')), empty(t('pquestion.staff'), null, h('a', { class: 'btn', href: '/console/questions' }, t('portal.staff'))));
    return;
  }
  const list = h('ul', { class: 'p-qa-list', id: 'my-suggestions' });
  const text = h('textarea', { name: 'text', rows: 4, maxlength: 500, required: true, id: 'suggest-text' });
  const errorEl = h('p', { class: 'form-error', role: 'alert', hidden: true });
  const send = h('button', { type: 'submit', class: 'btn btn-primary btn-block' }, t('psuggest.send'));
  // A resident of more than one village says which one the suggestion is for.
  const homes = (await get('me/points')).villages;
  const village = homes.length > 1
    ? h('select', { id: 'suggest-village', name: 'node' }, homes.map((v) => h('option', { value: v.node }, v.name || v.node)))
    : null;
  const form = h('form', { class: 'p-qa-form', noValidate: true, id: 'suggest-form' },
    village ? h('label', { for: village.id }, t('psuggest.village')) : null, village,
    h('label', { for: text.id }, t('psuggest.label')), text,
    h('p', { class: 'muted', style: { fontSize: '12px' } }, t('pquestion.rule')), errorEl, send);
  const load = async () => {
    const page = await get('me/questions', { subject: 'suggestion', limit: 50 });
    put(list, page.items.length ? page.items.map(qaItem) : h('li', { class: 'muted' }, t('psuggest.none')));
  };
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (send.disabled) return;
    errorEl.hidden = true;
    send.disabled = true;
    try {
      await post('questions', { subject: 'suggestion', text: text.value, ...(village ? { node: village.value } : {}) });
      text.value = '';
      toast(t('psuggest.sent'));
      await load();
    } catch (err) {
      errorEl.hidden = false;
      put(errorEl, err.describe ? err.describe() : String(err));
    } finally {
      send.disabled = false;
    }
  });
  await load();
  put(content, h('h2', t('psuggest.title')),
    h('section', { class: 'p-card' }, h('p', { class: 'p-note', role: 'note' }, t('psuggest.lead')), form),
    h('section', { class: 'p-card' }, h('h2', t('psuggest.list')), list));
}
