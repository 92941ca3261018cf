// Emergency mode (平急转换): the rosters of vulnerable people of chosen grids, their progress,
// and one roster opened: each person with household, address, tags and grid workers, marked
// contacted / moved / unreachable on the spot (phone-sized rows), and printable on A4.
import { t } from '../i18n.js';
import { get, post } from '../api.js';
import { h, put, field, loading, empty, errorBox, fmtTime, toast, leaflet } from '../dom.js';
import { baseLayer, mapOptions, geometryBounds, removeMap } from '../map/base.js';
import { areaPicker } from './picker.js';

const MARKS = ['contacted', 'moved', 'unreachable'];
const REFRESH_MS = 15000;

/** "Σ marked / Σ entries" and the count per state, as a line of badges. */
export function progressLine(p) {
  return h('div', { class: 'roster-progress' },
    h('strong', t('emergency.progress', { marked: p.marked, total: p.total })), ' ',
    ['pending', ...MARKS].map((s) => h('span', { class: `badge roster-${s}` }, `${t(`emergency.state.${s}`)} ${p[s]}`)));
}

export async function render(ctx) {
  const id = ctx.params[0];
  return id ? roster(ctx, Number(id)) : list(ctx);
}

async function list(ctx) {
  const { content, me } = ctx;
  const body = h('div', { class: 'table-wrap' }, loading());
  const chosen = [];
  const chips = h('ul', { class: 'plain-list', id: 'roster-grids' });
  const picker = areaPicker({ name: 'roster-area', root: me.scope_node });
  const showChips = () => put(chips, chosen.length ? chosen.map((c, i) => h('li', h('span', { class: 'mono' }, c), ' ',
    h('button', { type: 'button', class: 'btn-link', onclick: () => { chosen.splice(i, 1); showChips(); } }, t('emergency.remove')))) : h('li', { class: 'muted' }, t('emergency.noGrids')));
  const addBtn = h('button', { type: 'button', class: 'btn', id: 'roster-add' }, t('emergency.addGrid'));
  addBtn.addEventListener('click', () => {
    const code = picker.querySelector('input[type=hidden]').value;
    if (code && !chosen.includes(code)) chosen.push(code);
    showChips();
  });
  const name = h('input', { id: 'roster-name', name: 'name', required: true, maxlength: 100, autocomplete: 'off', placeholder: t('emergency.namePlaceholder') });
  const out = h('div', { 'aria-live': 'polite' });
  const form = h('form', { class: 'form-grid', id: 'roster-form' },
    field(t('emergency.name'), name, t('emergency.nameHint')),
    field(t('emergency.grids'), picker), h('div', addBtn), chips,
    h('div', h('button', { class: 'btn btn-primary', type: 'submit' }, t('emergency.build'))), out);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      const r = await post('emergency/rosters', { name: name.value, grids: chosen });
      toast(t('emergency.built', { n: r.entries }));
      ctx.navigate(`/console/emergency/${r.id}`);
    } catch (err) {
      put(out, errorBox(err));
    }
  });
  showChips();

  // Or an area drawn on the map: each click adds a corner; the people of the buildings inside.
  const drawEl = h('div', { class: 'roster-draw', id: 'roster-map', role: 'region', 'aria-label': t('emergency.drawMap') });
  const corners = [];
  const drawOut = h('div', { 'aria-live': 'polite' });
  const drawName = h('input', { id: 'roster-draw-name', maxlength: 100, autocomplete: 'off', placeholder: t('emergency.namePlaceholder') });
  const clearBtn = h('button', { type: 'button', class: 'btn' }, t('emergency.clearArea'));
  const drawBtn = h('button', { type: 'button', class: 'btn btn-primary', id: 'roster-draw-build' }, t('emergency.buildArea'));
  const drawCard = h('section', { class: 'card' }, h('div', { class: 'card-head' }, h('h2', t('emergency.draw'))),
    h('div', { class: 'card-body' }, h('p', { class: 'muted' }, t('emergency.drawHint')), drawEl,
      h('div', { class: 'form-grid' }, field(t('emergency.name'), drawName), h('div', clearBtn, ' ', drawBtn)), drawOut));
  let map = null;
  async function mountMap() {
    const L = await leaflet();
    const root = await get(`nodes/${me.scope_node}`);
    if (!ctx.isCurrent()) return;
    map = L.map(drawEl, mapOptions(L, { attributionControl: false }));
    baseLayer(L, map, drawEl);
    if (root.geometry) map.fitBounds(geometryBounds(root.geometry));
    else map.setView([23, 113], 8);
    const shape = L.polygon([], { color: '#d23b2f', weight: 2 }).addTo(map);
    map.on('click', (e) => {
      corners.push([e.latlng.lng, e.latlng.lat]);
      shape.setLatLngs(corners.map(([x, y]) => [y, x]));
    });
    clearBtn.addEventListener('click', () => {
      corners.length = 0;
      shape.setLatLngs([]);
    });
  }
  drawBtn.addEventListener('click', async () => {
    if (corners.length < 3) {
      put(drawOut, h('p', { class: 'form-error' }, t('emergency.needCorners')));
      return;
    }
    try {
      const ring = [...corners, corners[0]];
      const r = await post('emergency/rosters', { name: drawName.value, polygon: { type: 'Polygon', coordinates: [ring] } });
      toast(t('emergency.built', { n: r.entries }));
      ctx.navigate(`/console/emergency/${r.id}`);
    } catch (err) {
      put(drawOut, errorBox(err));
    }
  });

  async function load() {
    const r = await get('emergency/rosters');
    if (!ctx.isCurrent()) return;
    put(body, r.items.length ? h('table', { class: 'data responsive', id: 'roster-list' },
      h('thead', h('tr', ['emergency.name', 'emergency.grids', 'emergency.created', 'emergency.progressTitle'].map((k) => h('th', { scope: 'col' }, t(k))))),
      h('tbody', r.items.map((x) => h('tr',
        h('td', { 'data-label': t('emergency.name') }, h('a', { href: `/console/emergency/${x.id}` }, x.name)),
        h('td', { 'data-label': t('emergency.grids'), class: 'mono' }, x.nodes.join(' ')),
        h('td', { 'data-label': t('emergency.created') }, fmtTime(x.created_at)),
        h('td', { 'data-label': t('emergency.progressTitle') }, progressLine(x.progress))))))
      : empty(t('emergency.none')));
  }
  put(content, h('p', { class: 'lead' }, t('emergency.lead')),
    h('section', { class: 'card' }, h('div', { class: 'card-head' }, h('h2', t('emergency.new'))), h('div', { class: 'card-body' }, form)),
    drawCard,
    h('section', { class: 'card' }, h('div', { class: 'card-head' }, h('h2', t('emergency.rosters'))), body));
  await load().catch((err) => put(body, errorBox(err, load)));
  mountMap().catch((err) => put(drawOut, errorBox(err)));
  const timer = setInterval(() => load().catch(() => {}), REFRESH_MS);
  return () => {
    clearInterval(timer);
    removeMap(map);
  };
}

