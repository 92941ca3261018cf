// Browser walk of a dispute (issue 14): a citizen applies for mediation on a phone (申请调解); the
// town centre accepts the case and assigns a mediator from the ranked suggestions; the mediator
// schedules and holds a session, writes its record, records an agreement, reveals the parties'
// ID numbers for signature (audited), prints the A4 agreement and downloads the .docx; a
// follow-up finds the agreement honoured and closes the case, which the citizen sees closed. Then a
// village dispatcher turns a 矛盾纠纷 work order into a case, and each links to the other.
// Screenshots: dispute-apply, dispute-case, dispute-agreement. Answers {id} of the case.
import path from 'node:path';

const TERMS = ['李某于本月20日前将围墙后移0.5米', '王某承担拆墙费用的一半，计人民币800元'];

export async function walk(ctx) {
  const { BASE, SHOTS, step, check, context, consoleLogin, apiLogin, apiGet, noSidewaysScroll, labelled, act, demo, PHONE, DESKTOP } = ctx;
  /** A move from the case page through e2e's `act` (its dialog), then the case's new state. */
  const caseAct = async (page, action, fill, expectState) => {
    await act(page, action, fill);
    await page.locator(`.event-head .badge.dstate-${expectState}`).waitFor();
  };
  const phoneCtx = await context(PHONE);
  const phone = await phoneCtx.newPage();
  let id = null;

  await step('a citizen applies for mediation on a phone and sees the application waiting', async () => {
    await phone.goto(`${BASE}/m/login?next=/m/mediation`);
    await phone.fill('#p-username', 'citizen');
    await phone.fill('#p-password', ctx.PASSWORD || 'shanzhi-demo');
    await Promise.all([phone.waitForURL(/\/m\/mediation/), phone.click('form button[type=submit]')]);
    await phone.click('#start-apply');
    await phone.locator('#pd-form').waitFor();
    await phone.selectOption('#pd-type', { index: 0 });
    await phone.fill('#pd-summary', '邻居砌围墙占了我家宅基地约半米，多次协商不成，请求调解。');
    await phone.fill('#pd-respondent', '李某');
    await phone.fill('#pd-amount', '1600');
    await labelled(phone, 'mediation application');
    await noSidewaysScroll(phone, 'mediation application');
    await Promise.all([phone.waitForURL(/\/m\/mediation\/\d+/), phone.click('#pd-send')]);
    id = Number(new URL(phone.url()).pathname.split('/').pop());
    check(Number.isInteger(id) && id > 0, `the application has a case number (#${id})`);
    await phone.locator('#pd-case').waitFor();
    check((await phone.locator('#pd-case .steps [aria-current=step]').innerText()).length > 0, 'the citizen sees where the case stands');
    await phone.screenshot({ path: path.join(SHOTS, 'dispute-apply.png'), fullPage: true });
  });
  if (!id) return { id };

  // The town centre above the case's node, and the pool's mediator who can log in.
  const admin = await apiLogin('admin');
  const d0 = await apiGet(admin, `disputes/${id}`);
  const town = d0.node_code.slice(0, 9);
  const townDispatcher = `disp-${town}`;
  // The demo links each town's mediator login (med-<town>) to a mediator of that town's pool.
  const mediatorLogin = `med-${town}`;
  const mediatorUser = await apiGet(await apiLogin(mediatorLogin), 'me');
  const pool = await apiGet(admin, `mediators?node=${town}000&limit=500`);
  const mediator = (pool.items || pool).find((m) => m.user_id === mediatorUser.id);
  check(!!mediator, 'the demo links the mediator login to a mediator of the pool');
  if (!mediator) return { id };

  const desk = await (await context(DESKTOP)).newPage();
  await step('the town centre accepts the case and assigns the mediator from the ranked suggestions', async () => {
    await consoleLogin(desk, townDispatcher);
    await desk.goto(`${BASE}/console/disputes?state=intake`);
    await desk.locator(`#dispute-table tr[data-id="${id}"]`).waitFor();
    await desk.goto(`${BASE}/console/disputes/${id}`);
    await desk.locator('#dispute-parties').waitFor();
    await caseAct(desk, 'accept', null, 'accepted');
    await caseAct(desk, 'assign', async (dlg) => {
      await dlg.locator('#dispute-suggestions input[name=mediator_id]').first().waitFor();
      await dlg.locator(`#dispute-suggestions input[value="${mediator.id}"]`).check();
    }, 'assigned');
    check((await desk.locator('.facts').innerText()).includes(mediator.name), 'the case names its mediator');
    await desk.screenshot({ path: path.join(SHOTS, 'dispute-case.png'), fullPage: true });
  });

  const med = await (await context(DESKTOP)).newPage();
  await step('the mediator schedules and holds a session, then records the agreement', async () => {
    await consoleLogin(med, mediatorLogin);
    await med.goto(`${BASE}/console/mediation`);
    await med.locator(`#work-cases tr[data-id="${id}"]`).waitFor();
    await med.goto(`${BASE}/console/disputes/${id}`);
    await caseAct(med, 'schedule_session', async (dlg) => {
      const at = new Date(Date.now() + 3600000 + 8 * 3600000).toISOString().slice(0, 16);
      await dlg.locator('input[name=at]').fill(at);
      await dlg.locator('input[name=place]').fill('镇矛调中心第一调解室');
      await dlg.locator('input[name=attendees]').fill('王某、李某、村调委会主任');
    }, 'in_session');
    await med.click('#dispute-sessions button[data-session]');
    const dlg = med.locator('dialog.dialog[open]');
    await dlg.locator('textarea[name=record]').fill('双方陈述事实，经释法说理，同意按现状测量结果划定边界。');
    await dlg.locator('input[name=held]').check();
    await dlg.locator('button[type=submit]').click();
    await dlg.waitFor({ state: 'detached' });
    await med.locator('#dispute-sessions .note').waitFor();
    await caseAct(med, 'record_outcome', async (d) => {
      await d.locator('input[name=outcome][value=agreement]').check();
      await d.locator('textarea[name=terms]').fill(TERMS.join('\n'));
    }, 'agreed');
    check((await med.locator('#dispute-agreement').innerText()).includes(TERMS[0]), 'the case page holds the agreement');
  });

  await step('the mediator prints the agreement for signature, with the ID numbers revealed and audited, and downloads the .docx', async () => {
    await med.addInitScript(() => { window.print = () => { window.__printed = (window.__printed || 0) + 1; }; });
    await med.goto(`${BASE}/console/disputes/${id}/agreement`);
    const sheet = med.locator('#agreement-sheet');
    await sheet.waitFor();
    const masked = await sheet.innerText();
    check(TERMS.every((x) => masked.includes(x)), 'the A4 sheet holds every term');
    await med.click('#agreement-reveal');
    const dlg = med.locator('dialog.dialog[open]');
    await dlg.locator('textarea[name=purpose]').fill('打印调解协议书供当事人签字');
    await dlg.locator('button[type=submit]').click();
    await med.locator('#agreement-revealed').waitFor({ state: 'visible' });
    await med.click('#agreement-print');
    check(await med.evaluate(() => window.__printed === 1), 'the print button prints');
    await med.emulateMedia({ media: 'print' });
    await med.screenshot({ path: path.join(SHOTS, 'dispute-agreement.png'), fullPage: true });
    await med.emulateMedia({ media: 'screen' });
    const [download] = await Promise.all([med.waitForEvent('download'), med.click('#agreement-docx')]);
    const file = await download.path();
    const bytes = (await import('node:fs')).readFileSync(file);
    check(bytes.subarray(0, 2).toString() === 'PK', 'the .docx is a zip package');
    const audit = await apiGet(admin, `audit?limit=20`).catch(() => null);
    if (audit) check(JSON.stringify(audit).includes(String(id)), 'the reveal for signature is in the audit log');
  });

  await step('a follow-up finds the agreement honoured and closes the case; the citizen sees it closed', async () => {
    await med.goto(`${BASE}/console/disputes/${id}`);
    await caseAct(med, 'follow_up', async (d) => {
      await d.locator('input[name=honoured][value=true]').check();
      await d.locator('textarea[name=note]').fill('回访：围墙已后移，双方无异议。');
    }, 'closed');
    await phone.goto(`${BASE}/m/mediation/${id}`);
    await phone.locator('#pd-case').waitFor();
    const state = await phone.locator('#pd-state').innerText();
    check(state === '已结案', `the citizen sees the case closed (${state})`);
    check((await phone.locator('#pd-timeline').innerText()).includes('回访'), 'the citizen\'s timeline shows the follow-up');
  });
  await step('a village dispatcher turns a 矛盾纠纷 work order into a case; each names the other', async () => {
    const cats = await apiGet(admin, 'categories');
    const cat = cats.items.find((c) => c.code === 'neighbour_dispute') || cats.items.find((c) => c.code === 'dispute');
    const r = await fetch(`${BASE}/api/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await apiLogin('citizen')}`, 'content-type': 'application/json', 'idempotency-key': `walk-dispute-${Date.now()}` },
      body: JSON.stringify({ category_id: cat.id, description: '邻居装修噪音扰民，多次沟通无果（转调解测试）', lon: demo.point.lon, lat: demo.point.lat }),
    });
    check(r.ok, `the citizen reports a neighbours' dispute (${r.status})`);
    const ev = await r.json();
    const deskCtx = await context(DESKTOP);
    const page = await deskCtx.newPage();
    await consoleLogin(page, demo.dispatcher);
    await page.goto(`${BASE}/console/events/${ev.id}`);
    await page.locator('#event-to-dispute').click();
    const dlg = page.locator('dialog.dialog[open]');
    await dlg.waitFor();
    await dlg.locator('button[type=submit]').click();
    await page.waitForURL(/\/console\/disputes\/\d+$/);
    await page.locator('.event-head .badge.dstate-intake').waitFor();
    check((await page.locator('.facts').innerText()).includes(`#${ev.id}`), 'the case names the work order it came from');
    await page.goto(`${BASE}/console/events/${ev.id}`);
    await page.locator('#event-dispute').waitFor();
    check(!(await page.locator('#event-to-dispute').count()), 'a converted order offers no second conversion');
    await deskCtx.close();
  });

  await phoneCtx.close();
  return { id };
}
