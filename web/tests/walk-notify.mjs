// Browser walk of notices and names (issue 12, points 1 and 4): a citizen on a 390-px phone
// sees a message when the centre accepts their report, without reloading; a department handler
// is reminded (催办) by the dispatcher and sees the bell's count rise without reloading; the
// order's timeline names who acted (the citizen masked); the dispatcher calls the reporter back
// (回访) after stating why. Screenshots: notify-portal-messages, notify-bell, notify-timeline.
import path from 'node:path';

export async function walk(ctx) {
  const { BASE, SHOTS, PASSWORD, step, check, context, consoleLogin, demo, apiLogin, apiGet, DESKTOP } = ctx;
  const call = async (token, method, p, body, headers = {}) => {
    const r = await fetch(`${BASE}/api/v1/${p}`, {
      method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers }, body: body ? JSON.stringify(body) : undefined,
    });
    if (!r.ok) throw new Error(`${method} ${p}: ${r.status} ${await r.text()}`);
    return r.json();
  };
  const citizenToken = await apiLogin('citizen');
  const dispatcherToken = await apiLogin(demo.dispatcher);
  const citizenMe = await apiGet(citizenToken, 'me');
  const dispatcherMe = await apiGet(dispatcherToken, 'me');
  let id = null;

  const phoneCtx = await context({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
  const phone = await phoneCtx.newPage();
  await step('a citizen on a 390-px phone sees a message when the centre accepts their report', async () => {
    await phone.goto(`${BASE}/m/login?next=/m/messages`);
    await phone.fill('#p-username', 'citizen');
    await phone.fill('#p-password', PASSWORD);
    await phone.click('form button[type=submit]');
    await phone.locator('#p-messages').waitFor();
    await phone.waitForTimeout(500); // the stream connects
    const ev = await call(citizenToken, 'POST', 'events', {
      category_id: demo.cat.id, description: '楼道灯坏了，晚上很黑（消息测试）', lon: demo.point.lon, lat: demo.point.lat,
    }, { 'idempotency-key': `walk-notify-${Date.now()}` });
    id = ev.id;
    // The demo runs 网格接单: the grid worker takes it and passes it on before the centre accepts.
    if (ev.grid_stage) {
      const workerToken = await apiLogin(demo.worker);
      await call(workerToken, 'POST', `events/${id}/take`, {});
      await call(workerToken, 'POST', `events/${id}/pass_on`, { note: '楼道灯确实不亮，请村里安排维修' });
    }
    await call(dispatcherToken, 'POST', `events/${id}/accept`, {});
    // No reload: the message arrives over the live stream, with the badge.
    const msg = phone.locator(`#p-messages .p-message[data-kind="report_accepted"]`, { hasText: `#${id}` });
    await msg.waitFor({ timeout: 20000 });
    check((await msg.innerText()).includes('已受理'), 'the message says the report was accepted, in Chinese');
    await phone.locator('#msg-count:not([hidden])').waitFor();
    await phone.screenshot({ path: path.join(SHOTS, 'notify-portal-messages.png') });
  });

  const desk = await (await context(DESKTOP)).newPage();
  await step('a reminded handler sees the bell count rise without reloading', async () => {
    await call(dispatcherToken, 'POST', `events/${id}/dispatch`, { department_id: demo.dep.id });
    await consoleLogin(desk, demo.handler);
    const bell = desk.locator('#bell');
    await bell.waitFor();
    await desk.waitForTimeout(800); // the stream connects and sends the count
    const count = async () => {
      const el = desk.locator('#bell-count');
      return (await el.isHidden()) ? 0 : Number(await el.innerText());
    };
    const before = await count();
    await call(dispatcherToken, 'POST', `events/${id}/remind`, { note: '群众反映强烈，请今天处理' });
    await desk.waitForFunction((n) => {
      const el = document.getElementById('bell-count');
      return el && !el.hidden && Number(el.textContent) === n + 1;
    }, before, { timeout: 20000 });
    await bell.click();
    const item = desk.locator('#bell-panel .notice[data-kind="remind"]', { hasText: `#${id}` });
    await item.waitFor();
    check((await item.innerText()).includes('催办'), 'the reminder reads 催办');
    await desk.screenshot({ path: path.join(SHOTS, 'notify-bell.png') });
  });

  await step('the timeline names who acted, the citizen masked', async () => {
    await desk.goto(`${BASE}/console/events/${id}`);
    const timeline = desk.locator('.timeline');
    await timeline.waitFor();
    const text = await timeline.innerText();
    check(text.includes(dispatcherMe.display_name), `the dispatcher is named (${dispatcherMe.display_name})`);
    const masked = `${[...citizenMe.display_name.trim()][0]}*`;
    check(text.includes(masked), `the reporter shows masked as ${masked}`);
    check(!text.includes(citizenMe.display_name) || citizenMe.display_name.length < 2, 'the reporter\'s full name is not shown');
    check(!/用户 #\d+/.test(text), 'nobody is a bare user number');
    await desk.screenshot({ path: path.join(SHOTS, 'notify-timeline.png'), fullPage: true });
  });

  await step('the dispatcher calls the reporter back after stating why', async () => {
    await call(citizenToken, 'PUT', `users/${citizenMe.id}/phone`, { phone: '13800138000' });
    const dctx = await context(DESKTOP);
    const dpage = await dctx.newPage();
    await consoleLogin(dpage, demo.dispatcher);
    await dpage.goto(`${BASE}/console/events/${id}`);
    await dpage.click('#callback');
    const dlg = dpage.locator('dialog.dialog[open]');
    await dlg.waitFor();
    await dlg.locator('textarea[name=purpose]').fill('回访：核实处理进展');
    await dlg.locator('button[type=submit]').click();
    await dpage.locator('#callback-phone', { hasText: '13800138000' }).waitFor();
    await dctx.close();
  });
  await phoneCtx.close();
}
