// 立法意见征集: drafts of laws and regulations put to an area's residents by its contact point.
// A dispatcher or administrator over the area puts a draft out (one article per paragraph) with
// a closing date; residents give opinions on their phones (/m/laws); once the collection is
// closed each opinion is marked adopted or not with a reason, and the draft is finished when
// none is left unmarked.
import { t } from '../i18n.js';
import { get, post } from '../api.js';
import { h, put, loading, empty, errorBox, fmtTime, toast, field, formDialog } from '../dom.js';

const STATES = ['open', 'closed', 'done'];
const badge = (state) => h('span', { class: `badge law-${state}` }, t(`law.state.${state}`));
const collects = (me) => ['dispatcher', 'admin'].includes(me.role) && !!me.scope_node;

export async function render(ctx) {
  const { params } = ctx;
  if (params && params[0]) return draftPage(ctx, Number(params[0]));
  return listPage(ctx);
}

async function listPage(ctx) {
  const { content, me } = ctx;
  if (!me.scope_node) {
    put(content, empty(t('law.noArea')));
    return undefined;
  }
  const state = h('select', { id: 'law-state' }, h('option', { value: '' }, t('consult.allStates')), STATES.map((s) => h('option', { value: s }, t(`law.state.${s}`))));
  const tbody = h('tbody');
  const status = h('div');
  const more = h('button', { type: 'button', class: 'btn', hidden: true }, t('common.more'));
  let cursor = null;
  const row = (d) => h('tr', { dataset: { id: d.id } },
    h('td', h('a', { href: `/console/laws/${d.id}` }, d.title)), h('td', d.issuer), h('td', badge(d.state)),
    h('td', String(d.articles)), h('td', fmtTime(d.closes_at - 1)));
  const load = async (next = false) => {
    if (!next) {
      cursor = null;
      put(status, loading());
      put(tbody);
    }
    more.disabled = true;
    try {
      const page = await get('draft-laws', { limit: 50, ...(state.value ? { state: state.value } : {}), ...(cursor ? { before: cursor } : {}) });
      tbody.append(...page.items.map(row));
      put(status, tbody.children.length ? null : empty(t('law.noneStaff')));
      cursor = page.next_cursor;
      more.hidden = !cursor;
    } catch (err) {
      put(status, errorBox(err, () => load()));
    } finally {
      more.disabled = false;
    }
  };
  more.addEventListener('click', () => load(true));
  state.addEventListener('change', () => load());
  put(content,
    h('section', { class: 'card' }, h('div', { class: 'card-body' }, h('p', { class: 'muted' }, t('law.staffLead')),
      h('div', { class: 'form-grid' }, field(t('consult.col.state'), state)),
      collects(me) ? h('button', { type: 'button', class: 'btn btn-primary', id: 'law-new', onclick: () => newDraft(ctx) }, t('law.new')) : null)),
    h('section', { class: 'card' }, status,
      h('div', { class: 'table-wrap' }, h('table', { class: 'data responsive', id: 'law-list' },
        h('thead', h('tr', ['law.col.title', 'law.col.issuer', 'consult.col.state', 'law.col.articles', 'law.col.closes'].map((c) => h('th', { scope: 'col' }, t(c))))), tbody)), more));
  await load();
  return undefined;
}

async function newDraft(ctx) {
  const { me } = ctx;
  const title = h('input', { name: 'title', required: true, maxlength: 200 });
  const issuer = h('input', { name: 'issuer', required: true, maxlength: 100 });
  const summary = h('textarea', { name: 'summary', rows: 3, maxlength: 5000 });
  const articles = h('textarea', { name: 'articles', required: true, rows: 10, placeholder: t('law.articlesHint') });
  const closes = h('input', { type: 'date', name: 'closes_on', required: true });
  const saved = await formDialog({
    title: t('law.new'),
    body: h('div', { id: 'law-form' }, field(t('law.col.title'), title), field(t('law.col.issuer'), issuer), field(t('law.summary'), summary),
      field(t('law.articlesLabel'), articles), field(t('law.col.closes'), closes)),
    submitLabel: t('law.put'),
    onSubmit: () => post('draft-laws', {
      node: me.scope_node, title: title.value, issuer: issuer.value, summary: summary.value || null,
      // One article per paragraph: blank lines part them.
      articles: articles.value.split(/\n\s*\n/).map((a) => a.trim()).filter(Boolean),
      closes_on: closes.value,
    }),
  });
  if (saved) {
    toast(t('law.opened'));
    ctx.navigate(`/console/laws/${saved.id}`);
  }
}

