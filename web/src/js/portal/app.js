// The citizen portal under /m/: report a problem with photo and position, follow my reports,
// rate a closed one, read notices. Mobile first.
import { t, applyI18n, toggleLang } from '../i18n.js';
import { get, post, categories, idempotencyKey, ApiError } from '../api.js';
import * as outbox from '../outbox.js';
import { retryable } from '../outbox.js';
import { h, put, loading, empty, errorBox, fmtTime, leaflet, toast, icon, safePath } from '../dom.js';
import { photoPicker } from '../photos.js';
import { baseLayer, mapOptions, removeMap } from '../map/base.js';
import { noticeText, listNotices, markRead, markAllRead, followNotices } from '../notices.js';
import { householdPage } from './household.js';
import { warningsPage } from './warnings.js';
import { ledgerPage } from './ledger.js';
import { disclosuresPage } from './disclosures.js';
import { questionsPage, suggestionsPage } from './questions.js';
import { contractsPage } from './contracts.js';
import { pointsPage } from './points.js';
import { consultationsPage, lawsPage } from './participation.js';
import { myDisputesPage, applyPage, myDisputePage } from './dispute.js';

const content = document.getElementById('content');
const tabs = document.getElementById('p-tabs');
let me = null;
let cleanup = null;
/** Counts renders: a page that finishes loading after the next one began is stale. */
let renderSeq = 0;
/** Unread messages, kept by the live stream. */
let unread = 0;
let stopFollowing = null;

const ROUTES = [
  [/^\/m\/?$/, home],
  [/^\/m\/login\/?$/, loginPage],
  [/^\/m\/report\/?$/, reportPage],
  [/^\/m\/mine\/?$/, minePage],
  [/^\/m\/mine\/(\d+)\/?$/, reportDetail],
  [/^\/m\/notices\/?$/, () => disclosuresPage(content, me)],
  [/^\/m\/questions\/?$/, () => (needLogin() ? undefined : questionsPage(content, me))],
  [/^\/m\/suggestions\/?$/, () => (needLogin() ? undefined : suggestionsPage(content, me))],
  [/^\/m\/messages\/?$/, messagesPage],
  [/^\/m\/household\/?$/, () => (needLogin() ? undefined : householdPage(content))],
  [/^\/m\/warnings\/?$/, () => (needLogin() ? undefined : warningsPage(content, me))],
  [/^\/m\/ledger\/?$/, () => (needLogin() ? undefined : ledgerPage(content, me))],
  [/^\/m\/contracts\/?$/, () => (needLogin() ? undefined : contractsPage(content, me))],
  [/^\/m\/points\/?$/, () => (needLogin() ? undefined : pointsPage(content, me))],
  [/^\/m\/consultations\/?$/, () => (needLogin() ? undefined : consultationsPage(content, me))],
  [/^\/m\/laws\/?$/, () => (needLogin() ? undefined : lawsPage(content, me))],
  [/^\/m\/laws\/(\d+)\/?$/, (id) => (needLogin() ? undefined : lawsPage(content, me, Number(id)))],
  [/^\/m\/mediation\/?$/, () => (needLogin() ? undefined : myDisputesPage(content))],
  [/^\/m\/mediation\/apply\/?$/, () => (needLogin() ? undefined : applyPage(content, navigate))],
  [/^\/m\/mediation\/(\d+)\/?$/, (id) => (needLogin() ? undefined : myDisputePage(content, Number(id)))],
];

const TABS = [
  ['/m/', 'portal.home', 'home'],
  ['/m/report', 'portal.report', 'plus', 'report'],
  ['/m/mine', 'portal.mine', 'list'],
  ['/m/notices', 'portal.notices', 'bell'],
  ['/m/messages', 'portal.messages', 'list', 'messages'],
  ['/m/household', 'portal.household', 'family'],
];

function navigate(path, replace = false) {
  if (replace) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
  render();
}

