// Browser walk of the register of residents (issue 13, points 1, 3 and 6): a grid worker on a
// 360-px phone finds a resident by name, opens the card and reveals the phone after stating
// why (the reveal is audited with its purpose); a citizen opens 我的家庭 and asks for a
// correction, which reaches the grid worker's inbox. The demo holds no residents of this walk:
// it registers them (and links the demo citizen to one) through the API first.
// Screenshots: people-register, people-card, people-household.
import path from 'node:path';

/** A synthetic resident ID: 17 digits and their GB 11643 check digit. */
function idNumber(first17) {
  const w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const sum = [...first17].reduce((s, d, i) => s + Number(d) * w[i], 0);
  return first17 + '10X98765432'[sum % 11];
}

export async function walk(ctx) {
  const { BASE, SHOTS, PASSWORD, step, check, context, consoleLogin, demo, apiLogin, apiGet, PHONE } = ctx;
  const call = async (token, method, p, body) => {
    const r = await fetch(`${BASE}/api/v1/${p}`, {
      method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: body ? JSON.stringify(body) : undefined,
    });
    if (!r.ok) throw new Error(`${method} ${p}: ${r.status} ${await r.text()}`);
    return r.json();
  };
  const worker = await apiLogin(demo.worker);
  const citizenToken = await apiLogin('citizen');
  const citizenMe = await apiGet(citizenToken, 'me');
  const stamp = String(Date.now() % 100000).padStart(5, '0');
  // The region part of a synthetic number: the grid's county (every real county code is valid).
  const county = demo.grid.code.slice(0, 6);
  let seq = 0;
  const register = async (name, phone) => {
    for (let tries = 0; tries < 5; tries++) {
      seq += 1;
      const id = idNumber(`${county}1975${String(1 + (Number(stamp) % 12)).padStart(2, '0')}${String(1 + seq).padStart(2, '0')}${String((Number(stamp) + seq * 7 + tries * 131) % 1000).padStart(3, '0')}`);
      const r = await fetch(`${BASE}/api/v1/residents`, {
        method: 'POST', headers: { authorization: `Bearer ${worker}`, 'content-type': 'application/json' },
        body: JSON.stringify({ node: demo.grid.code, name, id_kind: 'resident_id', id_number: id, phone, residence: 'registered', ethnicity: '汉族' }),
      });
      if (r.status === 409) continue; // the demo holds this number already
      if (!r.ok) throw new Error(`register ${name}: ${r.status} ${await r.text()}`);
      return r.json();
    }
    throw new Error('no free synthetic ID number');
  };
  const name = `走访${stamp}`;
  const phone = `139${stamp}${String(Number(stamp) % 1000).padStart(3, '0')}`;
  const person = await register(name, phone);
  const head = await register(`户主${stamp}`, null);
  const spouse = await register(`配偶${stamp}`, null);
  const hh = await call(worker, 'POST', 'households', { node: demo.grid.code, number: `E2E-${stamp}` });
  await call(worker, 'POST', `households/${hh.id}/members`, { resident_id: head.id, relation: 'head' });
  await call(worker, 'POST', `households/${hh.id}/members`, { resident_id: spouse.id, relation: 'spouse' });
  // A citizen account is linked to one record only: unlink the demo's (or an earlier run's),
  // as the administrator at the top of the tree (the record may lie in any grid).
  const admin = await apiLogin('admin');
  for (let i = 0; i < 5; i++) {
    const r = await fetch(`${BASE}/api/v1/me/household`, { headers: { authorization: `Bearer ${citizenToken}` } });
    if (!r.ok) break;
    const old = (await r.json()).resident;
    const u = await fetch(`${BASE}/api/v1/residents/${old.id}`, { method: 'PATCH', headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' }, body: JSON.stringify({ user_id: null }) });
    if (!u.ok) throw new Error(`unlinking resident ${old.id}: ${u.status} ${await u.text()}`);
  }
  await call(worker, 'PATCH', `residents/${head.id}`, { user_id: citizenMe.id });

  const phoneCtx = await context(PHONE);
  const page = await phoneCtx.newPage();
  await step('a grid worker on a phone registers a newcomer from the register (新增居民): a wrong check digit is refused in the dialog, then the card opens', async () => {
    await consoleLogin(page, demo.worker);
    await page.goto(`${BASE}/console/residents`);
    await page.locator('#res-list').waitFor();
    await page.click('#res-new');
    const dlg = page.locator('dialog.dialog[open]');
    await dlg.waitFor();
    const newName = `新居民${stamp}`;
    await dlg.locator('#new-res-name').fill(newName);
    await dlg.locator('#new-res-residence').selectOption('floating');
    await dlg.locator('#new-res-phone').fill(`137${stamp}${String(Number(stamp) % 1000).padStart(3, '0')}`);
    let good = '';
    for (let tries = 0; tries < 5; tries++) {
      good = idNumber(`${county}1976${String(1 + (Number(stamp) % 12)).padStart(2, '0')}15${String((Number(stamp) + tries * 257) % 1000).padStart(3, '0')}`);
      const bad = good.slice(0, 17) + (good[17] === '0' ? '1' : '0');
      await dlg.locator('#new-res-id_number').fill(bad);
      await dlg.locator('button[type=submit]').click();
      await dlg.locator('.form-error:not([hidden])').waitFor();
      check(await dlg.isVisible(), 'a wrong check digit keeps the dialog open with the reason');
      await dlg.locator('#new-res-id_number').fill(good);
      await dlg.locator('button[type=submit]').click();
      const outcome = await Promise.race([
        page.waitForURL(/\/console\/residents\/\d+$/).then(() => 'card', () => 'no card'),
        dlg.locator('.form-error:not([hidden])').waitFor().then(() => 'refused', () => 'no dialog'),
      ]);
      if (outcome === 'card') break;
      // The demo holds this number already (409): try another.
    }
    await page.locator('.person-card').waitFor();
    const card = await page.locator('.person-card').innerText();
    check(card.includes(newName), 'the new resident\'s card opens');
    check(!card.includes(good), 'the card shows the new ID number masked');
  });

  await step('a grid worker on a phone finds a resident by name, opens the card and reveals the phone with a purpose', async () => {
    await page.goto(`${BASE}/console/residents`);
    await page.locator('#res-list').waitFor();
    await page.fill('#res-q', name);
    await page.click('#res-search');
    const card = page.locator('.resident-card', { hasText: name });
    await card.waitFor();
    check(!(await card.innerText()).includes(phone), 'the list shows the phone masked');
    await page.screenshot({ path: path.join(SHOTS, 'people-register.png') });
    await card.click();
    await page.locator('#res-phone-value-reveal').waitFor();
    check(!(await page.locator('.person-card').innerText()).includes(phone), 'the card shows the phone masked');
    await page.click('#res-phone-value-reveal');
    const dlg = page.locator('dialog.dialog[open]');
    await dlg.waitFor();
    await dlg.locator('#reveal-purpose').fill('上门走访前电话联系');
    await dlg.locator('button[type=submit]').click();
    await dlg.waitFor({ state: 'detached' });
    await page.locator('#res-phone-value .revealed', { hasText: phone }).waitFor();
    const [sw, w] = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
    check(sw <= w + 1, `the card fits the phone (${sw}px on ${w}px)`);
    await page.screenshot({ path: path.join(SHOTS, 'people-card.png') });
    const audit = await apiGet(demo.admin, `audit?entity=resident&entity_id=${person.id}&action=resident.reveal`);
    const row = audit.items.find((a) => JSON.stringify(a.after || {}).includes('上门走访前电话联系'));
    check(row, 'the reveal is in the audit log with its purpose');
    check(!JSON.stringify(audit.items).includes(phone), 'the audit log holds no phone in plain text');
  });

  await step('a citizen opens 我的家庭 on the phone and asks the grid worker for a correction', async () => {
    const citizen = await (await context(PHONE)).newPage();
    await citizen.goto(`${BASE}/m/login?next=/m/household`);
    await citizen.fill('#p-username', 'citizen');
    await citizen.fill('#p-password', PASSWORD);
    await citizen.click('form button[type=submit]');
    await citizen.locator('#my-household').waitFor();
    const text = await citizen.locator('#my-household').innerText();
    check(text.includes(`户主${stamp}`) && text.includes(`配偶${stamp}`), 'the household shows both members');
    await citizen.selectOption('#corr-who', String(spouse.id));
    await citizen.selectOption('#corr-field', 'phone');
    await citizen.fill('#corr-value', '13711112222');
    await citizen.fill('#corr-note', '换了新号码');
    await citizen.click('#corr-send');
    await citizen.locator('#my-corrections', { hasText: '137****2222' }).waitFor();
    const [sw, w] = await citizen.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
    check(sw <= w + 1, `我的家庭 fits the phone (${sw}px on ${w}px)`);
    await citizen.screenshot({ path: path.join(SHOTS, 'people-household.png') });
    const inbox = await apiGet(worker, 'corrections?state=pending');
    check(inbox.items.some((c) => c.resident_id === spouse.id && c.field === 'phone'), 'the request is in the grid worker\'s inbox');
  });
  await phoneCtx.close();
  return { residentId: person.id };
}
