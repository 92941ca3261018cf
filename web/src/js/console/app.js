// The staff console: the shell (sidebar, top bar), who is logged in, and a small client-side
// router over /console/*. Each page is a module loaded when first visited.
import { t, applyI18n, toggleLang } from '../i18n.js';
import { get, post, ApiError } from '../api.js';
import { h, put, loading, errorBox, empty, fmtTime, toast, icon } from '../dom.js';
import { noticeText, noticeHref, listNotices, markRead, markAllRead, followNotices } from '../notices.js';

const ROUTES = [
  { re: /^\/console\/?$/, page: null },
  { re: /^\/console\/inbox\/?$/, page: 'inbox', title: 'nav.inbox' },
  { re: /^\/console\/grid\/?$/, page: 'grid', title: 'nav.grid' },
  { re: /^\/console\/visits(?:\/(log|\d+))?\/?$/, page: 'visits', title: 'nav.visits' },
  { re: /^\/console\/tags\/?$/, page: 'tags', title: 'nav.tags' },
  { re: /^\/console\/events\/?$/, page: 'events', title: 'nav.events' },
  { re: /^\/console\/events\/(\d+)\/?$/, page: 'event', title: 'nav.events' },
  { re: /^\/console\/hotline\/?$/, page: 'hotline', title: 'nav.hotline' },
  { re: /^\/console\/map\/?$/, page: 'map', title: 'nav.map', full: true },
  { re: /^\/console\/dashboard\/?$/, page: 'dashboard', title: 'nav.dashboard' },
  { re: /^\/console\/wall\/?$/, page: 'wall', title: 'nav.wall', wall: true },
  { re: /^\/console\/notifications\/?$/, page: 'notifications', title: 'nav.notifications' },
  { re: /^\/console\/residents\/?$/, page: 'residents', title: 'nav.residents' },
  { re: /^\/console\/residents\/(\d+)\/?$/, page: 'resident', title: 'nav.residents' },
  { re: /^\/console\/households\/(\d+)\/?$/, page: 'household', title: 'nav.residents' },
  { re: /^\/console\/corrections\/?$/, page: 'corrections', title: 'nav.corrections' },
  { re: /^\/console\/places\/?$/, page: 'places', title: 'nav.places' },
  { re: /^\/console\/buildings\/?$/, page: 'buildings', title: 'nav.buildings' },
  { re: /^\/console\/buildings\/(\d+)\/?$/, page: 'buildings', title: 'nav.buildings' },
  { re: /^\/console\/organisations\/?$/, page: 'organisations', title: 'nav.organisations' },
  { re: /^\/console\/emergency\/?$/, page: 'emergency', title: 'nav.emergency' },
  { re: /^\/console\/emergency\/(\d+)\/?$/, page: 'emergency', title: 'nav.emergency' },
  { re: /^\/console\/residents\/import\/?$/, page: 'residents-import', title: 'nav.residentsImport' },
  { re: /^\/console\/places\/import\/?$/, page: 'places-import', title: 'nav.placesImport' },
  { re: /^\/console\/buildings\/import\/?$/, page: 'buildings-import', title: 'nav.buildingsImport' },
  { re: /^\/console\/organisations\/import\/?$/, page: 'organisations-import', title: 'nav.organisationsImport' },
  { re: /^\/console\/disputes\/?$/, page: 'disputes', title: 'nav.disputes' },
  { re: /^\/console\/disputes\/new\/?$/, page: 'dispute-new', title: 'nav.disputes' },
  { re: /^\/console\/disputes\/(\d+)\/?$/, page: 'dispute', title: 'nav.disputes' },
  { re: /^\/console\/disputes\/(\d+)\/agreement\/?$/, page: 'dispute-agreement', title: 'nav.disputes' },
  { re: /^\/console\/mediation\/?$/, page: 'mediation', title: 'nav.mediation' },
  { re: /^\/console\/risks\/?$/, page: 'risks', title: 'nav.risks' },
  { re: /^\/console\/risks\/rules\/?$/, page: 'risk-rules', title: 'nav.risks' },
  { re: /^\/console\/risks\/(\d+)\/?$/, page: 'risk', title: 'nav.risks' },
  { re: /^\/console\/warnings\/?$/, page: 'warnings', title: 'nav.warnings' },
  { re: /^\/console\/briefings\/?$/, page: 'briefings', title: 'nav.briefings' },
  { re: /^\/console\/briefings\/(\d+)\/?$/, page: 'briefings', title: 'nav.briefings' },
  { re: /^\/console\/mediators\/?$/, page: 'mediators', title: 'nav.mediators' },
  { re: /^\/console\/ledger\/?$/, page: 'ledger', title: 'nav.ledger' },
  { re: /^\/console\/ledger\/(\d+)\/?$/, page: 'ledger', title: 'nav.ledger' },
  { re: /^\/console\/disclosures\/?$/, page: 'disclosures', title: 'nav.disclosures' },
  { re: /^\/console\/disclosures\/(\d+)\/?$/, page: 'disclosures', title: 'nav.disclosures' },
  { re: /^\/console\/questions\/?$/, page: 'questions', title: 'nav.questions' },
  { re: /^\/console\/affairs\/?$/, page: 'affairs', title: 'nav.affairs' },
  { re: /^\/console\/contracts\/?$/, page: 'contracts', title: 'nav.contracts' },
  { re: /^\/console\/contracts\/(\d+)\/?$/, page: 'contracts', title: 'nav.contracts' },
  { re: /^\/console\/points\/?$/, page: 'points', title: 'nav.points' },
  { re: /^\/console\/consultations\/?$/, page: 'consultations', title: 'nav.consultations' },
  { re: /^\/console\/consultations\/(\d+)\/?$/, page: 'consultations', title: 'nav.consultations' },
  { re: /^\/console\/laws\/?$/, page: 'laws', title: 'nav.laws' },
  { re: /^\/console\/laws\/(\d+)\/?$/, page: 'laws', title: 'nav.laws' },
  { re: /^\/console\/admin\/(users|departments|categories|import|audit)\/?$/, page: 'admin', title: 'nav.admin' },
];