function drawChrome() {
  const path = location.pathname.replace(/\/$/, '') || '/m';
  put(tabs, TABS.map(([href, key, ico, cls]) => {
    const here = href.replace(/\/$/, '') === path || (href !== '/m/' && path.startsWith(href));
    if (cls === 'messages') {
      // The name is the visible word plus the unread count for screen readers (the badge itself
      // is drawn for the eye only), so what is read starts with what is seen.
      return h('a', { href, class: 'messages', 'aria-current': here ? 'page' : null },
        h('span', { class: 'ico', 'aria-hidden': 'true' }, icon(ico, 22), h('span', { class: 'badge', id: 'msg-count', hidden: !unread }, unread > 99 ? '99+' : String(unread))),
        h('span', t(key)), h('span', { class: 'sr-only', id: 'msg-count-sr' }, unread ? t('portal.messages.unread', { n: unread }) : ''));
    }
    return h('a', { href, class: cls || '', 'aria-current': here ? 'page' : null }, h('span', { class: 'ico', 'aria-hidden': 'true' }, icon(ico, cls ? 24 : 22)), h('span', t(key)));
  }));
  put(document.getElementById('p-user'), me
    ? h('button', { type: 'button', class: 'btn btn-small', onclick: logout, title: me.display_name }, t('portal.logout'))
    : h('a', { class: 'btn btn-small', href: `/m/login?next=${encodeURIComponent(location.pathname)}` }, t('portal.login')));
}

async function logout() {
  try {
    await post('auth/logout');
  } catch {
    /* already gone */
  }
  me = null;
  if (stopFollowing) stopFollowing();
  stopFollowing = null;
  unread = 0;
  navigate('/m/');
}

async function render() {
  const seq = ++renderSeq;
  if (cleanup) {
    try {
      cleanup();
    } catch {
      /* ignore */
    }
    cleanup = null;
  }
  drawChrome();
  const path = location.pathname;
  const route = ROUTES.find(([re]) => re.test(path));
  window.scrollTo(0, 0);
  if (!route) {
    put(content, empty(t('notfound.title'), null, h('a', { class: 'btn', href: '/m/' }, t('portal.backHome'))));
    return;
  }
  put(content, loading());
  try {
    const c = await route[1](...path.match(route[0]).slice(1));
    if (seq !== renderSeq) {
      // Left before it finished loading: its cleanup runs now, not in place of the next page's.
      if (typeof c === 'function') {
        try {
          c();
        } catch {
          /* ignore */
        }
      }
      return;
    }
    cleanup = typeof c === 'function' ? c : null;
  } catch (err) {
    if (seq !== renderSeq) return;
    if (err instanceof ApiError && err.status === 401) {
      me = null;
      navigate(`/m/login?next=${encodeURIComponent(path)}`, true);
      return;
    }
    put(content, errorBox(err, render));
  }
}

function needLogin() {
  if (me) return false;
  navigate(`/m/login?next=${encodeURIComponent(location.pathname)}`, true);
  return true;
}

// ---------------- home ----------------

async function home() {
  const recent = h('div');
  put(content,
    h('section', { class: 'p-hero' }, h('h1', me ? t('portal.hello', { name: me.display_name }) : t('app.portal')), h('p', t('portal.reportLead')),
      h('a', { class: 'btn', href: '/m/report', id: 'start-report' }, icon('camera', 22), t('portal.report'))),
    h('div', { class: 'p-quick' },
      h('a', { href: '/m/mine' }, h('span', { class: 'ico' }, icon('list', 24)), h('span', t('portal.mine'))),
      h('a', { href: '/m/notices' }, h('span', { class: 'ico' }, icon('bell', 24)), h('span', t('portal.notices'))),
      h('a', { href: '/m/warnings', id: 'go-warnings' }, h('span', { class: 'ico' }, icon('alert', 24)), h('span', t('pwarning.title'))),
      h('a', { href: '/m/ledger', id: 'go-ledger' }, h('span', { class: 'ico' }, icon('list', 24)), h('span', t('pledger.title'))),
      h('a', { href: '/m/questions', id: 'go-questions' }, h('span', { class: 'ico' }, icon('list', 24)), h('span', t('pquestion.title'))),
      h('a', { href: '/m/suggestions', id: 'go-suggestions' }, h('span', { class: 'ico' }, icon('list', 24)), h('span', t('psuggest.title'))),
      h('a', { href: '/m/contracts', id: 'go-contracts' }, h('span', { class: 'ico' }, icon('list', 24)), h('span', t('pcontract.title'))),
      h('a', { href: '/m/points', id: 'go-points' }, h('span', { class: 'ico' }, icon('star', 24)), h('span', t('ppoints.title'))),
      h('a', { href: '/m/consultations', id: 'go-consultations' }, h('span', { class: 'ico' }, icon('family', 24)), h('span', t('consult.title'))),
      h('a', { href: '/m/laws', id: 'go-laws' }, h('span', { class: 'ico' }, icon('list', 24)), h('span', t('law.title'))),
      h('a', { href: '/m/mediation', id: 'go-mediation' }, h('span', { class: 'ico' }, icon('family', 24)), h('span', t('pdispute.title')))),
    recent,
    me && me.role !== 'citizen' ? h('p', { class: 'muted', style: { textAlign: 'center' } }, h('a', { href: '/console' }, t('portal.staff'))) : null);
  if (!me) {
    put(recent, h('section', { class: 'p-card' }, h('p', t('portal.loginLead')), h('a', { class: 'btn btn-primary btn-block', href: '/m/login?next=/m/' }, t('portal.login'))));
    return;
  }
  const r = await get('events', { limit: 3 });
  if (r.items.length) put(recent, h('section', { class: 'p-card' }, h('h2', t('portal.mine')), await reportList(r.items)));
}

