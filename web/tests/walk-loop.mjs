// Browser walk of the loop's daily work (issue 12, points 2, 3 and 6), on the city demo, where
// 一网五单 is on: the citizen's report from the main walk first reaches its grid.
//   - a grid worker on a 390-px phone finds it on 网格工作台, takes it (接单) and passes it on to
//     the village centre with what was found, so the main walk's dispatcher can accept it;
//   - the village dispatcher's 待办 shows an order waiting for 核查 under its kind's chip;
//   - the dispatcher merges a duplicate picked from the suggestions on a small map, and sees
//     it on the kept order's page.
// The orders this walk adds are added to `before`, the main walk's dashboard baseline.
import path from 'node:path';

/**
 * @param {object} ctx {base, shots, password, demo, eventId, before, step, check, context,
 *   consoleLogin, act, noSidewaysScroll, labelled}
 */
export async function walk(ctx) {
  const { base, shots, password, demo, eventId, before, step, check, context, consoleLogin, act, noSidewaysScroll, labelled } = ctx;

  async function login(username) {
    const r = await fetch(`${base}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) });
    check(r.ok, `login ${username}: ${r.status}`);
    return (await r.json()).token;
  }
  async function call(token, method, p, body, key) {
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    if (key) headers['idempotency-key'] = key;
    const r = await fetch(`${base}/api/v1/${p}`, { method, headers, body: body ? JSON.stringify(body) : undefined });
    const v = await r.json().catch(() => null);
    check(r.ok, `${method} ${p}: ${r.status} ${JSON.stringify(v)}`);
    return v;
  }
  const run = Date.now().toString(36);
  const worker = await login(demo.worker);
  const cats = (await call(worker, 'GET', 'categories')).items;
  const onSpot = cats.find((c) => c.parent_id && c.active && c.on_spot) || demo.cat;
  /** A grid worker's own report (it goes straight to the centre), `north` metres from the point. */
  const report = async (category, north, text) => call(worker, 'POST', 'events', {
    category_id: category.id, description: text, lon: demo.point.lon, lat: demo.point.lat + north / 111195,
  }, `walk-loop-${run}-${north}-${category.id}`);

  const phoneCtx = await context({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
  const phone = await phoneCtx.newPage();

  await step('a grid worker on a 390-px phone takes the citizen\'s report and passes it on to the centre', async () => {
    const ev = await call(worker, 'GET', `events/${eventId}`);
    check(ev.grid_stage === 'waiting' && ev.allowed_actions.includes('take'), `the report waits for the grid (${ev.grid_stage}, ${ev.allowed_actions})`);
    await consoleLogin(phone, demo.worker);
    await phone.goto(`${base}/console/grid`);
    const card = phone.locator(`#grid-waiting a.order[data-id="${eventId}"]`);
    await card.waitFor();
    await noSidewaysScroll(phone, 'grid worker page at 390 px');
    await labelled(phone, 'grid worker page');
    await phone.screenshot({ path: path.join(shots, 'grid-worker.png'), fullPage: true });
    await card.click();
    await phone.waitForURL(new RegExp(`/console/events/${eventId}$`));
    await act(phone, 'take', null, null);
    await phone.locator('#actions button[data-action="pass_on"]').waitFor();
    await act(phone, 'pass_on', async (dlg) => {
      await dlg.locator('textarea[name=note]').fill('现场垃圾量大，需要环卫清运车，转交中心派单。');
      await phone.screenshot({ path: path.join(shots, 'grid-pass-on.png') });
    }, 'reported');
    await noSidewaysScroll(phone, 'order page at 390 px');
    const after = await call(worker, 'GET', `events/${eventId}`);
    check(after.grid_stage === null && after.taken_by > 0, 'passed on: the centre holds it');
    check(after.timeline.some((l) => l.action === 'pass_on' && /清运车/.test(l.note || '')), 'the note is on the timeline');
    await phone.goto(`${base}/console/grid`);
    await phone.locator(`#grid-mine a.order[data-id="${eventId}"]`).waitFor();
  });

  const deskCtx = await context({ viewport: { width: 1440, height: 900 } });
  const desk = await deskCtx.newPage();

  await step('the village dispatcher\'s inbox shows an order waiting for verification, with its kind', async () => {
    const id = (await report(onSpot, 10, '井盖松动，已现场加固，请核查。')).id;
    await call(worker, 'POST', `events/${id}/resolve_on_spot`, { note: '已加固' });
    before.reported += 1;
    before.open += 1;
    await consoleLogin(desk, demo.dispatcher);
    await desk.goto(`${base}/console/inbox`);
    const chip = desk.locator('.chip[data-kind="verify"]');
    await chip.waitFor();
    check(Number(await chip.locator('.n').innerText()) >= 1, 'the verify chip counts it');
    await chip.click();
    const row = desk.locator(`tr[data-id="${id}"]`);
    await row.waitFor();
    await row.locator('.tag[data-kind="verify"]').waitFor();
    check(await desk.locator('tbody tr').evaluateAll((rs) => rs.every((r) => r.querySelector('.tag[data-kind="verify"]'))), 'the chip filters to its kind');
    await desk.screenshot({ path: path.join(shots, 'inbox-kinds.png') });
  });

  await step('the dispatcher merges a duplicate picked from the suggestions and sees it on the kept order', async () => {
    const kept = (await report(demo.cat, 20, '路灯不亮，晚上很黑（原报）。')).id;
    const dup = (await report(demo.cat, 35, '路灯坏了（重复反映）。')).id;
    before.reported += 2;
    before.open += 1;
    await desk.goto(`${base}/console/events/${dup}`);
    await desk.click('#actions button[data-action="merge"]');
    const dlg = desk.locator('dialog.dialog[open]');
    // The order and each suggestion are circles on the small map.
    await dlg.locator('#dup-map .leaflet-overlay-pane path').nth(1).waitFor();
    const pick = dlg.locator(`.dup-list label[data-id="${kept}"]`);
    await pick.waitFor();
    check((await pick.innerText()).includes('米'), 'each suggestion says how far it is');
    await pick.click();
    check(Number(await dlg.locator('#merge-into').inputValue()) === kept, 'picking fills in the order number');
    await desk.screenshot({ path: path.join(shots, 'merge-suggestions.png') });
    await dlg.locator('button[type=submit]').click();
    await dlg.waitFor({ state: 'detached' });
    await desk.locator('.event-head .badge.state-merged').waitFor();
    await desk.goto(`${base}/console/events/${kept}`);
    const merged = desk.locator(`#merged-reports li[data-id="${dup}"]`);
    await merged.waitFor();
    check((await merged.innerText()).includes('重复反映'), 'the merged report\'s text is on the kept order');
    await desk.locator('#merged-reports').screenshot({ path: path.join(shots, 'merged-reports.png') });
  });

  await phoneCtx.close();
  await deskCtx.close();
}
