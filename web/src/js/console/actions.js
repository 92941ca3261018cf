// The moves of a work order: one confirmation dialog each, with the fields that move needs.
// The server decides; a refusal is shown in the dialog, which stays open.
import { t } from '../i18n.js';
import { get, post } from '../api.js';
import { h, field, formDialog, fmtTime, leaflet } from '../dom.js';
import { contains } from '../codes.js';
import { photoPicker } from '../photos.js';
import { baseLayer, mapOptions } from '../map/base.js';

/** Moves in the order their buttons appear: forward moves first. */
export const ORDER = ['locate', 'take', 'pass_on', 'accept', 'dispatch', 'sign', 'check_in', 'report_result', 'resolve_on_spot', 'verify', 'decide_extension', 'rate',
  'request_extension', 'remind', 'summon', 'escalate', 'merge', 'return', 'reject', 'reinspect'];
/** Moves that send an order back or away: drawn as secondary. */
export const PRIMARY = new Set(['take', 'pass_on', 'accept', 'dispatch', 'sign', 'check_in', 'report_result', 'resolve_on_spot', 'verify', 'decide_extension', 'rate']);

const textArea = (name, required, maxlength = 2000) => h('textarea', { name, required, maxlength, rows: 3 });

function radios(name, options) {
  return h('div', { class: 'radio-row', role: 'radiogroup' }, options.map(([value, label, checked]) =>
    h('label', h('input', { type: 'radio', name, value, checked: !!checked, required: true }), h('span', label))));
}

let departmentsCache = null;
async function departments() {
  if (!departmentsCache) departmentsCache = get('departments').then((r) => r.items).catch(() => []);
  return departmentsCache;
}