// ---------------- login ----------------

async function loginPage() {
  const next = safePath(new URLSearchParams(location.search).get('next'), '/m/');
  const safeNext = next.startsWith('/m/') || next === '/m' ? next : '/m/';
  const errorEl = h('div', { class: 'form-error', role: 'alert', hidden: true });
  const user = h('input', { id: 'p-username', name: 'username', autocomplete: 'username', required: true });
  const pass = h('input', { id: 'p-password', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const submit = h('button', { class: 'btn btn-primary btn-block', type: 'submit' }, t('login.submit'));
  const form = h('form', { novalidate: true },
    h('div', { class: 'field' }, h('label', { for: 'p-username' }, t('login.username')), user),
    h('div', { class: 'field' }, h('label', { for: 'p-password' }, t('login.password')), pass),
    errorEl, submit);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (!form.reportValidity()) return;
    errorEl.hidden = true;
    submit.disabled = true;
    submit.classList.add('busy');
    try {
      const r = await post('auth/login', { username: user.value.trim(), password: pass.value });
      me = { ...r.user };
      follow();
      navigate(safeNext, true);
    } catch (err) {
      errorEl.hidden = false;
      errorEl.textContent = err instanceof ApiError && err.status === 401 ? t('login.wrong') : err.describe ? err.describe() : String(err);
      submit.disabled = false;
      submit.classList.remove('busy');
    }
  });
  put(content, h('section', { class: 'p-card' }, h('h2', t('portal.login')), h('p', { class: 'muted' }, t('portal.loginLead')), form));
  user.focus();
}

// ---------------- report ----------------

