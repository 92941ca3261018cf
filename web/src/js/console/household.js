// A household (户): number, house, and the members with their relation to the head.
import { t } from '../i18n.js';
import { get } from '../api.js';
import { h, put, errorBox } from '../dom.js';
import { memberList } from './resident.js';

export async function render(ctx) {
  const { content, params } = ctx;
  try {
    const hh = await get(`households/${Number(params[0])}`);
    if (!ctx.isCurrent()) return;
    ctx.setTitle(t('household.number', { number: hh.number || `#${hh.id}` }));
    put(content, h('section', { class: 'card', id: 'household' },
      h('div', { class: 'card-head' }, h('h2', t('household.number', { number: hh.number || `#${hh.id}` }))),
      h('div', { class: 'card-body' },
        h('p', { class: 'muted' }, h('span', { class: 'mono' }, hh.node), hh.house_id ? ` · ${t('resident.house')} #${hh.house_id}` : ''),
        hh.members.length ? memberList(hh.members, null) : h('p', { class: 'muted' }, t('household.empty')))));
  } catch (err) {
    put(content, errorBox(err));
  }
}