/** Roles that read the register of residents (the server's base_access). */
const BASE_READERS = ['grid_worker', 'dispatcher', 'admin', 'leader', 'analyst'];

const NAV = [
  { path: '/console/inbox', key: 'nav.inbox', ico: '✉', show: (me) => ['dispatcher', 'handler', 'grid_worker'].includes(me.role), inbox: true },
  { path: '/console/grid', key: 'nav.grid', ico: '⌖', show: (me) => me.role === 'grid_worker' },
  { path: '/console/visits', key: 'nav.visits', ico: '♡', show: (me) => ['grid_worker', 'dispatcher', 'admin'].includes(me.role) },
  { path: '/console/events', key: 'nav.events', ico: '☰', show: () => true },
  { path: '/console/mediation', key: 'nav.mediation', ico: '⚖', show: (me) => me.role === 'mediator' },
  { path: '/console/disputes', key: 'nav.disputes', ico: '⚖', show: (me) => ['dispatcher', 'leader', 'analyst', 'admin', 'grid_worker', 'mediator'].includes(me.role) },
  { path: '/console/risks', key: 'nav.risks', ico: '⚠', show: (me) => ['analyst', 'dispatcher', 'leader', 'admin', 'handler'].includes(me.role) },
  { path: '/console/briefings', key: 'nav.briefings', ico: '≣', show: (me) => !!me.scope_node && ['analyst', 'dispatcher', 'leader', 'admin'].includes(me.role) },
  { path: '/console/warnings', key: 'nav.warnings', ico: '⚐', show: (me) => !!me.scope_node && ['analyst', 'dispatcher', 'leader', 'admin', 'grid_worker'].includes(me.role) },
  { path: '/console/ledger', key: 'nav.ledger', ico: '¥', show: (me) => !['citizen', 'handler'].includes(me.role) },
  { path: '/console/disclosures', key: 'nav.disclosures', ico: '☰', show: (me) => !['citizen', 'handler'].includes(me.role) },
  { path: '/console/questions', key: 'nav.questions', ico: '?', show: (me) => !['citizen', 'handler'].includes(me.role) },
  { path: '/console/affairs', key: 'nav.affairs', ico: '▤', show: (me) => !['citizen', 'handler'].includes(me.role) },
  { path: '/console/contracts', key: 'nav.contracts', ico: '§', show: (me) => !['citizen', 'handler'].includes(me.role) },
  { path: '/console/points', key: 'nav.points', ico: '★', show: (me) => !['citizen', 'handler'].includes(me.role) },
  { path: '/console/consultations', key: 'nav.consultations', ico: '☷', show: (me) => !['citizen', 'handler'].includes(me.role) },
  { path: '/console/laws', key: 'nav.laws', ico: '§', show: (me) => !!me.scope_node && !['citizen', 'handler', 'grid_worker'].includes(me.role) },
  { path: '/console/mediators', key: 'nav.mediators', ico: '☺', show: (me) => ['dispatcher', 'leader', 'analyst', 'admin'].includes(me.role) },
  { path: '/console/hotline', key: 'nav.hotline', ico: '☎', show: (me) => me.role === 'dispatcher' },
  { path: '/console/residents', key: 'nav.residents', ico: '☷', show: (me) => BASE_READERS.includes(me.role) },
  { path: '/console/corrections', key: 'nav.corrections', ico: '✎', show: (me) => BASE_READERS.includes(me.role) },
  { path: '/console/map', key: 'nav.map', ico: '◈', show: (me) => !!me.scope_node },
  { path: '/console/dashboard', key: 'nav.dashboard', ico: '▥', show: (me) => !!me.scope_node },
  { path: '/console/buildings', key: 'nav.buildings', ico: '#', show: (me) => !!me.scope_node && ['admin', 'dispatcher', 'grid_worker', 'leader', 'analyst'].includes(me.role) },
  { path: '/console/places', key: 'nav.places', ico: '+', show: (me) => !!me.scope_node && ['admin', 'dispatcher', 'grid_worker', 'leader', 'analyst'].includes(me.role) },
  { path: '/console/organisations', key: 'nav.organisations', ico: '*', show: (me) => !!me.scope_node && ['admin', 'dispatcher', 'grid_worker', 'leader', 'analyst'].includes(me.role) },
  { path: '/console/emergency', key: 'nav.emergency', ico: '!', show: (me) => !!me.scope_node && ['admin', 'dispatcher', 'grid_worker', 'leader', 'analyst'].includes(me.role) },
  { path: '/console/wall', key: 'nav.wall', ico: '▣', show: (me) => !!me.scope_node },
  { path: '/console/residents/import', key: 'nav.residentsImport', ico: '⇪', show: (me) => ['admin', 'dispatcher', 'grid_worker'].includes(me.role) && !!me.scope_node },
  { group: 'nav.admin', show: (me) => me.role === 'admin' },
  { path: '/console/admin/users', key: 'nav.users', ico: '☺', show: (me) => me.role === 'admin' },
  { path: '/console/admin/departments', key: 'nav.departments', ico: '⌂', show: (me) => me.role === 'admin' },
  { path: '/console/admin/categories', key: 'nav.categories', ico: '≡', show: (me) => me.role === 'admin' },
  { path: '/console/admin/import', key: 'nav.import', ico: '⇪', show: (me) => me.role === 'admin' },
  { path: '/console/admin/audit', key: 'nav.audit', ico: '⚖', show: (me) => me.role === 'admin' },
  { path: '/console/tags', key: 'nav.tags', ico: '⚑', show: (me) => me.role === 'admin' },
];

