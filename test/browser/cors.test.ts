/**
 * Browsers (docs/api/cors.md): a page served from another origin calls Presently with fetch — a GET with a token, a
 * POST setStatusMessage (a preflighted request), reading an exposed header and an error — and the Graph JavaScript
 * client's browser bundle, loaded in the page, shows a status the test set through the API. Real Chromium (Debian's
 * /usr/bin/chromium) driven by playwright-core; Presently under --https, so the browser speaks HTTP/2 to it.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { ADELE, startInProcess, type TestServer } from '../kit/server.ts';
import { message, readPresence, setStatusOk } from '../kit/graph.ts';

const CHROMIUM = '/usr/bin/chromium';
const SDK_BUNDLE = new URL('../../node_modules/@microsoft/microsoft-graph-client/lib/graph-js-sdk.js', import.meta.url);

const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>Presence</title><script src="/graph-js-sdk.js"></script></head>
<body><p id="status">loading</p></body></html>`;

/** The page's own origin: a tiny server for the page and the SDK bundle. */
function pageServer(): Promise<{ server: Server; url: string }> {
  const bundle = readFileSync(SDK_BUNDLE);
  const server = createServer((req, res) => {
    if (req.url === '/graph-js-sdk.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' }).end(bundle);
    } else {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE);
    }
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => {
    resolve({ server, url: `http://localhost:${(server.address() as AddressInfo).port}/` });
  }));
}

describe('a browser page on another origin', () => {
  let s: TestServer;
  let api: string;
  let token: string;
  let site: { server: Server; url: string };
  let browser: Browser;
  let page: Page;
  /** [url, protocol] of every response the page received, as Chromium's DevTools protocol reports them. */
  const protocols: Array<[string, string]> = [];

  before(async () => {
    assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: install Debian's chromium package (apt-get install chromium)`);
    s = await startInProcess({ https: true });
    api = await s.listen();
    token = await s.userToken(ADELE);
    site = await pageServer();
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    const context = await browser.newContext({ ignoreHTTPSErrors: true });
    page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    cdp.on('Network.responseReceived', (e) => { protocols.push([e.response.url, e.response.protocol ?? '']); });
    await cdp.send('Network.enable');
    await page.goto(site.url);
  });
  after(async () => {
    await browser?.close();
    await new Promise((resolve) => site?.server.close(resolve));
    await s?.close();
  });

  it('reads a presence with fetch and a token, and reads the exposed request-id (not the unexposed diagnostics)', async () => {
    await setStatusOk(s, ADELE, token, message('Set through the API'));
    const got = await page.evaluate(async ({ api, token }) => {
      const res = await fetch(`${api}/v1.0/me/presence`, { headers: { Authorization: `Bearer ${token}`, 'client-request-id': 'from-the-page' } });
      const body = await res.json() as { statusMessage: { message: { content: string } } };
      return {
        status: res.status, content: body.statusMessage.message.content, requestId: res.headers.get('request-id'),
        clientRequestId: res.headers.get('client-request-id'), diagnostic: res.headers.get('x-ms-ags-diagnostic'),
        cacheControl: res.headers.get('cache-control'),
      };
    }, { api, token });
    assert.equal(got.status, 200);
    assert.equal(got.content, 'Set through the API');
    assert.match(got.requestId ?? '', /^[0-9a-f-]{36}$/);
    assert.equal(got.clientRequestId, 'from-the-page');
    assert.equal(got.cacheControl, 'no-cache');
    assert.equal(got.diagnostic, null, 'Graph does not expose x-ms-ags-diagnostic to pages');
  });

  it('POSTs setStatusMessage with JSON (a preflighted request) and the change is what the API then reads', async () => {
    const status = await page.evaluate(async ({ api, token }) => {
      const res = await fetch(`${api}/v1.0/me/presence/setStatusMessage`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', Prefer: 'return=minimal', ConsistencyLevel: 'eventual' },
        body: JSON.stringify({ statusMessage: { message: { content: 'Set from the browser', contentType: 'text' } } }),
      });
      return res.status;
    }, { api, token });
    assert.equal(status, 200);
    const p = await readPresence(s, '/v1.0/me/presence', token);
    assert.equal(p.statusMessage?.message.content, 'Set from the browser');
  });

  it('reads an error: status, Graph body and the WWW-Authenticate challenge of a 401', async () => {
    const got = await page.evaluate(async ({ api }) => {
      const res = await fetch(`${api}/v1.0/me/presence`);
      const body = await res.json() as { error: { code: string } };
      return { status: res.status, code: body.error.code, challenge: res.headers.get('www-authenticate') };
    }, { api });
    assert.deepEqual([got.status, got.code], [401, 'InvalidAuthenticationToken']);
    // Dev mode: the challenge names Presently's own authority, on the address the page called [P: d-dev-challenge].
    assert.equal(got.challenge, `Bearer realm="", authorization_uri="${api}/common/oauth2/v2.0/authorize", client_id="00000003-0000-0000-c000-000000000000"`);
  });

  it('the Graph JavaScript client in the page shows the status the test set through the API', async () => {
    await setStatusOk(s, ADELE, token, message('Back at 3 — ask me anything'));
    // As page script text: tsx would wrap a function's inner callbacks in a helper the page does not have.
    await page.evaluate(`(async () => {
      const client = MicrosoftGraph.Client.init({
        baseUrl: ${JSON.stringify(`${api}/`)},
        customHosts: new Set([${JSON.stringify(new URL(api).hostname)}]),
        authProvider: (done) => done(null, ${JSON.stringify(token)}),
      });
      const presence = await client.api('/me/presence').get();
      document.getElementById('status').textContent = presence.availability + ': ' + presence.statusMessage.message.content;
    })()`);
    assert.equal(await page.textContent('#status'), 'PresenceUnknown: Back at 3 — ask me anything');
    // The browser's own record of the protocol: Presently answered it over HTTP/2.
    const toPresently = protocols.filter(([url]) => url.startsWith(`${api}/v1.0/`)).map(([, protocol]) => protocol);
    assert.ok(toPresently.length >= 4, `responses seen: ${toPresently.length}`);
    assert.deepEqual([...new Set(toPresently)], ['h2']);
  });

  it('a credentialed request (cookies) is refused: Graph\'s wildcard origin is for bearer tokens only', async () => {
    const status = await page.evaluate(async ({ api }) => (await fetch(`${api}/v1.0/me/presence`, { credentials: 'include' }).then((r) => r.status, () => 'blocked')), { api });
    assert.equal(status, 'blocked', 'a credentialed request to a wildcard origin is refused by the browser');
  });
});
