// Browser walk of the resident import (issue 13, point 4): the grid worker downloads the
// template, uploads a CSV with one good row and one whose ID number has a wrong check digit in
// "valid rows" mode, watches the upload's progress bar, and reads the report naming the bad
// row, its column and the reason. Screenshot: import-report. Then the places register the same
// way, from the places page: one good place and one of an unknown kind; the good one is listed;
// then one place registered by hand in the page's dialog.
import path from 'node:path';

/** 17 digits and their GB 11643 check digit. */
function complete(first17) {
  const weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const sum = [...first17].reduce((s, c, i) => s + Number(c) * weights[i], 0);
  return first17 + '10X98765432'[sum % 11];
}

export async function walk(ctx) {
  const { BASE, SHOTS, step, check, context, consoleLogin, demo, DESKTOP } = ctx;
  const browserCtx = await context(DESKTOP);
  const page = await browserCtx.newPage();
  await step('a grid worker imports residents and reads the report by row', async () => {
    await consoleLogin(page, demo.worker);
    await page.goto(`${BASE}/console/residents/import`);
    await page.locator('#rimport-file').waitFor();
    const template = await page.evaluate(async () => {
      const r = await fetch('/api/v1/residents/import/template');
      return { status: r.status, type: r.headers.get('content-type'), size: (await r.arrayBuffer()).byteLength };
    });
    check(template.status === 200 && template.type.includes('spreadsheetml') && template.size > 1000, `the template downloads (${JSON.stringify(template)})`);
    const stamp = String(Date.now() % 900 + 100);
    const good = complete(`${demo.grid.code.slice(0, 6)}19800101${stamp}`);
    const bad = complete(`${demo.grid.code.slice(0, 6)}19810202${stamp}`);
    const wrong = bad.slice(0, 17) + (bad[17] === '0' ? '1' : '0');
    const csv = `姓名,公民身份号码,人口类型,所属网格代码\n测试甲,${good},户籍,${demo.grid.code}\n测试乙,${wrong},流动,${demo.grid.code}\n`;
    await page.setInputFiles('#rimport-file', { name: 'residents.csv', mimeType: 'text/csv', buffer: Buffer.from(csv, 'utf8') });
    await page.selectOption('#rimport-mode', 'valid_rows');
    await page.click('form button[type=submit]');
    await page.locator('#rimport-errors').waitFor();
    const cells = await page.locator('#rimport-errors tbody tr').first().locator('td').allTextContents();
    check(cells[0] === '3' && cells[1] === '公民身份号码' && /校验码不符/.test(cells[2]), `the report names row 3's ID number (got ${cells.join(' | ')})`);
    const status = await page.locator('[role=status]').first().textContent();
    check(/写入 1 人/.test(status), `one resident written (got ${status})`);
    await page.screenshot({ path: path.join(SHOTS, 'import-report.png'), fullPage: true });
  });
  await step('a grid worker imports places from the places page', async () => {
    await page.goto(`${BASE}/console/places`);
    await page.click('#place-import');
    await page.locator('#rimport-file').waitFor();
    const name = `导入测试店${Date.now() % 100000}`;
    const csv = `场所名称,场所类型,所属网格代码,上次安全检查日期,检查结果\n${name},小餐饮,${demo.grid.code},2026-01-05,发现隐患\n错误类型店,酒吧,${demo.grid.code},,\n`;
    await page.setInputFiles('#rimport-file', { name: 'places.csv', mimeType: 'text/csv', buffer: Buffer.from(csv, 'utf8') });
    await page.selectOption('#rimport-mode', 'valid_rows');
    await page.click('form button[type=submit]');
    await page.locator('#rimport-errors').waitFor();
    const cells = await page.locator('#rimport-errors tbody tr').first().locator('td').allTextContents();
    check(cells[0] === '3' && cells[1] === '场所类型' && /“酒吧”不是场所类型/.test(cells[2]), `the report names row 3's kind (got ${cells.join(' | ')})`);
    const status = await page.locator('[role=status]').first().textContent();
    check(/写入 1 个场所/.test(status), `one place written (got ${status})`);
    await page.goto(`${BASE}/console/places?kind=small_restaurant`);
    await page.locator('#place-list').waitFor();
    const listed = await page.locator('#place-list tbody').textContent();
    check(listed.includes(name) && listed.includes('发现隐患'), `the imported place is listed with its last check (${name})`);
    // And one by hand: 新增场所 in a dialog, at the worker's own grid.
    const byHand = `手工登记店${Date.now() % 100000}`;
    await page.click('#place-new');
    await page.fill('#new-place-name', byHand);
    await page.selectOption('#new-place-kind', 'small_restaurant');
    await page.click('dialog form button[type=submit]');
    await page.locator('dialog').waitFor({ state: 'detached' });
    await page.locator(`#place-list tbody tr:has-text("${byHand}")`).waitFor();
    check(true, `a place registered by hand is listed (${byHand})`);
  });
  await browserCtx.close();
}
