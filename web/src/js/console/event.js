// One work order: what it is, where, its photos and timeline, and exactly the moves this user may make now.
import { t, has } from '../i18n.js';
import { get, post, categories, ApiError } from '../api.js';
import { h, put, fmtTime, fmtMinutes, stateBadge, lightBadge, supervisionBadge, isOpen, empty, toast, leaflet, formDialog, field } from '../dom.js';
import { openAction, ORDER, PRIMARY } from './actions.js';
import { baseLayer, mapOptions, removeMap } from '../map/base.js';
import { disputeFact, convertButton } from './event-dispute.js';

export async function render(ctx) {
  const { content, me } = ctx;
  const id = Number(ctx.params[0]);
  let ev;
  try {
    ev = await get(`events/${id}`);
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) {
      ctx.setTitle(t('event.title', { id }));
      put(content, empty(t('err.404'), null, h('a', { class: 'btn', href: '/console/events' }, t('event.back'))));
      return;
    }
    throw err;
  }
  const cats = await categories();
  ctx.setTitle(t('event.title', { id }));
  const open = isOpen(ev.state);

  let deps = new Map();
  if (me.scope_node) {
    try {
      deps = new Map((await get('departments')).items.map((d) => [d.id, d.name]));
    } catch {
      /* names fall back to numbers */
    }
  }
  // The order names its own department and the summoned ones (a handler cannot list them all).
  if (ev.department_id && ev.department) deps.set(ev.department_id, ev.department);
  for (const s of ev.summoned || []) if (s.name) deps.set(s.department_id, s.name);
  const depName = (d) => (d ? deps.get(d) || `#${d}` : '—');

  // ----- header -----
  const cat = cats.byId.get(ev.category_id);
  const top = cats.top(ev.category_id);
  const head = h('div', { class: 'event-head' },
    h('a', { href: '/console/events', class: 'btn btn-small' }, '← ', t('event.back')),
    h('h1', t('event.title', { id: ev.id })),
    stateBadge(ev.state),
    open ? lightBadge(ev.light, ev.due_at, true) : null,
    open ? supervisionBadge(ev.supervision) : null,
    ev.priority && ev.priority < 3 ? h('span', { class: 'badge sup-red' }, t(`priority.${ev.priority}`)) : null);

  const notices = [];
  if (ev.merged_into) notices.push(h('div', { class: 'notice-bar info' }, h('a', { href: `/console/events/${ev.merged_into}` }, t('event.mergedInto', { id: ev.merged_into }))));
  if (ev.pending_extension_minutes) notices.push(h('div', { class: 'notice-bar warn' }, t('event.pendingExt', { n: Math.round(ev.pending_extension_minutes / 6) / 10 })));
  if (ev.decision_required) notices.push(h('div', { class: 'notice-bar danger' }, t('event.decision')));
  // Filed by address only (an Open311 request): the holding centre's dispatcher sets the position.
  const placed = ev.position_known !== false;
  if (!placed) notices.push(h('div', { class: 'notice-bar warn', dataset: { mark: 'position-unknown' } }, t('event.positionUnknown')));

  // ----- facts -----
  const gridName = h('span', ev.place || h('span', { class: 'mono' }, ev.grid));
  const centreName = h('span', h('span', { class: 'mono' }, ev.centre));
  const fact = (k, v) => h('div', h('dt', t(k)), h('dd', v));
  // The hotline caller (phone masked), for the call back.
  const callerName = h('span', { id: 'event-caller' }, '—');
  if (ev.source === 'hotline') {
    get(`events/${ev.id}/caller`).then((r) => {
      const c = r.caller;
      if (c) put(callerName, `${c.name} · ${c.phone}${c.callback ? ' · ' + t('hotline.callback') : ''}`);
    }).catch(() => {});
  }
  const facts = h('dl', { class: 'facts' },
    fact('col.category', top && top.id !== ev.category_id ? `${top.name} › ${cat ? cat.name : ''}` : cat ? cat.name : `#${ev.category_id}`),
    fact('event.grid', gridName),
    fact('event.address', ev.address || '—'),
    fact('event.department', depName(ev.department_id)),
    fact('event.source', has(`source.${ev.source}`) ? t(`source.${ev.source}`) : ev.source),
    fact('event.priority', t(`priority.${ev.priority || 3}`)),
    fact('event.created', fmtTime(ev.created_at)),
    fact('event.due', open && ev.due_at ? fmtTime(ev.due_at) : '—'),
    fact('event.centre', centreName),
    ev.returns ? fact('event.returns', String(ev.returns)) : null,
    ev.reminders ? fact('event.reminders', String(ev.reminders)) : null,
    attributeFacts(ev.attributes, fact),
    ev.source === 'hotline' ? fact('event.caller', callerName) : null,
    ev.visit_id ? fact('event.visitResident', h('a', { href: `/console/visits/${ev.visit_resident_id}`, id: 'event-visit' }, t('event.visit', { id: ev.visit_id }))) : null,
    disputeFact(ev),
    ev.rating ? fact('event.rating', `${'★'.repeat(ev.rating)}${'☆'.repeat(5 - ev.rating)}${ev.rating_comment ? ' · ' + ev.rating_comment : ''}`) : null);

  const photos = ev.photos.length
    ? h('div', { class: 'photos' }, ev.photos.map((p) => {
      const stage = has(`photo.stage.${p.stage}`) ? t(`photo.stage.${p.stage}`) : p.stage;
      return h('figure', h('a', { href: p.url, target: '_blank', rel: 'noopener' }, h('img', { src: p.url, alt: t('photo.alt', { stage }), loading: 'lazy' })), h('figcaption', stage));
    }))
    : h('p', { class: 'muted' }, t('photo.none'));

  const summoned = Array.isArray(ev.summoned) && ev.summoned.length
    ? h('section', { class: 'card' }, h('div', { class: 'card-head' }, h('h2', t('event.summoned'))),
      h('ul', { class: 'staff card-body' }, ev.summoned.map((s) => h('li', h('span', depName(s.department_id), s.lead ? ` (${t('event.lead')})` : ''),
        h('span', { class: s.checked_in ? 'light light-green' : 'light light-yellow' }, t(s.checked_in ? 'event.checkedIn' : 'event.notCheckedIn'))))))
    : null;

  // ----- actions: exactly the allowed ones -----
  const allowed = ORDER.filter((a) => ev.allowed_actions.includes(a)).concat(ev.allowed_actions.filter((a) => !ORDER.includes(a)));
  const actions = allowed.length
    ? h('div', { class: 'actions' }, allowed.map((a) => h('button', {
      type: 'button', class: PRIMARY.has(a) ? 'btn btn-primary' : 'btn', dataset: { action: a },
      onclick: async () => {
        const r = await openAction(a, ev);
        if (r) {
          toast(t('act.done', { action: t(`action.${a}`) }));
          ctx.refreshInboxCount();
          ctx.navigate(location.pathname, { replace: true });
        }
      },
    }, t(`action.${a}`))))
    : h('div', h('p', t('event.noActions')), h('p', { class: 'muted' }, t('event.noActionsHint')));
  const phoneOut = h('p', { class: 'callback-phone', id: 'callback-phone', 'aria-live': 'polite' });
  const toDispute = convertButton(ev, cats, me, (caseId) => ctx.navigate(`/console/disputes/${caseId}`));
  const callBackBtn = ev.may_call_back
    ? h('div', { class: 'actions' }, h('button', { type: 'button', class: 'btn', id: 'callback', onclick: async () => {
      const phone = await callBack(ev);
      if (phone) put(phoneOut, t('callback.phone'), ' ', h('a', { href: `tel:${phone}` }, phone));
    } }, t('callback.button')), phoneOut)
    : null;

  const mapEl = h('div', { class: 'mini-map', role: 'region', 'aria-label': t('event.position') });
  const timeline = renderTimeline(ev, me, depName);

  put(content, head, notices,
    h('div', { class: 'event-grid' },
      h('div',
        h('section', { class: 'card' }, h('div', { class: 'card-head' }, h('h2', t('event.description'))),
          h('div', { class: 'card-body' }, h('p', { class: 'description' }, ev.description), facts)),
        h('section', { class: 'card' }, h('div', { class: 'card-head' }, h('h2', t('event.photos'))), h('div', { class: 'card-body' }, photos)),
        mergedCard(ev),
        h('section', { class: 'card' }, h('div', { class: 'card-head' }, h('h2', t('event.timeline'))), h('div', { class: 'card-body' }, timeline))),
      h('div',
        h('section', { class: 'card', id: 'actions' }, h('div', { class: 'card-head' }, h('h2', t('event.actions'))), h('div', { class: 'card-body' }, actions, toDispute ? h('div', { class: 'actions' }, toDispute) : null, callBackBtn)),
        summoned,
        h('section', { class: 'card' }, h('div', { class: 'card-head' }, h('h2', t('event.position')),
          me.scope_node && placed ? h('a', { class: 'btn btn-small', href: `/console/map?lon=${ev.lon}&lat=${ev.lat}&z=16&event=${ev.id}` }, t('event.onMap')) : null),
        placed
          ? h('div', { class: 'card-body' }, mapEl, h('p', { class: 'hint', style: { marginTop: '6px' } }, `${ev.lon.toFixed(5)}, ${ev.lat.toFixed(5)}`))
          : h('div', { class: 'card-body' }, h('p', { class: 'muted' }, t('event.positionUnknown.short')))))));

  // Grid name and chain, then the mini map (both best effort: a handler may not read the tree).
  let node = null;
  try {
    node = await get(`nodes/${ev.grid}`);
    const chain = (node.ancestors || []).filter((a) => a.level === 'town' || a.level === 'village').map((a) => a.name);
    put(gridName, chain.concat(node.name).join(' › '));
    const centre = (node.ancestors || []).find((a) => a.code === ev.centre);
    if (centre) put(centreName, centre.name);
  } catch {
    /* keep the code */
  }
  if (!ctx.isCurrent() || !placed) return;
  let map;
  try {
    const L = await leaflet();
    if (!ctx.isCurrent()) return;
    map = L.map(mapEl, mapOptions(L, { zoomControl: true, attributionControl: false, scrollWheelZoom: false, zoomAnimation: false, fadeAnimation: false, markerZoomAnimation: false })).setView([ev.lat, ev.lon], 16);
    baseLayer(L, map, mapEl);
    if (node && node.geometry) {
      const outline = L.geoJSON(node.geometry, { style: { color: '#1d5bd8', weight: 2, fillOpacity: 0.08 } }).addTo(map);
      map.fitBounds(outline.getBounds().extend([ev.lat, ev.lon]), { padding: [16, 16], maxZoom: 17 });
    }
    L.marker([ev.lat, ev.lon], { title: `#${ev.id}`, alt: `#${ev.id}` }).addTo(map);
  } catch {
    put(mapEl, h('p', { class: 'muted', style: { padding: '12px' } }, `${ev.lon}, ${ev.lat}`));
  }
  return () => removeMap(map);
}

