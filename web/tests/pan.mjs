// The people's map in a real browser (issue 17): headless Chromium opens the console's map as a
// user whose area is the whole demo (the province leader at province scale), then zooms step by
// step from that area to one grid and pans across grids there, and records each step's time:
// from the move until the outlines of the new view are drawn and no request of the map (nor a
// slice of points the clusterer still has to add) is left.
// That time includes the map's 100 ms wait after a move before it asks (a pan or zoom in a row
// asks once), the requests, and drawing the shapes and the orders (counted per cell below zoom
// 12, single points from there).
//
// Usage: node web/tests/pan.mjs BASE USER LON LAT OUT.json   (run from the workspace root)
// BASE is a running server, USER a demo user (password shanzhi-demo), LON/LAT the grid to go to.
// Chromium: $CHROMIUM or /usr/bin/chromium. Exits non-zero when a step fails or draws nothing.
import { chromium } from 'playwright-core';
import fs from 'node:fs';

const [base, user, lonArg, latArg, out] = process.argv.slice(2);
if (!/^https?:\/\//.test(base || '') || !user || !out || Number.isNaN(Number(lonArg)) || Number.isNaN(Number(latArg))) {
  console.error('usage: node web/tests/pan.mjs BASE USER LON LAT OUT.json');
  process.exit(2);
}
const BASE = base.replace(/\/$/, '');
const target = { lon: Number(lonArg), lat: Number(latArg) };
const STEP_TIMEOUT = 30_000;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
let code = 0;
try {
  const ctx = await browser.newContext({ viewport: { width: 1440, height: 900 }, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
  const page = await ctx.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));

  // The map's own requests, by the time they ended: what the server and the wire took.
  const requests = [];
  page.on('requestfinished', async (req) => {
    const url = req.url();
    if (!url.includes('/api/v1/map/')) return;
    const timing = req.timing();
    // Recorded at once, in the order the requests ended; the size comes in after.
    const row = {
      kind: url.includes('/map/nodes') ? 'nodes' : url.includes('/map/events') ? 'events' : 'other',
      ms: timing.responseEnd - timing.requestStart,
      wait_ms: timing.responseStart - timing.requestStart,
      bytes: null,
    };
    requests.push(row);
    const sizes = await req.sizes().catch(() => null);
    if (sizes) row.bytes = sizes.responseBodySize;
  });

  await page.goto(`${BASE}/login`);
  await page.fill('#username', user);
  await page.fill('#password', 'shanzhi-demo');
  await Promise.all([page.waitForURL(/\/console\//), page.click('#login-submit')]);

  const settled = (before) => page.waitForFunction(
    (n) => window.__shanzhiMap && window.__shanzhiMap.state().draws > n && window.__shanzhiMap.state().pending === 0,
    before, { timeout: STEP_TIMEOUT, polling: 'raf' });
  const state = () => page.evaluate(() => ({ ...window.__shanzhiMap.state(), zoom: window.__shanzhiMap.map.getZoom() }));

  const steps = [];
  async function record(name, move) {
    const before = await page.evaluate(() => (window.__shanzhiMap ? window.__shanzhiMap.state().draws : 0));
    const from = requests.length;
    const t0 = Date.now();
    await move();
    await settled(before);
    // The frame after the last draw: what the user sees.
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    const ms = Date.now() - t0;
    const s = await state();
    const mine = requests.slice(from);
    const nodes = mine.filter((r) => r.kind === 'nodes').pop();
    const events = mine.filter((r) => r.kind === 'events').pop();
    if (!s.nodes) throw new Error(`${name}: no outlines drawn at zoom ${s.zoom}`);
    const row = {
      step: name, zoom: s.zoom, level: s.level, ms, shapes: s.nodes, points: s.events, cells: s.groups,
      nodes_ms: nodes ? Math.round(nodes.ms * 10) / 10 : null, nodes_bytes: nodes ? nodes.bytes : null,
      events_ms: events ? Math.round(events.ms * 10) / 10 : null, events_bytes: events ? events.bytes : null,
    };
    steps.push(row);
    console.log(`  ${name.padEnd(22)} zoom ${String(s.zoom).padStart(4)} ${s.level.padEnd(8)} ${String(ms).padStart(5)} ms  ${s.nodes} shapes, ${s.groups ? `${s.groups} cells of orders` : `${s.events} points`} (outlines ${row.nodes_ms} ms, ${row.nodes_bytes} B)`);
  }

  // The map page fits the user's whole area: the first view (the page, its scripts and the map).
  await record('open the map', () => page.goto(`${BASE}/console/map`));
  const start = (await state()).zoom;

  // Zoom in on the grid a step at a time, as a user does with the wheel: each step centres the
  // grid and draws the level the zoom asks for (counties, towns, villages, grids).
  for (let z = Math.floor(start) + 1; z <= 16; z++) {
    await record(`zoom to ${z}`, () => page.evaluate(([lat, lon, zoom]) => { window.__shanzhiMap.map.setView([lat, lon], zoom, { animate: false }); }, [target.lat, target.lon, z]));
  }
  // Across the grids around it: half a screen each way at zoom 15.
  await record('zoom out to 15', () => page.evaluate(() => { window.__shanzhiMap.map.setZoom(15, { animate: false }); }));
  for (const [dx, dy, name] of [[720, 0, 'pan east'], [0, 450, 'pan south'], [-720, 0, 'pan west'], [0, -450, 'pan north']]) {
    await record(name, () => page.evaluate(([x, y]) => { window.__shanzhiMap.map.panBy([x, y], { animate: false }); }, [dx, dy]));
  }
  // And back out to the whole area in one step (its outlines were made once already).
  await record('back to the area', () => page.evaluate((z) => { window.__shanzhiMap.map.setZoom(z, { animate: false }); }, start));

  if (errors.length) throw new Error(`page errors: ${errors.join('; ')}`);
  const moves = steps.slice(1).map((s) => s.ms).sort((a, b) => a - b);
  const q = (p) => moves[Math.min(moves.length - 1, Math.floor(p * moves.length))];
  const result = { user, target, viewport: '1440x900', open_ms: steps[0].ms, moves: moves.length, p50_ms: q(0.5), max_ms: moves[moves.length - 1], steps };
  fs.writeFileSync(out, `${JSON.stringify(result)}\n`);
  console.log(`  ${moves.length} moves: p50 ${result.p50_ms} ms, slowest ${result.max_ms} ms; the first view ${result.open_ms} ms`);
} catch (err) {
  console.error(`pan failed: ${err && err.stack || err}`);
  code = 1;
} finally {
  await browser.close();
}
process.exit(code);
