// The people's map (民情地图): one level of the tree at a time (county → town → village → grid
// as the map zooms in), only what is in view, outlines simplified by the server for the zoom,
// coloured by a chosen figure; events as clustered points coloured by state.
import { t } from '../i18n.js';
import { get, categories } from '../api.js';
import { h, put, leaflet, debounce, fmtNum, fmtPct, fmtTime, fmtMinutes, stateBadge, lightBadge, isOpen, errorBox } from '../dom.js';
import { baseLayer, mapOptions, geometryBounds, removeMap } from '../map/base.js';
import { FIGURES, scaleFor, legendEl, STATE_COLOURS } from '../map/scale.js';
import { tagCatalogue, tagName } from './visits.js';
import { disputeLayer } from './dispute-layer.js';

const LEVELS = ['province', 'city', 'county', 'town', 'village', 'grid'];
const GRID_LEVELS = ['big', 'middle', 'small', 'micro', 'unit', 'grid'];

/** The tree level drawn at a zoom: ≤ 9 counties, 10–11 towns, 12–13 villages, ≥ 14 grids. */
export function levelForZoom(z) {
  if (z <= 9) return 'county';
  if (z <= 11) return 'town';
  if (z <= 13) return 'village';
  return 'grid';
}

const levelIndex = (l) => LEVELS.indexOf(GRID_LEVELS.includes(l) ? 'grid' : l);

function figureText(figure, v) {
  if (v === null || v === undefined) return t('map.noValue');
  if (figure === 'on_time_rate') return fmtPct(v);
  if (figure === 'satisfaction') return fmtNum(v, 2);
  return fmtNum(v);
}