async function draftPage(ctx, id) {
  const { content, me } = ctx;
  const d = await get(`draft-laws/${id}`);
  ctx.setTitle(`${t('nav.laws')} · ${d.title}`);
  const mine = collects(me) && !!d.opinion_list;
  const again = () => draftPage(ctx, id);
  const step = async (action) => {
    try {
      await post(`draft-laws/${id}/${action}`, { version: d.version });
      toast(t('consult.moved'));
      await again();
    } catch (err) {
      toast(err.describe ? err.describe() : String(err), 'error');
    }
  };
  const markForm = async (o, adopted) => {
    const reason = h('textarea', { name: 'reason', required: true, rows: 3, maxlength: 500 });
    const ok = await formDialog({
      title: t(adopted ? 'law.adopt' : 'law.reject'), body: h('div', { id: 'law-mark' }, h('p', o.text), field(t('law.reason'), reason)),
      submitLabel: t(adopted ? 'law.adopt' : 'law.reject'),
      onSubmit: () => post(`opinions/${o.id}/mark`, { adopted, reason: reason.value, version: o.version }),
    });
    if (ok) {
      toast(t('consult.moved'));
      await again();
    }
  };
  const opinions = (n) => (d.opinion_list || []).filter((o) => o.article === n);
  const opinionItem = (o) => h('li', { class: 'question', dataset: { id: o.id, verdict: o.verdict } },
    h('p', o.text),
    h('p', { class: 'muted' }, fmtTime(o.given_at), ' · ', h('span', { class: `badge law-v-${o.verdict}` }, t(`law.verdict.${o.verdict}`)),
      o.reason ? ` · ${o.reason}` : ''),
    mine && d.state === 'closed' ? h('div', { style: { display: 'flex', gap: '8px' } },
      h('button', { type: 'button', class: 'btn btn-sm', dataset: { act: 'adopt' }, onclick: () => markForm(o, true) }, t('law.adopt')),
      h('button', { type: 'button', class: 'btn btn-sm', dataset: { act: 'reject' }, onclick: () => markForm(o, false) }, t('law.reject'))) : null);
  const moves = [];
  if (mine && d.state === 'open') moves.push(h('button', { type: 'button', class: 'btn', dataset: { act: 'close' }, onclick: () => step('close') }, t('law.close')));
  if (mine && d.state === 'closed') moves.push(h('button', { type: 'button', class: 'btn btn-primary', dataset: { act: 'finish' }, onclick: () => step('finish') }, t('law.finish')));
  put(content,
    h('p', h('a', { href: '/console/laws' }, '← ', t('law.back'))),
    h('section', { class: 'card', id: 'law' }, h('div', { class: 'card-body' },
      h('h2', d.title, ' ', badge(d.state)),
      h('p', { class: 'muted' }, [d.issuer, t('law.closes', { at: fmtTime(d.closes_at - 1) }), t('law.articles', { n: d.articles })].join(' · ')),
      d.summary ? h('div', { class: 'disclosure-body' }, d.summary) : null,
      h('p', { id: 'law-total' }, t('law.totalStaff', { n: d.opinions.received, adopted: d.opinions.adopted, rejected: d.opinions.not_adopted })),
      moves.length ? h('div', { class: 'actions', style: { display: 'flex', gap: '8px', marginTop: '12px' } }, moves) : null)),
    h('section', { class: 'card', id: 'law-articles' }, h('ol', { class: 'questions' }, d.article_list.map((a) => h('li', { class: 'law-article', dataset: { number: a.number } },
      h('h3', a.number ? t('law.article', { n: a.number }) : t('law.whole')),
      a.text ? h('div', { class: 'disclosure-body' }, a.text) : null,
      h('p', { class: 'muted' }, t('law.counts', { n: a.opinions.received, adopted: a.opinions.adopted })),
      d.opinion_list ? h('ul', { class: 'questions' }, opinions(a.number).map(opinionItem)) : null)))),
    d.timeline ? h('section', { class: 'card' }, h('h2', t('ledger.timeline')), h('ol', { class: 'timeline' }, d.timeline.map((l) => h('li',
      h('strong', t(`law.act.${l.action}`)), ' · ', fmtTime(l.at), l.note ? h('div', { class: 'muted' }, l.note) : null)))) : null);
  return undefined;
}
