/**
 * The dashboard outside dev mode in Chromium (issue 12, [P: d-dashboard-access]): the page itself loads without a
 * key (it holds no data), then asks for the admin key; a wrong key is refused and not kept; the right one opens the
 * board, is kept for the tab (sessionStorage) and sent as `Authorization: Bearer` on every data request, the stream
 * included. Presently issues no tokens there: the controls ask for one to be pasted.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Request } from 'playwright-core';
import { expectCount, expectText, live, startDashboard, type DashboardRig } from '../kit/dashboard.ts';

const ADMIN_KEY = 'dashboard-admin-key-0123456789abcdef';

describe('dashboard in Chromium outside dev mode: the admin key', () => {
  let rig: DashboardRig;
  before(async () => {
    // --auth oidc with an issuer nobody answers at: the admin API and the dashboard do not depend on it.
    rig = await startDashboard({ auth: 'oidc', issuers: ['http://127.0.0.1:1/tenant'], adminKey: ADMIN_KEY });
  });
  after(async () => {
    assert.deepEqual(rig?.errors ?? [], [], 'the pages threw no error');
    await rig?.close();
  });

  it('asks for the key, refuses a wrong one, opens with the right one and sends it on every data request', async () => {
    const page = await rig.open('/board');
    const requests: Request[] = [];
    page.on('request', (r) => requests.push(r));
    const keyField = page.getByLabel('Admin key');
    await keyField.waitFor();
    assert.equal(await page.getByRole('article').count(), 0, 'no data before the key');

    await keyField.fill('not-the-admin-key-at-all');
    await page.getByRole('button', { name: 'Open the dashboard' }).click();
    await expectText(page.getByRole('alert'), /That key was not accepted/);
    assert.equal(await page.evaluate(() => sessionStorage.length), 0, 'a refused key is not kept');

    await keyField.fill(ADMIN_KEY);
    await page.getByRole('button', { name: 'Open the dashboard' }).click();
    await expectCount(page.getByRole('article'), 5);
    await live(page);
    const data = requests.filter((r) => /\/_presently\/ui\/api\/(board|stream)/.test(r.url()));
    assert.ok(data.some((r) => r.url().includes('/stream')), 'the stream was requested');
    for (const r of data) assert.equal(r.headers().authorization, `Bearer ${ADMIN_KEY}`, r.url());
  });

  it('keeps the key for the tab: a reload opens the board without asking again', async () => {
    const page = await rig.open('/board');
    await page.getByLabel('Admin key').fill(ADMIN_KEY);
    await page.getByRole('button', { name: 'Open the dashboard' }).click();
    await expectCount(page.getByRole('article'), 5);
    await page.reload();
    await expectCount(page.getByRole('article'), 5);
    assert.equal(await page.getByLabel('Admin key').count(), 0);
  });

  it('a kept key the server no longer accepts (restarted with another) is asked for again', async () => {
    const page = await rig.open();
    await page.evaluate(() => sessionStorage.setItem('presently.adminKey', 'an-old-admin-key-0123456789'));
    await page.reload();
    await expectText(page.getByRole('alert'), /That key was not accepted/);
    await page.getByLabel('Admin key').fill(ADMIN_KEY);
    await page.getByRole('button', { name: 'Open the dashboard' }).click();
    await expectCount(page.getByRole('article'), 5);
  });

  it('the page and its assets load without a key; the data endpoints refuse one without it', async () => {
    for (const path of ['/_presently/ui', '/_presently/ui/']) assert.equal((await fetch(`${rig.origin}${path}`)).status, 200, path);
    const html = await (await fetch(`${rig.origin}/_presently/ui`)).text();
    for (const asset of html.match(/\/_presently\/ui\/assets\/app\.(js|css)\?v=\w+/g) ?? []) {
      assert.equal((await fetch(`${rig.origin}${asset}`)).status, 200, asset);
    }
    assert.equal((await fetch(`${rig.origin}/_presently/ui/api/board?tenant=2b5f4ac6-0f43-4b31-8a3c-2d8b8e4f5c01`)).status, 401);
  });

  it('the controls ask for a token to paste, since Presently issues none outside dev mode', async () => {
    const page = await rig.open('/controls');
    await page.getByLabel('Admin key').fill(ADMIN_KEY);
    await page.getByRole('button', { name: 'Open the dashboard' }).click();
    await expectText(page.getByRole('region', { name: 'Token' }), /issues no token: paste one/);
    assert.equal(await page.getByLabel('Bearer token').count(), 1);
  });
});
