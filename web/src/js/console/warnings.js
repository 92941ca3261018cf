// Warnings to people (预警发布): the centre picks grids on the map (or from the list), writes a
// colour-graded message, and sends it: the residents and grid workers there hear of it at once,
// e-mail and SMS leave through the outbox, other systems read it as CAP 1.2, and the roster of
// vulnerable people in the area opens with it. Below: the warnings sent, with their deliveries.
import { t } from '../i18n.js';
import { get, post } from '../api.js';
import { h, put, loading, empty, errorBox, field, fmtTime, toast, leaflet } from '../dom.js';
import { LEVELS, label, levelBadge } from './risks.js';
import { baseLayer, mapOptions, geometryBounds } from '../map/base.js';

const SENDERS = ['analyst', 'dispatcher', 'admin'];

function deliveryText(d) {
  if (!d) return '—';
  return ['email', 'sms'].map((c) => {
    const x = d[c] || {};
    return `${t(`warning.channel.${c}`)} ${t('warning.sent', { n: x.sent || 0 })}${x.pending ? ' · ' + t('warning.pending', { n: x.pending }) : ''}${x.failed ? ' · ' + t('warning.failed', { n: x.failed }) : ''}${x.configured === false ? ' · ' + t('warning.unconfigured') : ''}`;
  }).join('；');
}

function warningRow(w) {
  const grids = (w.grids || []).map((g) => (typeof g === 'string' ? g : g.name || g.code));
  return h('tr', { dataset: { id: w.id } },
    h('td', { class: 'id' }, w.number),
    h('td', levelBadge(w.level), ' ', h('strong', w.title), h('div', { class: 'muted' }, w.message)),
    h('td', { class: 'muted' }, grids.join('、')),
    h('td', t('warning.notified', { n: w.notified || 0 }), h('div', { class: 'muted' }, deliveryText(w.deliveries))),
    h('td', w.roster_id ? h('a', { href: `/console/emergency/${w.roster_id}` }, t('warning.roster')) : '—', ' ',
      h('a', { href: w.cap_url || `/api/v1/warnings/${w.id}/cap`, target: '_blank', rel: 'noopener' }, 'CAP')),
    h('td', { class: 'muted' }, fmtTime(w.created_at)));
}