const shell = document.getElementById('shell');
const content = document.getElementById('content');
const titleEl = document.getElementById('page-title');
let me = null;
let scopeName = '';
let cleanup = null;
let renderSeq = 0;

function defaultPath() {
  if (me.role === 'mediator') return '/console/mediation';
  if (['dispatcher', 'handler', 'grid_worker'].includes(me.role)) return '/console/inbox';
  if (me.scope_node) return '/console/dashboard';
  return '/console/events';
}

function setTitle(text) {
  titleEl.textContent = text;
  document.title = `${text} · ${t('app.name')}`;
}

function buildNav() {
  const nav = document.getElementById('nav');
  put(nav, NAV.filter((n) => n.show(me)).map((n) =>
    n.group
      ? h('div', { class: 'nav-group' }, t(n.group))
      : h('a', { class: 'nav-link', href: n.path, dataset: { path: n.path } },
        h('span', { class: 'ico', 'aria-hidden': 'true' }, n.ico), h('span', t(n.key)),
        n.inbox ? h('span', { class: 'count', id: 'inbox-count', hidden: true }) : null)));
  const initials = (me.display_name || me.username || '?').slice(0, 1);
  put(document.getElementById('user-chip'), h('span', { class: 'avatar', 'aria-hidden': 'true' }, initials),
    h('span', { class: 'name' }, me.display_name));
  put(document.getElementById('side-foot'),
    h('div', { class: 'who' }, me.display_name),
    h('div', t(`role.${me.role}`), scopeName ? ` · ${scopeName}` : ''),
    h('div', { style: { marginTop: '8px', display: 'flex', gap: '14px' } },
      h('a', { href: '/m/', class: 'btn-link' }, t('nav.portal')),
      h('button', { type: 'button', class: 'btn-link', onclick: logout }, t('nav.logout'))));
  document.getElementById('side-scope').textContent = scopeName || t(`role.${me.role}`);
}