/** Opens the dialog for `action` on event `ev`; resolves to the updated event, or null if cancelled. */
export async function openAction(action, ev) {
  const name = t(`action.${action}`);
  const hours = (v) => Math.round(Number(v) * 60);
  let body;
  let build = () => ({});
  let photos = null;
  let danger = false;

  switch (action) {
    case 'take':
    case 'accept':
    case 'sign':
    case 'check_in':
      body = h('p', t(`act.ask.${action}`));
      break;
    case 'reject':
    case 'return':
    case 'escalate': {
      danger = action !== 'escalate';
      const reason = textArea('reason', true);
      body = field(t('act.reason'), reason);
      build = () => ({ reason: reason.value });
      break;
    }
    case 'pass_on': {
      // 网格转办: what the grid worker found goes to the centre with the order.
      const note = textArea('note', true);
      body = h('div', h('p', t('act.ask.pass_on')), field(t('act.note.pass_on'), note));
      build = () => ({ note: note.value });
      break;
    }
    case 'remind': {
      const note = textArea('note', false);
      body = field(t('act.note') + t('common.optional'), note);
      build = () => ({ note: note.value });
      break;
    }
    case 'resolve_on_spot':
    case 'report_result': {
      const note = textArea('note', true);
      photos = photoPicker({ max: 4 });
      body = h('div', field(t(action === 'report_result' ? 'act.note.result' : 'act.note.spot'), note),
        h('div', { class: 'field' }, h('span', { class: 'field-label', style: { fontWeight: 500, fontSize: '13px' } }, t('act.photos') + t('common.optional')), photos.el));
      build = () => ({ note: note.value });
      break;
    }
    case 'dispatch': {
      const deps = (await departments()).filter((d) => contains(d.region, ev.grid));
      const sel = h('select', { name: 'department_id' }, h('option', { value: '' }, t('act.department.default')),
        deps.map((d) => h('option', { value: d.id }, d.name)));
      const due = h('input', { type: 'number', name: 'due_hours', min: 1, max: 8760, step: 1, inputmode: 'numeric' });
      body = h('div', field(t('act.department'), sel, deps.length ? null : t('act.department.none')), field(t('act.due'), due, t('act.due.hint')));
      build = () => ({ department_id: sel.value ? Number(sel.value) : undefined, due_minutes: due.value ? hours(due.value) : undefined });
      break;
    }
    case 'request_extension': {
      const hrs = h('input', { type: 'number', name: 'hours', min: 1, max: 720, step: 1, required: true, inputmode: 'numeric' });
      const reason = textArea('reason', true);
      body = h('div', field(t('act.hours'), hrs), field(t('act.reason'), reason));
      build = () => ({ minutes: hours(hrs.value), reason: reason.value });
      break;
    }
    case 'decide_extension': {
      const n = Math.round((ev.pending_extension_minutes || 0) / 60 * 10) / 10;
      // The department's reason is the note of its latest request on the timeline.
      const asked = (ev.timeline || []).filter((l) => l.action === 'request_extension').pop();
      body = h('div', h('p', t('act.approve', { n })),
        asked ? h('blockquote', { class: 'asked', id: 'extension-reason' }, h('strong', t('act.approve.reason')), ' ', asked.note || '—',
          h('div', { class: 'muted' }, fmtTime(asked.at))) : null,
        radios('approve', [['yes', t('act.approve.yes')], ['no', t('act.approve.no')]]));
      build = (form) => ({ approve: form.elements.approve.value === 'yes' });
      break;
    }
    case 'verify':
    case 'reinspect': {
      const note = textArea('note', false);
      const ok = action === 'verify' ? [t('act.verify.ok'), t('act.verify.fail')] : [t('act.reinspect.ok'), t('act.reinspect.fail')];
      body = h('div', radios('ok', [['yes', ok[0], true], ['no', ok[1]]]), field(t('act.verify.note'), note));
      build = (form) => {
        const yes = form.elements.ok.value === 'yes';
        if (!yes && !note.value.trim()) {
          note.focus();
          throw new Error(t('act.verify.note'));
        }
        return { ok: yes, note: note.value };
      };
      break;
    }
    case 'rate': {
      const stars = h('div', { class: 'radio-row' }, [5, 4, 3, 2, 1].map((n) =>
        h('label', h('input', { type: 'radio', name: 'score', value: n, required: true }), h('span', t('portal.stars', { n })))));
      // Nothing preselected: whether it was fixed is answered on purpose.
      const fixed = h('div', { class: 'radio-row' }, [['yes', 'portal.rate.fixedYes'], ['no', 'portal.rate.fixedNo']].map(([v, key]) =>
        h('label', h('input', { type: 'radio', name: 'fixed', value: v, required: true }), h('span', t(key)))));
      const comment = textArea('comment', false, 500);
      body = h('div', h('fieldset', { class: 'plain' }, h('legend', t('act.score')), stars), h('fieldset', { class: 'plain' }, h('legend', t('portal.rate.fixedQ')), fixed), field(t('act.comment') + t('common.optional'), comment));
      build = (form) => {
        if (!form.elements.score.value || !form.elements.fixed.value) throw new Error(t('portal.rate.choose'));
        return { score: Number(form.elements.score.value), fixed: form.elements.fixed.value === 'yes', comment: comment.value };
      };
      break;
    }
    case 'summon': {
      const deps = (await departments()).filter((d) => contains(d.region, ev.grid));
      const lead = h('select', { name: 'lead', required: true }, deps.map((d) => h('option', { value: d.id }, d.name)));
      const boxes = h('div', { class: 'checks' }, deps.map((d) => h('label', h('input', { type: 'checkbox', name: 'departments', value: d.id }), h('span', d.name))));
      // The brief: when and where the departments report, and why (吹哨报到).
      const soon = new Date(Date.now() + 2 * 3600_000);
      const local = (d) => new Date(d.getTime() - d.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
      const by = h('input', { type: 'datetime-local', name: 'report_by', required: true, value: local(soon), min: local(new Date()) });
      const place = h('input', { name: 'place', required: true, maxlength: 200, placeholder: t('act.place.ph') });
      const reason = textArea('reason', true);
      body = h('div', h('fieldset', { class: 'plain' }, h('legend', t('act.departments')), boxes), field(t('act.lead'), lead),
        field(t('act.reportBy'), by), field(t('act.place'), place), field(t('act.summonReason'), reason));
      build = () => {
        const ids = Array.from(boxes.querySelectorAll('input:checked'), (i) => Number(i.value));
        const l = Number(lead.value);
        if (!ids.includes(l)) ids.push(l);
        return { departments: ids, lead: l, report_by: new Date(by.value).getTime(), place: place.value.trim(), reason: reason.value };
      };
      break;
    }
    case 'locate': {
      // An order filed by address only: the dispatcher reads the address and gives the point.
      const num = (name, min, max) => h('input', { type: 'number', name, min, max, step: 'any', required: true, inputmode: 'decimal' });
      const lon = num('lon', -180, 180);
      const lat = num('lat', -90, 90);
      body = h('div', h('p', t('act.locate.hint')), field(t('act.lon'), lon), field(t('act.lat'), lat));
      build = () => ({ lon: Number(lon.value), lat: Number(lat.value) });
      break;
    }
    case 'merge': {
      // Suggestions (same category, near, recent) to pick from, on a small map; typing a
      // number still works.
      const into = h('input', { type: 'number', name: 'into', id: 'merge-into', min: 1, required: true, inputmode: 'numeric' });
      const picks = await duplicatePicker(ev, (id) => { into.value = id; });
      body = h('div', picks.el, field(t('act.into'), into));
      build = () => ({ into: Number(into.value) });
      setTimeout(picks.drawMap, 0);
      break;
    }
    default:
      body = h('p', t('act.confirm', { action: name }));
  }

  return formDialog({
    title: t('act.title', { action: name, id: ev.id }),
    body,
    danger,
    submitLabel: t('act.confirm', { action: name }),
    onSubmit: async (form) => {
      const payload = { version: ev.version, ...build(form) };
      if (photos) payload.photos = await photos.hashes();
      return post(`events/${ev.id}/${action}`, payload);
    },
  });
}

/** The likely duplicates of `ev` as a list of choices and a small map; `pick(id)` on choosing. */
async function duplicatePicker(ev, pick) {
  let items = [];
  try {
    items = ev.position_known ? (await get(`events/${ev.id}/duplicates`)).items : [];
  } catch {
    items = [];
  }
  if (!items.length) return { el: h('p', { class: 'muted', id: 'dup-none' }, t('act.dup.none')), drawMap: () => {} };
  const mapEl = h('div', { class: 'dup-map', id: 'dup-map', style: { height: '180px', marginBottom: '8px' }, role: 'img', 'aria-label': t('act.dup.map') });
  const list = h('div', { class: 'radio-row dup-list', role: 'radiogroup', 'aria-label': t('act.dup.title') },
    items.map((d) => h('label', { dataset: { id: d.id } },
      h('input', { type: 'radio', name: 'dup', value: d.id, onchange: () => pick(d.id) }),
      h('span', t('act.dup.item', { id: d.id, m: d.distance_m, text: (d.description || '').slice(0, 24) })))));
  const choose = (id) => {
    const r = list.querySelector(`input[value="${id}"]`);
    if (r) r.checked = true;
    pick(id);
  };
  async function drawMap() {
    try {
      const L = await leaflet();
      if (!mapEl.isConnected) return;
      const map = L.map(mapEl, mapOptions(L, { attributionControl: false, zoomControl: false }));
      baseLayer(L, map, mapEl);
      const here = L.circleMarker([ev.lat, ev.lon], { radius: 8, color: '#c62828', fillOpacity: 0.8 }).addTo(map);
      here.bindTooltip(`#${ev.id}`);
      const pts = [[ev.lat, ev.lon]];
      for (const d of items) {
        pts.push([d.lat, d.lon]);
        L.circleMarker([d.lat, d.lon], { radius: 7, color: '#1565c0', fillOpacity: 0.6 }).addTo(map)
          .bindTooltip(`#${d.id} · ${d.distance_m} m`).on('click', () => choose(d.id));
      }
      map.fitBounds(pts, { padding: [20, 20], maxZoom: 17 });
    } catch {
      mapEl.hidden = true;
    }
  }
  return { el: h('fieldset', { class: 'plain' }, h('legend', t('act.dup.title')), mapEl, list), drawMap };
}
