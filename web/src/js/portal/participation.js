// Participation on a phone: 协商议事 (the village's topics, with the residents' comments, the
// meeting's record and the outcome) and 立法意见征集 (drafts of laws put to the area, article by
// article, with an opinion form under each and what became of the resident's own opinions).
// Commenters are not named; the reader's own comments are marked 我的.
import { t } from '../i18n.js';
import { get, post } from '../api.js';
import { h, put, fmtTime, toast, empty } from '../dom.js';

const describe = (err) => (err.describe ? err.describe() : String(err));

/** A small form with one text area that posts and then reloads. */
function textForm({ id, label, rule, max, send, submit }) {
  const text = h('textarea', { name: 'text', rows: 3, maxlength: max, required: true, id });
  const errorEl = h('p', { class: 'form-error', role: 'alert', hidden: true });
  const button = h('button', { type: 'submit', class: 'btn btn-primary btn-block' }, send);
  const form = h('form', { class: 'p-qa-form', noValidate: true },
    h('label', { for: id }, label), text,
    rule ? h('p', { class: 'muted', style: { fontSize: '12px' } }, rule) : null, errorEl, button);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (button.disabled) return;
    errorEl.hidden = true;
    button.disabled = true;
    try {
      await submit(text.value);
      text.value = '';
    } catch (err) {
      errorEl.hidden = false;
      put(errorEl, describe(err));
    } finally {
      button.disabled = false;
    }
  });
  return form;
}

// ---------------- 协商议事 ----------------

function topicStatus(c) {
  return h('span', { class: `badge consult-${c.state}` }, t(`consult.state.${c.state}`));
}

/** One topic, opened: what is put to the residents, the comments, the record, the outcome. */
async function topicDetail(box, id, reload) {
  const c = await get(`consultations/${id}`);
  const comments = h('ul', { class: 'p-qa-list', id: `consult-comments-${c.id}` },
    c.comment_list.length ? c.comment_list.map((x) => h('li', { class: 'p-qa-item', dataset: { id: x.id } },
      h('p', { class: 'p-qa-q' }, x.text),
      h('p', { class: 'muted p-qa-meta' }, [fmtTime(x.at), x.by_village ? t('consult.byVillage') : x.mine ? t('consult.mine') : t('pquestion.villager')].join(' · '))))
      : h('li', { class: 'muted' }, t('consult.noComments')));
  const form = c.state === 'open' ? textForm({
    id: `consult-say-${c.id}`, label: t('consult.say'), rule: t('consult.rule'), max: 500, send: t('consult.send'),
    submit: async (text) => {
      await post(`consultations/${c.id}/comments`, { text });
      toast(t('consult.sent'));
      await reload();
    },
  }) : null;
  const m = c.meeting;
  put(box,
    h('p', { class: 'consult-body' }, c.body),
    h('h3', t('consult.comments', { n: c.comments })), comments, form,
    m ? h('div', { class: 'p-note consult-record' }, h('strong', t('consult.record')), ' ',
      t('consult.meeting', { at: fmtTime(m.held_at), place: m.place, n: m.attendees }), h('p', m.record)) : null,
    c.decision ? h('div', { class: 'p-note consult-outcome' }, h('strong', `${t('consult.outcome')}：${t(`consult.decision.${c.decision}`)}`), h('p', c.outcome)) : null,
    c.state === 'withdrawn' ? h('p', { class: 'p-note' }, t('consult.withdrawn', { reason: c.reason })) : null);
}

/** 协商议事: the topics of the citizen's villages, newest first; each opens in place. */
export async function consultationsPage(content, me) {
  if (me.role !== 'citizen') {
    put(content, h('h2', t('consult.title')), empty(t('consult.staff'), null, h('a', { class: 'btn', href: '/console/consultations' }, t('portal.staff'))));
    return;
  }
  const page = await get('me/consultations', { limit: 50 });
  if (!page.items.length) {
    put(content, h('h2', t('consult.title')), empty(t('consult.none'), t('consult.noneHint')));
    return;
  }
  const card = (c) => {
    const box = h('div', { class: 'consult-detail', hidden: true });
    const toggle = h('button', { type: 'button', class: 'btn btn-sm', 'aria-expanded': 'false' }, t('consult.open'));
    const reload = () => topicDetail(box, c.id, reload).catch((err) => put(box, h('p', { class: 'form-error' }, describe(err))));
    toggle.addEventListener('click', async () => {
      const opening = box.hidden;
      box.hidden = !opening;
      toggle.setAttribute('aria-expanded', String(opening));
      if (opening) await reload();
    });
    return h('li', { class: 'p-card consult-card', dataset: { id: c.id, state: c.state } },
      h('h3', c.title, ' ', topicStatus(c)),
      h('p', { class: 'muted' }, [fmtTime(c.opened_at), t('consult.commentCount', { n: c.comments })].join(' · ')),
      toggle, box);
  };
  put(content, h('h2', t('consult.title')),
    h('p', { class: 'p-note', role: 'note' }, t('consult.lead')),
    h('ul', { class: 'p-list-plain', id: 'my-consultations' }, page.items.map(card)));
}