async function reportPage() {
  if (needLogin()) return;
  const cats = await categories();
  let key = idempotencyKey();
  let position = null; // {lon, lat, inside}

  const active = cats.items.filter((c) => c.active !== false);
  const catSel = h('select', { id: 'r-category', name: 'category', required: true },
    h('option', { value: '' }, t('portal.category.choose')),
    active.filter((c) => !c.parent_id).map((top) => {
      const kids = active.filter((c) => c.parent_id === top.id);
      return kids.length ? h('optgroup', { label: top.name }, kids.map((c) => h('option', { value: c.id }, c.name))) : h('option', { value: top.id }, top.name);
    }));
  const desc = h('textarea', { id: 'r-description', name: 'description', required: true, maxlength: 4000, placeholder: t('portal.description.ph') });
  const photos = photoPicker({ max: 4 });
  const address = h('input', { id: 'r-address', name: 'address', maxlength: 200, placeholder: t('portal.address.ph') });
  const locBtn = h('button', { type: 'button', class: 'btn', id: 'r-locate' }, icon('locate'), t('portal.locate'));
  const located = h('div', { class: 'p-located', id: 'r-located', 'aria-live': 'polite' }, t('portal.tapMap'));
  const mapEl = h('div', { class: 'p-map', id: 'r-map', role: 'application', 'aria-label': t('portal.tapMap') });
  const errorEl = h('div', { class: 'form-error', role: 'alert', hidden: true });
  const submit = h('button', { class: 'btn btn-primary btn-block', type: 'submit', id: 'r-submit' }, t('portal.submit'));

  const form = h('form', { novalidate: true, id: 'report-form' },
    h('section', { class: 'p-card' },
      h('h2', t('portal.report')),
      h('div', { class: 'field' }, h('label', { for: 'r-category' }, t('portal.category'), h('span', { class: 'req', 'aria-hidden': 'true' }, ' *')), catSel),
      h('div', { class: 'field' }, h('label', { for: 'r-description' }, t('portal.description'), h('span', { class: 'req', 'aria-hidden': 'true' }, ' *')), desc),
      h('div', { class: 'field' }, h('span', { style: { fontWeight: 500, fontSize: '13px' } }, t('portal.photo')), photos.el, h('small', { class: 'hint' }, t('portal.photo.hint')))),
    h('section', { class: 'p-card' },
      h('h2', t('portal.position'), h('span', { class: 'req', 'aria-hidden': 'true' }, ' *')),
      h('div', { class: 'p-loc' }, locBtn),
      mapEl, located,
      h('div', { class: 'field', style: { marginTop: '12px' } }, h('label', { for: 'r-address' }, t('portal.address'), t('common.optional')), address)),
    errorEl,
    h('div', { class: 'p-submit' }, submit));
  put(content, form);

  // The small map loads after the form, and the buttons work before it does: a quick tap on
  // "locate" or "submit" must not be lost while Leaflet is still on its way.
  let L = null;
  let map = null;
  let marker = null;
  function showMarker(fly) {
    if (!map || !position) return;
    const at = [position.lat, position.lon];
    if (marker) marker.setLatLng(at);
    else marker = L.marker(at, { alt: t('portal.position') }).addTo(map);
    if (fly) map.setView(at, Math.max(map.getZoom(), 13));
  }

  async function setPosition(lat, lon, fly) {
    position = { lon: Number(lon.toFixed(6)), lat: Number(lat.toFixed(6)), inside: null };
    showMarker(fly);
    located.className = 'p-located';
    located.textContent = t('common.loading');
    try {
      const r = await get('locate', { lon: position.lon, lat: position.lat });
      position.inside = r.inside;
      if (r.inside) {
        // In a grid: town › village › grid. Where no grids are drawn yet, the deepest regions
        // (a county's centre takes the report).
        const levels = r.grid ? ['town', 'village'] : ['city', 'county', 'town', 'village'];
        const chain = (r.chain || []).filter((n) => levels.includes(n.level)).map((n) => n.name);
        located.className = 'p-located ok';
        located.textContent = t('portal.inGrid', { name: chain.concat(r.grid ? r.grid.name : []).join(' › ') });
      } else {
        located.className = 'p-located bad';
        located.textContent = t('portal.outside');
      }
    } catch (err) {
      // Without a signal the point is kept; the server checks it when the report is sent.
      located.className = retryable(err) ? 'p-located' : 'p-located bad';
      located.textContent = retryable(err) ? t('portal.locateOffline') : (err.describe ? err.describe() : String(err));
    }
  }

  locBtn.addEventListener('click', () => {
    if (!navigator.geolocation) {
      located.textContent = t('portal.locateFailed', { message: 'geolocation' });
      return;
    }
    locBtn.disabled = true;
    located.className = 'p-located';
    located.textContent = t('portal.locating');
    navigator.geolocation.getCurrentPosition(
      (p) => {
        locBtn.disabled = false;
        setPosition(p.coords.latitude, p.coords.longitude, true);
      },
      (err) => {
        locBtn.disabled = false;
        located.className = 'p-located bad';
        located.textContent = t('portal.locateFailed', { message: err.describe ? err.describe() : '' });
      },
      { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
  });

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    errorEl.hidden = true;
    if (!form.reportValidity()) return;
    if (!position || position.inside === false) {
      errorEl.hidden = false;
      errorEl.textContent = position ? t('portal.outside') : t('portal.noPosition');
      locBtn.focus();
      return;
    }
    submit.disabled = true;
    submit.textContent = t('portal.submitting');
    const body = {
      category_id: Number(catSel.value), description: desc.value.trim(), lon: position.lon, lat: position.lat,
      address: address.value.trim() || undefined,
    };
    try {
      const hashes = await photos.hashes();
      const ev = await post('events', { ...body, photos: hashes }, { headers: { 'Idempotency-Key': key } });
      key = idempotencyKey();
      put(content, h('section', { class: 'p-card p-success', id: 'report-done', role: 'status' },
        h('div', { class: 'big', 'aria-hidden': 'true' }, icon('check', 56)),
        h('p', { style: { fontSize: '16px', fontWeight: 600 } }, t('portal.submitted', { id: ev.id })),
        h('a', { class: 'btn btn-primary btn-block', href: `/m/mine/${ev.id}`, dataset: { id: ev.id } }, t('portal.viewReport')),
        h('p'), h('a', { class: 'btn btn-block', href: '/m/' }, t('portal.backHome'))));
    } catch (err) {
      if (retryable(err) && 'indexedDB' in window) {
        // No signal: the report waits on the phone under its key and goes when the signal returns.
        await outbox.queue({ key, body, photos: photos.files() });
        key = idempotencyKey();
        put(content, h('section', { class: 'p-card p-success', id: 'report-queued', role: 'status' },
          h('div', { class: 'big queued', 'aria-hidden': 'true' }, icon('clock', 56)),
          h('p', { style: { fontSize: '16px', fontWeight: 600 } }, t('portal.queued')),
          h('p', { class: 'muted' }, t('portal.queued.hint')),
          h('a', { class: 'btn btn-block', href: '/m/' }, t('portal.backHome'))));
        return;
      }
      // The same key goes with the retry, so a report that did arrive is not made twice.
      errorEl.hidden = false;
      errorEl.textContent = err.describe ? err.describe() : String(err.message || err);
      submit.disabled = false;
      submit.textContent = t('portal.submit');
    }
  });

  // The small map: tap to set the position (not when the page was left while Leaflet loaded).
  L = await leaflet();
  if (!mapEl.isConnected) return null;
  const cfg = window.SHANZHI || {};
  map = L.map(mapEl, mapOptions(L, { attributionControl: false, zoomControl: true }));
  baseLayer(L, map, mapEl);
  if (cfg.home && cfg.home.bbox) {
    const [x0, y0, x1, y1] = cfg.home.bbox;
    map.fitBounds([[y0, x0], [y1, x1]]);
    if (cfg.home.outline) L.geoJSON(cfg.home.outline, { interactive: false, style: { color: '#c62828', weight: 2, dashArray: '6 4', fillColor: '#fff', fillOpacity: 0.55 } }).addTo(map);
  } else {
    map.setView([23.1, 113.3], 9);
  }
  map.on('click', (e) => setPosition(e.latlng.lat, e.latlng.lng, false));
  showMarker(true);

  return () => removeMap(map);
}

