// Browser walk of the village books (issue 16, seed 000: 不上图不给报销): the administrator gives
// the citizen's village its keepers; the treasurer enters an expense without an invoice image and submits it; the committee
// is refused its approval with the reason and sends it back; the treasurer attaches the invoice
// and submits again; the committee approves, the town's agency posts it; the villager finds it at
// the top of 我要看帐 on a phone, asks about it (我要监督), the committee answers in the console and
// the villager reads the answer; the committee publishes and pins a notice (四务公开), which the
// villager reads first on the phone.
// Then participation: the committee puts a topic to the village (协商议事), the villager comments
// on the phone, the committee records the meeting and the outcome, which the villager reads; the
// contact point puts a draft law out (立法意见征集), the villager gives an opinion on an article,
// the contact point closes the collection and marks it adopted with a reason, which the villager
// reads; the committee registers a contract without the meeting's approval, whose flag it cleans
// up, and the villager reads it with the counterparty masked; the committee publishes a points
// rule, stocks the shop and awards the villager with a photo, who redeems on the phone.
// Screenshots: ledger-entry, portal-ledger, console-questions, portal-notices,
// portal-consultations, portal-laws, portal-points.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const INVOICE = fileURLToPath(new URL('../../crates/domain/src/event/testdata/tiny.png', import.meta.url));

