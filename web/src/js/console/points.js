// 积分管理: a village's points system — its rules (points given or taken, by hand or for a
// confirmed report), the award form (a resident of the village, a rule, what they did, photos),
// the ranking, the points shop with its stock, and the recent awards and redemptions. The
// village's staff and committee manage; the server refuses others with its reason.
import { t } from '../i18n.js';
import { api, get, post, uploadPhoto } from '../api.js';
import { h, put, loading, empty, errorBox, fmtTime, toast, field, formDialog } from '../dom.js';
import { duties, villages } from './village.js';

const KINDS = ['manual', 'report_confirmed'];
const signed = (n) => (n > 0 ? `+${n}` : String(n));
const table = (id, cols, rows) => h('div', { class: 'table-wrap' }, h('table', { class: 'data responsive', id },
  h('thead', h('tr', cols.map((c) => h('th', { scope: 'col' }, c ? t(c) : '')))), h('tbody', rows)));
const editBtn = (fn) => h('button', { type: 'button', class: 'btn btn-small', onclick: fn }, t('points.edit'));

export async function render(ctx) {
  const { content, me, query } = ctx;
  const held = await duties(me);
  const list = await villages(me, held);
  if (!list.length) {
    put(content, empty(t('points.noVillage'), t('points.noVillageHint')));
    return undefined;
  }
  const village = h('select', { id: 'points-village' }, list.map(([code, name]) => h('option', { value: code }, `${name} (${code})`)));
  village.value = query.get('node') && list.some(([c]) => c === query.get('node')) ? query.get('node') : list[0][0];
  const status = h('div');
  const rules = h('div', { id: 'points-rules' });
  const award = h('div', { id: 'points-award' });
  const ranking = h('div', { id: 'points-ranking' });
  const items = h('div', { id: 'points-items' });
  const awards = h('div', { id: 'points-awards' });
  const redemptions = h('div', { id: 'points-redemptions' });
  const card = (title, body, action) => h('section', { class: 'card' }, h('div', { class: 'card-head' }, h('h2', t(title)), action || null), h('div', { class: 'card-body' }, body));
  put(content,
    h('section', { class: 'card' }, h('div', { class: 'card-body' }, field(t('points.village'), village)), status),
    card('points.rules', rules, h('button', { type: 'button', class: 'btn btn-primary', id: 'points-new-rule', onclick: () => ruleForm(village.value, null, load) }, t('points.newRule'))),
    card('points.award', award),
    h('div', { class: 'points-grid' },
      card('points.ranking', ranking),
      card('points.shop', items, h('button', { type: 'button', class: 'btn', id: 'points-new-item', onclick: () => itemForm(village.value, null, load) }, t('points.newItem')))),
    card('points.awards', awards),
    card('points.redemptions', redemptions));

  async function load() {
    put(status, loading());
    const node = village.value;
    try {
      const [r, res, rank, shop, aw, red] = await Promise.all([
        get('points/rules', { node }), get('points/residents', { node }), get('points/ranking', { node }),
        get('points/items', { node }), get('points/awards', { node, limit: 30 }), get('points/redemptions', { node, limit: 30 })]);
      put(status, null);
      put(rules, r.items.length
        ? table('points-rule-table', ['points.col.name', 'points.col.points', 'points.col.kind', 'points.col.state', ''], r.items.map((x) => h('tr', { dataset: { id: x.id } },
          h('td', x.name), h('td', { class: 'num' }, signed(x.points)), h('td', t(`points.kind.${x.kind}`)),
          h('td', x.active ? t('points.active') : t('points.inactive')), h('td', editBtn(() => ruleForm(node, x, load))))))
        : empty(t('points.noRules')));
      put(award, awardForm(node, r.items.filter((x) => x.active && x.kind === 'manual'), res.items, load));
      put(ranking, rank.items.length
        ? table('points-rank-table', ['points.col.rank', 'points.col.resident', 'points.col.balance'], rank.items.map((x) => h('tr',
          h('td', String(x.rank)), h('td', x.name), h('td', { class: 'num' }, String(x.balance)))))
        : empty(t('points.noRanking')));
      put(items, shop.items.length
        ? table('points-item-table', ['points.col.item', 'points.col.price', 'points.col.stock', 'points.col.state', ''], shop.items.map((x) => h('tr', { dataset: { id: x.id } },
          h('td', x.name), h('td', { class: 'num' }, String(x.price)), h('td', { class: 'num' }, String(x.stock)),
          h('td', x.active ? t('points.active') : t('points.inactive')), h('td', editBtn(() => itemForm(node, x, load))))))
        : empty(t('points.noItems')));
      put(awards, aw.items.length
        ? table('points-award-table', ['points.col.time', 'points.col.resident', 'points.col.name', 'points.col.points', 'points.col.note', 'points.col.by'], aw.items.map((x) => h('tr',
          h('td', fmtTime(x.awarded_at)), h('td', x.user_name || ''), h('td', x.rule_name || ''), h('td', { class: 'num' }, signed(x.points)),
          h('td', x.note, x.evidence.map((e, i) => [' ', h('a', { href: e.url, target: '_blank', rel: 'noopener' }, t('points.photo', { n: i + 1 }))])),
          h('td', x.automatic ? t('points.automatic') : (x.awarded_by_name || '')))))
        : empty(t('points.noAwards')));
      put(redemptions, red.items.length
        ? table('points-redemption-table', ['points.col.time', 'points.col.resident', 'points.col.item', 'points.col.quantity', 'points.col.points'], red.items.map((x) => h('tr',
          h('td', fmtTime(x.redeemed_at)), h('td', x.user_name || ''), h('td', x.item_name), h('td', { class: 'num' }, String(x.quantity)), h('td', { class: 'num' }, `−${x.points}`))))
        : empty(t('points.noRedemptions')));
    } catch (err) {
      put(status, errorBox(err, load));
    }
  }
  village.addEventListener('change', load);
  await load();
  return undefined;
}