// ---------------- my reports ----------------

const CITIZEN_STATE = { reported: 'portal.step.reported', accepted: 'portal.step.accepted', dispatched: 'portal.step.handling', in_progress: 'portal.step.handling', resolved: 'portal.step.resolved', closed: 'portal.step.closed' };

function citizenBadge(state) {
  const key = CITIZEN_STATE[state] || `state.${state}`;
  return h('span', { class: `badge state-${state}` }, t(key));
}

async function reportList(items) {
  const cats = await categories();
  return h('ul', { class: 'p-list' }, items.map((e) => {
    const c = cats.byId.get(e.category_id);
    return h('li', h('a', { class: 'p-item', href: `/m/mine/${e.id}`, dataset: { id: e.id } },
      h('span', { class: `thumb thumb-${e.state}`, 'aria-hidden': 'true' }, (c ? c.name : '?').slice(0, 1)),
      h('span', { class: 'body' },
        h('span', { class: 'title' }, c ? c.name : '', citizenBadge(e.state), e.state === 'closed' && !e.rating ? h('span', { class: 'badge sup-normal' }, t('action.rate')) : null),
        h('span', { class: 'desc' }, e.description),
        h('span', { class: 'when' }, `#${e.id} · ${fmtTime(e.created_at)}`))));
  }));
}

