/**
 * `@azure/msal-browser`, unchanged but for its configuration (the authority on Presently's host, that host in
 * `knownAuthorities`), signs a user in by redirect in Chromium: the app's page calls `loginRedirect`, the user picks
 * an account on Presently's sign-in page, and `handleRedirectPromise` redeems the code (PKCE, cross-origin) into an
 * access token that reads the user's presence. MSAL requires an https authority: the server runs with TLS and the
 * browser context accepts its self-signed certificate.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { after, before, describe, test } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import { APP, TENANT, startInProcess, type TestServer } from '../kit/server.ts';

const LEE = '5f7c2a10-3b9e-4d1a-8e2f-6a4b9c1d2e30';

const CHROMIUM = '/usr/bin/chromium';
const MSAL = readFileSync(createRequire(import.meta.url).resolve('@azure/msal-browser').replace(/msal-browser\.cjs$/, 'msal-browser.min.js'), 'utf8');

function appPage(authority: string): string {
  return `<!doctype html><html><body><pre id="result"></pre><script src="/msal.js"></script><script type="module">
const show = (value) => { document.getElementById('result').textContent = JSON.stringify(value); };
try {
  const app = new msal.PublicClientApplication({
    auth: { clientId: ${JSON.stringify(APP)}, authority: ${JSON.stringify(authority)}, knownAuthorities: [${JSON.stringify(new URL(authority).host)}],
      redirectUri: location.origin + '/' },
  });
  await app.initialize();
  const result = await app.handleRedirectPromise();
  if (result) show({ accessToken: result.accessToken, username: result.account.username, scopes: result.scopes });
  else await app.loginRedirect({ scopes: ['Presence.ReadWrite'] });
} catch (err) {
  show({ error: String(err && err.errorCode || err), message: String(err && err.message) });
}
</script></body></html>`;
}

describe('@azure/msal-browser: loginRedirect through the sign-in page', () => {
  let server: TestServer;
  let app: Server;
  let appUrl: string;
  let browser: Browser;

  before(async () => {
    assert.ok(existsSync(CHROMIUM), `Chromium is needed at ${CHROMIUM} (Debian package chromium)`);
    server = await startInProcess({ https: true });
    const base = (await server.listen()).replace('127.0.0.1', 'localhost');
    app = createServer((req, res) => {
      if (req.url === '/msal.js') return res.writeHead(200, { 'content-type': 'text/javascript' }).end(MSAL);
      return res.writeHead(200, { 'content-type': 'text/html' }).end(appPage(`${base}/${TENANT}`));
    });
    await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
    appUrl = `http://localhost:${(app.address() as AddressInfo).port}`;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  });

  after(async () => {
    await browser?.close();
    await new Promise((resolve) => app?.close(resolve));
    await server?.close();
  });

  test('the user picks an account; MSAL returns an access token that reads /me/presence', async () => {
    const context = await browser.newContext({ ignoreHTTPSErrors: true });
    const page = await context.newPage();
    try {
      await page.goto(appUrl);
      await page.waitForURL(/\/oauth2\/v2\.0\/authorize/, { timeout: 15_000 }).catch(async () =>
        assert.fail(`no redirect to the sign-in page: ${await page.textContent('#result')}`));
      await page.getByRole('button', { name: /Lee Gu/ }).click();
      await page.waitForFunction(() => document.getElementById('result')?.textContent !== '', undefined, { timeout: 15_000 });
      const result = JSON.parse((await page.textContent('#result'))!) as { accessToken?: string; username?: string; error?: string; message?: string };
      assert.ok(result.accessToken, JSON.stringify(result));
      assert.equal(result.username, 'LeeG@contoso.example');
      const me = await server.inject({ method: 'GET', url: '/v1.0/me/presence', headers: { authorization: `Bearer ${result.accessToken}` } });
      assert.equal(me.statusCode, 200);
      assert.equal((me.json() as { id: string }).id, LEE);
    } finally {
      await context.close();
    }
  });
});