/** The award form: a resident, a manual rule in force, what they did, evidence photos. */
function awardForm(node, rules, residents, after) {
  if (!residents.length) return h('p', { class: 'muted' }, t('points.noResidents'));
  if (!rules.length) return h('p', { class: 'muted' }, t('points.noRules'));
  const who = h('select', { name: 'user_id', required: true, id: 'points-award-user' }, residents.map((r) => h('option', { value: r.user_id }, `${r.name}（${r.balance}）`)));
  const rule = h('select', { name: 'rule_id', required: true, id: 'points-award-rule' }, rules.map((r) => h('option', { value: r.id }, `${r.name} ${signed(r.points)}`)));
  const note = h('input', { name: 'note', required: true, maxlength: 500, id: 'points-award-note' });
  const files = h('input', { type: 'file', accept: 'image/jpeg,image/png,image/webp', multiple: true, id: 'points-award-files' });
  const error = h('div', { class: 'form-error', role: 'alert', hidden: true });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary', id: 'points-award-submit' }, t('points.award'));
  const form = h('form', { novalidate: true },
    h('p', { class: 'muted' }, t('points.awardHint')),
    h('div', { class: 'form-grid' }, field(t('points.resident'), who), field(t('field.rule_id'), rule)),
    field(t('points.col.note'), note), field(t('field.evidence'), files), error, submit);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (!form.reportValidity()) return;
    error.hidden = true;
    submit.disabled = true;
    try {
      const evidence = [];
      for (const f of [...files.files].slice(0, 9)) evidence.push((await uploadPhoto(f)).hash);
      const w = await post('points/awards', { node, user_id: Number(who.value), rule_id: Number(rule.value), note: note.value.trim(), evidence });
      toast(t('points.awarded', { name: who.selectedOptions[0].textContent.replace(/（.*$/, ''), points: signed(w.points) }));
      await after();
    } catch (err) {
      error.hidden = false;
      put(error, err.describe ? err.describe() : String(err));
      submit.disabled = false;
    }
  });
  return form;
}

async function ruleForm(node, rule, after) {
  const name = h('input', { name: 'name', required: true, maxlength: 60, value: rule ? rule.name : '' });
  const points = h('input', { type: 'number', name: 'points', required: true, min: -1000, max: 1000, step: 1, value: rule ? rule.points : 5 });
  const kind = h('select', { name: 'kind', disabled: !!rule }, KINDS.map((k) => h('option', { value: k }, t(`points.kind.${k}`))));
  const active = h('input', { type: 'checkbox', name: 'active', checked: rule ? rule.active : true });
  if (rule) kind.value = rule.kind;
  const ok = await formDialog({
    title: rule ? t('points.editRule') : t('points.newRule'),
    body: h('div', { id: 'points-rule-form' }, field(t('points.col.name'), name), field(t('field.points'), points), field(t('points.col.kind'), kind),
      rule ? field(t('points.active'), active, null, { inline: true }) : null),
    onSubmit: () => (rule
      ? api(`points/rules/${rule.id}`, { method: 'PUT', body: { name: name.value.trim(), points: Number(points.value), active: active.checked } })
      : post('points/rules', { node, name: name.value.trim(), points: Number(points.value), kind: kind.value })),
  });
  if (ok) {
    toast(t('points.saved'));
    await after();
  }
}

async function itemForm(node, item, after) {
  const name = h('input', { name: 'name', required: true, maxlength: 60, value: item ? item.name : '' });
  const price = h('input', { type: 'number', name: 'price', required: true, min: 1, step: 1, value: item ? item.price : 10 });
  const stock = h('input', { type: 'number', name: item ? 'restock' : 'stock', required: !item, step: 1, min: item ? undefined : 0, value: item ? 0 : 10 });
  const active = h('input', { type: 'checkbox', name: 'active', checked: item ? item.active : true });
  const ok = await formDialog({
    title: item ? t('points.editItem') : t('points.newItem'),
    body: h('div', { id: 'points-item-form' }, field(t('points.col.item'), name), field(t('field.price'), price),
      item ? field(t('field.restock'), stock, t('points.restockHint')) : field(t('field.stock'), stock),
      item ? field(t('points.active'), active, null, { inline: true }) : null),
    onSubmit: () => (item
      ? api(`points/items/${item.id}`, { method: 'PUT', body: { name: name.value.trim(), price: Number(price.value), restock: Number(stock.value || 0), active: active.checked } })
      : post('points/items', { node, name: name.value.trim(), price: Number(price.value), stock: Number(stock.value) })),
  });
  if (ok) {
    toast(t('points.saved'));
    await after();
  }
}
