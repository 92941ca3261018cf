// Buildings (楼栋) of the user's area and one building with its houses (房屋) and the people
// living in each (personal data masked).
import { t } from '../i18n.js';
import { get } from '../api.js';
import { h, put, loading, empty, errorBox } from '../dom.js';

export async function render(ctx) {
  const id = ctx.params[0];
  return id ? building(ctx, Number(id)) : list(ctx);
}

async function list(ctx) {
  const { content, me, query } = ctx;
  // Those who write base data bring buildings and houses in from a spreadsheet.
  const canImport = ['admin', 'dispatcher', 'grid_worker'].includes(me.role);
  const body = h('div', { class: 'table-wrap' }, loading());
  put(content, h('section', { class: 'card' }, h('div', { class: 'card-head' }, h('h2', t('building.title')),
    canImport ? h('div', { class: 'row-actions' },
      h('a', { class: 'btn btn-small', href: '/console/buildings/import', id: 'building-import' }, t('building.import'))) : null), body));
  try {
    const r = await get('buildings', { node: query.get('node') || undefined, limit: 500 });
    if (!ctx.isCurrent()) return;
    put(body, r.items.length ? h('table', { class: 'data responsive', id: 'building-list' },
      h('thead', h('tr', ['building.name', 'building.floors', 'building.node'].map((k) => h('th', { scope: 'col' }, t(k))))),
      h('tbody', r.items.map((b) => h('tr',
        h('td', { 'data-label': t('building.name') }, h('a', { href: `/console/buildings/${b.id}` }, b.name)),
        h('td', { 'data-label': t('building.floors') }, b.floors ?? '—'),
        h('td', { 'data-label': t('building.node'), class: 'mono' }, b.node_code)))))
      : empty(t('building.none')));
  } catch (err) {
    put(body, errorBox(err));
  }
}

/** A house card: room, use, owner and the people living there. */
export function houseCard(house) {
  return h('section', { class: 'card house-card', dataset: { house: house.id } },
    h('div', { class: 'card-head' }, h('h3', house.room), h('span', { class: 'badge' }, t(`house.use.${house.use}`))),
    h('div', { class: 'card-body' },
      h('p', { class: 'muted' }, t('house.owner'), ': ', house.owner_name || '—', house.area ? ` · ${house.area} m²` : ''),
      house.occupants && house.occupants.length
        ? h('ul', { class: 'plain-list' }, house.occupants.map((o) => h('li',
          h('strong', o.name), ` · ${o.birth_year || ''} · `, h('span', { class: 'mono' }, o.id_number || '—'), ' · ', h('span', { class: 'mono' }, o.phone || '—'))))
        : h('p', { class: 'muted' }, t('house.nobody'))));
}

async function building(ctx, id) {
  const { content } = ctx;
  try {
    const b = await get(`buildings/${id}`);
    put(content, h('article', { id: 'building-page' },
      h('header', { class: 'card' }, h('div', { class: 'card-body' },
        h('h2', { id: 'building-title' }, b.name),
        h('p', { class: 'muted' }, [b.address, b.floors ? t('building.floorsN', { n: b.floors }) : null, b.node_code].filter(Boolean).join(' · ')))),
      b.houses.length ? h('div', { class: 'house-grid' }, b.houses.map(houseCard)) : empty(t('building.noHouses'))));
  } catch (err) {
    put(content, errorBox(err));
  }
}
