// 我的积分: the resident's points in each village they live in — the balance, the history
// (awards, automatic ones for confirmed reports, and redemptions), the village's ranking (names
// masked), its rules, and the points shop with a redeem button; a refusal (too few points, out
// of stock) is said under the item.
import { t } from '../i18n.js';
import { get, post } from '../api.js';
import { h, put, empty, fmtTime, toast } from '../dom.js';

const signed = (n) => (n > 0 ? `+${n}` : `${n}`.replace('-', '−'));

export async function pointsPage(content, me) {
  if (me.role !== 'citizen') {
    put(content, h('h2', t('ppoints.title')), empty(t('ppoints.staff'), null, h('a', { class: 'btn', href: '/console/points' }, t('portal.staff'))));
    return;
  }
  const mine = await get('me/points');
  if (!mine.villages.length) {
    put(content, h('h2', t('ppoints.title')), empty(t('ppoints.noVillage'), t('ppoints.noVillageHint')));
    return;
  }
  const sections = [];
  for (const v of mine.villages) {
    const [rules, rank, shop] = await Promise.all([
      get('points/rules', { node: v.node }), get('points/ranking', { node: v.node, limit: 10 }), get('points/items', { node: v.node })]);
    const balance = h('strong', { class: 'p-points-balance', dataset: { node: v.node } }, String(v.balance));
    const history = mine.history.filter((x) => x.node === v.node);
    sections.push(
      h('section', { class: 'p-card p-points', dataset: { node: v.node } },
        h('p', { class: 'muted' }, t('ppoints.balance', { village: v.name || v.node })), balance),
      h('section', { class: 'p-card' }, h('h2', t('ppoints.shop')),
        shop.items.length
          ? h('ul', { class: 'p-list', id: `p-shop-${v.node}` }, shop.items.map((item) => shopRow(item, balance)))
          : h('p', { class: 'muted' }, t('ppoints.noItems'))),
      h('section', { class: 'p-card' }, h('h2', t('ppoints.history')),
        history.length
          ? h('ul', { class: 'p-list', id: `p-history-${v.node}` }, history.map((x) => h('li', { class: 'p-item' },
            h('div', { style: { flex: '1', minWidth: '0' } },
              h('strong', x.kind === 'award' ? (x.rule_name || x.note) : t('ppoints.redemption', { item: x.item_name, n: x.quantity })),
              h('div', { class: 'muted' }, [fmtTime(x.at), x.kind === 'award' ? x.note : null, x.automatic ? t('points.automatic') : null].filter(Boolean).join(' · '))),
            h('strong', { class: x.points > 0 ? 'points-plus' : 'points-minus' }, signed(x.points)))))
          : h('p', { class: 'muted' }, t('ppoints.noHistory'))),
      h('section', { class: 'p-card' }, h('h2', t('ppoints.ranking')),
        rank.items.length
          ? h('ol', { class: 'p-list', id: `p-ranking-${v.node}` }, rank.items.map((x) => h('li', { class: `p-item${x.me ? ' p-me' : ''}` },
            h('span', { class: 'p-rank' }, String(x.rank)), h('span', { style: { flex: '1' } }, x.name, x.me ? ` (${t('ppoints.me')})` : ''), h('strong', String(x.balance)))))
          : h('p', { class: 'muted' }, t('points.noRanking'))),
      h('section', { class: 'p-card' }, h('h2', t('ppoints.rules')),
        h('ul', { class: 'p-list' }, rules.items.map((r) => h('li', { class: 'p-item' }, h('span', { style: { flex: '1' } }, r.name), h('strong', signed(r.points)))))));
  }
  put(content, h('h2', t('ppoints.title')), h('p', { class: 'p-note', role: 'note' }, t('ppoints.lead')), sections);
}

/** An item of the shop with its redeem button; a refusal is said under it. */
function shopRow(item, balance) {
  const note = h('div', { class: 'muted', dataset: { price: item.price } }, t('ppoints.price', { price: item.price, stock: item.stock }));
  const refusal = h('div', { class: 'form-error', role: 'alert', hidden: true });
  const btn = h('button', { type: 'button', class: 'btn btn-primary btn-small', dataset: { item: item.id } }, t('ppoints.redeem'));
  btn.addEventListener('click', async () => {
    refusal.hidden = true;
    btn.disabled = true;
    try {
      const r = await post('points/redemptions', { item_id: item.id, quantity: 1 });
      item.stock -= 1;
      put(note, t('ppoints.price', { price: item.price, stock: item.stock }));
      put(balance, String(r.balance));
      toast(t('ppoints.redeemed', { item: item.name }));
    } catch (err) {
      refusal.hidden = false;
      put(refusal, err.describe ? err.describe() : String(err));
    } finally {
      btn.disabled = false;
    }
  });
  return h('li', { class: 'p-item', dataset: { id: item.id } },
    h('div', { style: { flex: '1', minWidth: '0' } }, h('strong', item.name), note, refusal), btn);
}
