// 三资台账: a village's books — its entries (by state and month), the balances at the end of a
// month, and for the holders of a duty their moves: the treasurer (报账员) enters an entry with
// balanced lines and invoice images and submits it, the committee (村委会) approves it or sends it
// back, the town's agency (三资代理中心) reviews it into the books and closes months. An expense
// without an invoice image is refused by the server with its reason (不上图不给报销).
import { t } from '../i18n.js';
import { api, get, post, uploadPhoto } from '../api.js';
import { h, put, loading, empty, errorBox, fmtTime, toast, field, formDialog } from '../dom.js';
import { duties, villages, holds } from './village.js';
import { questionsPanel } from './questions.js';

const STATES = ['draft', 'submitted', 'approved', 'posted', 'returned', 'voided'];
const KINDS = ['income', 'expense', 'transfer'];
const yuan = (fen) => (fen / 100).toLocaleString('zh-CN', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const thisMonth = () => new Date(Date.now() + 8 * 3600e3).toISOString().slice(0, 7);
const badge = (state) => h('span', { class: `badge lstate-${state}` }, t(`ledger.state.${state}`));

let chartCache = null;
const chart = async () => (chartCache ||= (await get('ledger/accounts')).items);

export async function render(ctx) {
  const { params } = ctx;
  if (params && params[0]) return entryPage(ctx, Number(params[0]));
  return booksPage(ctx);
}

async function booksPage(ctx) {
  const { content, me, query } = ctx;
  const held = await duties(me);
  const list = await villages(me, held);
  if (!list.length) {
    put(content, empty(t('ledger.noVillage'), t('ledger.noVillageHint')));
    return undefined;
  }
  const village = h('select', { id: 'ledger-village' }, list.map(([code, name]) => h('option', { value: code }, `${name} (${code})`)));
  village.value = query.get('node') && list.some(([c]) => c === query.get('node')) ? query.get('node') : list[0][0];
  const state = h('select', { id: 'ledger-state' }, h('option', { value: '' }, t('ledger.allStates')), STATES.map((s) => h('option', { value: s }, t(`ledger.state.${s}`))));
  const month = h('input', { type: 'month', id: 'ledger-month', value: thisMonth() });
  const tbody = h('tbody');
  const status = h('div');
  const balances = h('div', { id: 'ledger-balances' });
  const actions = h('div', { style: { display: 'flex', gap: '8px', flexWrap: 'wrap' } });
  put(content,
    h('section', { class: 'card' }, h('div', { class: 'card-body' },
      h('div', { class: 'form-grid' }, field(t('ledger.village'), village), field(t('ledger.col.state'), state), field(t('ledger.month'), month)), actions)),
    h('section', { class: 'card' }, h('h2', t('ledger.entries')), status,
      h('div', { class: 'table-wrap' }, h('table', { class: 'data responsive', id: 'ledger-list' },
        h('thead', h('tr', ['ledger.col.number', 'ledger.col.date', 'ledger.col.summary', 'ledger.col.kind', 'ledger.col.amount', 'ledger.col.state'].map((c) => h('th', { scope: 'col' }, t(c))))), tbody))),
    h('section', { class: 'card' }, h('h2', t('ledger.balances')), balances));
  const load = async () => {
    put(status, loading());
    try {
      const q = { node: village.value, limit: 100, ...(state.value ? { state: state.value } : {}), ...(month.value ? { month: month.value } : {}) };
      const [page, bal] = await Promise.all([get('ledger/entries', q), get('ledger/balances', { node: village.value, month: month.value || thisMonth() })]);
      put(status, page.items.length ? null : empty(t('ledger.none')));
      put(tbody, page.items.map((e) => h('tr', { dataset: { id: e.id } },
        h('td', h('a', { href: `/console/ledger/${e.id}` }, e.number)), h('td', e.date), h('td', e.summary),
        h('td', t(`ledger.kind.${e.kind}`)), h('td', { class: 'num' }, yuan(e.total_fen)), h('td', badge(e.state)))));
      put(balances, bal.accounts.length
        ? h('div', { class: 'table-wrap' }, h('table', { class: 'data', id: 'ledger-balance-table' },
          h('thead', h('tr', ['ledger.col.account', 'ledger.col.debit', 'ledger.col.credit', 'ledger.col.balance'].map((c) => h('th', { scope: 'col' }, t(c))))),
          h('tbody', bal.accounts.map((a) => h('tr', h('td', `${a.account} ${a.name}`), h('td', { class: 'num' }, yuan(a.debit_fen)), h('td', { class: 'num' }, yuan(a.credit_fen)), h('td', { class: 'num' }, yuan(a.balance_fen))))),
          h('tfoot', h('tr', h('th', { scope: 'row' }, t('ledger.total')), h('td', { class: 'num' }, yuan(bal.debit_fen)), h('td', { class: 'num' }, yuan(bal.credit_fen)), h('td', bal.balanced ? t('ledger.balanced') : t('ledger.unbalanced'))))))
        : h('p', { class: 'muted' }, t('ledger.noBalances')),
        bal.closed_months.length ? h('p', { class: 'muted' }, t('ledger.closed', { months: bal.closed_months.slice(0, 6).join('、') })) : null);
      put(actions,
        holds(held, village.value, 'treasurer') ? h('button', { type: 'button', class: 'btn btn-primary', id: 'ledger-new', onclick: () => entryForm(ctx, village.value, null) }, t('ledger.new')) : null,
        holds(held, village.value, 'town_agency') ? h('button', { type: 'button', class: 'btn', id: 'ledger-close', onclick: () => closeMonth(village.value, month.value || thisMonth(), load) }, t('ledger.closeMonth')) : null,
        h('a', { class: 'btn', id: 'ledger-statements', download: '', href: `/api/v1/ledger/statements/export.xlsx?node=${village.value}&month=${month.value || thisMonth()}` }, t('ledger.statements')));
    } catch (err) {
      put(status, errorBox(err, load));
    }
  };
  for (const el of [village, state, month]) el.addEventListener('change', load);
  await load();
  return undefined;
}

async function closeMonth(village, month, after) {
  const ok = await formDialog({ title: t('ledger.closeMonth'), body: h('p', t('ledger.closeConfirm', { month })), onSubmit: () => post('ledger/closes', { node: village, month }) });
  if (ok) {
    toast(t('ledger.closedOk', { month }));
    await after();
  }
}

/** The entry form: new for `village`, or a draft/returned `entry` changed. */
async function entryForm(ctx, village, entry) {
  const accounts = await chart();
  const kind = h('select', { name: 'kind', required: true }, KINDS.map((k) => h('option', { value: k }, t(`ledger.kind.${k}`))));
  const date = h('input', { type: 'date', name: 'date', required: true, value: new Date(Date.now() + 8 * 3600e3).toISOString().slice(0, 10) });
  const summary = h('input', { name: 'summary', required: true, maxlength: 200 });
  const party = h('input', { name: 'counterparty', maxlength: 100 });
  const priv = h('input', { type: 'checkbox', name: 'private_party', checked: true });
  const rows = h('tbody');
  const addLine = (l = {}) => {
    const acc = h('select', { 'aria-label': t('ledger.col.account') }, accounts.map((a) => h('option', { value: a.code }, `${a.code} ${a.name}`)));
    const side = h('select', { 'aria-label': t('ledger.col.side') }, ['debit', 'credit'].map((s) => h('option', { value: s }, t(`ledger.side.${s}`))));
    const amount = h('input', { inputmode: 'decimal', 'aria-label': t('ledger.col.amount'), pattern: '[0-9]{1,12}(\\.[0-9]{1,2})?', required: true, size: 10 });
    if (l.account) acc.value = l.account;
    if (l.side) side.value = l.side;
    if (l.amount) amount.value = l.amount;
    const tr = h('tr', { class: 'ledger-line' }, h('td', acc), h('td', side), h('td', amount),
      h('td', h('button', { type: 'button', class: 'btn btn-small', 'aria-label': t('ledger.removeLine'), onclick: () => tr.remove() }, '×')));
    rows.append(tr);
  };
  const files = h('input', { type: 'file', accept: 'image/jpeg,image/png,image/webp', multiple: true, id: 'ledger-invoice-files' });
  let invoices = [];
  if (entry) {
    kind.value = entry.kind;
    date.value = entry.date;
    summary.value = entry.summary;
    party.value = entry.counterparty || '';
    priv.checked = !!entry.private_party;
    entry.lines.forEach((l) => addLine(l));
    invoices = entry.invoices.map((i) => i.hash);
  } else {
    addLine({ side: 'debit' });
    addLine({ side: 'credit' });
  }
  const kept = h('p', { class: 'muted' }, invoices.length ? t('ledger.invoicesKept', { n: invoices.length }) : '');
  const body = h('div', { id: 'ledger-form' },
    h('div', { class: 'form-grid' }, field(t('ledger.col.kind'), kind), field(t('ledger.col.date'), date)),
    field(t('ledger.col.summary'), summary), field(t('ledger.counterparty'), party), field(t('ledger.private'), priv, null, { inline: true }),
    h('table', { class: 'data' }, h('thead', h('tr', ['ledger.col.account', 'ledger.col.side', 'ledger.col.amount', ''].map((c) => h('th', { scope: 'col' }, c ? t(c) : '')))), rows),
    h('button', { type: 'button', class: 'btn btn-small', id: 'ledger-add-line', onclick: () => addLine() }, t('ledger.addLine')),
    field(t('ledger.invoices'), files, t('ledger.invoiceHint')), kept);
  const saved = await formDialog({
    title: entry ? t('ledger.edit') : t('ledger.new'),
    body,
    submitLabel: t('ledger.save'),
    onSubmit: async () => {
      for (const f of files.files) {
        // A retry after a failed save uploads again: the same image is attached once.
        const { hash } = await uploadPhoto(f);
        if (!invoices.includes(hash)) invoices.push(hash);
      }
      files.value = '';
      const lines = [...rows.querySelectorAll('tr')].map((tr) => {
        const [acc, side, amount] = tr.querySelectorAll('select, input');
        return { account: acc.value, side: side.value, amount: amount.value.trim() };
      });
      const b = { kind: kind.value, date: date.value, summary: summary.value.trim(), counterparty: party.value.trim() || null, private_party: priv.checked, lines, invoices };
      return entry
        ? api(`ledger/entries/${entry.id}`, { method: 'PUT', body: { ...b, version: entry.version } })
        : post('ledger/entries', { node: village, ...b });
    },
  });
  if (saved) {
    toast(t('ledger.saved'));
    ctx.navigate(`/console/ledger/${saved.id}`);
  }
}

async function entryPage(ctx, id) {
  const { content, me } = ctx;
  const [e, held] = await Promise.all([get(`ledger/entries/${id}`), duties(me)]);
  ctx.setTitle(`${t('nav.ledger')} · ${e.number}`);
  const move = async (action, approve, needNote) => {
    let note = null;
    if (needNote) {
      const input = h('textarea', { name: 'note', required: true, maxlength: 500, rows: 3 });
      const ok = await formDialog({ title: t(`ledger.act.${action}${approve === false ? 'Back' : ''}`), body: field(t('ledger.reason'), input), onSubmit: () => { note = input.value.trim(); } });
      if (!ok) return;
    }
    const buttons = [...content.querySelectorAll('#ledger-actions button')];
    for (const b of buttons) b.disabled = true;
    try {
      await post(`ledger/entries/${id}/actions`, { action, version: e.version, ...(approve === undefined ? {} : { approve }), ...(note ? { note } : {}) });
      toast(t('ledger.moved'));
      await entryPage(ctx, id);
    } catch (err) {
      toast(err.describe ? err.describe() : String(err), 'error');
      for (const b of buttons) b.disabled = false;
    }
  };
  const btn = (key, fn, cls = 'btn') => h('button', { type: 'button', class: cls, dataset: { act: key }, onclick: fn }, t(`ledger.act.${key}`));
  const mine = [];
  if (['draft', 'returned'].includes(e.state) && holds(held, e.node, 'treasurer')) {
    mine.push(btn('submit', () => move('submit'), 'btn btn-primary'), btn('edit', () => entryForm(ctx, e.node, e)), btn('void', () => move('void', undefined, true)));
  }
  if (e.state === 'submitted' && holds(held, e.node, 'committee')) mine.push(btn('approve', () => move('approve', true), 'btn btn-primary'), btn('approveBack', () => move('approve', false, true)));
  if (e.state === 'approved' && holds(held, e.node, 'town_agency')) mine.push(btn('review', () => move('review', true), 'btn btn-primary'), btn('reviewBack', () => move('review', false, true)));
  put(content,
    h('p', h('a', { href: `/console/ledger?node=${e.node}` }, '← ', t('ledger.back'))),
    h('section', { class: 'card', id: 'ledger-entry' }, h('div', { class: 'card-body' },
      h('h2', e.number, ' ', badge(e.state)),
      h('dl', { class: 'kv' },
        h('dt', t('ledger.col.date')), h('dd', e.date), h('dt', t('ledger.col.kind')), h('dd', t(`ledger.kind.${e.kind}`)),
        h('dt', t('ledger.col.summary')), h('dd', e.summary), h('dt', t('ledger.counterparty')), h('dd', e.counterparty || '—'),
        h('dt', t('ledger.col.amount')), h('dd', `¥${yuan(e.total_fen)}`)),
      h('table', { class: 'data', id: 'ledger-lines' }, h('thead', h('tr', ['ledger.col.account', 'ledger.col.debit', 'ledger.col.credit'].map((c) => h('th', { scope: 'col' }, t(c))))),
        h('tbody', e.lines.map((l) => h('tr', h('td', `${l.account} ${l.account_name || ''}`), h('td', { class: 'num' }, l.side === 'debit' ? l.amount : ''), h('td', { class: 'num' }, l.side === 'credit' ? l.amount : ''))))),
      h('h3', t('ledger.invoices')),
      e.invoices.length
        ? h('div', { class: 'photos', id: 'ledger-invoices' }, e.invoices.map((i) => h('a', { href: i.url, target: '_blank', rel: 'noopener' }, h('img', { src: i.url, alt: t('ledger.invoiceAlt'), loading: 'lazy' }))))
        : h('p', { class: 'muted', id: 'ledger-no-invoice' }, e.kind === 'expense' ? t('ledger.noInvoice') : t('ledger.noInvoiceNeeded')),
      mine.length ? h('div', { class: 'actions', id: 'ledger-actions', style: { display: 'flex', gap: '8px', marginTop: '12px' } }, mine) : null)),
    e.state === 'posted' ? questionsPanel(me, held, e.node, 'entry', e.id) : null,
    h('section', { class: 'card' }, h('h2', t('ledger.timeline')), h('ol', { class: 'timeline' }, e.timeline.map((l) => h('li',
      h('strong', t(`ledger.act.${l.action === 'approve' && l.to === 'returned' ? 'approveBack' : l.action === 'review' && l.to === 'returned' ? 'reviewBack' : l.action}`)), ' · ', fmtTime(l.at),
      l.note ? h('div', { class: 'muted' }, l.note) : null)))));
  return undefined;
}