// ---------------- 立法意见征集 ----------------

const verdictText = (o) => (o.verdict === 'received' ? t('law.received')
  : `${t(`law.verdict.${o.verdict}`)}${o.reason ? `：${o.reason}` : ''}`);

/** One draft: its articles with the count of opinions on each and a form under each (while open). */
async function lawPage(content, id) {
  const d = await get(`draft-laws/${id}`);
  const open = d.state === 'open' && Date.now() < d.closes_at;
  const mine = (n) => d.mine.filter((o) => o.article === n);
  const article = (a) => {
    const own = mine(a.number);
    const slot = h('div');
    const ask = h('button', { type: 'button', class: 'btn btn-sm', id: `law-open-${a.number}` }, t('law.give'));
    ask.addEventListener('click', () => {
      ask.hidden = true;
      put(slot, textForm({
        id: `law-text-${a.number}`, label: t('law.yourOpinion'), rule: t('law.rule'), max: 1000, send: t('law.send'),
        submit: async (text) => {
          await post(`draft-laws/${d.id}/opinions`, { article: a.number, text });
          toast(t('law.sent'));
          await lawPage(content, id);
        },
      }));
    });
    return h('li', { class: 'p-card law-article', dataset: { number: a.number } },
      h('h3', a.number ? t('law.article', { n: a.number }) : t('law.whole')),
      a.text ? h('p', { class: 'law-text' }, a.text) : null,
      h('p', { class: 'muted' }, t('law.counts', { n: a.opinions.received, adopted: a.opinions.adopted })),
      own.length ? h('ul', { class: 'p-qa-list' }, own.map((o) => h('li', { class: 'p-qa-item', dataset: { id: o.id, verdict: o.verdict } },
        h('p', { class: 'p-qa-q' }, h('strong', `${t('law.mine')} `), o.text),
        h('p', { class: 'muted p-qa-meta' }, [fmtTime(o.given_at), verdictText(o)].join(' · '))))) : null,
      open ? ask : null, slot);
  };
  put(content, h('p', null, h('a', { href: '/m/laws' }, `‹ ${t('law.title')}`)),
    h('h2', d.title),
    h('section', { class: 'p-card' },
      h('p', { class: 'muted' }, t('law.issuer', { issuer: d.issuer })),
      h('p', { class: 'muted', id: 'law-state' }, open ? t('law.closes', { at: fmtTime(d.closes_at - 1) }) : t(`law.state.${d.state}`)),
      d.summary ? h('p', d.summary) : null,
      h('p', { class: 'p-note' }, t('law.total', { n: d.opinions.received, adopted: d.opinions.adopted }))),
    h('ol', { class: 'p-list-plain', id: 'law-articles' }, d.article_list.map(article)));
}

/** 立法意见征集: the drafts put to the citizen's villages and the areas above them. */
export async function lawsPage(content, me, id) {
  if (me.role !== 'citizen') {
    put(content, h('h2', t('law.title')), empty(t('law.staff'), null, h('a', { class: 'btn', href: '/console/laws' }, t('portal.staff'))));
    return;
  }
  if (id) {
    await lawPage(content, id);
    return;
  }
  const page = await get('me/draft-laws', { limit: 50 });
  if (!page.items.length) {
    put(content, h('h2', t('law.title')), empty(t('law.none'), t('law.noneHint')));
    return;
  }
  put(content, h('h2', t('law.title')),
    h('p', { class: 'p-note', role: 'note' }, t('law.lead')),
    h('ul', { class: 'p-list-plain', id: 'my-laws' }, page.items.map((d) => h('li', { class: 'p-card', dataset: { id: d.id, state: d.state } },
      h('h3', h('a', { href: `/m/laws/${d.id}` }, d.title)),
      h('p', { class: 'muted' }, [d.issuer, d.state === 'open' ? t('law.closes', { at: fmtTime(d.closes_at - 1) }) : t(`law.state.${d.state}`),
        t('law.articles', { n: d.articles })].join(' · '))))));
}
