/**
 * The dashboard's controls in Chromium (issue 12): each form sends the request a user of the Graph API would — the
 * same method, path, headers and body, with a token minted for the chosen user or app — and the presence changes
 * accordingly; the curl command shown is that request; a token is minted and copied; the clock moves to an instant.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page, Request } from 'playwright-core';
import { bearer, readPresence } from '../kit/graph.ts';
import { APP } from '../kit/server.ts';
import { expectText, startDashboard, type DashboardRig } from '../kit/dashboard.ts';

const LEE = '5f7c2a10-3b9e-4d1a-8e2f-6a4b9c1d2e30';
const NESTOR = 'c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e5f';

/** The claims of a JWT (unchecked). */
const claims = (token: string) => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;

/** The request the page sends to a URL ending with `pathEnd` when `act` runs. */
async function sent(page: Page, pathEnd: string, act: () => Promise<void>): Promise<Request> {
  const [request] = await Promise.all([page.waitForRequest((r) => new URL(r.url()).pathname.endsWith(pathEnd)), act()]);
  await request.response();
  return request;
}

function assertGraphCall(request: Request, path: string, body: unknown): string {
  assert.equal(request.method(), 'POST');
  assert.equal(new URL(request.url()).pathname, path);
  const headers = request.headers();
  assert.equal(headers['content-type'], 'application/json');
  assert.match(headers.authorization ?? '', /^Bearer [\w-]+\.[\w-]+\.[\w-]+$/);
  assert.deepEqual(JSON.parse(request.postData() ?? 'null'), body);
  return headers.authorization!.slice('Bearer '.length);
}

