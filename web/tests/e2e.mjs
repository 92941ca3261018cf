// Browser tests: real headless Chromium drives the citizen portal and the staff console of a
// running Shanzhi (the city-scale demo, 汕尾 on its real outlines) through one closed loop:
//   a citizen reports with a photo on a 360-px phone → the village dispatcher accepts and
//   dispatches → the department handler signs and reports the result → the grid worker
//   verifies → the citizen rates; the map shows the event in its grid; the dashboard changes.
// It saves screenshots to screenshots/ (map, dashboard, wall, event, portal-report).
//
// Usage: node web/tests/e2e.mjs http://127.0.0.1:PORT   (run from the workspace root)
// Chromium: $CHROMIUM or /usr/bin/chromium. Every launch starts from a new, empty profile.
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import path from 'node:path';
import { walk as walkWeb } from './walk-web.mjs';
import { walk as walkNotify } from './walk-notify.mjs';
import { walk as walkLoop } from './walk-loop.mjs';
import { walk as walkPeople } from './walk-people.mjs';
import { walk as walkCare } from './walk-care.mjs';
import { walk as walkPlaces } from './walk-places.mjs';
import { walk as walkImport } from './walk-import.mjs';
import { walk as walkDispute } from './walk-dispute.mjs';
import { walk as walkRisk } from './walk-risk.mjs';
import { walk as walkLedger } from './walk-ledger.mjs';

const BASE = (process.argv[2] || '').replace(/\/$/, '');
if (!/^https?:\/\//.test(BASE)) {
  console.error('usage: node web/tests/e2e.mjs http://127.0.0.1:PORT');
  process.exit(2);
}
const PASSWORD = 'shanzhi-demo';
const SHOTS = path.resolve('screenshots');
fs.mkdirSync(SHOTS, { recursive: true });

let passed = 0;
let failed = 0;
const problems = [];

function check(cond, what) {
  if (!cond) throw new Error(`check failed: ${what}`);
}

async function step(name, fn) {
  const t0 = Date.now();
  try {
    await fn();
    passed++;
    console.log(`  ✓ ${name} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  } catch (err) {
    failed++;
    console.log(`  ✗ ${name}\n    ${String(err && err.stack || err).split('\n').slice(0, 6).join('\n    ')}`);
    throw err;
  }
}

// ---------- the API, for finding the demo's places and people ----------

async function apiLogin(username) {
  const r = await fetch(`${BASE}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password: PASSWORD }) });
  if (!r.ok) throw new Error(`login ${username}: ${r.status} ${await r.text()}`);
  return (await r.json()).token;
}