async function composer(ctx, onSent) {
  const { me, query } = ctx;
  const chosen = new Map();
  const chips = h('div', { class: 'chips', id: 'warning-grids', 'aria-live': 'polite' });
  const drawChips = () => put(chips, chosen.size
    ? [...chosen.entries()].map(([code, name]) => h('span', { class: 'chip', dataset: { code } }, name, ' ',
      h('button', { type: 'button', class: 'btn-link', 'aria-label': t('warning.removeGrid', { name }), onclick: () => toggle(code, name) }, '×')))
    : h('span', { class: 'muted' }, t('warning.noGrids')));
  const canvas = h('div', { class: 'map-canvas', id: 'warning-map', style: { height: '360px' } });
  const list = h('div', { class: 'check-list', id: 'warning-grid-list' });
  const layers = new Map();
  const style = (on) => ({ color: on ? '#c0392b' : '#3b6ea5', weight: on ? 3 : 1, fillOpacity: on ? 0.35 : 0.08 });
  function toggle(code, name) {
    if (chosen.has(code)) chosen.delete(code); else chosen.set(code, name);
    const l = layers.get(code);
    if (l) l.setStyle(style(chosen.has(code)));
    const box = list.querySelector(`input[value="${code}"]`);
    if (box) box.checked = chosen.has(code);
    drawChips();
  }
  const form = h('form', { class: 'card-body', id: 'warning-form', novalidate: true },
    h('div', { class: 'form-grid' },
      field(t('warning.f.level'), h('select', { name: 'level', id: 'warning-level' }, LEVELS.map((l) => h('option', { value: l, selected: l === (query.get('level') || 'orange') }, label('risk.level', l))))),
      field(t('warning.f.title'), h('input', { name: 'title', id: 'warning-title', required: true, maxlength: 100, value: query.get('title') || '' }))),
    field(t('warning.f.message'), h('textarea', { name: 'message', id: 'warning-message', required: true, rows: 3, maxlength: 1000 })),
    query.get('risk') ? h('p', { class: 'muted' }, t('warning.forRisk', { id: query.get('risk') })) : null,
    h('h3', t('warning.f.grids')), chips, canvas, list,
    h('div', { class: 'form-error', role: 'alert', hidden: true, id: 'warning-error' }),
    h('button', { class: 'btn btn-primary', type: 'submit', id: 'warning-send' }, t('warning.send')));
  drawChips();
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const err = form.querySelector('#warning-error');
    err.hidden = true;
    if (!form.reportValidity()) return;
    if (!chosen.size) { err.textContent = t('warning.pickGrids'); err.hidden = false; return; }
    try {
      const w = await post('warnings', {
        title: form.elements.title.value.trim(), message: form.elements.message.value.trim(), level: form.elements.level.value,
        grids: [...chosen.keys()], risk_id: query.get('risk') ? Number(query.get('risk')) : null,
      });
      toast(t('warning.done', { n: w.notified || 0 }));
      chosen.clear(); drawChips(); form.reset();
      for (const [code, l] of layers) l.setStyle(style(chosen.has(code)));
      onSent(w);
    } catch (x) {
      err.textContent = x.describe ? x.describe() : String(x);
      err.hidden = false;
    }
  });
  // The grids in view (of the user's area), on the map and as a list; the map opens on the
  // risk's place when the composer comes from a risk, else on the whole area.
  setTimeout(async () => {
    try {
      const L = await leaflet();
      const root = await get(`nodes/${me.scope_node}`);
      const focus = query.get('node') ? await get(`nodes/${query.get('node')}`).catch(() => null) : null;
      const map = L.map(canvas, mapOptions(L, { zoomSnap: 0.5, attributionControl: false }));
      baseLayer(L, map, canvas);
      const target = (focus && focus.geometry) || root.geometry;
      if (target) map.fitBounds(geometryBounds(target)); else map.setView([22.78, 115.36], 12);
      if (focus && focus.geometry) map.setZoom(Math.min(map.getZoom() - 1.5, 16));
      const grid = L.layerGroup().addTo(map);
      let seq = 0;
      const load = async () => {
        const mine = ++seq;
        const b = map.getBounds();
        const bbox = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map((v) => v.toFixed(5)).join(',');
        const fc = map.getZoom() >= 12 ? await get('map/nodes', { level: 'grid', bbox, zoom: Math.round(map.getZoom()) }) : { features: [] };
        if (mine !== seq) return;
        const feats = (fc.features || []).filter((f) => String(f.properties.code).startsWith(root.path)).slice(0, 400);
        grid.clearLayers();
        layers.clear();
        for (const f of feats) {
          const { code, name } = f.properties;
          const layer = L.geoJSON(f, { style: style(chosen.has(code)) }).addTo(grid);
          layer.on('click', () => toggle(code, name));
          layer.bindTooltip(name);
          layers.set(code, layer);
        }
        put(list, feats.length
          ? feats.map((f) => h('label', { dataset: { code: f.properties.code } },
            h('input', { type: 'checkbox', value: f.properties.code, checked: chosen.has(f.properties.code), onchange: () => toggle(f.properties.code, f.properties.name) }), ' ', f.properties.name))
          : h('p', { class: 'muted' }, t(map.getZoom() >= 12 ? 'warning.noGridsHere' : 'warning.zoomIn')));
      };
      map.on('moveend', () => load().catch((x) => put(list, errorBox(x))));
      await load();
    } catch (x) {
      put(list, errorBox(x));
    }
  }, 0);
  return h('section', { class: 'card', id: 'warning-composer' }, h('div', { class: 'card-head' }, h('h2', t('warning.compose'))), form);
}

export async function render(ctx) {
  const { content, me } = ctx;
  const tbody = h('tbody');
  const status = h('div', { class: 'card-body' }, loading());
  const table = h('table', { class: 'data responsive', id: 'warning-table' },
    h('thead', h('tr', ['warning.col.number', 'warning.col.message', 'warning.col.grids', 'warning.col.reached', 'warning.col.links', 'warning.col.at'].map((c) => h('th', { scope: 'col' }, t(c))))), tbody);
  async function load() {
    try {
      const r = await get('warnings', { limit: 50 });
      if (!ctx.isCurrent()) return;
      put(status, r.items.length ? null : empty(t('warning.none')));
      put(tbody, r.items.map(warningRow));
    } catch (err) {
      put(status, errorBox(err, load));
    }
  }
  put(content,
    SENDERS.includes(me.role) && me.scope_node ? await composer(ctx, load) : null,
    h('section', { class: 'card' }, h('div', { class: 'card-head' }, h('h2', t('warning.sentList'))), status, h('div', { class: 'table-wrap' }, table)));
  await load();
}