/** The service attributes an Open311 request came with (kept apart from its description). */
function attributeFacts(attributes, fact) {
  if (!attributes || typeof attributes !== 'object') return null;
  const codes = Object.keys(attributes);
  if (!codes.length) return null;
  const label = (code, v) => (has(`attr.${code}.${v}`) ? t(`attr.${code}.${v}`) : String(v));
  return codes.map((code) => {
    const v = attributes[code];
    const text = Array.isArray(v) ? v.map((x) => label(code, x)).join('、') : label(code, v);
    return h('div', { dataset: { attribute: code } }, h('dt', has(`attr.${code}`) ? t(`attr.${code}`) : code), h('dd', text));
  });
}

/** Who acted, as the server lets this user see them: name and unit, a masked reporter, or a unit. */
function personLabel(l, ev) {
  const name = l.actor_id === ev.reporter_id ? [t('event.reporter'), l.actor_name].filter(Boolean).join(' ') : l.actor_name;
  if (name && l.actor_unit) return t('person.nameUnit', { name, unit: l.actor_unit });
  return name || l.actor_unit || t('common.user', { id: l.actor_id });
}

/** 回访: asks the purpose, then shows the reporter's phone (the server audits the reveal). */
function callBack(ev) {
  return formDialog({
    title: t('callback.title', { id: ev.id }),
    body: field(t('callback.purpose'), h('textarea', { name: 'purpose', required: true, maxlength: 200, rows: 2 }), t('callback.hint')),
    submitLabel: t('callback.reveal'),
    onSubmit: async (form) => {
      const r = await post(`events/${ev.id}/reporter_contact`, { purpose: form.elements.purpose.value });
      return r.phone;
    },
  });
}

