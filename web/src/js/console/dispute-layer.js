// The disputes layer of the people's map: open cases per holding centre under the map's area, as
// circles sized by their count and red where some are overdue (GET /map/dispute-centres, GeoJSON points
// with {node_code, name, open, overdue}). Read once per area, not per pan.
import { t } from '../i18n.js';
import { get } from '../api.js';
import { h, fmtNum } from '../dom.js';

/** The points of an answer of either shape. */
export function disputePoints(r) {
  if (!r) return [];
  if (Array.isArray(r.features)) {
    return r.features.filter((f) => f.geometry && f.geometry.type === 'Point')
      .map((f) => ({ lon: f.geometry.coordinates[0], lat: f.geometry.coordinates[1], ...f.properties }));
  }
  return (r.items || (Array.isArray(r) ? r : [])).filter((p) => p.lon !== null && p.lon !== undefined);
}

/** A layer group that redraws for the map's view while `enabled()` says so. */
export function disputeLayer(L, map, { enabled, node }) {
  const group = L.layerGroup().addTo(map);
  let seq = 0;
  async function load() {
    const mine = ++seq;
    group.clearLayers();
    if (!enabled()) return;
    const r = await get('map/dispute-centres', node() ? { node: node() } : {}).catch(() => null);
    if (mine !== seq) return;
    for (const p of disputePoints(r)) {
      const open = p.open ?? p.count ?? 1;
      const radius = Math.min(24, 5 + Math.sqrt(open) * 3);
      const red = (p.overdue || 0) > 0 || p.light === 'red';
      L.circleMarker([p.lat, p.lon], { radius, color: red ? '#d23b2f' : '#b8860b', weight: 2, fillColor: red ? '#f6c3be' : '#f7e3a1', fillOpacity: 0.85 })
        .bindPopup(() => h('div', { class: 'dispute-pop' },
          h('strong', p.name || p.number || p.node_code || ''),
          h('div', t('dmap.open', { n: fmtNum(open) })),
          p.overdue ? h('div', { class: 'badge sup-red' }, t('dmap.overdue', { n: fmtNum(p.overdue) })) : null,
          h('a', { href: p.id ? `/console/disputes/${p.id}` : `/console/disputes?node=${encodeURIComponent(p.node_code || '')}` }, t('common.open'))))
        .addTo(group);
    }
  }
  return { load, group };
}
