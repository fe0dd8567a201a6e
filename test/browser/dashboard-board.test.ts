/**
 * The dashboard's board and timeline in Chromium (issue 12): every user of the tenant as a card; a status set
 * through the Graph API is on the board within 1 s, over the page's stream; moving the manual clock with the page's
 * own control past the message's expiry removes it and adds "Status message expired" to the user's timeline; search
 * and filter; the keyboard reaches every control, with a visible focus; light and dark themes.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { message, setStatusOk } from '../kit/graph.ts';
import { ADELE, MEGAN } from '../kit/server.ts';
import { card, expectCount, expectText, live, startDashboard, textOf, type DashboardRig } from '../kit/dashboard.ts';

const DEMO_USERS = ['Adele Vance', 'Alex Wilber', 'Lee Gu', 'Megan Bowen', 'Nestor Wilke'];

describe('dashboard in Chromium: the board and a user\'s timeline', () => {
  let rig: DashboardRig;
  before(async () => {
    rig = await startDashboard();
  });
  after(async () => {
    assert.deepEqual(rig?.errors ?? [], [], 'the pages threw no error');
    await rig?.close();
  });

  it('shows every user of the demo tenant as a card, sorted by name, with the count', async () => {
    const page = await rig.open('/board');
    await expectCount(page.getByRole('article'), DEMO_USERS.length);
    assert.deepEqual(await page.getByRole('article').evaluateAll((els) => els.map((e) => e.getAttribute('aria-label'))), DEMO_USERS);
    await expectText(page.getByRole('search'), /5 users/);
    await expectText(card(page, 'Adele Vance'), /AdeleV@contoso\.example[\s\S]*Unknown[\s\S]*No status message/);
  });

  it('a status message set through the Graph API is on the board within 1 s', async () => {
    const page = await rig.open('/board');
    await expectCount(page.getByRole('article'), DEMO_USERS.length);
    await live(page);
    await setStatusOk(rig.server, MEGAN, await rig.server.userToken(MEGAN), message('Presenting the Q3 roadmap'));
    await expectText(card(page, 'Megan Bowen'), /Presenting the Q3 roadmap/, { ms: 1000, what: "Megan's card shows the new message within 1 s" });
  });

  it('moving the clock with the page\'s own control past the expiry removes the message and adds a timeline entry', async () => {
    const token = await rig.server.userToken(ADELE);
    const now = (await (await fetch(`${rig.origin}/_presently/clock`)).json() as { now: string }).now;
    const expiry = new Date(Date.parse(now) + 30 * 60_000).toISOString().slice(0, 19);
    await setStatusOk(rig.server, ADELE, token, message('Out for lunch', { dateTime: expiry, timeZone: 'UTC' }));
    const page = await rig.open(`/users/${ADELE}`);
    const entries = page.getByRole('list', { name: 'Changes, newest first' }).getByRole('listitem');
    await expectText(entries.first(), /setStatusMessage by Adele Vance \(app 2255…\)[\s\S]*Out for lunch/);
    await expectText(page.locator('.timeline-head'), /Out for lunch[\s\S]*expires/);
    await live(page);
    const before = await entries.count();

    await page.getByRole('button', { name: 'Move the clock forward 1 h' }).click();
    await expectText(entries.first(), /Status message expired/);
    assert.equal(await entries.count(), before + 1);
    await expectText(page.locator('.timeline-head'), /No status message/);
    await page.getByRole('link', { name: 'Board' }).first().click();
    await expectText(card(page, 'Adele Vance'), /No status message/);
  });

  it('search by name or UPN and the availability filter narrow the board', async () => {
    const page = await rig.open('/board');
    await expectCount(page.getByRole('article'), DEMO_USERS.length);
    await page.getByRole('searchbox', { name: /Search users/ }).fill('meganb@');
    await expectCount(page.getByRole('article'), 1);
    await expectText(page.getByRole('article'), /Megan Bowen/);
    await page.getByRole('searchbox', { name: /Search users/ }).fill('');
    await page.getByRole('button', { name: /^Available/ }).click();
    await expectText(page.locator('.placeholder'), /No user matches/);
    await page.getByRole('button', { name: /^Unknown/ }).click();
    await expectCount(page.getByRole('article'), DEMO_USERS.length);
    assert.equal(await page.getByRole('button', { name: /^Unknown/ }).getAttribute('aria-pressed'), 'true');
  });

  it('the keyboard reaches the views, the clock, the search, the filters and the cards, with a visible focus', async () => {
    const page = await rig.open('/board');
    await expectCount(page.getByRole('article'), DEMO_USERS.length);
    const reached: string[] = [];
    for (let i = 0; i < 30; i++) {
      await page.keyboard.press('Tab');
      const focused = await page.evaluate(() => {
        const el = document.activeElement as HTMLElement | null;
        if (!el || el === document.body) return null;
        const style = getComputedStyle(el);
        return { name: el.getAttribute('aria-label') ?? el.textContent?.trim().slice(0, 40) ?? '', outline: style.outlineStyle, role: el.getAttribute('role') };
      });
      if (!focused) break;
      assert.notEqual(focused.outline, 'none', `a visible focus on "${focused.name}"`);
      reached.push(focused.role === 'listitem' ? 'card' : focused.name);
    }
    for (const name of ['Skip to content', 'Board', 'Notifications', 'Controls', 'Move the clock forward 5 min', 'Dark theme', 'card']) {
      assert.ok(reached.some((r) => r.startsWith(name)), `Tab reaches "${name}": ${reached.join(' | ')}`);
    }
  });

  it('arrow keys move between cards, / focuses the search, Enter opens the user\'s timeline', async () => {
    const page = await rig.open('/board');
    await expectCount(page.getByRole('article'), DEMO_USERS.length);
    await page.getByRole('list', { name: 'Users' }).getByRole('listitem').first().focus();
    await page.keyboard.press('End');
    assert.match(await textOf(page.locator(':focus')), /Nestor Wilke/);
    await page.keyboard.press('Home');
    await page.keyboard.press('ArrowRight');
    assert.match(await textOf(page.locator(':focus')), /Alex Wilber/);
    await page.keyboard.press('/');
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('type')), 'search', '/ focuses the search');
    await page.getByRole('list', { name: 'Users' }).getByRole('listitem').nth(1).focus();
    await page.keyboard.press('Enter');
    await page.waitForURL(/#\/users\/66825e03-7ef5-42da-9069-724602c31f6b$/);
    await expectText(page.getByRole('heading', { level: 1 }), /Alex Wilber/);
  });

  it('with several tenants, the picker switches the board (and its stream) to the chosen one', async () => {
    const fabrikam = 'f0a1b2c3-d4e5-4f60-8a7b-9c0d1e2f3a4b';
    const post = (url: string, payload: object) => rig.server.inject({ method: 'POST', url, payload });
    assert.equal((await post('/_presently/tenants', { id: fabrikam, displayName: 'Fabrikam' })).statusCode, 201);
    const created = await post(`/_presently/tenants/${fabrikam}/users`, { userPrincipalName: 'RaulR@fabrikam.example', displayName: 'Raul Razo' });
    assert.equal(created.statusCode, 201);
    const page = await rig.open('/board');
    await expectCount(page.getByRole('article'), DEMO_USERS.length);
    await page.getByRole('combobox', { name: 'Tenant' }).selectOption({ label: 'Fabrikam' });
    await expectCount(page.getByRole('article'), 1);
    await expectText(card(page, 'Raul Razo'), /RaulR@fabrikam\.example/);
    await live(page);
    const raul = (created.json() as { id: string }).id;
    await setStatusOk(rig.server, raul, await rig.server.userToken(raul), message('Fabrikam all-hands'));
    await expectText(card(page, 'Raul Razo'), /Fabrikam all-hands/);
  });

  it('follows the system theme, and the toggle switches between light and dark', async () => {
    const dark = await rig.open('/board', { colorScheme: 'dark' });
    const light = await rig.open('/board', { colorScheme: 'light' });
    const background = (page: typeof dark) => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    await expectCount(dark.getByRole('article'), DEMO_USERS.length);
    await expectCount(light.getByRole('article'), DEMO_USERS.length);
    assert.notEqual(await background(dark), await background(light));
    const toggle = light.getByRole('button', { name: 'Dark theme' });
    assert.equal(await toggle.getAttribute('aria-pressed'), 'false');
    await toggle.click();
    assert.equal(await toggle.getAttribute('aria-pressed'), 'true');
    assert.equal(await background(light), await background(dark));
  });
});