export async function render(ctx) {
  const { content, me, query } = ctx;
  const L = await leaflet();
  const cats = await categories();
  const root = await get(`nodes/${me.scope_node}`);
  const rootIndex = levelIndex(root.level);

  const state = {
    figure: FIGURES.includes(query.get('figure')) ? query.get('figure') : 'open',
    days: Number(query.get('days')) || 30,
    events: true,
    openOnly: true,
    hiddenCats: new Set(),
    selected: null,
  };

  // ----- layout -----
  const canvas = h('div', { class: 'map-canvas', id: 'map' });
  const levelLabel = h('div', { class: 'map-level', 'aria-live': 'polite' });
  const busy = h('div', { class: 'map-busy', hidden: true, role: 'status' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), h('span', t('map.loading')));
  const card = h('aside', { class: 'map-card', hidden: true, 'aria-live': 'polite', tabindex: '-1' });
  const status = h('div', { class: 'map-status', 'aria-live': 'polite' });

  const figSel = h('select', { id: 'map-figure' }, FIGURES.map((f) => h('option', { value: f, selected: f === state.figure }, t(`fig.${f}`))));
  const daySel = h('select', { id: 'map-days' }, [7, 30, 90, 365].map((d) => h('option', { value: d, selected: d === state.days }, t('common.lastDays', { n: d }))));
  const evBox = h('input', { type: 'checkbox', id: 'map-events', checked: true });
  const openBox = h('input', { type: 'checkbox', id: 'map-open', checked: true });
  const buildingBox = h('input', { type: 'checkbox', id: 'map-buildings' });
  const placeBox = h('input', { type: 'checkbox', id: 'map-places' });
  const disputeBox = h('input', { type: 'checkbox', id: 'map-disputes' });
  const tops = cats.items.filter((c) => !c.parent_id);
  const catBoxes = h('div', { class: 'checks' }, tops.map((c) => h('label', h('input', { type: 'checkbox', value: c.id, checked: true }), h('span', c.name))));
  const panelBody = h('div', { class: 'panel-body' },
    h('div', { class: 'field' }, h('label', { for: 'map-figure' }, t('map.figure')), figSel),
    h('div', { class: 'field' }, h('label', { for: 'map-days' }, t('map.days')), daySel),
    h('div', { class: 'field field-inline' }, evBox, h('label', { for: 'map-events' }, t('map.events'))),
    h('div', { class: 'field field-inline' }, openBox, h('label', { for: 'map-open' }, t('map.openOnly'))),
    h('div', { class: 'field field-inline' }, buildingBox, h('label', { for: 'map-buildings' }, t('map.buildings'))),
    h('div', { class: 'field field-inline' }, placeBox, h('label', { for: 'map-places' }, t('map.places'))),
    h('div', { class: 'field field-inline' }, disputeBox, h('label', { for: 'map-disputes' }, t('dmap.layer'))),
    h('fieldset', { class: 'plain' }, h('legend', t('map.layers')), catBoxes),
    status);
  const toggle = h('button', { type: 'button', class: 'btn btn-small map-panel-toggle', 'aria-expanded': 'true' }, t('map.controls'));
  const panel = h('section', { class: 'map-panel', 'aria-label': t('map.controls') }, h('h2', h('span', root.name), toggle), panelBody);
  toggle.addEventListener('click', () => {
    const collapsed = panel.classList.toggle('collapsed');
    toggle.setAttribute('aria-expanded', String(!collapsed));
  });
  if (window.matchMedia('(max-width: 900px)').matches) {
    panel.classList.add('collapsed');
    toggle.setAttribute('aria-expanded', 'false');
  }
  put(content, h('div', { class: 'map-page' }, canvas, panel, levelLabel, busy, card));

  // ----- the map -----
  const map = L.map(canvas, mapOptions(L, { preferCanvas: true, zoomSnap: 0.5, minZoom: 5, maxZoom: 18, attributionControl: false, keyboard: true, zoomControl: false }));
  L.control.zoom({ position: 'bottomleft', zoomInTitle: '+', zoomOutTitle: '−' }).addTo(map);
  const tiles = baseLayer(L, map, canvas);
  if (!tiles) status.textContent = t('map.noTiles');
  const renderer = L.canvas({ padding: 0.3 });
  const wide = window.matchMedia('(min-width: 901px)').matches;
  const rootBounds = root.geometry ? geometryBounds(root.geometry) : null;
  if (query.get('lon') && query.get('lat')) {
    map.setView([Number(query.get('lat')), Number(query.get('lon'))], Number(query.get('z')) || 15);
  } else if (rootBounds) {
    map.fitBounds(rootBounds, wide ? { paddingTopLeft: [290, 20], paddingBottomRight: [20, 20] } : { padding: [10, 10] });
  } else {
    map.setView([23, 113], 7);
  }

  // Outline of the user's whole area, always drawn (does not catch clicks).
  if (root.geometry) L.geoJSON(root.geometry, { interactive: false, style: { color: '#0f1d36', weight: 2.5, fill: false, dashArray: '6 4' } }).addTo(map);

  let nodeLayer = null;
  // Regions' names above the shapes and below the orders, never catching a click.
  map.createPane('labels');
  map.getPane('labels').style.zIndex = 450;
  map.getPane('labels').style.pointerEvents = 'none';
  let labels = L.layerGroup().addTo(map);
  // Many points are added in slices of 200 ms; `chunking` says slices are still to come.
  let chunking = false;
  const clusters = L.markerClusterGroup({
    showCoverageOnHover: false, maxClusterRadius: 50, chunkedLoading: true, disableClusteringAtZoom: 16,
    chunkProgress(done, total) {
      chunking = done < total;
    },
    iconCreateFunction(cluster) {
      const children = cluster.getAllChildMarkers();
      const n = children.length;
      const red = children.some((m) => m.options.ev.light === 'red' && isOpen(m.options.ev.state));
      const size = n < 10 ? 34 : n < 100 ? 40 : 48;
      return L.divIcon({ html: `<div class="cluster" style="width:${size}px;height:${size}px;background:${red ? '#d23b2f' : '#1d5bd8'}">${n}</div>`, className: '', iconSize: [size, size] });
    },
  }).addTo(map);
  let legend = null;
  let nodeAbort = null;
  let eventAbort = null;
  let lastEvents = [];
  // Far out (counties and towns), the orders come counted per cell and are drawn as such.
  const groupLayer = L.layerGroup().addTo(map);
  let lastGroups = [];
  const focusEvent = Number(query.get('event')) || null;

  const legendControl = L.control({ position: 'bottomright' });
  legendControl.onAdd = () => {
    legend = h('div');
    return legend;
  };
  legendControl.addTo(map);

  // Never above the level under the user's own area: its single outline would say nothing.
  const minIndex = Math.min(rootIndex + 1, LEVELS.length - 1);
  function currentLevel() {
    let idx = levelIndex(levelForZoom(Math.floor(map.getZoom())));
    if (idx < minIndex) idx = minIndex;
    return LEVELS[idx];
  }

  function bboxParam() {
    const b = map.getBounds().pad(0.1);
    const f = (v) => v.toFixed(5);
    return [Math.max(-180, b.getWest()), Math.max(-90, b.getSouth()), Math.min(180, b.getEast()), Math.min(90, b.getNorth())].map(f).join(',');
  }

  let pending = 0;
  let draws = 0;
  const setBusy = (d) => {
    pending += d;
    busy.hidden = pending <= 0;
  };

  async function loadNodes() {
    if (nodeAbort) nodeAbort.abort();
    nodeAbort = new AbortController();
    const level = currentLevel();
    levelLabel.textContent = t('map.level', { level: t(`level.${level}`) });
    // A card about a region of another level no longer matches what is drawn.
    if (!card.hidden && card.dataset.level && levelIndex(card.dataset.level) !== levelIndex(level)) closeCard();
    setBusy(1);
    try {
      const fc = await get('map/nodes', { level, bbox: bboxParam(), zoom: Math.round(map.getZoom()), figure: state.figure, days: state.days }, { signal: nodeAbort.signal });
      drawNodes(fc, level);
      if (fc.truncated) status.textContent = t('map.truncated');
      else status.textContent = tiles ? '' : t('map.noTiles');
    } catch (err) {
      if (err.name !== 'AbortError') status.textContent = err.describe ? err.describe() : String(err);
    } finally {
      setBusy(-1);
    }
  }

  function drawNodes(fc, level) {
    draws++;
    const values = fc.features.map((f) => f.properties.value);
    const scale = scaleFor(state.figure, values);
    if (nodeLayer) nodeLayer.remove();
    labels.clearLayers();
    const showLabels = fc.features.length <= 80;
    nodeLayer = L.geoJSON(fc, {
      renderer,
      style: (f) => ({
        color: state.selected === f.properties.code ? '#0b3aa8' : '#47556b',
        weight: state.selected === f.properties.code ? 3 : level === 'grid' ? 0.8 : 1.4,
        fillColor: scale.colour(f.properties.value),
        fillOpacity: 0.72,
      }),
      onEachFeature: (f, layer) => {
        const p = f.properties;
        layer.bindTooltip(escapeText(`${p.name} · ${t(`fig.${state.figure}`)} ${figureText(state.figure, p.value)}`), { sticky: true });
        layer.on('click', (e) => {
          L.DomEvent.stopPropagation(e);
          selectNode(p, f.geometry);
        });
        if (showLabels) {
          // The middle of its main land (far islets left out), not of its whole bounding box.
          const c = L.latLngBounds(geometryBounds(f.geometry)).getCenter();
          // A mark centred by its style, not a tooltip: a tooltip measures itself each time it
          // is placed, and up to eighty of them on every zoom made the browser lay out that many times.
          labels.addLayer(L.marker(c, { icon: L.divIcon({ className: 'node-label', iconSize: null, html: `<span>${escapeText(p.name)}</span>` }), pane: 'labels', interactive: false, keyboard: false }));
        }
      },
    }).addTo(map);
    nodeLayer.bringToBack();
    if (legend) put(legend, legendEl(state.figure, scale), state.events ? eventLegend() : null, outlineLegend());
  }

  // Every colour the map draws has its entry: points by state (the closed and refused ones only
  // when closed orders are shown), the overdue ring, the two cluster colours, and the outlines.
  function eventLegend() {
    const states = ['reported', 'accepted', 'dispatched', 'in_progress', 'resolved'].concat(state.openOnly ? [] : ['closed', 'rejected', 'merged']);
    const dot = (bg, extra = {}) => h('span', { class: 'sw', style: { background: bg, borderRadius: '50%', width: '12px', ...extra } });
    return h('div', { class: 'legend legend-events', style: { marginTop: '6px' } }, h('h3', t('map.events')),
      states.map((s) => h('div', { class: 'row' }, dot(STATE_COLOURS[s]), h('span', t(`state.${s}`)))),
      h('div', { class: 'row' }, dot('#fff', { outline: '2px solid #e53935', outlineOffset: '1px' }), h('span', t('map.key.overdue'))),
      h('div', { class: 'row' }, dot('#d23b2f'), h('span', t('map.key.clusterRed'))),
      h('div', { class: 'row' }, dot('#1d5bd8'), h('span', t('map.key.cluster'))));
  }

  function outlineLegend() {
    const line = (style) => h('span', { class: 'sw', style: { background: 'transparent', border: 'none', borderTop: style, height: '0', marginTop: '6px' } });
    return h('div', { class: 'legend legend-lines', style: { marginTop: '6px' } },
      h('div', { class: 'row' }, line('2.5px dashed #0f1d36'), h('span', t('map.key.area'))),
      h('div', { class: 'row' }, line('3px solid #0b3aa8'), h('span', t('map.key.selected'))));
  }

  async function loadEvents() {
    if (eventAbort) eventAbort.abort();
    // The zoom lets the server count the orders per cell when the map is far out (it answers
    // `grouped` then).
    const params = { bbox: bboxParam(), open: state.openOnly, days: state.openOnly ? 3650 : state.days, zoom: Math.round(map.getZoom()) };
    // Hidden categories are left out by the server, so that the cap on points is not spent
    // on them and the counted cells count only what is shown.
    let shown = null;
    if (state.hiddenCats.size) {
      shown = cats.items.filter((c) => !state.hiddenCats.has((cats.top(c.id) || c).id)).map((c) => c.id);
      params.categories = shown.join(',');
    }
    if (!state.events || (shown && !shown.length)) {
      lastEvents = [];
      lastGroups = [];
      drawEvents();
      return;
    }
    eventAbort = new AbortController();
    setBusy(1);
    try {
      const fc = await get('map/events', params, { signal: eventAbort.signal });
      lastEvents = fc.grouped ? [] : fc.features;
      lastGroups = fc.grouped ? fc.features : [];
      drawEvents();
    } catch (err) {
      if (err.name !== 'AbortError') status.textContent = err.describe ? err.describe() : String(err);
    } finally {
      setBusy(-1);
    }
  }

  /**
   * Counted cells as marks that do not overlap: a cell whose mark would lie within 44 px of a
   * fuller one's (a cell's orders sit at their mean position, often near a cell edge) is added
   * to that mark. The server sends the fullest first.
   */
  function apart(groups) {
    const marks = [];
    for (const f of groups) {
      const [lon, lat] = f.geometry.coordinates;
      const at = map.latLngToLayerPoint([lat, lon]);
      const near = marks.find((m) => m.at.distanceTo(at) < 44);
      if (near) {
        near.count += f.properties.count;
        near.red += f.properties.red;
      } else {
        marks.push({ at, lat, lon, count: f.properties.count, red: f.properties.red });
      }
    }
    return marks;
  }

  function drawEvents() {
    clusters.clearLayers();
    groupLayer.clearLayers();
    for (const { lat, lon, count, red } of apart(lastGroups)) {
      const size = count < 10 ? 34 : count < 100 ? 40 : 48;
      const icon = L.divIcon({ html: `<div class="cluster" style="width:${size}px;height:${size}px;background:${red ? '#d23b2f' : '#1d5bd8'}">${count}</div>`, className: '', iconSize: [size, size] });
      const label = t('map.group', { n: count, red });
      const m = L.marker([lat, lon], { icon, title: label, alt: label, keyboard: true });
      m.on('click', () => map.setView([lat, lon], Math.round(map.getZoom()) + 2));
      groupLayer.addLayer(m);
    }
    const markers = [];
    for (const f of lastEvents) {
      const p = f.properties;
      const top = cats.top(p.category_id);
      if (top && state.hiddenCats.has(top.id)) continue;
      const [lon, lat] = f.geometry.coordinates;
      const red = p.light === 'red' && isOpen(p.state);
      const icon = L.divIcon({ className: '', iconSize: [20, 20], html: `<div class="ev-dot${red ? ' red' : ''}" style="background:${STATE_COLOURS[p.state] || '#555'}"></div>` });
      const m = L.marker([lat, lon], { icon, ev: p, title: `#${p.id} ${t(`state.${p.state}`)}`, alt: `#${p.id}`, keyboard: true, riseOnHover: true });
      m.on('click', () => selectEvent(p.id));
      markers.push(m);
    }
    chunking = markers.length > 0;
    clusters.addLayers(markers);
  }

  // ----- cards -----
  function closeCard() {
    card.hidden = true;
    put(card);
    delete card.dataset.level;
    state.selected = null;
    if (nodeLayer) nodeLayer.setStyle((f) => ({ color: '#47556b', weight: f.properties.level && GRID_LEVELS.includes(f.properties.level) ? 0.8 : 1.4 }));
  }

  function cardShell(title, ...body) {
    return [h('div', { class: 'card-head' }, h('h2', title), h('button', { type: 'button', class: 'btn btn-small', onclick: closeCard, 'aria-label': t('common.close') }, '×')),
      h('div', { class: 'card-body' }, body)];
  }

  // Padding that keeps an area clear of the control panel (left) and the card (right).
  const fitPadding = () => (wide ? { paddingTopLeft: [290, 20], paddingBottomRight: [card.hidden ? 20 : 345, 20] } : { padding: [10, 10] });

  /** The least zoom that draws the level below `level` (see levelForZoom). */
  const CHILD_ZOOM = { province: 9, city: 9, county: 10, town: 12, village: 14 };

  /**
   * Drill down into a region: the old card goes, the map fits the region and draws its children
   * (zoomed in far enough for their level even when the region would fit at its own).
   */
  function drill(geometry, level) {
    closeCard();
    const b = L.latLngBounds(geometryBounds(geometry));
    const fit = map.getBoundsZoom(b, false, wide ? L.point(310, 40) : L.point(20, 20));
    const zoom = Math.min(map.getMaxZoom(), Math.max(fit, CHILD_ZOOM[level] || fit));
    map.setView(b.getCenter(), zoom);
  }

  async function selectNode(p, geometry) {
    state.selected = p.code;
    if (nodeLayer) nodeLayer.setStyle((f) => ({ color: f.properties.code === p.code ? '#0b3aa8' : '#47556b', weight: f.properties.code === p.code ? 3 : GRID_LEVELS.includes(f.properties.level) ? 0.8 : 1.4 }));
    card.hidden = false;
    card.dataset.code = p.code;
    card.dataset.level = p.level;
    put(card, cardShell(p.name, h('div', { class: 'state-box loading' }, h('span', { class: 'spinner' }), t('common.loading'))));
    // An opened grid shows its events: points on, and the whole grid in view beside the card.
    if (GRID_LEVELS.includes(p.level) && geometry) {
      if (!state.events) {
        state.events = true;
        evBox.checked = true;
      }
      const b = L.latLngBounds(geometryBounds(geometry));
      if (!map.getBounds().contains(b)) map.fitBounds(b, fitPadding());
      else loadEvents();
    }
    try {
      // Base data (residents, counts by tag) for the roles that hold it; others see none.
      const [c, base, tags] = await Promise.all([get('map/card', { code: p.code }),
        get('figures/base', { node: p.code }).catch(() => null), tagCatalogue().catch(() => new Map())]);
      if (card.dataset.code !== p.code) return;
      const f = c.figures_30_days || {};
      const cnt = f.counters || {};
      const isGrid = GRID_LEVELS.includes(c.level);
      put(card, cardShell(c.name,
        h('div', { class: 'chain' }, c.chain.filter((n) => n.code !== c.code).map((n) => n.name).join(' › ')),
        h('div', { class: 'muted', style: { fontSize: '12px' } }, t(`level.${c.level}`), ' · ', h('span', { class: 'mono' }, c.code)),
        h('div', { class: 'kv' },
          h('div', h('small', t('map.card.open')), h('b', fmtNum(c.open))),
          h('div', h('small', t('map.card.overdue')), h('b', { style: { color: c.overdue ? '#c62828' : null } }, fmtNum(c.overdue)))),
        h('h3', t('map.card.figures')),
        h('div', { class: 'kv' },
          h('div', h('small', t('fig.reported')), h('b', fmtNum(cnt.reported))),
          h('div', h('small', t('fig.closed')), h('b', fmtNum(cnt.closed))),
          h('div', h('small', t('fig.on_time_rate')), h('b', fmtPct(f.on_time_rate))),
          h('div', h('small', t('fig.satisfaction')), h('b', f.satisfaction_mean && f.satisfaction_mean.value !== null ? fmtNum(f.satisfaction_mean.value, 2) : '—')),
          h('div', h('small', t('fig.median_close')), h('b', { style: { fontSize: '14px' } }, fmtMinutes(f.median_close_minutes))),
          h('div', h('small', t('fig.share_village')), h('b', fmtPct(f.share_village)))),
        h('h3', t('map.card.staff')),
        c.staff.length
          ? h('ul', { class: 'staff' }, c.staff.map((s) => h('li', h('span', s.name), h('span', { class: 'muted' }, t(`role.${s.role}`)))))
          : h('p', { class: 'muted' }, t('map.card.noStaff')),
        base ? [h('h3', t('base.title')),
          h('div', { class: 'kv', id: 'map-card-base' },
            h('div', h('small', t('base.residents')), h('b', fmtNum(base.residents))),
            h('div', h('small', t('base.visitsOverdue')), h('b', fmtNum(base.visits.overdue))),
            Object.entries(base.tags).filter(([, n]) => n > 0).sort((x, y) => y[1] - x[1])
              .map(([code, n]) => h('div', { dataset: { tag: code } }, h('small', tagName(tags, code)), h('b', fmtNum(n)))))] : null,
        h('div', { style: { display: 'flex', gap: '8px', marginTop: '12px', flexWrap: 'wrap' } },
          !isGrid && geometry ? h('button', { type: 'button', class: 'btn btn-primary btn-small', id: 'map-drill', onclick: () => drill(geometry, c.level) }, t('map.card.zoom')) : null,
          h('a', { class: 'btn btn-small', href: `/console/events?under=${c.code}` }, t('map.card.events')))));
    } catch (err) {
      put(card, cardShell(p.name, errorBox(err)));
    }
  }

  async function selectEvent(id) {
    card.hidden = false;
    card.dataset.code = `ev-${id}`;
    delete card.dataset.level;
    put(card, cardShell(`#${id}`, h('div', { class: 'state-box loading' }, h('span', { class: 'spinner' }), t('common.loading'))));
    try {
      const e = await get(`events/${id}`);
      if (card.dataset.code !== `ev-${id}`) return;
      const cat = cats.byId.get(e.category_id);
      put(card, cardShell(`${t('map.card.event')} #${e.id}`,
        h('div', { style: { display: 'flex', gap: '8px', flexWrap: 'wrap', alignItems: 'center', marginBottom: '8px' } }, stateBadge(e.state), lightBadge(e.light, e.due_at, isOpen(e.state))),
        h('p', h('strong', cat ? cat.name : ''), ' · ', e.description),
        e.address ? h('p', { class: 'muted' }, e.address) : null,
        h('p', { class: 'muted' }, fmtTime(e.created_at)),
        e.photos && e.photos[0] ? h('img', { src: e.photos[0].url, alt: t('photo.alt', { stage: t('photo.stage.report') }), style: { borderRadius: '8px', maxHeight: '160px', objectFit: 'cover', width: '100%' } }) : null,
        h('a', { class: 'btn btn-primary btn-small', href: `/console/events/${e.id}`, style: { marginTop: '10px' } }, t('common.open'))));
    } catch (err) {
      put(card, cardShell(`#${id}`, errorBox(err)));
    }
  }

  // ----- buildings and places (base data), as points, from zoom 13 on -----
  const basePoints = L.layerGroup().addTo(map);
  async function loadBase() {
    basePoints.clearLayers();
    if ((!buildingBox.checked && !placeBox.checked) || map.getZoom() < 13) return;
    const bbox = bboxParam();
    const [bs, ps] = await Promise.all([
      buildingBox.checked ? get('buildings', { bbox, limit: 2000 }).catch(() => ({ items: [] })) : { items: [] },
      placeBox.checked ? get('places', { bbox, limit: 2000 }).catch(() => ({ items: [] })) : { items: [] },
    ]);
    for (const b of bs.items.filter((x) => x.lon !== null)) {
      L.circleMarker([b.lat, b.lon], { radius: 5, color: '#5b4a9e', weight: 2, fillColor: '#c9bff0', fillOpacity: 0.9 })
        .bindPopup(() => h('div', h('strong', b.name), b.floors ? ` · ${t('building.floorsN', { n: b.floors })}` : '', h('br'), h('a', { href: `/console/buildings/${b.id}` }, t('common.open'))))
        .addTo(basePoints);
    }
    for (const p of ps.items.filter((x) => x.lon !== null)) {
      L.circleMarker([p.lat, p.lon], { radius: 5, color: p.overdue ? '#d23b2f' : '#1b6b34', weight: 2, fillColor: '#fff', fillOpacity: 0.9 })
        .bindPopup(() => h('div', h('strong', p.name), ` · ${t(`place.kind.${p.kind}`)}`, p.overdue ? h('div', { class: 'badge roster-unreachable' }, t('place.overdue')) : null,
          h('br'), h('a', { href: `/console/places?node=${p.node_code}` }, t('common.open'))))
        .addTo(basePoints);
    }
  }
  buildingBox.addEventListener('change', () => loadBase());
  const disputes = disputeLayer(L, map, { enabled: () => disputeBox.checked, node: () => root.code });
  disputeBox.addEventListener('change', () => disputes.load());
  placeBox.addEventListener('change', () => loadBase());

  // ----- wiring -----
  // Asked 100 ms after a move ends: Leaflet already ends a wheel's or a drag's steps in one
  // `moveend`, so the wait only gathers moves made in a quick row (keys, buttons); a request
  // still in flight when the next begins is aborted.
  const refresh = debounce(() => {
    loadNodes();
    loadEvents();
    loadBase();
  }, 100);
  map.on('moveend', refresh);
  map.on('click', closeCard);
  figSel.addEventListener('change', () => {
    state.figure = figSel.value;
    loadNodes();
  });
  daySel.addEventListener('change', () => {
    state.days = Number(daySel.value);
    loadNodes();
    if (!state.openOnly) loadEvents();
  });
  evBox.addEventListener('change', () => {
    state.events = evBox.checked;
    loadEvents();
    loadNodes();
  });
  openBox.addEventListener('change', () => {
    state.openOnly = openBox.checked;
    loadEvents();
    loadNodes();
  });
  catBoxes.addEventListener('change', (e) => {
    const id = Number(e.target.value);
    if (e.target.checked) state.hiddenCats.delete(id);
    else state.hiddenCats.add(id);
    // Drawn at once from what is here, then asked again with the new choice.
    drawEvents();
    loadEvents();
  });
  const onKey = (e) => {
    if (e.key === 'Escape' && !card.hidden) closeCard();
  };
  document.addEventListener('keydown', onKey);

  await Promise.all([loadNodes(), loadEvents()]);
  if (focusEvent) selectEvent(focusEvent);
  // Expose for the browser tests, the pan bench and debugging: what is drawn now, how many times
  // the outlines were drawn and how many requests (or slices of points) are still to come.
  window.__shanzhiMap = { map, state: () => ({ level: currentLevel(), nodes: nodeLayer ? nodeLayer.getLayers().length : 0, events: lastEvents.length, groups: lastGroups.length, draws, pending: pending + (chunking ? 1 : 0) }) };

  return () => {
    document.removeEventListener('keydown', onKey);
    if (nodeAbort) nodeAbort.abort();
    if (eventAbort) eventAbort.abort();
    removeMap(map);
    delete window.__shanzhiMap;
  };
}

/** Leaflet tooltips take HTML: escape the name. */
function escapeText(s) {
  const d = document.createElement('div');
  d.textContent = s;
  return d.innerHTML;
}