export async function walk(ctx) {
  const { BASE, SHOTS, PASSWORD, step, check, context, consoleLogin, apiLogin, apiGet, PHONE, DESKTOP } = ctx;
  const summary = `购买防汛沙袋 ${Date.now() % 100000}`;
  let village = null;
  let entryId = null;
  let who = null;
  await step('the administrator gives the citizen\'s village its keepers (treasurer, committee, the town\'s agency)', async () => {
    const home = await apiGet(await apiLogin('citizen'), 'me/household');
    village = home.resident.node.slice(0, 12);
    const admin = await apiLogin('admin');
    const kids = await apiGet(admin, `nodes/${village}/children`);
    const grids = (kids.items || kids).filter((n) => n.kind === 'grid').map((n) => n.code).sort();
    who = { treasurer: `gw-${grids[0]}`, committee: `disp-${village}`, agency: `disp-${village.slice(0, 9)}` };
    for (const [role, duty, node] of [['treasurer', 'treasurer', village], ['committee', 'committee', village], ['agency', 'town_agency', `${village.slice(0, 9)}000`]]) {
      const id = (await apiGet(await apiLogin(who[role]), 'me')).id;
      const held = (await apiGet(admin, `users/${id}/duties`)).duties;
      const want = [...held.filter((d) => !(d.node === node && d.duty === duty)), { node, duty }];
      const r = await fetch(`${BASE}/api/v1/users/${id}/duties`, { method: 'PUT', headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' }, body: JSON.stringify({ duties: want }) });
      check(r.ok, `${who[role]} is given the ${duty} duty (${r.status})`);
    }
  });
  if (!village) return {};

  await step('on the users page, the administrator gives the centre\'s dispatcher the town\'s agency as well', async () => {
    const page = await (await context(DESKTOP)).newPage();
    await consoleLogin(page, 'admin');
    await page.goto(`${BASE}/console/admin/users`);
    await page.click('button[data-duties="dispatcher"]');
    const dlg = page.locator('dialog.dialog[open]');
    await dlg.locator('#duty-add').click();
    const row = dlg.locator('tr.duty-row').last();
    await row.locator('input').fill(`${village.slice(0, 9)}000`);
    await row.locator('select').selectOption('town_agency');
    await dlg.locator('button[type=submit]').click();
    await dlg.waitFor({ state: 'detached' });
    const admin = await apiLogin('admin');
    const id = (await apiGet(await apiLogin('dispatcher'), 'me')).id;
    const held = (await apiGet(admin, `users/${id}/duties`)).duties;
    check(held.some((d) => d.duty === 'town_agency' && d.node === `${village.slice(0, 9)}000`), 'the dispatcher holds the duty');
  });

  const openEntry = async (username) => {
    const page = await (await context(DESKTOP)).newPage();
    await consoleLogin(page, username);
    await page.goto(`${BASE}/console/ledger/${entryId}`);
    await page.locator('#ledger-entry').waitFor();
    return page;
  };

  await step('the treasurer enters an expense without an invoice image and submits it', async () => {
    const page = await (await context(DESKTOP)).newPage();
    await consoleLogin(page, who.treasurer);
    await page.goto(`${BASE}/console/ledger?node=${village}`);
    await page.locator('#ledger-list').waitFor();
    await page.click('#ledger-new');
    const dlg = page.locator('dialog.dialog[open]');
    await dlg.locator('select[name=kind]').selectOption('expense');
    await dlg.locator('input[name=summary]').fill(summary);
    await dlg.locator('input[name=counterparty]').fill('城区五金店');
    const lines = dlg.locator('tr.ledger-line');
    await lines.nth(0).locator('select').first().selectOption('514');
    await lines.nth(0).locator('input').fill('860.50');
    await lines.nth(1).locator('select').first().selectOption('102');
    await lines.nth(1).locator('input').fill('860.50');
    await Promise.all([page.waitForURL(/\/console\/ledger\/\d+/), dlg.locator('button[type=submit]').click()]);
    entryId = Number(new URL(page.url()).pathname.split('/').pop());
    await page.locator('#ledger-no-invoice').waitFor();
    await page.click('#ledger-actions button[data-act=submit]');
    await page.locator('#ledger-entry .lstate-submitted').waitFor();
  });
  if (!entryId) return {};

  await step('the committee is refused the approval for want of an invoice, and sends it back', async () => {
    const page = await openEntry(who.committee);
    await page.click('#ledger-actions button[data-act=approve]');
    const toast = page.locator('.toast', { hasText: '不上图不给报销' });
    await toast.first().waitFor();
    await page.click('#ledger-actions button[data-act=approveBack]');
    const dlg = page.locator('dialog.dialog[open]');
    await dlg.locator('textarea').fill('请上传发票图片');
    await dlg.locator('button[type=submit]').click();
    await page.locator('#ledger-entry .lstate-returned').waitFor();
  });

  await step('the treasurer attaches the invoice image and submits again; the committee approves, the town posts it', async () => {
    const page = await openEntry(who.treasurer);
    await page.click('#ledger-actions button[data-act=edit]');
    const dlg = page.locator('dialog.dialog[open]');
    await dlg.locator('#ledger-invoice-files').setInputFiles(INVOICE);
    await dlg.locator('button[type=submit]').click();
    await page.locator('#ledger-invoices img').first().waitFor();
    await page.click('#ledger-actions button[data-act=submit]');
    await page.locator('#ledger-entry .lstate-submitted').waitFor();
    const committee = await openEntry(who.committee);
    await committee.click('#ledger-actions button[data-act=approve]');
    await committee.locator('#ledger-entry .lstate-approved').waitFor();
    const agency = await openEntry(who.agency);
    await agency.locator('#ledger-invoices img').first().waitFor();
    await agency.click('#ledger-actions button[data-act=review]');
    await agency.locator('#ledger-entry .lstate-posted').waitFor();
    await agency.screenshot({ path: path.join(SHOTS, 'ledger-entry.png'), fullPage: true });
  });

  await step('the villager finds the new expense at the top of 我要看帐 on a phone', async () => {
    const phone = await (await context(PHONE)).newPage();
    await phone.goto(`${BASE}/m/login?next=/m/ledger`);
    await phone.fill('#p-username', 'citizen');
    await phone.fill('#p-password', PASSWORD);
    await Promise.all([phone.waitForURL(/\/m\/ledger/), phone.click('form button[type=submit]')]);
    const first = phone.locator('#my-ledger li').first();
    await first.waitFor();
    check((await first.innerText()).includes(summary), 'the posted expense is first in the list');
    check((await first.getAttribute('data-id')) === String(entryId), 'it is the entry just posted');
    await phone.screenshot({ path: path.join(SHOTS, 'portal-ledger.png'), fullPage: true });
  });

  const question = `这笔防汛沙袋的钱是从哪个账户支出的？${Date.now() % 1000}`;
  const answer = '从村集体银行存款支出，发票已上传，可在账目中查看。';
  const phoneAt = async (where) => {
    const phone = await (await context(PHONE)).newPage();
    await phone.goto(`${BASE}/m/login?next=${where}`);
    await phone.fill('#p-username', 'citizen');
    await phone.fill('#p-password', PASSWORD);
    await Promise.all([phone.waitForURL(new RegExp(where)), phone.click('form button[type=submit]')]);
    return phone;
  };
  await step('the villager asks about the expense under it (我要监督)', async () => {
    const phone = await phoneAt('/m/ledger');
    const item = phone.locator(`#my-ledger li[data-id="${entryId}"]`);
    await item.locator('.p-supervise').click();
    // Nothing written: the server's refusal in the villager's language, and nothing sent.
    await item.locator('.p-qa-form button[type=submit]').click();
    await item.locator('.p-qa-form .form-error').waitFor();
    check(/[\u4e00-\u9fff]/.test(await item.locator('.p-qa-form .form-error').innerText()), 'the refusal of an empty question is said in Chinese');
    await item.locator('.p-qa-form textarea').fill(question);
    await item.locator('.p-qa-form button[type=submit]').click();
    await item.locator('.p-qa-item', { hasText: question }).waitFor();
    check((await item.locator('.p-qa-item', { hasText: question }).innerText()).includes('我的提问'), 'the question is marked as the villager\'s own');
  });

  await step('the committee answers it in the console (村民监督)', async () => {
    const page = await (await context(DESKTOP)).newPage();
    await consoleLogin(page, who.committee);
    await page.goto(`${BASE}/console/questions?node=${village}`);
    const item = page.locator('#questions-list li.question', { hasText: question });
    await item.waitFor();
    await item.locator('textarea[name=answer]').fill(answer);
    await item.locator('button[type=submit]').click();
    await page.locator('#questions-list li.question', { hasText: question }).waitFor({ state: 'detached' });
    await page.selectOption('#questions-state', 'answered');
    await page.locator('#questions-list li.question', { hasText: answer }).waitFor();
    await page.screenshot({ path: path.join(SHOTS, 'console-questions.png'), fullPage: true });
  });

  await step('the villager reads the answer under the entry and in 我要监督', async () => {
    const phone = await phoneAt('/m/ledger');
    const item = phone.locator(`#my-ledger li[data-id="${entryId}"]`);
    await item.locator('.p-supervise').click();
    await item.locator('.p-qa-a', { hasText: answer }).waitFor();
    await phone.goto(`${BASE}/m/questions`);
    await phone.locator('#my-questions .p-qa-a', { hasText: answer }).first().waitFor();
  });

  const title = `关于防汛物资采购的财务公开 ${Date.now() % 100000}`;
  await step('the committee publishes and pins a finance notice; the villager reads it first', async () => {
    const page = await (await context(DESKTOP)).newPage();
    await consoleLogin(page, who.committee);
    await page.goto(`${BASE}/console/disclosures?node=${village}`);
    await page.click('#disclosure-new');
    const dlg = page.locator('dialog.dialog[open]');
    await dlg.locator('select[name=kind]').selectOption('finance');
    await dlg.locator('input[name=title]').fill(title);
    await dlg.locator('textarea[name=body]').fill('本月采购防汛沙袋 860.50 元，发票已上传，欢迎村民监督。');
    await Promise.all([page.waitForURL(/\/console\/disclosures\/\d+/), dlg.locator('button[type=submit]').click()]);
    await page.click('#disclosure-actions button[data-act=publish]');
    await page.locator('#disclosure .dstate-published').waitFor();
    await page.click('#disclosure-actions button[data-act=pin]');
    await page.locator('#disclosure-actions button[data-act=unpin]').waitFor();
    const phone = await phoneAt('/m/notices');
    const first = phone.locator('#my-notices article').first();
    await first.waitFor();
    check((await first.innerText()).includes(title), 'the pinned notice is first');
    await phone.screenshot({ path: path.join(SHOTS, 'portal-notices.png'), fullPage: true });
  });

  const topic = `关于修缮村文化室的议题 ${Date.now() % 100000}`;
  const said = '建议先修屋顶，雨季漏水严重。';
  const outcome = '到会代表25人，同意23人，先修屋顶，费用从集体经营收入列支。';
  await step('the committee puts a topic to the village (协商议事); the villager comments on a phone', async () => {
    const page = await (await context(DESKTOP)).newPage();
    await consoleLogin(page, who.committee);
    await page.goto(`${BASE}/console/consultations?node=${village}`);
    await page.click('#consult-new');
    const dlg = page.locator('dialog.dialog[open]');
    await dlg.locator('input[name=title]').fill(topic);
    await dlg.locator('textarea[name=body]').fill('村文化室年久失修，请大家就修缮范围和资金来源发表意见。');
    await Promise.all([page.waitForURL(/\/console\/consultations\/\d+/), dlg.locator('button[type=submit]').click()]);
    const phone = await phoneAt('/m/consultations');
    const card = phone.locator('#my-consultations li', { hasText: topic });
    await card.locator('button').first().click();
    await card.locator('textarea').fill(said);
    await card.locator('form button[type=submit]').click();
    const mine = card.locator('.p-qa-item', { hasText: said });
    await mine.waitFor();
    check((await mine.innerText()).includes('我的意见'), 'the comment is marked as the villager\'s own, without a name');
  });

  await step('the committee records the meeting and publishes the outcome; the villager reads both', async () => {
    const page = await (await context(DESKTOP)).newPage();
    await consoleLogin(page, who.committee);
    await page.goto(`${BASE}/console/consultations?node=${village}`);
    await Promise.all([page.waitForURL(/\/console\/consultations\/\d+/), page.locator('#consult-list a', { hasText: topic }).click()]);
    await page.locator('#consult-comments li', { hasText: said }).waitFor();
    await page.click('#consult-actions button[data-act=hold]');
    let dlg = page.locator('dialog.dialog[open]');
    await dlg.locator('input[name=place]').fill('村党群服务中心');
    await dlg.locator('input[name=attendees]').fill('25');
    await dlg.locator('textarea[name=record]').fill('通报村民意见，逐条讨论，举手表决。');
    await dlg.locator('button[type=submit]').click();
    await page.locator('#consult-record').waitFor();
    await page.click('#consult-actions button[data-act=conclude]');
    dlg = page.locator('dialog.dialog[open]');
    await dlg.locator('select[name=decision]').selectOption('agreed');
    await dlg.locator('textarea[name=text]').fill(outcome);
    await dlg.locator('button[type=submit]').click();
    await page.locator('#consult-outcome', { hasText: outcome }).waitFor();
    const phone = await phoneAt('/m/consultations');
    const card = phone.locator('#my-consultations li', { hasText: topic });
    await card.locator('button').first().click();
    await card.locator('.consult-outcome', { hasText: outcome }).waitFor();
    check((await card.locator('.consult-record').innerText()).includes('村党群服务中心'), 'the meeting record is public');
    await phone.screenshot({ path: path.join(SHOTS, 'portal-consultations.png'), fullPage: true });
  });

  const law = `城乡社区议事协商规定（草案） ${Date.now() % 100000}`;
  const opinion = '建议第二条增加：议题应当提前七天公布。';
  const why = '修改稿第二条已增加提前公布的要求。';
  let lawId = null;
  await step('the contact point puts a draft out article by article (立法意见征集); the villager gives an opinion on article 2', async () => {
    const page = await (await context(DESKTOP)).newPage();
    await consoleLogin(page, 'dispatcher');
    await page.goto(`${BASE}/console/laws`);
    await page.click('#law-new');
    const dlg = page.locator('dialog.dialog[open]');
    await dlg.locator('input[name=title]').fill(law);
    await dlg.locator('input[name=issuer]').fill('市人大常委会法制工作委员会');
    await dlg.locator('textarea[name=articles]').fill('第一条 为了规范城乡社区议事协商，制定本规定。\n\n第二条 议事协商的议题由村（居）民委员会提出。\n\n第三条 本规定自公布之日起施行。');
    const closes = new Date(Date.now() + 20 * 86400000).toISOString().slice(0, 10);
    await dlg.locator('input[name=closes_on]').fill(closes);
    await Promise.all([page.waitForURL(/\/console\/laws\/\d+/), dlg.locator('button[type=submit]').click()]);
    lawId = page.url().match(/laws\/(\d+)/)[1];
    await page.locator('#law-articles li.law-article').nth(3).waitFor();
    check(await page.locator('#law-articles li.law-article').count() === 4, 'three articles and the draft as a whole');
    const phone = await phoneAt(`/m/laws/${lawId}`);
    await phone.click('#law-open-2');
    await phone.fill('#law-text-2', opinion);
    await phone.locator('.law-article[data-number="2"] form button[type=submit]').click();
    await phone.locator('.law-article[data-number="2"] .p-qa-item', { hasText: opinion }).waitFor();
  });

  await step('the contact point closes the collection and marks the opinion adopted with a reason; the villager reads it', async () => {
    const page = await (await context(DESKTOP)).newPage();
    await consoleLogin(page, 'dispatcher');
    await page.goto(`${BASE}/console/laws/${lawId}`);
    await page.click('button[data-act=close]');
    const item = page.locator('#law-articles li.question', { hasText: opinion });
    await item.locator('button[data-act=adopt]').click();
    const dlg = page.locator('dialog.dialog[open]');
    await dlg.locator('textarea[name=reason]').fill(why);
    await dlg.locator('button[type=submit]').click();
    await page.locator('#law-articles li.question[data-verdict=adopted]').waitFor();
    await page.click('button[data-act=finish]');
    await page.locator('#law .law-done').waitFor();
    const phone = await phoneAt(`/m/laws/${lawId}`);
    const mine = phone.locator('.law-article[data-number="2"] .p-qa-item[data-verdict=adopted]');
    await mine.waitFor();
    check((await mine.innerText()).includes(why), 'the villager reads why it was adopted');
    await phone.screenshot({ path: path.join(SHOTS, 'portal-laws.png'), fullPage: true });
  });

  const number = `WALK-${Date.now() % 100000}`;
  await step('the committee registers a contract without the villagers\' meeting approval; the flag is raised and cleaned up (一清三规范); the villager reads it with the name masked', async () => {
    const page = await (await context(DESKTOP)).newPage();
    await consoleLogin(page, who.committee);
    await page.goto(`${BASE}/console/contracts?node=${village}`);
    await page.click('#contract-new');
    const dlg = page.locator('dialog.dialog[open]');
    await dlg.locator('input[name=number]').fill(number);
    await dlg.locator('select[name=kind]').selectOption('land');
    await dlg.locator('input[name=asset_name]').fill('村北承包地');
    await dlg.locator('input[name=area]').fill('12.50');
    await dlg.locator('select[name=unit]').selectOption('mu');
    await dlg.locator('input[name=counterparty]').fill('李大林');
    await dlg.locator('input[name=start]').fill('2026-01-01');
    await dlg.locator('input[name=end]').fill('2030-12-31');
    await dlg.locator('input[name=yearly_price]').fill('6000');
    await Promise.all([page.waitForURL(/\/console\/contracts\/\d+/), dlg.locator('button[type=submit]').click()]);
    const flag = page.locator('#contract-flags li.cflag-row[data-flag=no_meeting_approval]');
    await flag.locator('.cstatus-open').waitFor();
    await flag.locator('button[data-to=cleaned]').click();
    const note = page.locator('dialog.dialog[open]');
    await note.locator('textarea[name=note]').fill('补开村民代表会议，表决通过，会议记录已上传。');
    await note.locator('button[type=submit]').click();
    await page.locator('#contract-flags li.cflag-row[data-flag=no_meeting_approval] .cstatus-cleaned').waitFor();
    const phone = await phoneAt('/m/contracts');
    const row = phone.locator('#my-contracts li', { hasText: number });
    await row.waitFor();
    const text = await row.innerText();
    check(text.includes('李*') && !text.includes('李大林'), 'the private counterparty\'s name is masked for the villager');
    check(await row.locator('.cstatus-cleaned').count() === 1, 'the villager sees the flag cleaned up');
  });

  await step('the committee publishes a points rule and stocks the shop (积分制), awards the villager with a photo; the villager redeems on a phone', async () => {
    const citizen = await apiLogin('citizen');
    const me = await apiGet(citizen, 'me');
    const balanceOf = async () => ((await apiGet(citizen, 'me/points')).villages.find((v) => v.node === village) || { balance: 0 }).balance;
    const n = Date.now() % 100000;
    const ruleName = `参加村道清扫 ${n}`;
    const itemName = `环保购物袋 ${n}`;
    const page = await (await context(DESKTOP)).newPage();
    await consoleLogin(page, who.committee);
    await page.goto(`${BASE}/console/points?node=${village}`);
    await page.click('#points-new-rule');
    let dlg = page.locator('dialog.dialog[open]');
    await dlg.locator('input[name=name]').fill(ruleName);
    await dlg.locator('input[name=points]').fill('8');
    await dlg.locator('select[name=kind]').selectOption('manual');
    await dlg.locator('button[type=submit]').click();
    await page.locator('#points-rules tr', { hasText: ruleName }).waitFor();
    await page.click('#points-new-item');
    dlg = page.locator('dialog.dialog[open]');
    await dlg.locator('input[name=name]').fill(itemName);
    await dlg.locator('input[name=price]').fill('5');
    await dlg.locator('input[name=stock]').fill('3');
    await dlg.locator('button[type=submit]').click();
    await page.locator('#points-items tr', { hasText: itemName }).waitFor();
    const before = await balanceOf();
    await page.locator(`#points-award-user option[value="${me.id}"]`).waitFor({ state: 'attached' });
    await page.selectOption('#points-award-user', String(me.id));
    await page.selectOption('#points-award-rule', { label: `${ruleName} +8` });
    await page.fill('#points-award-note', '参加周六村道清扫');
    await page.locator('#points-award-files').setInputFiles(INVOICE);
    await page.click('#points-award-submit');
    await page.locator('#points-awards tr', { hasText: ruleName }).waitFor();
    check(await balanceOf() === before + 8, 'the award added the rule\'s points to the balance');
    const phone = await phoneAt('/m/points');
    const balance = phone.locator(`.p-points-balance[data-node="${village}"]`);
    await balance.waitFor();
    check(Number(await balance.innerText()) === before + 8, 'the phone shows the balance the server keeps');
    const item = phone.locator(`#p-shop-${village} li`, { hasText: itemName });
    await item.locator('button').click();
    await phone.locator(`.p-points-balance[data-node="${village}"]`, { hasText: String(before + 3) }).waitFor();
    check(await balanceOf() === before + 3, 'the redemption took the price off the balance');
    check((await item.innerText()).includes('剩 2 件'), 'the stock went down by one');
    await phone.screenshot({ path: path.join(SHOTS, 'portal-points.png'), fullPage: true });
  });
  return { entryId };
}