async function minePage() {
  if (needLogin()) return;
  const host = h('section', { class: 'p-card' }, h('h2', t('portal.mine')), loading());
  put(content, host);
  let items = [];
  let next;
  const more = h('div', { class: 'list-foot' });
  async function load(before) {
    const r = await get('events', { limit: 20, before });
    items = items.concat(r.items);
    next = r.next_before;
    if (!items.length) {
      put(host, h('h2', t('portal.mine')), empty(t('portal.mine.empty'), t('portal.mine.emptyHint'), h('a', { class: 'btn btn-primary', href: '/m/report' }, t('portal.report'))));
      return;
    }
    put(host, h('h2', t('portal.mine')), await reportList(items), more);
    put(more, next ? h('button', { class: 'btn', type: 'button', onclick: () => load(next) }, t('common.more')) : null);
  }
  await load();
}

function steps(state) {
  const order = ['reported', 'accepted', 'handling', 'resolved', 'closed'];
  const at = { reported: 0, accepted: 1, dispatched: 2, in_progress: 2, resolved: 3, closed: 4 }[state];
  return h('ol', { class: 'steps', 'aria-label': t('portal.progress') }, order.map((s, i) =>
    h('li', { class: `step${at !== undefined && i < at ? ' done' : ''}${i === at ? (state === 'closed' ? ' done' : ' now') : ''}`, 'aria-current': i === at ? 'step' : null }, t(`portal.step.${s}`))));
}

async function reportDetail(id) {
  if (needLogin()) return;
  const e = await get(`events/${id}`);
  const cats = await categories();
  const c = cats.byId.get(e.category_id);
  const photos = e.photos.length ? h('div', { class: 'photos' }, e.photos.map((p) => h('figure', h('a', { href: p.url, target: '_blank', rel: 'noopener' }, h('img', { src: p.url, alt: t('photo.alt', { stage: t(`photo.stage.${p.stage}`) }), loading: 'lazy' }))))) : null;
  const visible = e.timeline.filter((l) => l.action !== 'supervise' && l.action !== 'remind');
  const timeline = h('ol', { class: 'timeline' }, visible.slice().reverse().map((l) => h('li',
    h('div', { class: 'when' }, fmtTime(l.at)),
    h('div', { class: 'what' }, t(`action.${l.action}`), l.to && l.from !== l.to ? h('span', { class: 'muted', style: { fontWeight: 400 } }, ` · ${t(CITIZEN_STATE[l.to] || `state.${l.to}`)}`) : null),
    l.note && ['report_result', 'resolve_on_spot', 'reject', 'verify', 'rate'].includes(l.action) ? h('div', { class: 'note' }, l.note) : null)));

  const rateHost = h('div');
  put(content,
    h('section', { class: 'p-card' },
      h('div', { style: { display: 'flex', justifyContent: 'space-between', alignItems: 'center', gap: '8px', marginBottom: '8px' } },
        h('h2', { style: { margin: 0 } }, `${c ? c.name : ''} #${e.id}`), citizenBadge(e.state)),
      steps(e.state),
      h('p', { class: 'description' }, e.description),
      e.address ? h('p', { class: 'muted' }, e.address) : null,
      h('p', { class: 'muted' }, fmtTime(e.created_at)),
      photos),
    rateHost,
    h('section', { class: 'p-card' }, h('h2', t('portal.progress')), timeline),
    h('p', { style: { textAlign: 'center' } }, h('a', { href: '/m/mine' }, '← ', t('portal.mine'))));

  if (e.rating) {
    put(rateHost, h('section', { class: 'p-card' }, h('h2', t('portal.rate')), h('p', { style: { fontSize: '22px', color: '#f2a100' }, 'aria-label': t('portal.rated', { score: e.rating }) }, '★'.repeat(e.rating) + '☆'.repeat(5 - e.rating)),
      e.rating_comment ? h('p', e.rating_comment) : null));
  } else if (e.allowed_actions.includes('rate')) {
    put(rateHost, rateForm(e));
  }
}

