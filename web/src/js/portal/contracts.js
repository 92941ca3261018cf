// 村集体合同: the collective contracts of the villager's villages, read-only — what is let to
// whom (a private person's name masked), for how long and at what yearly price, and where the
// clean-up (一清三规范) of each flag the register raised stands.
import { t } from '../i18n.js';
import { get } from '../api.js';
import { h, put, empty, fmtNum } from '../dom.js';

const yuan = (fen) => (fen / 100).toLocaleString('zh-CN', { minimumFractionDigits: 2, maximumFractionDigits: 2 });

export async function contractsPage(content, me) {
  if (me.role !== 'citizen') {
    put(content, h('h2', t('pcontract.title')), empty(t('pcontract.staff'), null, h('a', { class: 'btn', href: '/console/contracts' }, t('portal.staff'))));
    return;
  }
  const list = h('ul', { class: 'p-list', id: 'my-contracts' });
  const more = h('button', { type: 'button', class: 'btn btn-block', id: 'pcontract-more', hidden: true }, t('pcontract.more'));
  const count = h('p', { class: 'p-note', id: 'pcontract-count' });
  const row = (c) => h('li', { class: 'p-item p-contract', dataset: { id: c.id } },
    h('div', { class: `thumb contract-${c.kind}`, 'aria-hidden': 'true' }, t(`contract.kindShort.${c.kind}`)),
    h('div', { style: { flex: '1', minWidth: '0' } },
      h('strong', `${c.asset_name}（${c.area}${t(`contract.unit.${c.unit}`)}）`),
      h('div', { class: 'muted' }, [c.node_name, c.number, c.counterparty].filter(Boolean).join(' · ')),
      h('div', { class: 'muted' }, t('pcontract.term', { start: c.start, end: c.end }), c.terminated ? ` · ${t('contract.terminated')}` : ''),
      h('div', { class: 'muted' }, c.meeting_date ? t('pcontract.meeting', { date: c.meeting_date }) : t('pcontract.noMeeting')),
      c.flags.length ? h('div', { class: 'cflags' }, c.flags.map((f) => h('span', { class: `badge cflag cstatus-${f.status}${f.open ? '' : ' cflag-closed'}` },
        t(`contract.flag.${f.flag}`), ' · ', t(`contract.status.${f.status}`)))) : null),
    h('strong', { class: 'contract-price' }, `¥${yuan(c.yearly_fen)}`, h('small', { class: 'muted' }, t('pcontract.perYear'))));
  let cursor = null;
  const load = async () => {
    const page = await get('me/contracts', { limit: 30, ...(cursor ? { before: cursor } : {}) });
    list.append(...page.items.map(row));
    cursor = page.next_cursor;
    more.hidden = !cursor;
    put(count, t('pcontract.count', { n: fmtNum(list.children.length) }));
    return page.items.length;
  };
  more.addEventListener('click', () => load());
  const first = await load();
  if (!first) {
    put(content, h('h2', t('pcontract.title')), empty(t('pcontract.none'), t('pcontract.noneHint')));
    return;
  }
  put(content, h('h2', t('pcontract.title')),
    h('section', { class: 'p-card' }, h('p', { class: 'p-note', role: 'note' }, t('pcontract.lead')), count, list, more));
}