async function roster(ctx, id) {
  const { content, me } = ctx;
  let r;
  try {
    r = await get(`emergency/rosters/${id}`);
  } catch (err) {
    put(content, errorBox(err));
    return undefined;
  }
  const canMark = ['admin', 'dispatcher', 'grid_worker'].includes(me.role);
  const progress = h('div', { id: 'roster-progress' }, progressLine(r.progress));
  const tbody = h('tbody');
  const markCell = (e) => {
    if (!canMark) return t(`emergency.state.${e.state}`);
    const note = h('input', { class: 'roster-note', maxlength: 500, 'aria-label': t('emergency.note'), placeholder: t('emergency.note'), value: e.note || '' });
    return h('div', { class: 'roster-mark' },
      h('span', { class: `badge roster-${e.state}` }, t(`emergency.state.${e.state}`)),
      note,
      MARKS.map((m) => h('button', { type: 'button', class: 'btn btn-small', dataset: { mark: m }, onclick: async (ev) => {
        ev.target.disabled = true;
        try {
          const res = await post(`emergency/rosters/${id}/entries/${e.resident_id}`, { state: m, note: note.value });
          e.state = m;
          e.note = note.value;
          put(progress, progressLine(res.progress));
          draw();
          toast(t('emergency.marked'));
        } catch (err) {
          toast(err.describe ? err.describe() : String(err), 'error');
          ev.target.disabled = false;
        }
      } }, t(`emergency.mark.${m}`))));
  };
  const cols = ['emergency.person', 'emergency.address', 'emergency.household', 'emergency.tags', 'emergency.workers', 'emergency.phone', 'emergency.stateTitle'];
  function draw() {
    put(tbody, r.entries.map((e) => h('tr', { dataset: { resident: e.resident_id } },
      h('td', { 'data-label': t(cols[0]) }, `${e.name}${e.birth_year ? ` · ${e.birth_year}` : ''}`),
      h('td', { 'data-label': t(cols[1]) }, e.address || '—'),
      h('td', { 'data-label': t(cols[2]) }, e.household_id ? `#${e.household_id}${e.relation ? ` · ${e.relation}` : ''}` : '—'),
      h('td', { 'data-label': t(cols[3]) }, e.tags.map((x) => (document.documentElement.lang === 'en' ? x.name_en : x.name_zh)).join('、')),
      h('td', { 'data-label': t(cols[4]) }, e.workers.map((w) => w.display_name).join('、') || '—'),
      h('td', { 'data-label': t(cols[5]), class: 'mono' }, e.phone || '—'),
      h('td', { 'data-label': t(cols[6]) }, markCell(e)))));
  }
  draw();
  const table = h('table', { class: 'data responsive roster-table', id: 'roster-entries' },
    h('thead', h('tr', cols.map((k) => h('th', { scope: 'col' }, t(k))))), tbody);
  const printBtn = h('button', { type: 'button', class: 'btn', id: 'roster-print', onclick: () => window.print() }, t('emergency.print'));
  put(content, h('article', { class: 'roster-sheet', id: 'roster-sheet' },
    h('header', { class: 'roster-head' },
      h('h2', { id: 'roster-title' }, r.name),
      h('p', { class: 'muted' }, t('emergency.header', { time: fmtTime(r.created_at), printed: fmtTime(Date.now()), grids: r.nodes.join(' ') })),
      progress,
      h('div', { class: 'card-tools no-print' }, printBtn, ' ', h('a', { class: 'btn', href: '/console/emergency' }, t('emergency.back')))),
    r.entries.length ? h('div', { class: 'table-wrap' }, table) : empty(t('emergency.empty'))));
  return undefined;
}