async function apiGet(token, p) {
  const r = await fetch(`${BASE}/api/v1/${p}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  if (!r.ok) throw new Error(`GET ${p}: ${r.status} ${await r.text()}`);
  return r.json();
}

/** The path of a region code: its trailing zero groups dropped (441581102000 → 441581102). */
function codePath(code) {
  for (const len of [2, 4, 6, 9]) if (/^0+$/.test(code.slice(len))) return code.slice(0, len);
  return code;
}

/** A grid of the demo with a point inside it, its village, a city-management department and category. */
async function discover() {
  const admin = await apiLogin('admin');
  // The leader's area is the demo city (the administrator sits above it, at the province).
  const me = await apiGet(await apiLogin('leader'), 'me');
  const root = await apiGet(admin, `nodes/${me.scope_node}`);
  // The root's box over all its parts (a real city has islands, 汕尾 even 东沙), then a window
  // in the middle of its largest part, so that the grids come in a few hundred, not thousands.
  const polys = root.geometry.type === 'Polygon' ? [root.geometry.coordinates] : root.geometry.coordinates;
  const box = (ring) => {
    const xs = ring.map((c) => c[0]);
    const ys = ring.map((c) => c[1]);
    return [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)];
  };
  const boxes = polys.map((p) => box(p[0]));
  const area = (b) => (b[2] - b[0]) * (b[3] - b[1]);
  const main = boxes.reduce((a, b) => (area(b) > area(a) ? b : a));
  const [cx, cy, w, hgt] = [(main[0] + main[2]) / 2, (main[1] + main[3]) / 2, main[2] - main[0], main[3] - main[1]];
  const windows = [[cx - w * 0.1, cy - hgt * 0.1, cx + w * 0.1, cy + hgt * 0.1], main];
  let grids = [];
  for (const win of windows) {
    grids = (await apiGet(admin, `map/nodes?level=grid&bbox=${win.join(',')}&zoom=16&figure=open`)).features
      .filter((f) => f.geometry.type === 'Polygon')
      .sort((a, b) => a.properties.code.localeCompare(b.properties.code));
    if (grids.length) break;
  }
  for (const g of grids) {
    const pts = g.geometry.coordinates[0].slice(0, -1);
    const lon = pts.reduce((s, p) => s + p[0], 0) / pts.length;
    const lat = pts.reduce((s, p) => s + p[1], 0) / pts.length;
    const at = await apiGet(null, `locate?lon=${lon}&lat=${lat}`);
    if (!at.inside || at.grid.code !== g.properties.code) continue;
    // A second point inside the grid, away from the event's marker, to click the polygon itself.
    const v = pts[0];
    const inner = { lon: lon + (v[0] - lon) * 0.55, lat: lat + (v[1] - lat) * 0.55 };
    const village = at.chain.find((n) => n.level === 'village');
    const deps = (await apiGet(admin, 'departments')).items;
    const dep = deps.find((d) => d.code.startsWith('cg-') && g.properties.code.startsWith(codePath(d.region)));
    const cats = (await apiGet(null, 'categories')).items;
    const cat = cats.find((c) => c.parent_id && c.department_kind === 'cg' && c.active);
    check(village && dep && cat, 'the demo has a village, a city-management department and a category');
    return {
      admin, root, main, grid: { code: g.properties.code, name: at.grid.name }, point: { lon, lat }, inner, village,
      dep, cat, dispatcher: `disp-${village.code}`, handler: `h-${dep.code}`, worker: `gw-${g.properties.code}`,
    };
  }
  throw new Error('no grid of the demo locates its own centre');
}

// ---------- the browser ----------

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});

const DESKTOP = { viewport: { width: 1440, height: 900 } };
const PHONE = { viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 };

/** A fresh browser context (its own cookies) that records page errors. */
async function context(opts = {}) {
  const ctx = await browser.newContext({ locale: 'zh-CN', timezoneId: 'Asia/Shanghai', ...opts });
  ctx.on('page', watch);
  return ctx;
}

function watch(page) {
  page.on('pageerror', (e) => problems.push(`page error on ${page.url()}: ${e.message}`));
  page.on('console', (m) => {
    // Refused requests show as "Failed to load resource"; the tests cause some on purpose.
    if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) problems.push(`console error on ${page.url()}: ${m.text()}`);
  });
}

async function consoleLogin(page, username) {
  await page.goto(`${BASE}/login`);
  await page.fill('#username', username);
  await page.fill('#password', PASSWORD);
  await Promise.all([page.waitForURL(/\/console\//), page.click('#login-submit')]);
}

/** Runs an action from the event page: opens its dialog, lets `fill` fill it, confirms, waits for the new state. */
async function act(page, action, fill, expectState) {
  await page.click(`#actions button[data-action="${action}"]`);
  const dlg = page.locator('dialog.dialog[open]');
  await dlg.waitFor();
  if (fill) await fill(dlg);
  await dlg.locator('button[type=submit]').click();
  await dlg.waitFor({ state: 'detached' });
  if (expectState) await page.locator(`.event-head .badge.state-${expectState}`).waitFor();
}

async function kpi(page, name) {
  const text = await page.locator(`[data-kpi="${name}"] .value`).innerText();
  return Number(text.replace(/[^\d.]/g, ''));
}

/** The page scrolls sideways only if something is too wide for the screen. */
async function noSidewaysScroll(page, what) {
  const [sw, w] = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
  check(sw <= w + 1, `${what}: no horizontal overflow (page ${sw}px wide on a ${w}px screen)`);
}

/** Every visible form control has a label (or an aria-label). */
async function labelled(page, what) {
  const bad = await page.evaluate(() => Array.from(document.querySelectorAll('input, select, textarea'))
    .filter((el) => el.type !== 'hidden' && (el.offsetParent !== null || el.type === 'file'))
    .filter((el) => !(el.labels && el.labels.length) && !el.getAttribute('aria-label') && !el.getAttribute('aria-labelledby'))
    .map((el) => el.outerHTML.slice(0, 80)));
  check(bad.length === 0, `${what}: every form field is labelled (${bad.join(' | ')})`);
}

// axe-core, evaluated in the page (DevTools evaluation is not bound by the page's CSP).
const AXE = fs.readFileSync(new URL('../node_modules/axe-core/axe.min.js', import.meta.url), 'utf8');

/** axe-core's serious and critical violations of WCAG 2.1 A/AA on the page as it is now. */
async function axeViolations(page) {
  if (!(await page.evaluate(() => !!window.axe))) await page.evaluate(`${AXE}\n;0`);
  return page.evaluate(async () => {
    const r = await window.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] }, resultTypes: ['violations'] });
    return r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.id} (${v.impact}, ${v.nodes.length}×): ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}`);
  });
}

/** A 640×480 PNG "photo", drawn by the browser itself. */
async function photo(caption) {
  const ctx = await browser.newContext({ viewport: { width: 640, height: 480 } });
  const p = await ctx.newPage();
  await p.setContent(`<body style="margin:0"><div style="width:640px;height:480px;background:linear-gradient(160deg,#6b8e23,#8b6914 60%,#5d4037);display:flex;align-items:flex-end;justify-content:center;font:bold 40px sans-serif;padding-bottom:24px;color:#fff">${caption}</div></body>`);
  const buffer = await p.screenshot({ type: 'png' });
  await ctx.close();
  return { name: 'photo.png', mimeType: 'image/png', buffer };
}

let exitCode = 0;
try {
  console.log(`browser tests against ${BASE}`);
  const demo = await discover();
  console.log(`  grid ${demo.grid.code} (${demo.grid.name}), dispatcher ${demo.dispatcher}, handler ${demo.handler}, worker ${demo.worker}`);
  const description = '路口垃圾堆放多日未清运，气味很大，请尽快处理。';
  let eventId = null;
  const before = {};

  const leader = await context(DESKTOP);
  const leaderPage = await leader.newPage();

  await step('the translations have the same keys in Chinese and English, and the switch works', async () => {
    await leaderPage.goto(`${BASE}/login`);
    const diff = await leaderPage.evaluate(async () => {
      const m = await import('/assets/js/i18n.js');
      const zh = Object.keys(m.dictionaries['zh-CN']);
      const en = Object.keys(m.dictionaries.en);
      return zh.filter((k) => !en.includes(k)).concat(en.filter((k) => !zh.includes(k)));
    });
    check(diff.length === 0, `keys in one dictionary only: ${diff.join(', ')}`);
    check((await leaderPage.locator('#login-submit').innerText()).includes('登录'), 'Chinese by default');
    await leaderPage.click('#lang-toggle');
    await leaderPage.locator('#login-submit', { hasText: 'Log in' }).waitFor();
    await leaderPage.click('#lang-toggle');
    await leaderPage.locator('#login-submit', { hasText: '登录' }).waitFor();
    // Keyboard: from the username, Tab reaches the password and then the button.
    await leaderPage.focus('#username');
    await leaderPage.keyboard.press('Tab');
    check(await leaderPage.evaluate(() => document.activeElement.id) === 'password', 'Tab moves to the password');
    await leaderPage.keyboard.press('Tab');
    check(await leaderPage.evaluate(() => document.activeElement.id) === 'login-submit', 'Tab moves to the login button');
    await labelled(leaderPage, 'login');
  });

  await step('a wrong password is refused with a clear message', async () => {
    await leaderPage.fill('#username', 'leader');
    await leaderPage.fill('#password', 'not-the-password');
    await leaderPage.click('#login-submit');
    await leaderPage.locator('#login-error', { hasText: '用户名或密码错误' }).waitFor();
  });

  await step('the leader reads the dashboard before the report', async () => {
    await consoleLogin(leaderPage, 'leader');
    await leaderPage.goto(`${BASE}/console/dashboard`);
    await leaderPage.locator('[data-kpi="reported"]').waitFor();
    before.reported = await kpi(leaderPage, 'reported');
    before.closed = await kpi(leaderPage, 'closed');
    before.open = await kpi(leaderPage, 'open');
    check(Number.isFinite(before.reported) && Number.isFinite(before.closed), 'figures are numbers');
  });

  // ---------------- the citizen reports from a phone ----------------
  const citizen = await context({ ...PHONE, permissions: ['geolocation'], geolocation: { longitude: demo.point.lon, latitude: demo.point.lat, accuracy: 10 } });
  const phone = await citizen.newPage();

  await step('a citizen reports a problem with a photo and the phone\'s position on a 360-px screen', async () => {
    await phone.goto(`${BASE}/m/report`);
    await phone.waitForURL(/\/m\/login/);
    await phone.fill('#p-username', 'citizen');
    await phone.fill('#p-password', PASSWORD);
    await phone.click('form button[type=submit]');
    await phone.locator('#report-form').waitFor();
    await phone.selectOption('#r-category', { label: demo.cat.name });
    await phone.fill('#r-description', description);
    await phone.setInputFiles('#report-form input[type=file]', await photo('垃圾堆放 · 现场照片'));
    await phone.locator('#report-form .photo-thumb[data-hash]').waitFor();
    await phone.click('#r-locate');
    await phone.locator('#r-located.ok', { hasText: demo.grid.name }).waitFor();
    await phone.fill('#r-address', `${demo.grid.name}路口`);
    await labelled(phone, 'report form');
    await noSidewaysScroll(phone, 'report form at 360 px');
    // The whole form on one 360-px-wide picture: a viewport as tall as the page, so that the
    // fixed tab bar sits at the bottom as it does on a phone.
    const tall = await phone.evaluate(() => document.documentElement.scrollHeight);
    await phone.setViewportSize({ width: 360, height: tall });
    await phone.waitForTimeout(300);
    await phone.screenshot({ path: path.join(SHOTS, 'portal-report.png') });
    await phone.setViewportSize({ width: 360, height: 740 });
    await phone.click('#r-submit');
    const done = phone.locator('#report-done a[data-id]');
    await done.waitFor();
    eventId = Number(await done.getAttribute('data-id'));
    check(eventId > 0, 'the portal shows the new order number');
    const ev = await apiGet(demo.admin, `events/${eventId}`);
    check(ev.grid === demo.grid.code, `the report located to grid ${demo.grid.code} (got ${ev.grid})`);
    check(ev.photos.length === 1 && ev.photos[0].stage === 'report', 'the photo is attached');
    check(ev.source === 'citizen' && ev.state === 'reported', 'a citizen report waits to be accepted');
  });

  await step('the citizen sees the report in "my reports" with its progress', async () => {
    await phone.click('#report-done a[data-id]');
    await phone.locator('.steps .step.now').waitFor();
    check((await phone.locator('.description').innerText()).includes(description), 'the description is shown as typed');
    await noSidewaysScroll(phone, 'report progress at 360 px');
    await phone.goto(`${BASE}/m/mine`);
    await phone.locator(`a.p-item[data-id="${eventId}"]`).waitFor();
    await noSidewaysScroll(phone, 'my reports at 360 px');
    await phone.goto(`${BASE}/m/notices`);
    await phone.locator('#my-notices article').first().waitFor();
    await noSidewaysScroll(phone, 'notices at 360 px');
  });

  await walkLoop({ base: BASE, shots: SHOTS, password: PASSWORD, demo, eventId, before, step, check, context, consoleLogin, act, noSidewaysScroll, labelled });
  // ---------------- the village dispatcher accepts and dispatches ----------------
  const dispatcher = await context(DESKTOP);
  const desk = await dispatcher.newPage();

  await step('the village dispatcher finds it in the inbox, accepts it, and a wrong merge is refused clearly', async () => {
    await consoleLogin(desk, demo.dispatcher);
    await desk.goto(`${BASE}/console/inbox`);
    const row = desk.locator(`tr[data-id="${eventId}"]`);
    await row.waitFor();
    check((await row.innerText()).includes(description.slice(0, 10)), 'the inbox row shows the description');
    await row.locator('a').first().click();
    await desk.waitForURL(new RegExp(`/console/events/${eventId}$`));
    await desk.locator('.event-head .badge.state-reported').waitFor();
    check(await desk.locator('.photos img').count() === 1, 'the citizen\'s photo is on the event page');
    const buttons = await desk.locator('#actions button[data-action]').evaluateAll((bs) => bs.map((b) => b.dataset.action));
    check(buttons.includes('accept') && !buttons.includes('sign') && !buttons.includes('verify'), `only the dispatcher's moves are offered (${buttons})`);
    await act(desk, 'accept', null, 'accepted');
    // A refusal keeps the dialog open and says why.
    await desk.click('#actions button[data-action="merge"]');
    const dlg = desk.locator('dialog.dialog[open]');
    await dlg.locator('input[name=into]').fill('987654321');
    await dlg.locator('button[type=submit]').click();
    await dlg.locator('.form-error', { hasText: '操作未能完成' }).waitFor();
    await dlg.locator('button[value=cancel]').click();
    await dlg.waitFor({ state: 'detached' });
  });

  await step('the dispatcher dispatches it to the department with the picker', async () => {
    await act(desk, 'dispatch', async (dlg) => {
      await dlg.locator('select[name=department_id]').selectOption({ label: demo.dep.name });
    }, 'dispatched');
    check((await desk.locator('.facts').innerText()).includes(demo.dep.name), 'the event names its department');
  });

  // ---------------- the department handler signs and reports the result ----------------
  const handler = await context(DESKTOP);
  const hpage = await handler.newPage();

  await step('the department handler signs for it and reports the result with a photo', async () => {
    await consoleLogin(hpage, demo.handler);
    await hpage.goto(`${BASE}/console/inbox`);
    await hpage.locator(`tr[data-id="${eventId}"] a`).first().click();
    await hpage.locator('.event-head .badge.state-dispatched').waitFor();
    await act(hpage, 'sign', null, 'in_progress');
    const resultPhoto = await photo('已清运 · 办结照片');
    await act(hpage, 'report_result', async (dlg) => {
      await dlg.locator('textarea[name=note]').fill('已安排环卫车辆清运，并在路口增设垃圾桶两个。');
      await dlg.locator('input[type=file]').setInputFiles(resultPhoto);
      await dlg.locator('.photo-thumb[data-hash]').waitFor();
    }, 'resolved');
    check(await hpage.locator('.photos img').count() === 2, 'the report and result photos are both shown');
  });

  // ---------------- the grid worker verifies ----------------
  const worker = await context(DESKTOP);
  const wpage = await worker.newPage();

  await step('the grid worker verifies the result and the order closes', async () => {
    await consoleLogin(wpage, demo.worker);
    await wpage.goto(`${BASE}/console/inbox`);
    await wpage.locator(`tr[data-id="${eventId}"] a`).first().click();
    await wpage.locator('.event-head .badge.state-resolved').waitFor();
    await wpage.locator('.timeline li').nth(4).waitFor();
    await wpage.locator('.mini-map .leaflet-marker-icon').waitFor();
    await wpage.waitForTimeout(300);
    await wpage.screenshot({ path: path.join(SHOTS, 'event.png'), fullPage: true });
    await act(wpage, 'verify', null, 'closed');
    check(await wpage.locator('#actions button[data-action]').count() === 0, 'no move is left for the worker on a closed order');
  });

  // ---------------- the citizen rates ----------------
  await step('the citizen rates the closed order', async () => {
    await phone.goto(`${BASE}/m/mine/${eventId}`);
    await phone.locator('#rate-form').waitFor();
    await noSidewaysScroll(phone, 'rating at 360 px');
    await phone.click('#rate-form label[data-score="5"]');
    await phone.click('#rate-fixed-yes');
    await phone.fill('#rate-comment', '处理很及时，谢谢！');
    await phone.click('#rate-submit');
    await phone.locator('#rate-form').waitFor({ state: 'detached' });
    await phone.locator('.p-card', { hasText: '★★★★★' }).waitFor();
    const ev = await apiGet(demo.admin, `events/${eventId}`);
    check(ev.state === 'closed' && ev.rating === 5, `closed and rated 5 (${ev.state}, ${ev.rating})`);
  });

  // ---------------- the map ----------------
  await step('the people\'s map draws the area and, zoomed in, the event inside its grid', async () => {
    await leaderPage.setViewportSize({ width: 1440, height: 900 });
    await leaderPage.goto(`${BASE}/console/map`);
    await leaderPage.waitForFunction(() => window.__shanzhiMap && window.__shanzhiMap.state().nodes > 0);
    await leaderPage.locator('.legend').first().waitFor();
    // Colour by another figure: the layer is fetched again with it.
    await Promise.all([
      leaderPage.waitForResponse((r) => r.url().includes('/api/v1/map/nodes') && r.url().includes('figure=reported')),
      leaderPage.selectOption('#map-figure', 'reported'),
    ]);
    await leaderPage.locator('.legend h3', { hasText: '上报数' }).waitFor();
    await labelled(leaderPage, 'map');
    // The picture: the counties' real outlines over the mainland (the whole city's box takes in
    // its far islands), coloured by reports.
    const [mx, my] = [(demo.main[0] + demo.main[2]) / 2, (demo.main[1] + demo.main[3]) / 2];
    await leaderPage.goto(`${BASE}/console/map?lon=${mx}&lat=${my}&z=9.5`);
    await leaderPage.waitForFunction(() => window.__shanzhiMap && window.__shanzhiMap.state().level === 'county' && window.__shanzhiMap.state().nodes > 0);
    await Promise.all([
      leaderPage.waitForResponse((r) => r.url().includes('/api/v1/map/nodes') && r.url().includes('figure=reported')),
      leaderPage.selectOption('#map-figure', 'reported'),
    ]);
    await leaderPage.locator('.legend h3', { hasText: '上报数' }).waitFor();
    await leaderPage.waitForTimeout(500);
    await leaderPage.screenshot({ path: path.join(SHOTS, 'map.png') });
    // Street level at the event: grids are drawn, closed events too once "open only" is off.
    await leaderPage.goto(`${BASE}/console/map?lon=${demo.point.lon}&lat=${demo.point.lat}&z=16`);
    await leaderPage.waitForFunction(() => window.__shanzhiMap && window.__shanzhiMap.state().level === 'grid' && window.__shanzhiMap.state().nodes > 0);
    await leaderPage.uncheck('#map-open');
    const marker = leaderPage.locator(`.leaflet-marker-icon[title^="#${eventId} "]`);
    await marker.waitFor();
    // The walk's later reports (and, some days, one of the demo's last 30 days) lie on the same
    // spot, their dots over this one: the click is sent to this marker itself. (A user cannot
    // reach a dot under another yet; see the notes.)
    await marker.dispatchEvent('click');
    await leaderPage.locator('.map-card', { hasText: `#${eventId}` }).waitFor();
    await leaderPage.locator('.map-card .btn-small[aria-label]').click();
    // Click the grid polygon next to the event: its card is the event's grid.
    const pt = await leaderPage.evaluate(({ lat, lon }) => {
      const m = window.__shanzhiMap.map;
      const p = m.latLngToContainerPoint([lat, lon]);
      const r = m.getContainer().getBoundingClientRect();
      return { x: r.left + p.x, y: r.top + p.y };
    }, demo.inner);
    await leaderPage.mouse.click(pt.x, pt.y);
    await leaderPage.locator('.map-card h2', { hasText: demo.grid.name }).waitFor();
    await leaderPage.locator('.map-card .kv').first().waitFor();
  });

  await step('the map\'s legend names every colour it draws, and drilling down closes the card and fits the new area', async () => {
    // The opened grid's events are in view: its event's marker is on screen beside the card.
    const inView = await leaderPage.evaluate((id) => {
      const el = document.querySelector(`.leaflet-marker-icon[title^="#${id} "]`);
      if (!el) return false;
      const r = el.getBoundingClientRect();
      return r.right > 0 && r.left < window.innerWidth && r.bottom > 0 && r.top < window.innerHeight;
    }, eventId);
    check(inView, 'the opened grid\'s event is in view');
    const legend = await leaderPage.locator('.leaflet-control-container .legend-events').innerText();
    for (const key of ['已超期', '聚合点：含超期工单', '聚合点：无超期工单', '已结案']) check(legend.includes(key), `the legend explains ${key}`);
    check((await leaderPage.locator('.legend-lines').innerText()).includes('本辖区边界'), 'the legend explains the outlines');
    const [mx, my] = [(demo.main[0] + demo.main[2]) / 2, (demo.main[1] + demo.main[3]) / 2];
    await leaderPage.goto(`${BASE}/console/map?lon=${mx}&lat=${my}&z=9`);
    await leaderPage.waitForFunction(() => window.__shanzhiMap && window.__shanzhiMap.state().level === 'county' && window.__shanzhiMap.state().nodes > 0);
    // The county itself is clicked: the orders layer goes, so that no mark of counted orders
    // (at their mean position, often near the middle) lies over the spot.
    await leaderPage.uncheck('#map-events');
    await leaderPage.waitForFunction(() => window.__shanzhiMap.state().groups === 0 && window.__shanzhiMap.state().pending === 0);
    const pt = await leaderPage.evaluate(({ lat, lon }) => {
      const m = window.__shanzhiMap.map;
      const p = m.latLngToContainerPoint([lat, lon]);
      const r = m.getContainer().getBoundingClientRect();
      return { x: r.left + p.x, y: r.top + p.y };
    }, { lat: my, lon: mx });
    await leaderPage.mouse.click(pt.x, pt.y);
    await leaderPage.locator('#map-drill').waitFor();
    const county = await leaderPage.locator('.map-card h2').innerText();
    await leaderPage.click('#map-drill');
    await leaderPage.waitForFunction(() => window.__shanzhiMap.state().level !== 'county' && window.__shanzhiMap.state().nodes > 0);
    check(await leaderPage.locator('.map-card').isHidden(), `the card of ${county} closed on drilling down`);
  });

  // ---------------- the dashboard and the wall ----------------
  await step('the dashboard figures count the new report and its closure', async () => {
    await leaderPage.goto(`${BASE}/console/dashboard`);
    await leaderPage.locator('[data-kpi="reported"]').waitFor();
    const reported = await kpi(leaderPage, 'reported');
    const closed = await kpi(leaderPage, 'closed');
    check(reported === before.reported + 1, `reported ${before.reported} → ${reported}`);
    check(closed === before.closed + 1, `closed ${before.closed} → ${closed}`);
    check(await kpi(leaderPage, 'open') === before.open, 'open orders are back to where they were');
    await leaderPage.locator('#chart-trend canvas').waitFor();
    await leaderPage.locator('#chart-rank-region canvas').waitFor();
    await leaderPage.waitForTimeout(800);
    await leaderPage.screenshot({ path: path.join(SHOTS, 'dashboard.png'), fullPage: true });
  });

  await step('the wall screen shows the figures full screen in the dark', async () => {
    await leaderPage.setViewportSize({ width: 1920, height: 1080 });
    await leaderPage.goto(`${BASE}/console/wall`);
    await leaderPage.locator('[data-kpi="reported"] .value').waitFor();
    await leaderPage.locator('.wall-screen[data-refreshed]').waitFor();
    check(await leaderPage.evaluate(() => document.body.classList.contains('wall')), 'the wall has its own dark layout');
    await leaderPage.waitForTimeout(800);
    await noSidewaysScroll(leaderPage, 'wall at 1920 px');
    await leaderPage.screenshot({ path: path.join(SHOTS, 'wall.png') });
  });

  await step('console pages hold their layout at 1920 px and at 360 px', async () => {
    for (const [w, hgt] of [[1920, 1080], [360, 740]]) {
      await desk.setViewportSize({ width: w, height: hgt });
      for (const p of ['/console/inbox', '/console/events', `/console/events/${eventId}`, '/console/dashboard', '/console/map']) {
        await desk.goto(`${BASE}${p}`);
        await desk.waitForLoadState('networkidle');
        await desk.locator('.content > :not(.state-box)').first().waitFor();
        await noSidewaysScroll(desk, `${p} at ${w} px`);
        await labelled(desk, p);
      }
    }
  });

  await step('the administrator sees the row-level errors of a refused GeoJSON import', async () => {
    const admin = await context(DESKTOP);
    const apage = await admin.newPage();
    await consoleLogin(apage, 'admin');
    await apage.goto(`${BASE}/console/admin/import`);
    const bad = { type: 'FeatureCollection', features: [
      { type: 'Feature', properties: { code: '441581102001999', name: '' }, geometry: null },
      { type: 'Feature', properties: { code: 'not-a-code', name: '坏编码' }, geometry: null },
    ] };
    await apage.setInputFiles('#import-file', { name: 'bad.geojson', mimeType: 'application/geo+json', buffer: Buffer.from(JSON.stringify(bad)) });
    await apage.click('form button[type=submit]');
    await apage.locator('#import-errors tbody tr').first().waitFor();
    check(await apage.locator('#import-errors tbody tr').count() >= 2, 'each refused feature has its row');
    // A dry run in update mode lists what would change and writes nothing.
    const rename = { type: 'FeatureCollection', features: [
      { type: 'Feature', properties: { code: '441581102000', name: '碣石镇（试）' }, geometry: null },
    ] };
    await apage.selectOption('#import-mode', 'update');
    await apage.check('#import-dry');
    await apage.setInputFiles('#import-file', { name: 'rename.geojson', mimeType: 'application/geo+json', buffer: Buffer.from(JSON.stringify(rename)) });
    await apage.click('form button[type=submit]');
    await apage.locator('#import-changes tbody tr').first().waitFor();
    check((await apage.locator('#import-changes tbody tr').first().innerText()).includes('碣石镇（试）'), 'the dry run lists the rename');
    const town = await (await apage.request.get(`${BASE}/api/v1/nodes/441581102000`)).json();
    check(town.name === '碣石镇', `the dry run wrote nothing (name ${town.name})`);
    await apage.goto(`${BASE}/console/admin/users`);
    await apage.locator('table.data tbody tr').first().waitFor();
    await labelled(apage, 'users');
    // The area is picked from the tree, not typed: open a town and choose one of its villages.
    await apage.click('#scope-picker');
    await apage.locator('.picker-panel .picker-open').first().click();
    await apage.locator('.picker-crumbs button').nth(1).waitFor();
    await apage.locator('.picker-panel .picker-choose').nth(1).click();
    const picked = await apage.locator('input[name=scope]').inputValue();
    check(/^\d{12}$/.test(picked) && picked !== demo.root.code, `the picker chose an area below the root (${picked})`);
    check((await apage.locator('#scope-picker').innerText()).includes(picked), 'the picker shows the chosen area');
    // Deadlines read in working hours and days.
    await apage.goto(`${BASE}/console/admin/categories`);
    await apage.locator('table.data tbody tr').first().waitFor();
    check(/工作日|工作小时/.test(await apage.locator('table.data').innerText()), 'category deadlines are shown in working units');
    await labelled(apage, 'categories');
    // The audit log: one record's history, and the chain check.
    await apage.goto(`${BASE}/console/admin/audit`);
    await apage.locator('#audit-table tbody tr').first().waitFor();
    await apage.selectOption('#audit-entity', 'event');
    await apage.fill('#audit-entity-id', String(eventId));
    await Promise.all([apage.waitForResponse((r) => r.url().includes(`entity_id=${eventId}`)), apage.click('form.filters button[type=submit]')]);
    await apage.locator('#audit-table tbody tr').first().waitFor();
    const records = await apage.locator('#audit-table tbody td[data-label="对象"]').allInnerTexts();
    check(records.length >= 5 && records.every((r) => r.includes(`工单 ${eventId}`)), `the history holds only order ${eventId}'s rows (${records.length})`);
    await apage.click('#audit-verify');
    await apage.locator('#audit-chain .badge').waitFor();
    const chain = await apage.locator('#audit-chain').innerText();
    check(await apage.locator('#audit-chain .badge.state-closed').count() === 1, `the chain verifies (${chain})`);
    await labelled(apage, 'audit');
    await apage.screenshot({ path: path.join(SHOTS, 'audit.png') });
    await admin.close();
  });

  await walkWeb({ browser, base: BASE, shots: SHOTS, step, check, context, consoleLogin, apiLogin, apiGet, demo, eventId, labelled, noSidewaysScroll, act, PHONE, DESKTOP });
  await walkNotify({ BASE, SHOTS, PASSWORD, browser, step, check, context, consoleLogin, act, demo, apiLogin, apiGet, DESKTOP, PHONE });
  const people = await walkPeople({ BASE, SHOTS, PASSWORD, step, check, context, consoleLogin, demo, apiLogin, apiGet, PHONE });
  await walkCare({ BASE, SHOTS, step, check, context, consoleLogin, demo, apiLogin, apiGet, noSidewaysScroll, labelled });
  await walkPlaces({ BASE, SHOTS, step, check, context, consoleLogin, demo, apiLogin, apiGet, DESKTOP, PHONE });
  await walkImport({ BASE, SHOTS, step, check, context, consoleLogin, demo, DESKTOP });
  const dispute = await walkDispute({ BASE, SHOTS, PASSWORD, step, check, context, consoleLogin, apiLogin, apiGet, noSidewaysScroll, labelled, act, demo, PHONE, DESKTOP });
  const risk = await walkRisk({ BASE, SHOTS, PASSWORD, step, check, context, consoleLogin, apiLogin, apiGet, labelled, demo, PHONE, DESKTOP });
  await walkLedger({ BASE, SHOTS, PASSWORD, step, check, context, consoleLogin, apiLogin, apiGet, PHONE, DESKTOP });
  await step('the dispatcher summons departments (吹哨) with a report-by time, a place and a reason', async () => {
    const post = async (token, p, body, headers = {}) => {
      const r = await fetch(`${BASE}/api/v1/${p}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
      if (!r.ok) throw new Error(`POST ${p}: ${r.status} ${await r.text()}`);
      return r.json();
    };
    const ev = await post(await apiLogin('citizen'), 'events', { category_id: demo.cat.id, description: '河道漂浮垃圾多，涉及多个部门（吹哨测试）', lon: demo.point.lon, lat: demo.point.lat },
      { 'idempotency-key': `e2e-summon-${Date.now()}` });
    if (ev.grid_stage) {
      const w = await apiLogin(demo.worker);
      await post(w, `events/${ev.id}/take`, {});
      await post(w, `events/${ev.id}/pass_on`, { note: '需要多个部门一起处理' });
    }
    await post(await apiLogin(demo.dispatcher), `events/${ev.id}/accept`, {});
    await desk.goto(`${BASE}/console/events/${ev.id}`);
    await desk.click('#actions button[data-action="summon"]');
    const dlg = desk.locator('dialog.dialog[open]');
    await dlg.waitFor();
    const boxes = dlg.locator('input[name=departments]');
    check(await boxes.count() >= 2, 'at least two departments serve the area');
    await boxes.nth(0).check();
    await boxes.nth(1).check();
    check(await dlg.locator('input[name=report_by]').inputValue() !== '', 'a report-by time is proposed');
    await dlg.locator('input[name=place]').fill('村委会二楼会议室');
    await dlg.locator('textarea[name=reason]').fill('河道漂浮垃圾涉及水务、城管，需要联合处置');
    await labelled(desk, 'summon dialog');
    await dlg.locator('button[type=submit]').click();
    await dlg.waitFor({ state: 'detached' });
    await desk.locator('.timeline li', { hasText: '地点：村委会二楼会议室' }).waitFor();
    check((await desk.locator('.timeline').innerText()).includes('河道漂浮垃圾涉及水务、城管'), 'the reason is on the timeline');
  });

  await step('no signal, no loss: a report made offline waits on the phone and arrives exactly once when the signal returns', async () => {
    const token = await apiLogin('citizen');
    const mine = async (text) => (await apiGet(token, 'events?limit=500')).items.filter((e) => e.description === text);
    const text = `离线上报：村口路灯不亮 ${Date.now()}`;
    // Online once: the service worker installs and keeps the pages.
    await phone.goto(`${BASE}/m/`);
    const sw = await phone.evaluate(() => Promise.race([navigator.serviceWorker.ready.then(() => 'ready'),
      new Promise((res) => setTimeout(() => res('the service worker did not install in 20 s'), 20000))]));
    check(sw === 'ready', sw);
    await phone.goto(`${BASE}/m/report`);
    await phone.locator('#report-form').waitFor();
    await citizen.setOffline(true);
    // The page itself opens without a signal (from the service worker's cache).
    await phone.reload();
    await phone.locator('#report-form').waitFor();
    await phone.selectOption('#r-category', { label: demo.cat.name });
    await phone.fill('#r-description', text);
    await phone.setInputFiles('#report-form input[type=file]', await photo('路灯 · 现场照片'));
    await phone.click('#r-locate');
    await phone.locator('#r-located', { hasText: '无信号' }).waitFor();
    await phone.click('#r-submit');
    await phone.locator('#report-queued').waitFor();
    await phone.locator('#p-outbox', { hasText: '1 条上报还在手机上' }).waitFor();
    await phone.screenshot({ path: path.join(SHOTS, 'portal-offline.png') });
    check((await mine(text)).length === 0, 'nothing reached the server while offline');
    // Still there after the page is opened again without a signal.
    await phone.goto(`${BASE}/m/`);
    await phone.locator('#p-outbox', { hasText: '1 条上报还在手机上' }).waitFor();
    // The signal returns: the phone sends it by itself; a second push of the button changes nothing.
    await citizen.setOffline(false);
    await phone.evaluate(() => window.dispatchEvent(new Event('online')));
    await phone.locator('#p-outbox').waitFor({ state: 'hidden' });
    await phone.evaluate(() => window.dispatchEvent(new Event('online')));
    await phone.waitForTimeout(1000);
    const arrived = await mine(text);
    check(arrived.length === 1, `exactly one event arrived (${arrived.length})`);
    const ev = await apiGet(demo.admin, `events/${arrived[0].id}`);
    check(ev.photos.length === 1, 'its photo came with it');
    check(ev.grid === demo.grid.code, `it located to its grid (${ev.grid})`);
  });

  await step('the portal\'s 长辈模式 makes text large and contrast strong, stays on, and stays accessible', async () => {
    await phone.goto(`${BASE}/m/`);
    await phone.locator('#start-report').waitFor();
    const toggle = phone.locator('#elder-toggle');
    check((await toggle.getAttribute('aria-pressed')) === 'false', 'elder mode starts off');
    await toggle.click();
    check((await toggle.getAttribute('aria-pressed')) === 'true', 'the button says it is on');
    const size = async () => phone.evaluate(() => parseFloat(getComputedStyle(document.body).fontSize));
    check(await size() >= 20, `text is at least 20 px (${await size()})`);
    await phone.reload();
    await phone.locator('#start-report').waitFor();
    check(await phone.evaluate(() => document.documentElement.classList.contains('elder')), 'elder mode stays on after a reload');
    await noSidewaysScroll(phone, 'portal in elder mode');
    await phone.screenshot({ path: path.join(SHOTS, 'portal-elder.png') });
    const bad = [];
    for (const url of ['/m/', '/m/report', `/m/mine/${eventId}`]) {
      await phone.goto(`${BASE}${url}`);
      await phone.locator('.p-card, #start-report').first().waitFor();
      for (const v of await axeViolations(phone)) bad.push(`${url}: ${v}`);
    }
    check(bad.length === 0, `axe in elder mode:\n      ${bad.join('\n      ')}`);
    await phone.locator('#elder-toggle').click();
    check(!(await phone.evaluate(() => document.documentElement.classList.contains('elder'))), 'elder mode switches off');
  });

  await step('every portal and console page passes axe-core with no serious or critical violation', async () => {
    const found = [];
    const visit = async (page, url, ready) => {
      await page.goto(`${BASE}${url}`);
      await page.locator(ready).first().waitFor();
      await page.waitForTimeout(300);
      for (const v of await axeViolations(page)) found.push(`${url}: ${v}`);
    };
    // The citizen on the phone (and before logging in).
    for (const [url, ready] of [['/m/', '#start-report'], ['/m/report', '#report-form, form'], ['/m/mine', '.p-card, .state-box'],
      [`/m/mine/${eventId}`, '.p-card'], ['/m/notices', '#my-notices, .state-box'], ['/m/messages', '.p-card, .state-box'], ['/m/household', '#my-household'], ['/m/warnings', '#pw-contact'], ['/m/ledger', '#my-ledger, .state-box'], ['/m/questions', '#my-questions, .state-box'], ['/m/suggestions', '#suggest-form'], ['/m/contracts', '#my-contracts, .state-box'], ['/m/points', '.p-card, .state-box'], ['/m/consultations', '#my-consultations, .state-box'], ['/m/laws', '#my-laws, .state-box'],
      ['/m/mediation', '#my-disputes'], ['/m/mediation/apply', '#pd-form'], [`/m/mediation/${dispute.id}`, '#pd-case']]) await visit(phone, url, ready);
    const anon = await (await context(PHONE)).newPage();
    await visit(anon, '/m/login', '#p-username');
    await visit(anon, '/login', '#username');
    // Staff at their desks.
    for (const [url, ready] of [['/console/inbox', '.card'], ['/console/events', 'table.data, .state-box'], [`/console/events/${eventId}`, '#actions'],
      ['/console/map', '.legend'], ['/console/dashboard', '[data-kpi]'], ['/console/wall', '#wall-kpis'], ['/console/notifications', '.card'],
      ['/console/residents', '.resident-card, .state-box'], [`/console/residents/${people.residentId}`, '.person-card'], ['/console/corrections', '.correction, .state-box'], ['/console/visits', '.card'],
      ['/console/emergency', '#roster-form'], ['/console/ledger', '#ledger-list, .state-box'], ['/console/disclosures', '#disclosure-list, .state-box'], ['/console/questions', '#questions-list, .state-box'], ['/console/affairs', '#affairs-figures, .state-box'], ['/console/contracts', '#contract-list, .state-box'], ['/console/points', '#points-rules, .state-box'], ['/console/consultations', '#consult-list, .state-box'], ['/console/laws', '#law-list, .state-box'], ['/console/places', '#place-list, .state-box.empty'], ['/console/buildings', '#building-list, .state-box.empty'], ['/console/organisations', '#organisation-list, .state-box.empty'],
      ['/console/residents/import', 'section.card'], ['/console/places/import', 'section.card'], ['/console/organisations/import', 'section.card']]) await visit(desk, url, ready);
    const admin = await context(DESKTOP);
    const apage = await admin.newPage();
    await consoleLogin(apage, 'admin');
    for (const tab of ['users', 'departments', 'categories', 'import', 'audit']) await visit(apage, `/console/admin/${tab}`, 'section.card, .card');
    await visit(apage, '/console/tags', '#tag-table');
    for (const [url, ready] of [['/console/disputes', '#dispute-table'], [`/console/disputes/${dispute.id}`, '#actions'], [`/console/disputes/${dispute.id}/agreement`, '#agreement-sheet'],
      ['/console/disputes/new', '#dispute-new'], ['/console/mediators', '#med-list table, #med-list .state-box'],
      ['/console/risks', '#risk-board .risk-tile'], [`/console/risks/${risk.riskId}`, '#actions'], ['/console/risks/rules', '#rule-table'],
      ['/console/warnings', '#warning-table tbody tr'], ['/console/briefings', '#brief-list'],
      ...(risk.briefingId ? [[`/console/briefings/${risk.briefingId}`, '#brief-totals']] : [])]) await visit(apage, url, ready);
    await admin.close();
    check(found.length === 0, `axe-core found serious or critical violations:\n      ${found.join('\n      ')}`);
  });

  check(problems.length === 0, `no script errors in the pages:\n    ${problems.join('\n    ')}`);
  passed++;
} catch (err) {
  if (!failed) {
    failed++;
    console.log(`  ✗ ${String(err && err.stack || err).split('\n').slice(0, 6).join('\n    ')}`);
  }
  if (problems.length) console.log(`  page problems:\n    ${problems.join('\n    ')}`);
  exitCode = 1;
} finally {
  await browser.close();
}
console.log(`browser tests: ${passed} passed, ${failed} failed`);
process.exit(exitCode);
