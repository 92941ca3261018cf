// Browser walk of emergency mode (issue 13, point 5): the leader builds the roster of vulnerable
// people for two grids and opens it (entries with address, tags and workers), looks at the A4
// print view, and the grid worker marks one entry on a phone. Analysts may not open a roster (it
// shows addresses: those who may reveal personal data there, and the leaders who command).
// Then a grid worker records a place's safety check and opens a building with its houses.
// Screenshots: emergency-roster, emergency-print, emergency-mark, places.
import path from 'node:path';

export async function walk(ctx) {
  const { BASE, SHOTS, step, check, context, consoleLogin, demo, apiLogin, apiGet, DESKTOP, PHONE } = ctx;
  const dispatcherToken = await apiLogin(demo.dispatcher);
  const grids = (await apiGet(dispatcherToken, `nodes/${demo.village.code}/children`)).items
    .map((n) => n.code).filter((c) => c !== demo.grid.code).slice(0, 1);
  const chosen = [demo.grid.code, ...grids];
  let roster = null;

  const desk = await (await context(DESKTOP)).newPage();
  await step('a leader opens the emergency roster of two grids and its print view', async () => {
    const leaderToken = await apiLogin('leader');
    const r = await fetch(`${BASE}/api/v1/emergency/rosters`, {
      method: 'POST', headers: { authorization: `Bearer ${leaderToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: '台风转移演练', grids: chosen }),
    });
    check(r.status === 201, `the roster is built (${r.status})`);
    roster = await r.json();
    await consoleLogin(desk, 'leader');
    await desk.goto(`${BASE}/console/emergency`);
    await desk.locator('#roster-list a', { hasText: '台风转移演练' }).first().click();
    await desk.locator('#roster-title', { hasText: '台风转移演练' }).waitFor();
    const rows = await desk.locator('#roster-entries tbody tr').count();
    check(rows === roster.entries, `the page lists every entry (${rows} of ${roster.entries})`);
    check((await desk.locator('#roster-progress').innerText()).includes(String(roster.entries)), 'the progress counts the entries');
    await desk.screenshot({ path: path.join(SHOTS, 'emergency-roster.png') });
    await desk.emulateMedia({ media: 'print' });
    check(await desk.locator('#side').isHidden(), 'the print view leaves out the navigation');
    check(await desk.locator('#roster-print').isHidden(), 'and the buttons');
    await desk.screenshot({ path: path.join(SHOTS, 'emergency-print.png'), fullPage: true });
    await desk.emulateMedia({ media: 'screen' });
  });

  await step('an analyst sees the roster on the list but may not open its addresses', async () => {
    const analyst = await apiLogin('analyst');
    const list = await apiGet(analyst, 'emergency/rosters');
    check(list.items.some((x) => x.id === roster.id), 'the roster is on the analyst\'s list (progress only)');
    const r = await fetch(`${BASE}/api/v1/emergency/rosters/${roster.id}`, { headers: { authorization: `Bearer ${analyst}` } });
    check(r.status === 403, `opening it is refused (${r.status})`);
  });

  await step('the grid worker marks a person on a phone', async () => {
    const full = await apiGet(dispatcherToken, `emergency/rosters/${roster.id}`);
    const mine = full.entries.find((e) => e.node_code === demo.grid.code);
    if (!mine) {
      console.log('    (no vulnerable resident in the grid: nothing to mark)');
      return;
    }
    const phone = await (await context(PHONE)).newPage();
    await consoleLogin(phone, demo.worker);
    await phone.goto(`${BASE}/console/emergency/${roster.id}`);
    const row = phone.locator(`#roster-entries tr[data-resident="${mine.resident_id}"]`);
    await row.locator('.roster-note').fill('已电话联系，人在家');
    await row.locator('button[data-mark="contacted"]').click();
    await row.locator('.badge.roster-contacted').waitFor();
    await phone.screenshot({ path: path.join(SHOTS, 'emergency-mark.png') });
    const after = await apiGet(dispatcherToken, `emergency/rosters/${roster.id}`);
    check(after.progress.contacted >= 1, 'the mark is kept');
  });

  await walkRegisters(ctx);
}

/** The places page records a safety check; the building page shows its houses. */
async function walkRegisters(ctx) {
  const { BASE, SHOTS, step, check, context, consoleLogin, demo, apiLogin, DESKTOP } = ctx;
  const token = await apiLogin(demo.worker);
  const call = async (method, p, body) => {
    const r = await fetch(`${BASE}/api/v1/${p}`, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    if (!r.ok) throw new Error(`${method} ${p}: ${r.status} ${await r.text()}`);
    return r.json();
  };
  await step('a grid worker records a safety check of a place and opens a building with its houses', async () => {
    const place = await call('POST', 'places', { node_code: demo.grid.code, kind: 'small_restaurant', name: '海湾小食店（测试）', lon: demo.point.lon, lat: demo.point.lat });
    const b = await call('POST', 'buildings', { node_code: demo.grid.code, name: '幸福里3栋（测试）', floors: 6, lon: demo.point.lon, lat: demo.point.lat });
    await call('POST', 'houses', { building_id: b.id, room: '2单元301', use: 'rented', owner_name: '李四' });
    const page = await (await context(DESKTOP)).newPage();
    await consoleLogin(page, demo.worker);
    await page.goto(`${BASE}/console/places`);
    await page.locator(`#place-list tr[data-place="${place.id}"]`).waitFor();
    await page.click(`button[data-check="${place.id}"]`);
    const dlg = page.locator('dialog.dialog[open]');
    await dlg.locator('#check-result').selectOption('hazards_found');
    await dlg.locator('#check-note').fill('灭火器过期');
    await dlg.locator('button[type=submit]').click();
    await dlg.waitFor({ state: 'detached' });
    const full = await (await fetch(`${BASE}/api/v1/places/${place.id}`, { headers: { authorization: `Bearer ${token}` } })).json();
    check(full.last_result === 'hazards_found' && full.checks.length === 1, 'the check is recorded with its result');
    await page.screenshot({ path: path.join(SHOTS, 'places.png') });
    await page.goto(`${BASE}/console/buildings/${b.id}`);
    await page.locator('#building-title', { hasText: '幸福里3栋' }).waitFor();
    check(await page.locator('.house-card', { hasText: '2单元301' }).count() === 1, 'the building shows its house');
  });
}
