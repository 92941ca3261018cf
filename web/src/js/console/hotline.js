// The hotline operator's entry form (12345 热线): who called, on which number, whether they want
// a call back, what and where — the position picked on the map or found by a place name.
import { t } from '../i18n.js';
import { get, post, categories, idempotencyKey } from '../api.js';
import { h, put, field, leaflet, toast, debounce } from '../dom.js';
import { mapOptions, baseLayer, geometryBounds, removeMap } from '../map/base.js';

export async function render(ctx) {
  const { content, me } = ctx;
  const cats = await categories();
  let key = idempotencyKey();
  let position = null;

  const name = h('input', { id: 'h-name', name: 'caller_name', required: true, maxlength: 50, autocomplete: 'off' });
  const phone = h('input', { id: 'h-phone', name: 'caller_phone', required: true, inputmode: 'tel', maxlength: 20, pattern: '[0-9 \\-]{10,20}', autocomplete: 'off' });
  const callback = h('input', { id: 'h-callback', type: 'checkbox', name: 'callback' });
  const category = h('select', { id: 'h-category', name: 'category_id', required: true },
    h('option', { value: '' }, t('hotline.chooseCategory')),
    cats.items.filter((c) => c.active !== false).map((c) => h('option', { value: c.id }, c.name)));
  const description = h('textarea', { id: 'h-description', name: 'description', required: true, rows: 4, maxlength: 4000 });
  const address = h('input', { id: 'h-address', name: 'address', maxlength: 200 });
  const search = h('input', { id: 'h-place', type: 'search', autocomplete: 'off', placeholder: t('hotline.placeHint') });
  const results = h('ul', { class: 'place-results', id: 'h-place-results', role: 'listbox', 'aria-label': t('hotline.place') });
  const located = h('p', { class: 'muted', id: 'h-located', 'aria-live': 'polite' }, t('hotline.noPosition'));
  const mapEl = h('div', { class: 'hotline-map', id: 'h-map' });
  const errorEl = h('div', { class: 'form-error', role: 'alert', hidden: true });
  const submit = h('button', { class: 'btn btn-primary', type: 'submit', id: 'h-submit' }, t('hotline.submit'));

  const form = h('form', { class: 'card hotline', id: 'hotline-form', novalidate: true },
    h('div', { class: 'card-head' }, h('h2', t('hotline.title'))),
    h('div', { class: 'card-body hotline-grid' },
      h('fieldset', { class: 'plain' }, h('legend', t('hotline.caller')),
        field(t('field.caller_name'), name),
        field(t('field.caller_phone'), phone, t('hotline.phoneHint')),
        field(t('hotline.callback'), callback, null, { inline: true })),
      h('fieldset', { class: 'plain' }, h('legend', t('hotline.matter')),
        field(t('field.category_id'), category),
        field(t('field.description'), description),
        field(t('field.address') + t('common.optional'), address)),
      h('fieldset', { class: 'plain hotline-where' }, h('legend', t('hotline.place')),
        field(t('hotline.search'), search), results, mapEl, located)),
    h('div', { class: 'card-body' }, errorEl, submit));
  // Leaflet first, then the form: its fields and buttons are live from the moment it shows.
  const L = await leaflet();
  if (!ctx.isCurrent()) return;
  put(content, form);
  const map = L.map(mapEl, mapOptions(L, { attributionControl: false }));
  baseLayer(L, map, mapEl);
  const cfg = window.SHANZHI || {};
  if (cfg.home && cfg.home.bbox) {
    const [x0, y0, x1, y1] = cfg.home.bbox;
    map.fitBounds([[y0, x0], [y1, x1]]);
  } else map.setView([23.1, 113.3], 9);
  let marker = null;
  let outline = null;

  async function setPosition(lat, lon, label) {
    position = { lon: Number(lon.toFixed(6)), lat: Number(lat.toFixed(6)) };
    if (marker) marker.setLatLng([lat, lon]);
    else marker = L.marker([lat, lon], { alt: t('hotline.place') }).addTo(map);
    if (label) {
      located.textContent = t('hotline.at', { name: label });
      return;
    }
    try {
      const r = await get('locate', { lon: position.lon, lat: position.lat });
      const chain = (r.chain || []).filter((n) => ['town', 'village'].includes(n.level)).map((n) => n.name);
      located.textContent = r.inside ? t('hotline.at', { name: chain.concat(r.grid ? r.grid.name : []).join(' › ') }) : t('portal.outside');
    } catch (err) {
      located.textContent = err.describe ? err.describe() : String(err);
    }
  }
  map.on('click', (e) => setPosition(e.latlng.lat, e.latlng.lng));

  async function pick(n) {
    put(results);
    search.value = n.name;
    try {
      const node = await get(`nodes/${n.code}`);
      if (outline) outline.remove();
      if (node.geometry) {
        outline = L.geoJSON(node.geometry, { interactive: false, style: { color: '#1d5bd8', weight: 2, fillOpacity: 0.08 } }).addTo(map);
        const b = geometryBounds(node.geometry);
        map.fitBounds(b);
        // The centre of the place until the operator clicks a more exact spot.
        const c = L.latLngBounds(b).getCenter();
        setPosition(c.lat, c.lng, n.ancestors.concat(n.name).join(' › '));
      } else located.textContent = t('hotline.noShape');
    } catch (err) {
      located.textContent = err.describe ? err.describe() : String(err);
    }
  }

  search.addEventListener('input', debounce(async () => {
    const q = search.value.trim();
    if (!q) return put(results);
    try {
      const r = await get('nodes/search', { q, limit: 10 });
      put(results, r.items.length ? r.items.map((n) => h('li', { role: 'option' },
        h('button', { type: 'button', class: 'btn-link', onclick: () => pick(n) }, n.ancestors.concat(n.name).join(' › ')))) : h('li', { class: 'muted' }, t('hotline.noPlace')));
    } catch (err) {
      put(results, h('li', { class: 'muted' }, err.describe ? err.describe() : String(err)));
    }
  }, 250));

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    errorEl.hidden = true;
    if (!form.reportValidity()) return;
    if (!position) {
      errorEl.hidden = false;
      errorEl.textContent = t('hotline.noPosition');
      search.focus();
      return;
    }
    submit.disabled = true;
    submit.classList.add('busy');
    try {
      const ev = await post('hotline', {
        category_id: Number(category.value), description: description.value, lon: position.lon, lat: position.lat,
        address: address.value.trim() || null, caller_name: name.value, caller_phone: phone.value.replace(/\s/g, ''), callback: callback.checked,
      }, { headers: { 'Idempotency-Key': key } });
      key = idempotencyKey();
      toast(t('hotline.filed', { id: ev.id }));
      ctx.navigate(`/console/events/${ev.id}`);
    } catch (err) {
      errorEl.hidden = false;
      errorEl.textContent = err.describe ? err.describe() : String(err);
    } finally {
      submit.disabled = false;
      submit.classList.remove('busy');
    }
  });
  void me;
  return () => removeMap(map);
}
