// Browser walk of the typhoon story (issue 15, seed 002): a grid worker on a phone reports rising
// water (汛情险情) in their grid; the demo's rule raises a risk clue at once; the centre's analyst
// finds it on the board, grades it orange in a joint assessment with a lead department, then warns
// two grids from the map; the grid workers there hear of it in the apps, the warning is published
// as CAP 1.2, and the roster of vulnerable people in the area opens with it (read by the leader:
// analysts do not read people's addresses).
// A citizen reads the warnings of their grid on a phone and gives an e-mail address for them.
// Screenshots: risk-board, risk-assessed, warning-composer, warning-roster, portal-warnings.
import path from 'node:path';

export async function walk(ctx) {
  const { BASE, SHOTS, PASSWORD, step, check, context, consoleLogin, apiLogin, apiGet, demo, PHONE, DESKTOP, labelled } = ctx;
  const text = '台风过境，河道水位快速上涨，已漫过村口低洼路面，请求研判。';
  let eventId = null;
  let riskId = null;

  await step('a grid worker reports rising water from a phone in the typhoon', async () => {
    const phoneCtx = await context({ ...PHONE, permissions: ['geolocation'], geolocation: { longitude: demo.point.lon, latitude: demo.point.lat, accuracy: 10 } });
    const phone = await phoneCtx.newPage();
    await phone.goto(`${BASE}/m/login?next=/m/report`);
    await phone.fill('#p-username', demo.worker);
    await phone.fill('#p-password', PASSWORD);
    await Promise.all([phone.waitForURL(/\/m\/report/), phone.click('form button[type=submit]')]);
    await phone.locator('#report-form').waitFor();
    await phone.selectOption('#r-category', { label: '汛情险情' });
    await phone.fill('#r-description', text);
    await phone.click('#r-locate');
    await phone.locator('#r-located.ok', { hasText: demo.grid.name }).waitFor();
    await phone.click('#r-submit');
    const done = phone.locator('#report-done a[data-id]');
    await done.waitFor();
    eventId = Number(await done.getAttribute('data-id'));
    check(eventId > 0, 'the report has a number');
    await phoneCtx.close();
  });
  if (!eventId) return {};

  const desk = await (await context(DESKTOP)).newPage();
  await step('the rule raised a clue at once, and the analyst finds it on the risk board', async () => {
    const analyst = await apiLogin('analyst');
    const clues = await apiGet(analyst, 'risks?state=clue&source=rule&limit=50');
    const clue = clues.items.find((c) => c.event_id === eventId);
    check(!!clue, `a clue raised by the rule links the report #${eventId}`);
    check(clue.node === demo.grid.code, `the clue lies in the reporting grid (${clue && clue.node})`);
    riskId = clue.id;
    await consoleLogin(desk, 'analyst');
    await desk.goto(`${BASE}/console/risks?state=clue`);
    await desk.locator('#risk-board .risk-tile[data-level="clue"]').waitFor();
    await desk.locator(`#risk-table tr[data-id="${riskId}"]`).waitFor();
    await labelled(desk, 'risk board');
    await desk.screenshot({ path: path.join(SHOTS, 'risk-board.png'), fullPage: true });
  });
  if (!riskId) return {};

  await step('the centre grades it orange with a lead department and measures (联合研判)', async () => {
    await desk.goto(`${BASE}/console/risks/${riskId}`);
    await desk.click('#actions button[data-action="assess"]');
    const dlg = desk.locator('dialog.dialog[open]');
    await dlg.waitFor();
    await dlg.locator('#risk-level').selectOption('orange');
    await dlg.locator('#risk-lead').selectOption({ index: 0 });
    await dlg.locator('textarea[name=measures]').fill('立即转移低洼处群众，设置警戒线，专人盯守水位');
    await dlg.locator('button[type=submit]').click();
    await dlg.waitFor({ state: 'detached' });
    await desk.locator('.event-head .badge.risk-orange').waitFor();
    await desk.locator('.event-head .light[data-due]').waitFor();
    const r = await apiGet(await apiLogin('analyst'), `risks/${riskId}`);
    check(r.state === 'active' && r.level === 'orange', `the risk is active and orange (${r.state}, ${r.level})`);
    check(r.clock.due_at - Date.now() > 70 * 3600e3, 'an orange risk gets 72 hours');
    await desk.screenshot({ path: path.join(SHOTS, 'risk-assessed.png'), fullPage: true });
  });

  let warning = null;
  await step('the centre warns two grids from the map, and the grid workers there hear of it', async () => {
    await desk.click('#risk-warn');
    await desk.waitForURL(/\/console\/warnings/);
    await desk.locator(`#warning-grid-list label[data-code="${demo.grid.code}"]`).waitFor();
    check((await desk.locator('#warning-title').inputValue()).length > 0, 'the title comes from the risk');
    await desk.locator(`#warning-grid-list input[value="${demo.grid.code}"]`).check();
    const otherCode = await desk.locator(`#warning-grid-list label:not([data-code="${demo.grid.code}"]) input`).first().getAttribute('value');
    await desk.locator(`#warning-grid-list input[value="${otherCode}"]`).check();
    check(await desk.locator('#warning-grids .chip').count() === 2, 'two grids are chosen');
    await desk.fill('#warning-message', '台风暴雨致河道水位上涨，请低洼处群众立即转移至村委会避险点，勿靠近河边。');
    await labelled(desk, 'warning composer');
    await desk.screenshot({ path: path.join(SHOTS, 'warning-composer.png'), fullPage: true });
    await desk.click('#warning-send');
    await desk.locator('#warning-table tbody tr').first().waitFor();
    const list = await apiGet(await apiLogin('analyst'), 'warnings?limit=5');
    warning = list.items.find((w) => w.risk_id === riskId);
    check(!!warning, 'the warning is listed with its risk');
    const grids = (warning.grids || []).map((g) => (typeof g === 'string' ? g : g.code)).sort();
    check(grids.join() === [demo.grid.code, otherCode].sort().join(), `the warning covers the two grids (${grids})`);
    check(warning.notified >= 2, `the people of both grids were notified (${warning.notified})`);
    const notes = await apiGet(await apiLogin(demo.worker), 'notifications?limit=10');
    check(notes.items.some((n) => n.kind === 'warning'), 'the grid worker has the warning among their notices');
    const cap = await fetch(`${BASE}/api/v1/warnings/${warning.id}/cap`);
    check(cap.ok && (await cap.text()).includes('urn:oasis:names:tc:emergency:cap:1.2'), 'the warning is published as CAP 1.2');
  });

  await step('the roster of vulnerable people in the warned grids opens with it', async () => {
    check(warning && warning.roster_id, 'the warning opened a roster');
    // Analysts do not read people's addresses; the leader (and the grid's staff) open the roster.
    const lead = await (await context(DESKTOP)).newPage();
    await consoleLogin(lead, 'leader');
    await lead.goto(`${BASE}/console/emergency/${warning.roster_id}`);
    await lead.locator('#roster-sheet').waitFor();
    await lead.locator('#roster-progress').waitFor();
    const title = await lead.locator('#roster-title').innerText();
    check(title.includes(warning.title), `the roster is named after the warning (${title})`);
    await lead.screenshot({ path: path.join(SHOTS, 'warning-roster.png'), fullPage: true });
  });
  await step('a citizen reads the warnings of their grid on a phone and gives an e-mail address for the next', async () => {
    const phoneCtx = await context(PHONE);
    const phone = await phoneCtx.newPage();
    await phone.goto(`${BASE}/m/login?next=/m/`);
    await phone.fill('#p-username', 'citizen');
    await phone.fill('#p-password', PASSWORD);
    await Promise.all([phone.waitForURL(/\/m\/$/), phone.click('form button[type=submit]')]);
    await phone.click('#go-warnings');
    await phone.locator('#pw-contact').waitFor();
    const token = await apiLogin('citizen');
    const mine = await apiGet(token, 'me/warnings');
    check(await phone.locator('.p-warning').count() === mine.items.length, `the page lists the citizen's warnings (${mine.items.length})`);
    if (warning && mine.items.some((w) => w.id === warning.id)) {
      check(await phone.locator(`#w-${warning.id}`, { hasText: warning.title }).count() === 1, 'the typhoon warning is on the page');
    }
    await phone.fill('#pw-email', 'lisi@localhost'); // the browser takes it; the server wants a domain with a dot
    await phone.click('#pw-save');
    await phone.locator('#pw-contact .form-error:not([hidden])').waitFor();
    await phone.fill('#pw-email', 'citizen.li@example.org');
    await phone.click('#pw-save');
    let me = null;
    for (let i = 0; i < 50 && !(me && me.email); i++) {
      await phone.waitForTimeout(100);
      me = await apiGet(token, 'me');
    }
    check(me.email === 'citizen.li@example.org', `the address is saved (${me.email})`);
    await phone.screenshot({ path: path.join(SHOTS, 'portal-warnings.png'), fullPage: true });
    await phoneCtx.close();
  });
  let briefingId = null;
  await step('the analyst generates the briefing now and reads it as an A4 page with its Word copy', async () => {
    await desk.goto(`${BASE}/console/briefings`);
    await desk.click('#brief-generate');
    await desk.waitForURL(/\/console\/briefings\/\d+/);
    briefingId = Number(new URL(desk.url()).pathname.split('/').pop());
    await desk.locator('#brief-totals [data-total="clues_new"]').waitFor();
    await desk.locator('#brief-sheet canvas').first().waitFor();
    const href = await desk.locator('#brief-docx').getAttribute('href');
    const docx = await desk.request.get(`${BASE}${href}`);
    check(docx.ok() && (await docx.body()).slice(0, 2).toString() === 'PK', 'the Word copy downloads');
    await desk.screenshot({ path: path.join(SHOTS, 'briefing.png'), fullPage: true });
  });
  return { riskId, warningId: warning && warning.id, briefingId };
}
