// Browser walk of issue 12's web points: the honest rating form on a 390-px phone (nothing
// preselected, no sending until answered; the step bar's screenshot), a refusal said in Chinese,
// the hotline operator's form filing a report, an Excel export downloading, the wall screen's
// new panels. Called from e2e.mjs with its helpers; screenshots go where e2e.mjs puts the others.
import fs from 'node:fs';
import path from 'node:path';

export async function walk(ctx) {
  const { base, shots, step, check, context, consoleLogin, apiLogin, demo, labelled, noSidewaysScroll, PHONE, DESKTOP } = ctx;

  async function call(token, method, p, body, headers = {}) {
    const r = await fetch(`${base}/api/v1/${p}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}), ...headers },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await r.text();
    if (!r.ok) throw new Error(`${method} ${p}: ${r.status} ${text}`);
    return text ? JSON.parse(text) : null;
  }

  // A closed order of the citizen's, walked through the loop by the API, for the rating form.
  const tok = {
    citizen: await apiLogin('citizen'), disp: await apiLogin(demo.dispatcher), hand: await apiLogin(demo.handler),
    worker: await apiLogin(demo.worker), leader: await apiLogin('leader'),
  };
  const ev = await call(tok.citizen, 'POST', 'events', { category_id: demo.cat.id, description: '人行道井盖松动，行人容易绊倒。', lon: demo.point.lon, lat: demo.point.lat },
    { 'idempotency-key': `walk-web-${Date.now()}` });
  // The demo runs 网格接单: the grid worker takes the citizen's report and passes it on first.
  if (ev.grid_stage) {
    await call(tok.worker, 'POST', `events/${ev.id}/take`, {});
    await call(tok.worker, 'POST', `events/${ev.id}/pass_on`, { note: '现场看过，井盖松动，需要市政处理' });
  }
  await call(tok.disp, 'POST', `events/${ev.id}/accept`, {});
  await call(tok.disp, 'POST', `events/${ev.id}/dispatch`, { department_id: demo.dep.id });
  await call(tok.hand, 'POST', `events/${ev.id}/sign`, {});
  await call(tok.hand, 'POST', `events/${ev.id}/report_result`, { note: '井盖已固定' });
  await call(tok.worker, 'POST', `events/${ev.id}/verify`, { ok: true });

  await step('the rating form has nothing preselected and waits for a score and a yes/no (390 px)', async () => {
    const phoneCtx = await context({ ...PHONE, viewport: { width: 390, height: 844 } });
    const phone = await phoneCtx.newPage();
    await phone.goto(`${base}/m/mine/${ev.id}`);
    await phone.waitForURL(/\/m\/login/);
    await phone.fill('#p-username', 'citizen');
    await phone.fill('#p-password', 'shanzhi-demo');
    await phone.click('form button[type=submit]');
    await phone.locator('#rate-form').waitFor();
    check(await phone.locator('#rate-form input:checked').count() === 0, 'no star and no yes/no is preselected');
    check(await phone.locator('#rate-submit').isDisabled(), 'the form cannot be sent unanswered');
    // The step bar at 390 px: numbers inside their circles, not list markers over the labels.
    const steps = phone.locator('ol.steps');
    check(await steps.evaluate((el) => getComputedStyle(el).listStyleType) === 'none', 'the step bar draws no list numbers of its own');
    const labels = await steps.locator('li').evaluateAll((lis) => lis.map((li) => {
      const r = li.getBoundingClientRect();
      return { left: r.left, right: r.right, overflow: li.scrollWidth > li.clientWidth + 1 };
    }));
    check(labels.every((l, i) => !l.overflow && (i === 0 || l.left >= labels[i - 1].right - 1)), 'each step label fits its own column');
    await steps.screenshot({ path: path.join(shots, 'portal-steps-390.png') });
    await noSidewaysScroll(phone, 'rating at 390 px');
    await labelled(phone, 'rating form');
    await phone.click('#rate-form label[data-score="4"]');
    check(await phone.locator('#rate-submit').isDisabled(), 'a score alone does not send the form');
    await phone.click('#rate-fixed-yes');
    check(!(await phone.locator('#rate-submit').isDisabled()), 'answered, the form can be sent');
    await phone.screenshot({ path: path.join(shots, 'portal-rate-390.png'), fullPage: true });
    await phone.click('#rate-submit');
    await phone.locator('#rate-form').waitFor({ state: 'detached' });
    const after = await call(tok.citizen, 'GET', `events/${ev.id}`);
    check(after.rating === 4 && after.state === 'closed', `rated 4 and still closed (${after.rating}, ${after.state})`);
    await phoneCtx.close();
  });

  let desk = null;
  let page = null;

  await step('a refusal is said in Chinese, and the hotline form files a caller\'s report', async () => {
    desk = await context(DESKTOP);
    page = await desk.newPage();
    await consoleLogin(page, demo.dispatcher);
    await page.goto(`${base}/console/hotline`);
    await page.locator('#hotline-form').waitFor();
    await labelled(page, 'hotline form');
    await page.fill('#h-name', '王女士');
    await page.fill('#h-phone', '12345678901');
    await page.check('#h-callback');
    await page.selectOption('#h-category', { label: demo.cat.name });
    await page.fill('#h-description', '来电反映小区门口路灯不亮，晚上出行不便。');
    await page.fill('#h-place', demo.grid.name);
    await page.locator('#h-place-results button', { hasText: demo.grid.name }).first().click();
    await page.locator('#h-located', { hasText: demo.grid.name }).waitFor();
    await page.click('#h-submit');
    const refusal = page.locator('#hotline-form .form-error');
    await refusal.waitFor({ state: 'visible' });
    const text = await refusal.innerText();
    check(/手机号/.test(text) && !/[A-Za-z]{3,}/.test(text), `the refusal is Chinese: ${text}`);
    await page.fill('#h-phone', '13812345678');
    // The whole form in one picture, with the page's top bar where it belongs.
    await page.setViewportSize({ width: 1440, height: 1200 });
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: path.join(shots, 'hotline.png') });
    await page.setViewportSize({ width: 1440, height: 900 });
    await page.click('#h-submit');
    await page.waitForURL(/\/console\/events\/\d+/);
    await page.locator('#event-caller', { hasText: '138****5678' }).waitFor();
    const id = Number(page.url().match(/events\/(\d+)/)[1]);
    const filed = await call(tok.disp, 'GET', `events/${id}`);
    check(filed.source === 'hotline', `filed as a hotline report (${filed.source})`);
    const caller = await call(tok.disp, 'GET', `events/${id}/caller`);
    check(caller.caller.phone === '138****5678' && caller.caller.callback === true, `the caller is kept, phone masked (${JSON.stringify(caller)})`);
  });

  await step('the event list shows names, not codes, and exports to Excel', async () => {
    await page.goto(`${base}/console/events`);
    await page.locator('table.data tbody tr').first().waitFor();
    const table = await page.locator('table.data tbody').innerText();
    check(!/\b\d{15}\b/.test(table), 'no 15-digit grid code in the table');
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('.export-xlsx')]);
    check(download.suggestedFilename().endsWith('.xlsx'), `an .xlsx file (${download.suggestedFilename()})`);
    const file = await download.path();
    const bytes = fs.readFileSync(file);
    check(bytes.length > 1000 && bytes.subarray(0, 2).toString() === 'PK', 'the download is a zip-based workbook');
  });
  await desk.close();

  await step('the wall shows today\'s counts, the red and yellow cards and the department ranking', async () => {
    const wallCtx = await context({ viewport: { width: 1920, height: 1080 } });
    const wall = await wallCtx.newPage();
    await consoleLogin(wall, 'leader');
    await wall.goto(`${base}/console/wall`);
    await wall.locator('[data-kpi="today_reported"]').waitFor();
    await wall.locator('#wall-cards li').first().waitFor();
    await wall.locator('#wall-departments canvas').first().waitFor();
    const today = await wall.locator('[data-kpi="today_reported"] .value').innerText();
    check(/^\d[\d,]*$/.test(today.trim()), `today's count is a number (${today})`);
    const fig = await call(tok.leader, 'GET', 'figures');
    check(fig.by_department.length > 0, 'the leader\'s figures rank departments');
    await wall.waitForTimeout(800);
    await wall.screenshot({ path: path.join(shots, 'wall-web.png') });
    await wallCtx.close();
  });
}