describe('dashboard in Chromium: the controls call the Graph API as a user would', () => {
  let rig: DashboardRig;
  let page: Page;
  before(async () => {
    rig = await startDashboard();
    page = await rig.open(`/controls?user=${LEE}`);
    await expectText(page.getByRole('heading', { name: 'Status message' }), /Status message/);
  });
  after(async () => {
    assert.deepEqual(rig?.errors ?? [], [], 'the pages threw no error');
    await rig?.close();
  });

  const read = async (userId: string) => readPresence(rig.server, `/v1.0/users/${userId}/presence`, await rig.server.appToken(['Presence.Read.All']));
  const panel = (name: string) => page.getByRole('region', { name });

  it('Status message: setStatusMessage for the user, with the user\'s token; the curl shown is the same request', async () => {
    const form = panel('Status message');
    await form.getByLabel('Message').fill('Heads down until 3');
    await form.getByLabel('Expires').uncheck();
    const body = { statusMessage: { message: { content: 'Heads down until 3', contentType: 'text' } } };
    const path = `/v1.0/users/${LEE}/presence/setStatusMessage`;
    const request = await sent(page, '/setStatusMessage', () => form.getByRole('button', { name: 'Set status message' }).click());
    const token = assertGraphCall(request, path, body);
    assert.equal(claims(token).oid, LEE, 'a delegated token of the chosen user');
    await expectText(form, /HTTP 200/);
    assert.equal((await read(LEE)).statusMessage?.message.content, 'Heads down until 3');
    const curl = await form.locator('.curl pre').innerText();
    assert.ok(curl.includes(`curl -s -X POST ${rig.origin}${path}`), curl);
    assert.ok(curl.includes(`-d '${JSON.stringify(body)}'`), curl);
    assert.ok(curl.includes(`TOKEN=$(curl -s -X POST ${rig.origin}/_presently/tokens`), curl);
  });

  it('Status message with an expiry: the wall time and the zone chosen', async () => {
    const form = panel('Status message');
    await form.getByLabel('Message').fill('Back tomorrow');
    await form.getByLabel('Expires').check();
    await form.getByLabel('At (wall time in the zone)').fill('2026-11-29T09:30');
    await form.getByLabel('Time zone').fill('Pacific Standard Time');
    const request = await sent(page, '/setStatusMessage', () => form.getByRole('button', { name: 'Set status message' }).click());
    assertGraphCall(request, `/v1.0/users/${LEE}/presence/setStatusMessage`, {
      statusMessage: { message: { content: 'Back tomorrow', contentType: 'text' }, expiryDateTime: { dateTime: '2026-11-29T09:30:00', timeZone: 'Pacific Standard Time' } },
    });
    assert.equal((await read(LEE)).statusMessage?.message.content, 'Back tomorrow');
  });

  it('Presence session: setPresence with an application token of the app, whose id is the session id', async () => {
    const form = panel('Presence session');
    await form.getByLabel('Availability / activity').selectOption('Busy/InACall');
    await form.getByLabel('Expires after').selectOption('PT1H');
    const request = await sent(page, '/setPresence', () => form.getByRole('button', { name: 'Set presence' }).click());
    const token = assertGraphCall(request, `/v1.0/users/${LEE}/presence/setPresence`, {
      sessionId: APP, availability: 'Busy', activity: 'InACall', expirationDuration: 'PT1H',
    });
    assert.equal(claims(token).appid, APP);
    assert.deepEqual(claims(token).roles, ['Presence.ReadWrite.All']);
    const presence = await read(LEE);
    assert.deepEqual([presence.availability, presence.activity], ['Busy', 'InACall']);
  });

  it('Preferred presence: setUserPreferredPresence as the user, then clearUserPreferredPresence', async () => {
    const form = panel('Preferred presence');
    await form.getByLabel('Availability / activity').selectOption('DoNotDisturb/DoNotDisturb');
    const request = await sent(page, '/setUserPreferredPresence', () => form.getByRole('button', { name: 'Set preferred presence' }).click());
    assert.equal(claims(assertGraphCall(request, `/v1.0/users/${LEE}/presence/setUserPreferredPresence`, { availability: 'DoNotDisturb', activity: 'DoNotDisturb' })).oid, LEE);
    assert.equal((await read(LEE)).availability, 'DoNotDisturb');
    const clear = await sent(page, '/clearUserPreferredPresence', () => form.getByRole('button', { name: 'Clear' }).click());
    assertGraphCall(clear, `/v1.0/users/${LEE}/presence/clearUserPreferredPresence`, {});
    assert.equal((await read(LEE)).availability, 'Busy');
  });

  it('the user chosen in a form is kept in the address, and each form uses it', async () => {
    await panel('Status message').getByLabel('User').selectOption(NESTOR);
    await page.waitForURL(new RegExp(`user=${NESTOR}`));
    assert.equal(await panel('Preferred presence').getByLabel('User').inputValue(), NESTOR);
  });

  it('Token: mints a token for the user and shows it with its claims', async () => {
    const form = panel('Token');
    await form.getByLabel('Scopes').fill('Presence.Read');
    const request = await sent(page, '/_presently/tokens', () => form.getByRole('button', { name: 'Mint token' }).click());
    assert.deepEqual(JSON.parse(request.postData() ?? ''), { userId: NESTOR, scopes: ['Presence.Read'] });
    const token = await form.getByLabel('Access token').inputValue();
    assert.equal(claims(token).oid, NESTOR);
    assert.equal(claims(token).scp, 'Presence.Read');
    const res = await fetch(`${rig.origin}/v1.0/me/presence`, { headers: bearer(token) });
    assert.equal(res.status, 200, 'the token works');
    await expectText(form.getByRole('button', { name: /Copy token/ }), /Copy token/);
  });

  it('Clock: moves the manual clock to an instant given in the viewer\'s time zone', async () => {
    const form = panel('Clock');
    await form.getByLabel('Move to (your time)').fill('2026-12-01T10:15');
    const request = await sent(page, '/_presently/clock', () => form.getByRole('button', { name: 'Move the clock', exact: true }).click());
    const expected = await page.evaluate(() => new Date('2026-12-01T10:15').toISOString());
    assert.deepEqual(JSON.parse(request.postData() ?? ''), { now: expected });
    const clock = await (await fetch(`${rig.origin}/_presently/clock`)).json() as { now: string };
    assert.equal(Date.parse(clock.now), Date.parse(expected));
  });
});
