// Browser walk of care visits (issue 13, points 2 and 6): a grid worker on a 390-px phone opens
// 走访, picks a person whose visit is due, logs a visit with a photo and what was found, reports
// the problem found in the same step and sees the new order's number; the order names its visit.
// Residents: the demo's, or (until the demo holds residents) one tagged, overdue person per grid
// that the browser test's set-up (tests/api/browser.rs) puts in. Screenshot: care-visit.
import path from 'node:path';

/** A 1×1 PNG: the small photo the worker "takes". */
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGNoaGgAAAMEAYFL09IQAAAAAElFTkSuQmCC', 'base64');

export async function walk(ctx) {
  const { BASE, SHOTS, step, check, context, consoleLogin, demo, apiLogin, apiGet, noSidewaysScroll, labelled } = ctx;
  const phoneCtx = await context({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
  const page = await phoneCtx.newPage();
  await step('a grid worker on a phone logs a visit with a photo and reports the problem found in one step', async () => {
    await consoleLogin(page, demo.worker);
    await page.goto(`${BASE}/console/visits?within=30`);
    const first = page.locator('#visits-due .due-person').first();
    await first.waitFor();
    await noSidewaysScroll(page, 'visits due');
    const resident = Number(await first.getAttribute('data-id'));
    await first.click();
    await page.locator('#visit-person').waitFor();
    await page.selectOption('#visit-found', 'hazard');
    await page.fill('#visit-notes', '独居老人家中燃气软管老化，已提醒更换');
    await page.setInputFiles('.visits-page input[type=file]', { name: 'visit.png', mimeType: 'image/png', buffer: PNG });
    await page.locator('.visits-page .photo-thumb[data-hash]').waitFor();
    await page.check('#visit-report');
    await page.selectOption('#visit-category', String(demo.cat.id));
    await page.fill('#visit-description', '走访发现：独居老人家中燃气软管老化漏气，需上门更换');
    await labelled(page, 'visit form');
    await page.click('#visit-submit');
    const link = page.locator('#visit-event');
    await link.waitFor();
    const id = Number((await link.getAttribute('href')).split('/').pop());
    check(Number.isInteger(id) && id > 0 && (await link.innerText()).includes(`#${id}`), `the worker sees the new order's number (#${id})`);
    await page.locator('#visit-log .visit').first().waitFor();
    check((await page.locator('#visit-log .visit').first().innerText()).includes(`#${id}`), 'the visit log shows the visit with its order');
    await noSidewaysScroll(page, 'visit logged');
    await page.screenshot({ path: path.join(SHOTS, 'care-visit.png'), fullPage: true });
    // The order is in the closed loop, from a visit, linked back to the person visited.
    const ev = await apiGet(await apiLogin(demo.dispatcher), `events/${id}`);
    check(ev.source === 'visit', `the order's source is a visit (${ev.source})`);
    check(ev.visit_resident_id === resident && Number.isInteger(ev.visit_id), 'the order names its visit and the person visited');
    check(ev.photos.length === 1, 'the visit photo goes with the order');
    await page.goto(`${BASE}/console/events/${id}`);
    await page.locator('#event-visit').waitFor();
  });
  await phoneCtx.close();
}
