// 我要看帐: the posted entries of the village's books, newest first — what came in and went out,
// from whom or to whom (a private person's name masked), and whether an invoice backs it.
import { t } from '../i18n.js';
import { get } from '../api.js';
import { h, put, empty, fmtNum } from '../dom.js';
import { superviseButton } from './questions.js';

const yuan = (fen) => (fen / 100).toLocaleString('zh-CN', { minimumFractionDigits: 2, maximumFractionDigits: 2 });

export async function ledgerPage(content, me) {
  if (me.role !== 'citizen') {
    put(content, h('h2', t('pledger.title')), empty(t('pledger.staff'), null, h('a', { class: 'btn', href: '/console' }, t('portal.staff'))));
    return;
  }
  const list = h('ul', { class: 'p-list', id: 'my-ledger' });
  const more = h('button', { type: 'button', class: 'btn btn-block', id: 'pledger-more', hidden: true }, t('pledger.more'));
  let income = 0;
  let expense = 0;
  const sums = h('p', { class: 'p-note', id: 'pledger-sums' });
  const row = (e) => {
    const li = rowOf(e);
    li.querySelector('.p-ledger-text').append(superviseButton(li, 'entry', e.id));
    return li;
  };
  const rowOf = (e) => h('li', { class: 'p-item p-ledger', dataset: { id: e.id } },
    h('div', { class: `thumb ledger-${e.kind}`, 'aria-hidden': 'true' }, e.kind === 'income' ? '收' : e.kind === 'expense' ? '支' : '转'),
    h('div', { class: 'p-ledger-text', style: { flex: '1', minWidth: '0' } },
      h('strong', e.summary),
      h('div', { class: 'muted' }, [e.date, e.node_name, e.counterparty].filter(Boolean).join(' · ')),
      e.kind === 'expense' ? h('div', { class: 'muted' }, e.invoices ? t('pledger.invoices', { n: e.invoices }) : '') : null),
    h('strong', { class: `ledger-amount ledger-${e.kind}` }, `${e.kind === 'expense' ? '−' : e.kind === 'income' ? '+' : ''}¥${yuan(e.total_fen)}`));
  let cursor = null;
  const load = async () => {
    const page = await get('me/ledger', { limit: 30, ...(cursor ? { before: cursor } : {}) });
    for (const e of page.items) {
      list.append(row(e));
      if (e.kind === 'income') income += e.total_fen;
      if (e.kind === 'expense') expense += e.total_fen;
    }
    cursor = page.next_cursor;
    more.hidden = !cursor;
    put(sums, t('pledger.sums', { income: yuan(income), expense: yuan(expense), n: fmtNum(list.children.length) }));
    return page.items.length;
  };
  more.addEventListener('click', async () => {
    more.disabled = true;
    try {
      await load();
    } finally {
      more.disabled = false;
    }
  });
  const first = await load();
  if (!first) {
    put(content, h('h2', t('pledger.title')), empty(t('pledger.none'), t('pledger.noneHint')));
    return;
  }
  put(content, h('h2', t('pledger.title')),
    h('section', { class: 'p-card' }, h('p', { class: 'p-note', role: 'note' }, t('pledger.lead')), sums, list, more));
}