function markNav(path) {
  for (const a of document.querySelectorAll('#nav .nav-link')) {
    const p = a.dataset.path;
    if (path === p || path.startsWith(p + '/')) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

/** Refreshes the count of waiting orders in the sidebar. */
export async function refreshInboxCount() {
  const el = document.getElementById('inbox-count');
  if (!el) return;
  try {
    const r = await get('inbox', { limit: 1 });
    const n = r.total;
    el.hidden = n === 0;
    el.textContent = n >= 200 ? '200+' : String(n);
  } catch {
    el.hidden = true;
  }
}

// ----- the bell: unread notices, a short list, kept current by the live stream -----
let bellPanel = null;

function setBellCount(n) {
  const el = document.getElementById('bell-count');
  if (!el) return;
  el.hidden = !n;
  el.textContent = n > 99 ? '99+' : String(n);
  document.getElementById('bell').setAttribute('aria-label', t('bell.label', { n }));
}

function noticeItem(n, onRead) {
  const open = async () => {
    if (!n.read) {
      try {
        const r = await markRead(n.id);
        setBellCount(r.unread);
      } catch {
        /* reading is best effort */
      }
      n.read = true;
      if (onRead) onRead();
    }
  };
  return h('li', { class: n.read ? 'notice' : 'notice unread', dataset: { kind: n.kind, id: n.id } },
    noticeHref(n) ? h('a', { href: noticeHref(n), onclick: open }, noticeText(n)) : h('span', noticeText(n)),
    h('small', { class: 'muted' }, fmtTime(n.created_at)));
}

async function fillBellPanel() {
  if (!bellPanel) return;
  put(bellPanel, loading());
  try {
    const r = await listNotices({ limit: 8 });
    setBellCount(r.unread);
    put(bellPanel,
      h('div', { class: 'bell-head' }, h('strong', t('bell.title')),
        h('button', { type: 'button', class: 'btn-link', id: 'bell-read-all', onclick: async () => {
          const x = await markAllRead();
          setBellCount(x.unread);
          fillBellPanel();
        } }, t('bell.readAll'))),
      r.items.length ? h('ul', { class: 'notice-list' }, r.items.map((n) => noticeItem(n, fillBellPanel))) : h('p', { class: 'muted' }, t('bell.none')),
      h('a', { class: 'btn-link', href: '/console/notifications', onclick: () => toggleBell(false) }, t('bell.all')));
  } catch (err) {
    put(bellPanel, errorBox(err, fillBellPanel));
  }
}

function toggleBell(open) {
  const btn = document.getElementById('bell');
  const want = open === undefined ? !bellPanel : open;
  if (!want) {
    if (bellPanel) bellPanel.remove();
    bellPanel = null;
    btn.setAttribute('aria-expanded', 'false');
    return;
  }
  if (bellPanel) return;
  bellPanel = h('div', { class: 'bell-panel', id: 'bell-panel', role: 'region', 'aria-label': t('bell.title') });
  btn.after(bellPanel);
  btn.setAttribute('aria-expanded', 'true');
  fillBellPanel();
}

function setupBell() {
  const btn = h('button', { type: 'button', class: 'btn btn-small bell', id: 'bell', 'aria-expanded': 'false', 'aria-controls': 'bell-panel',
    'aria-label': t('bell.label', { n: 0 }), onclick: () => toggleBell() },
  h('span', { class: 'ico', 'aria-hidden': 'true' }, icon('bell', 18)), h('span', { class: 'count', id: 'bell-count', hidden: true }));
  document.getElementById('lang-toggle').before(btn);
  followNotices({
    onUnread: setBellCount,
    onNotice: (n) => {
      toast(noticeText(n));
      if (bellPanel) fillBellPanel();
      refreshInboxCount();
      window.dispatchEvent(new CustomEvent('shanzhi:notice', { detail: n }));
    },
  });
}

async function logout() {
  try {
    await post('auth/logout');
  } catch {
    /* the session may already be gone */
  }
  location.href = '/login';
}

/** Goes to a console path without reloading the page. */
export function navigate(path, { replace = false } = {}) {
  if (replace) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
  render();
}

async function render() {
  const seq = ++renderSeq;
  if (cleanup) {
    try {
      cleanup();
    } catch {
      /* a page that failed to clean up must not block the next */
    }
    cleanup = null;
  }
  shell.classList.remove('nav-open');
  const path = location.pathname;
  const route = ROUTES.find((r) => r.re.test(path));
  if (route && route.page === null) {
    navigate(defaultPath(), { replace: true });
    return;
  }
  document.body.classList.toggle('wall', !!(route && route.wall));
  content.className = route && route.full ? 'content full' : 'content';
  markNav(path);
  if (!route) {
    setTitle(t('notfound.title'));
    put(content, empty(t('notfound.title'), t('notfound.text')));
    return;
  }
  setTitle(t(route.title));
  put(content, loading());
  const params = path.match(route.re).slice(1);
  try {
    const mod = await import(`./${route.page}.js`);
    if (seq !== renderSeq) return;
    clearContent();
    const ctx = { me, scopeName, content, params, query: new URLSearchParams(location.search), setTitle, navigate, refreshInboxCount, isCurrent: () => seq === renderSeq };
    const c = await mod.render(ctx);
    if (seq !== renderSeq) {
      if (typeof c === 'function') c();
      return;
    }
    cleanup = typeof c === 'function' ? c : null;
  } catch (err) {
    if (seq !== renderSeq) return;
    if (err instanceof ApiError && err.status === 401) return toLogin();
    console.error(err);
    put(content, errorBox(err, render));
  }
}

function clearContent() {
  put(content);
}

function toLogin() {
  location.href = `/login?next=${encodeURIComponent(location.pathname + location.search)}`;
}

// A table that scrolls sideways must be reachable by keyboard (WCAG 2.1.1): every .table-wrap
// the pages draw becomes a focusable region named after its card's heading.
function focusableTables(root) {
  new MutationObserver(() => {
    for (const w of root.querySelectorAll('.table-wrap:not([tabindex])')) {
      w.tabIndex = 0;
      w.setAttribute('role', 'region');
      const title = w.closest('.card') && w.closest('.card').querySelector('h2');
      w.setAttribute('aria-label', title ? title.textContent : t('common.table'));
    }
  }).observe(root, { childList: true, subtree: true });
}

async function start() {
  applyI18n();
  focusableTables(content);
  // The grid worker's phone pages open without a signal too (sw.js).
  if ('serviceWorker' in navigator) navigator.serviceWorker.register('/sw.js').catch(() => {});
  document.getElementById('lang-toggle').addEventListener('click', toggleLang);
  const menuBtn = document.getElementById('menu-btn');
  menuBtn.addEventListener('click', () => {
    const open = shell.classList.toggle('nav-open');
    menuBtn.setAttribute('aria-expanded', String(open));
  });
  try {
    me = await get('me');
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return toLogin();
    put(content, errorBox(err, () => location.reload()));
    return;
  }
  if (me.role === 'citizen') {
    location.href = '/m/';
    return;
  }
  if (me.scope_node) {
    try {
      const n = await get(`nodes/${me.scope_node}`);
      scopeName = n.name;
    } catch {
      scopeName = me.scope_node;
    }
  }
  buildNav();
  setupBell();
  // Links inside the console move without a reload.
  document.addEventListener('click', (e) => {
    const a = e.target.closest && e.target.closest('a[href]');
    if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey || a.target) return;
    const url = new URL(a.href, location.href);
    if (url.origin !== location.origin || !url.pathname.startsWith('/console')) return;
    e.preventDefault();
    if (url.pathname + url.search !== location.pathname + location.search) navigate(url.pathname + url.search);
    content.focus({ preventScroll: true });
  });
  window.addEventListener('popstate', render);
  await render();
  refreshInboxCount();
  setInterval(refreshInboxCount, 60000);
}

start();