function rateForm(e) {
  // Nothing is preselected: the citizen picks a score and says whether it was fixed, on purpose.
  let score = null;
  let fixed = null;
  const labels = [];
  const stars = h('div', { class: 'p-stars', role: 'radiogroup', 'aria-label': t('act.score') }, [1, 2, 3, 4, 5].map((n) => {
    const input = h('input', { type: 'radio', name: 'score', value: n, 'aria-label': t('portal.stars', { n }) });
    const lab = h('label', { dataset: { score: n } }, input, h('span', { class: 'star', 'aria-hidden': 'true' }, '★'));
    input.addEventListener('change', () => {
      score = n;
      labels.forEach((l, i) => l.classList.toggle('on', i < n));
      ready();
    });
    labels.push(lab);
    return lab;
  }));
  const choice = (value, key) => {
    const input = h('input', { type: 'radio', name: 'fixed', value, id: `rate-fixed-${value}` });
    input.addEventListener('change', () => {
      fixed = value === 'yes';
      ready();
    });
    return h('label', { class: 'p-choice', for: `rate-fixed-${value}` }, input, h('span', t(key)));
  };
  const fixedGroup = h('fieldset', { class: 'plain p-fixed', id: 'rate-fixed' }, h('legend', t('portal.rate.fixedQ')),
    choice('yes', 'portal.rate.fixedYes'), choice('no', 'portal.rate.fixedNo'));
  const comment = h('textarea', { id: 'rate-comment', maxlength: 500, rows: 3 });
  const errorEl = h('div', { class: 'form-error', role: 'alert', hidden: true });
  const hint = h('p', { class: 'muted', id: 'rate-hint' }, t('portal.rate.choose'));
  const submit = h('button', { class: 'btn btn-primary btn-block', type: 'submit', id: 'rate-submit', disabled: true, 'aria-describedby': 'rate-hint' }, t('action.rate'));
  function ready() {
    const ok = score !== null && fixed !== null;
    submit.disabled = !ok;
    hint.hidden = ok;
  }
  const form = h('form', { class: 'p-card', id: 'rate-form', novalidate: true },
    h('h2', t('portal.rate')), h('p', { class: 'muted' }, t('portal.rate.lead')),
    stars,
    fixedGroup,
    h('div', { class: 'field' }, h('label', { for: 'rate-comment' }, t('act.comment'), t('common.optional')), comment),
    errorEl, hint, submit);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (score === null || fixed === null) {
      ready();
      return;
    }
    submit.disabled = true;
    submit.classList.add('busy');
    errorEl.hidden = true;
    try {
      await post(`events/${e.id}/rate`, { version: e.version, score, fixed, comment: comment.value.trim() });
      toast(t('portal.rate.thanks'));
      render();
    } catch (err) {
      errorEl.hidden = false;
      errorEl.textContent = err.describe ? err.describe() : String(err);
      submit.disabled = false;
      submit.classList.remove('busy');
    }
  });
  return form;
}

// ---------------- messages: every step of my reports ----------------

function setUnread(n) {
  unread = n;
  const el = document.getElementById('msg-count');
  if (el) {
    el.hidden = !n;
    el.textContent = n > 99 ? '99+' : String(n);
    const sr = document.getElementById('msg-count-sr');
    if (sr) sr.textContent = n ? t('portal.messages.unread', { n }) : '';
  }
}

/** Starts the live stream once logged in (and again after a new login). */
function follow() {
  if (stopFollowing || !me) return;
  stopFollowing = followNotices({
    onUnread: setUnread,
    onNotice: (n) => {
      toast(noticeText(n));
      window.dispatchEvent(new CustomEvent('shanzhi:notice', { detail: n }));
    },
  });
}

function messageItem(n) {
  const order = n.kind === 'report_merged' && n.params && n.params.into ? n.params.into : n.event_id;
  // A notice of a dispute case leads to the case, one of a report to the report.
  const dispute = n.params && n.params.dispute_id;
  const warning = n.params && n.params.warning_id;
  const href = n.kind === 'question_answered' ? '/m/questions'
    : n.kind === 'consultation_concluded' ? '/m/consultations'
    : n.kind === 'opinion_marked' && n.params ? `/m/laws/${n.params.draft_id}`
    : warning ? `/m/warnings#w-${warning}` : dispute && !n.event_id ? `/m/mediation/${dispute}` : `/m/mine/${order}`;
  const open = async () => {
    if (n.read) return;
    n.read = true;
    try {
      setUnread((await markRead(n.id)).unread);
    } catch {
      /* best effort */
    }
  };
  return h('li', { class: n.read ? 'p-message' : 'p-message unread', dataset: { kind: n.kind, id: n.id } },
    h('a', { href, onclick: open },
      h('span', { class: 'text' }, noticeText(n)),
      h('small', { class: 'muted' }, fmtTime(n.created_at), n.read ? '' : ` · ${t('bell.unread')}`)));
}

