/**
 * The sign-in page in a real browser (Debian's Chromium, driven by playwright-core): a single-page app on another
 * origin sends the user to `/{tenant}/oauth2/v2.0/authorize` with PKCE (S256), the user picks an account on the
 * sign-in page, the browser comes back to the app with a code, and the app redeems it cross-origin at the token
 * endpoint (CORS) — by hand, as any OAuth library would. The token then reads the user's presence.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import { APP, MEGAN, TENANT, startInProcess, type TestServer } from '../kit/server.ts';

const CHROMIUM = '/usr/bin/chromium';

/** The app: `/` starts the sign-in, `/callback` redeems the code and shows the result in `#result`. */
function appPage(authority: string): string {
  return `<!doctype html><html><body><pre id="result"></pre><script type="module">
const authority = ${JSON.stringify(authority)};
const clientId = ${JSON.stringify(APP)};
const redirectUri = location.origin + '/callback';
const b64url = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\\+/g, '-').replace(/\\//g, '_').replace(/=+$/, '');
if (location.pathname === '/') {
  const verifier = b64url(crypto.getRandomValues(new Uint8Array(32)));
  const challenge = b64url(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)));
  const state = b64url(crypto.getRandomValues(new Uint8Array(16)));
  sessionStorage.setItem('pkce', JSON.stringify({ verifier, state }));
  const url = new URL(authority + '/oauth2/v2.0/authorize');
  for (const [k, v] of Object.entries({ client_id: clientId, response_type: 'code', redirect_uri: redirectUri,
    scope: 'Presence.ReadWrite openid profile offline_access', state, code_challenge: challenge, code_challenge_method: 'S256',
    ...Object.fromEntries(new URLSearchParams(location.search)) })) url.searchParams.set(k, v);
  location.assign(url);
} else {
  const { verifier, state } = JSON.parse(sessionStorage.getItem('pkce'));
  const query = new URLSearchParams(location.search);
  const show = (value) => { document.getElementById('result').textContent = JSON.stringify(value); };
  if (query.get('state') !== state) show({ error: 'state mismatch' });
  else if (query.get('error')) show({ error: query.get('error'), description: query.get('error_description') });
  else {
    const res = await fetch(authority + '/oauth2/v2.0/token', { method: 'POST', body: new URLSearchParams({
      client_id: clientId, grant_type: 'authorization_code', code: query.get('code'), redirect_uri: redirectUri, code_verifier: verifier,
    }) });
    show({ status: res.status, body: await res.json() });
  }
}
</script></body></html>`;
}

describe('sign-in page in Chromium: authorization code with PKCE', () => {
  let server: TestServer;
  let app: Server;
  let appUrl: string;
  let browser: Browser;

  before(async () => {
    assert.ok(existsSync(CHROMIUM), `Chromium is needed at ${CHROMIUM} (Debian package chromium)`);
    server = await startInProcess();
    const authority = `${await server.listen()}/${TENANT}`;
    app = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(appPage(authority)));
    await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
    // `localhost` with any port is a loopback redirect URI every app has (docs/operations/auth.md#the-dev-authority).
    appUrl = `http://localhost:${(app.address() as AddressInfo).port}`;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  });

  after(async () => {
    await browser?.close();
    await new Promise((resolve) => app?.close(resolve));
    await server?.close();
  });

  async function signIn(query: string, choose: (page: import('playwright-core').Page) => Promise<void>): Promise<Record<string, unknown>> {
    const page = await browser.newPage();
    try {
      await page.goto(`${appUrl}/${query}`);
      await page.waitForURL(/\/oauth2\/v2\.0\/authorize/);
      assert.equal(await page.title(), 'Sign in to your account');
      await choose(page);
      await page.waitForURL(/\/callback/);
      await page.waitForFunction(() => document.getElementById('result')?.textContent !== '');
      return JSON.parse((await page.textContent('#result'))!) as Record<string, unknown>;
    } finally {
      await page.close();
    }
  }

  test('the user picks an account; the app redeems the code and reads /me/presence with the token', async () => {
    const result = await signIn('', (page) => page.getByRole('button', { name: /Megan Bowen/ }).click());
    assert.equal(result.status, 200, JSON.stringify(result));
    const body = result.body as { access_token: string; id_token: string; refresh_token: string; scope: string };
    assert.equal(body.scope, 'Presence.ReadWrite openid profile offline_access');
    assert.ok(body.id_token && body.refresh_token);
    const me = await server.inject({ method: 'GET', url: '/v1.0/me/presence', headers: { authorization: `Bearer ${body.access_token}` } });
    assert.equal(me.statusCode, 200);
    assert.equal((me.json() as { id: string }).id, MEGAN);
  });

  test('Cancel sends the user back with access_denied', async () => {
    const result = await signIn('', (page) => page.getByRole('button', { name: 'Cancel' }).click());
    assert.equal(result.error, 'access_denied');
    assert.match(String(result.description), /^AADSTS65004/);
  });

  test('a permission the app was not granted comes back as consent_required', async () => {
    const page = await browser.newPage();
    try {
      await page.goto(`${appUrl}/?scope=${encodeURIComponent('Presence.ReadWrite Calendars.Read')}`);
      await page.waitForURL(/\/callback/);
      await page.waitForFunction(() => document.getElementById('result')?.textContent !== '');
      const result = JSON.parse((await page.textContent('#result'))!) as Record<string, unknown>;
      assert.equal(result.error, 'consent_required');
      assert.match(String(result.description), /AADSTS65001.*Calendars\.Read/);
    } finally {
      await page.close();
    }
  });

  // Last: it gives the tenant more users than the page lists, so Megan may no longer be among them.
  test('past 500 users the page finds an account by user name, and that account signs in', async () => {
    const value = Array.from({ length: 600 }, (_, i) => ({ userPrincipalName: `person${i}@big.example`, displayName: `Person ${i}` }));
    const added = await server.inject({ method: 'POST', url: `/_presently/tenants/${TENANT}/users/bulk`, headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ value }) });
    const ids = (added.json() as { ids: string[] }).ids;
    const result = await signIn('', async (page) => {
      assert.match((await page.textContent('main'))!, /500 of \d+ accounts are listed/);
      await page.getByRole('textbox', { name: 'User name' }).fill('Person599@big.example');
      await page.getByRole('button', { name: 'Find', exact: true }).click();
      await page.waitForURL(/login_hint=Person599/);
      await page.getByRole('button', { name: /person599@big\.example/ }).click();
    });
    assert.equal(result.status, 200, JSON.stringify(result));
    const me = await server.inject({ method: 'GET', url: '/v1.0/me/presence', headers: { authorization: `Bearer ${(result.body as { access_token: string }).access_token}` } });
    assert.equal((me.json() as { id: string }).id, ids[599]);
  });
});