function renderTimeline(ev, me, depName) {
  if (!ev.timeline.length) return h('p', { class: 'muted' }, t('common.noData'));
  return h('ol', { class: 'timeline' }, ev.timeline.map((l) => {
    const d = l.data || {};
    const what = l.action === 'supervise' && d.supervision ? t(`supervision.${d.supervision}`) : has(`action.${l.action}`) ? t(`action.${l.action}`) : l.action;
    const extra = [];
    if (d.department_id && l.action === 'dispatch') extra.push(depName(d.department_id));
    if (d.minutes !== undefined && l.action === 'verify') extra.push(fmtMinutes(d.minutes));
    if (d.score) extra.push('★'.repeat(d.score));
    if (l.action === 'summon' && d.report_by) extra.push(t('event.summon.by', { time: fmtTime(d.report_by) }));
    if (l.action === 'summon' && d.place) extra.push(t('event.summon.at', { place: d.place }));
    const who = l.actor_id === null || l.actor_id === undefined ? null
      : l.actor_id === me.id ? me.display_name
        : personLabel(l, ev);
    const note = l.actor_id === null && d.supervision ? null : l.note;
    return h('li', { class: l.actor_id === null || l.actor_id === undefined ? 'sys' : '' },
      h('div', { class: 'when' }, fmtTime(l.at), who ? ` · ${who}` : ''),
      h('div', { class: 'what' }, what, ' ',
        l.from && l.to && l.from !== l.to ? h('span', { class: 'muted', style: { fontWeight: 400 } }, `${t(`state.${l.from}`)} → ${t(`state.${l.to}`)}`) : null,
        extra.length ? h('span', { class: 'muted', style: { fontWeight: 400 } }, ` · ${extra.join(' · ')}`) : null),
      note ? h('div', { class: 'note' }, note) : null);
  }));
}

/** The reports merged into this order (合并的报告): each with its time, text, reporter and photos. */
function mergedCard(ev) {
  const merged = ev.merged_reports || [];
  if (!merged.length) return null;
  return h('section', { class: 'card', id: 'merged-reports' },
    h('div', { class: 'card-head' }, h('h2', t('event.merged', { n: merged.length }))),
    h('ul', { class: 'card-body merged' }, merged.map((m) => h('li', { dataset: { id: m.id } },
      h('div', h('a', { href: `/console/events/${m.id}` }, `#${m.id}`), ' · ', fmtTime(m.created_at),
        m.reporter_name ? ` · ${t('event.merged.reporter', { name: m.reporter_name })}` : ''),
      m.description ? h('p', { class: 'description' }, m.description) : null,
      (m.photos || []).length
        ? h('div', { class: 'photos' }, m.photos.map((p) => h('figure', h('a', { href: p.url, target: '_blank', rel: 'noopener' },
          h('img', { src: p.url, alt: t('event.merged.photo', { id: m.id }), loading: 'lazy' })))))
        : null))));
}