async function messagesPage() {
  if (!me) return needLogin();
  follow();
  const list = h('ul', { class: 'p-messages', id: 'p-messages' });
  const foot = h('div');
  const readAll = h('button', { type: 'button', class: 'btn btn-small', onclick: async () => {
    setUnread((await markAllRead()).unread);
    list.replaceChildren();
    await load();
  } }, t('bell.readAll'));
  put(content, h('section', { class: 'p-card' }, h('div', { class: 'p-card-head' }, h('h2', t('portal.messages')), readAll), list, foot));
  async function load(before) {
    const r = await listNotices({ limit: 30, before });
    setUnread(r.unread);
    if (!before && !r.items.length) put(list, h('li', { class: 'muted' }, t('portal.messages.none')));
    else list.append(...r.items.map(messageItem));
    put(foot, r.next_before ? h('button', { type: 'button', class: 'btn', onclick: () => load(r.next_before) }, t('common.more')) : null);
  }
  const live = (e) => {
    const none = list.querySelector('li.muted');
    if (none) none.remove();
    list.prepend(messageItem(e.detail));
  };
  window.addEventListener('shanzhi:notice', live);
  await load();
  return () => window.removeEventListener('shanzhi:notice', live);
}

// ---------------- start ----------------

// 长辈模式: large text, strong contrast and big targets for older people (适老化), kept on this
// phone until switched off.
const ELDER_KEY = 'shanzhi.elder';
function setElder(on, remember) {
  document.documentElement.classList.toggle('elder', on);
  const btn = document.getElementById('elder-toggle');
  if (btn) btn.setAttribute('aria-pressed', String(on));
  if (!remember) return;
  try {
    if (on) localStorage.setItem(ELDER_KEY, '1');
    else localStorage.removeItem(ELDER_KEY);
  } catch {
    /* private mode: for this page only */
  }
}
function storedElder() {
  try {
    return localStorage.getItem(ELDER_KEY) === '1';
  } catch {
    return false;
  }
}

/**
 * What waits on the phone to be sent: a bar under the header while anything does, with a button
 * to try now; a report the server refused shows why and can be dropped.
 */
function outboxBar() {
  const bar = h('div', { class: 'p-outbox', id: 'p-outbox', role: 'status', 'aria-live': 'polite', hidden: true });
  document.querySelector('.p-bar').after(bar);
  let before = 0;
  outbox.watch((items) => {
    const waiting = items.filter((i) => !i.error);
    const refused = items.filter((i) => i.error);
    if (before > waiting.length && !waiting.length) toast(t('portal.outbox.sent'));
    before = waiting.length;
    bar.hidden = !items.length;
    put(bar,
      waiting.length ? h('div', { class: 'row' }, h('span', t('portal.outbox.waiting', { n: waiting.length })),
        h('button', { type: 'button', class: 'btn btn-small', id: 'p-outbox-send', onclick: () => outbox.flush().catch(() => {}) }, t('portal.outbox.send'))) : null,
      refused.map((i) => h('div', { class: 'row refused' }, h('span', t('portal.outbox.refused', { text: i.body.description.slice(0, 20), reason: i.error })),
        h('button', { type: 'button', class: 'btn btn-small', onclick: () => outbox.discard(i.key) }, t('portal.outbox.discard')))));
  });
}

async function start() {
  setElder(storedElder(), false);
  if ('serviceWorker' in navigator) navigator.serviceWorker.register('/sw.js').catch(() => {});
  outboxBar();
  outbox.start();
  applyI18n();
  document.getElementById('lang-toggle').addEventListener('click', toggleLang);
  document.getElementById('elder-toggle').addEventListener('click', () => setElder(!document.documentElement.classList.contains('elder'), true));
  try {
    me = await get('me');
  } catch {
    me = null;
  }
  document.addEventListener('click', (e) => {
    const a = e.target.closest && e.target.closest('a[href]');
    if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey || a.target) return;
    const url = new URL(a.href, location.href);
    if (url.origin !== location.origin || !url.pathname.startsWith('/m')) return;
    e.preventDefault();
    navigate(url.pathname + url.search);
    content.focus({ preventScroll: true });
  });
  window.addEventListener('popstate', render);
  render();
  follow();
}

start();
