/**
 * The admin API's boundary: its paths match exactly (a proxy rule that blocks `/_presently/` cannot be bypassed by
 * another spelling, in any auth mode); outside dev auth mode every admin route but health, readiness, /metrics and
 * the sink's webhook POST needs the admin key, is off without one, and the token endpoint tells nobody which users
 * exist; dev auth mode on a network address is warned about, or refused.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import type { Config } from '../../src/config/config.ts';
import { toConfig } from '../../src/cli/options.ts';
import { ADELE, APP, TENANT, startInProcess, type TestServer } from '../kit/server.ts';
import { assertGraphError, bearer } from '../kit/graph.ts';
import { forEachBackend } from '../kit/backends.ts';

const START = Date.parse('2026-11-28T08:00:00Z');
const ADMIN_KEY = 'test-admin-key-0123456789abcdef';
/** `--auth oidc` with an issuer nobody answers at (port 1 refuses at once): the admin API does not depend on it. */
const OIDC_NOWHERE: Partial<Config> = { auth: 'oidc', issuers: ['http://127.0.0.1:1/tenant'] };

/** Spellings of `/_presently/…` the router would match (case-insensitive, percent-decoded) but a prefix rule would not. */
const VARIANTS = [
  '/_PRESENTLY/{rest}', '/_Presently/{rest}', '/%5Fpresently/{rest}', '/%5fPRESENTLY/{rest}', '/_%70resently/{rest}',
  '/%5F%70%72%65%73%65%6E%74%6C%79/{rest}', '/_presently%2F{rest}', '/_presentlY/{rest}',
];
const spell = (variant: string, rest: string) => variant.replace('{rest}', rest);

forEachBackend(['memory', 'redis'], (backend) => {
  describe('admin paths match exactly (dev mode)', () => {
    let s: TestServer;
    before(async () => {
      s = await startInProcess({ store: backend, clock: 'manual' }, { manualStart: START });
    });
    after(() => s?.close());

    it('no variant of /_presently/tokens mints a token: each is the Graph 404 of an unknown path', async () => {
      for (const variant of VARIANTS) {
        const url = spell(variant, 'tokens');
        const res = await s.inject({ method: 'POST', url, payload: { userId: ADELE } });
        const body = assertGraphError(res, 404, 'ResourceNotFound', /No resource exists at POST/);
        assert.ok(!res.body.includes('access_token'), `${url}: ${body.error.message}`);
      }
      // The exact path still works.
      const ok = await s.inject({ method: 'POST', url: '/_presently/tokens', payload: { userId: ADELE } });
      assert.equal(ok.statusCode, 200, ok.body);
    });

    it('nor do variants reach the clock, the users API or the sink: nothing changes', async () => {
      for (const variant of VARIANTS) {
        assertGraphError(await s.inject({ method: 'POST', url: spell(variant, 'clock'), payload: { advance: 'P1D' } }), 404, 'ResourceNotFound');
        assertGraphError(await s.inject({
          method: 'POST', url: spell(variant, `tenants/${TENANT}/users`), payload: { userPrincipalName: 'mallory@contoso.example' },
        }), 404, 'ResourceNotFound');
        assertGraphError(await s.inject({ method: 'POST', url: spell(variant, 'sink/x'), payload: { a: 1 } }), 404, 'ResourceNotFound');
        assertGraphError(await s.inject({
          method: 'POST', url: spell(variant, `tenants/${TENANT}/users/bulk`), payload: { value: [{ userPrincipalName: 'mallory@contoso.example' }] },
        }), 404, 'ResourceNotFound');
        assertGraphError(await s.inject({ method: 'GET', url: spell(variant, 'health') }), 404, 'ResourceNotFound');
      }
      const clock = (await s.inject({ method: 'GET', url: '/_presently/clock' })).json() as { now: string };
      assert.equal(Date.parse(clock.now), START, 'the clock did not move');
      const users = (await s.inject({ method: 'GET', url: `/_presently/tenants/${TENANT}/users` })).json() as { value: Array<{ userPrincipalName: string }> };
      assert.ok(!users.value.some((u) => u.userPrincipalName === 'mallory@contoso.example'), 'no user was created');
      const sink = (await s.inject({ method: 'GET', url: '/_presently/sink/x' })).json() as { value: unknown[] };
      assert.deepEqual(sink.value, [], 'the sink recorded nothing');
    });

    it('over a real socket too, where the request line is exactly what the client sent', async () => {
      const base = new URL(await s.presently.listen());
      const send = (path: string) => new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = httpRequest({ host: base.hostname, port: base.port, method: 'POST', path, headers: { 'content-type': 'application/json' } }, (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => { body += chunk; });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        });
        req.on('error', reject);
        req.end(JSON.stringify({ userId: ADELE }));
      });
      for (const variant of VARIANTS) {
        const res = await send(spell(variant, 'tokens'));
        assert.equal(res.status, 404, `${spell(variant, 'tokens')}: ${res.body}`);
        assert.equal((JSON.parse(res.body) as { error: { code: string } }).error.code, 'ResourceNotFound');
      }
      assert.equal((await send('/_presently/tokens')).status, 200);
    });

    it('Graph paths stay case-insensitive', async () => {
      const token = await s.userToken(ADELE);
      const res = await s.inject({ method: 'GET', url: '/V1.0/ME/PRESENCE', headers: bearer(token) });
      assert.equal(res.statusCode, 200, res.body);
    });
  });

  describe('outside dev auth mode: the admin key guards the admin API', () => {
    let s: TestServer;
    const key = { authorization: `Bearer ${ADMIN_KEY}` };
    const clockNow = async () =>
      Date.parse(((await s.inject({ method: 'GET', url: '/_presently/clock', headers: key })).json() as { now: string }).now);

    before(async () => {
      s = await startInProcess({ store: backend, clock: 'manual', ...OIDC_NOWHERE, adminKey: ADMIN_KEY }, { manualStart: START });
    });
    after(() => s?.close());

    it('moving the manual clock needs the admin key: 401 without it or with another; the clock stays', async () => {
      for (const headers of [{}, { authorization: 'Bearer not-the-admin-key-at-all' }, { authorization: ADMIN_KEY },
        { authorization: `Bearer ${ADMIN_KEY}x` }, bearer(await s.presently.issuer.sign({ roles: ['Presently.Admin'] }))]) {
        const res = await s.inject({ method: 'POST', url: '/_presently/clock', headers, payload: { advance: 'P36500D' } });
        assertGraphError(res, 401, 'InvalidAuthenticationToken', /Authorization: Bearer <admin key>/);
      }
      assertGraphError(await s.inject({ method: 'GET', url: '/_presently/clock' }), 401, 'InvalidAuthenticationToken');
      assert.equal(await clockNow(), START, 'the clock did not move');

      const moved = await s.inject({ method: 'POST', url: '/_presently/clock', headers: key, payload: { advance: 'PT10M' } });
      assert.equal(moved.statusCode, 200, moved.body);
      assert.equal(await clockNow(), START + 10 * 60_000);
    });

    it('the users API, app revocation, deliveries, the sink log and info need it too; a refused request creates nothing', async () => {
      const users = `/_presently/tenants/${TENANT}/users`;
      assertGraphError(await s.inject({ method: 'POST', url: users, payload: { userPrincipalName: 'eve@contoso.example' } }), 401, 'InvalidAuthenticationToken');
      for (const [method, url] of [['GET', users], ['DELETE', `${users}/${ADELE}`], ['DELETE', `/_presently/tenants/${TENANT}/apps/${APP}/access`],
        ['GET', '/_presently/deliveries'], ['GET', '/_presently/sink/x'], ['DELETE', '/_presently/sink/x'], ['GET', '/_presently/info']] as const) {
        assertGraphError(await s.inject({ method, url }), 401, 'InvalidAuthenticationToken');
      }
      const list = await s.inject({ method: 'GET', url: users, headers: key });
      assert.equal(list.statusCode, 200, list.body);
      const upns = (list.json() as { value: Array<{ userPrincipalName: string }> }).value.map((u) => u.userPrincipalName);
      assert.ok(upns.includes('AdeleV@contoso.example') && !upns.includes('eve@contoso.example'));
      const info = await s.inject({ method: 'GET', url: '/_presently/info', headers: key });
      assert.equal(info.statusCode, 200, info.body);
      assert.equal((info.json() as { auth: string }).auth, 'oidc');
    });

    it('the token endpoint does not exist: the same 404 for a known and an unknown user, key or not', async () => {
      const answers = [];
      for (const userId of [ADELE, 'AdeleV@contoso.example', '00000000-0000-4000-8000-000000000000', 'nobody@contoso.example', '']) {
        for (const headers of [{}, key]) {
          const res = await s.inject({ method: 'POST', url: '/_presently/tokens', headers, payload: { userId } });
          answers.push(assertGraphError(res, 404, 'ResourceNotFound').error.message);
        }
      }
      assert.equal(new Set(answers).size, 1, `one answer for all: ${answers.join(' | ')}`);
      assert.ok(!answers[0]!.includes('No user'));
    });

    it('exact paths hold in this mode as well, even with the admin key', async () => {
      for (const variant of VARIANTS) {
        const res = await s.inject({ method: 'POST', url: spell(variant, 'clock'), headers: key, payload: { advance: 'PT1M' } });
        assertGraphError(res, 404, 'ResourceNotFound');
      }
      assert.equal(await clockNow(), START + 10 * 60_000);
    });

    it('health, readiness, /metrics and the public keys stay open, and a webhook can still POST to the sink', async () => {
      assert.equal((await s.inject({ method: 'GET', url: '/_presently/health' })).statusCode, 200);
      // Receivers verify the validation tokens of rich notifications with these keys, in every mode.
      assert.equal((await s.inject({ method: 'GET', url: '/_presently/keys' })).statusCode, 200);
      // Open, and honest: the issuer of this server cannot be reached, so it is not ready.
      assertGraphError(await s.inject({ method: 'GET', url: '/_presently/ready' }), 503, 'ServiceUnavailable', /signing keys/);
      assert.equal((await s.inject({ method: 'GET', url: '/metrics' })).statusCode, 200);
      assert.equal((await s.inject({ method: 'POST', url: '/_presently/sink/x', payload: { value: [] } })).statusCode, 202);
    });
  });

  describe('outside dev auth mode without an admin key: the admin API is off', () => {
    let s: TestServer;
    before(async () => {
      s = await startInProcess({ store: backend, ...OIDC_NOWHERE });
    });
    after(() => s?.close());

    it('every guarded route answers 404 saying how to turn it on, whatever the Authorization header', async () => {
      for (const [method, url] of [['GET', '/_presently/clock'], ['GET', `/_presently/tenants/${TENANT}/users`], ['GET', '/_presently/info'],
        ['GET', '/_presently/deliveries'], ['GET', '/_presently/sink/x'], ['POST', `/_presently/tenants/${TENANT}/users/bulk`]] as const) {
        for (const headers of [{}, { authorization: 'Bearer anything-at-all-here' }]) {
          assertGraphError(await s.inject({ method, url, headers }), 404, 'ResourceNotFound', /--admin-key/);
        }
      }
      assert.equal((await s.inject({ method: 'GET', url: '/_presently/health' })).statusCode, 200);
    });
  });
});

describe('dev auth mode on a network address', () => {
  it('/_presently/info warns that anyone who can reach the port can mint tokens', async (t) => {
    const s = await startInProcess({ host: '0.0.0.0' });
    t.after(() => s.close());
    const info = (await s.inject({ method: 'GET', url: '/_presently/info' })).json() as { warnings: string[] };
    assert.equal(info.warnings.length, 1);
    assert.match(info.warnings[0]!, /anyone who can reach this port can mint tokens.*--dev-on-network refuse/s);
    const local = await startInProcess({ host: '127.0.0.1' });
    t.after(() => local.close());
    assert.deepEqual(((await local.inject({ method: 'GET', url: '/_presently/info' })).json() as { warnings: string[] }).warnings, []);
  });

  it('--dev-on-network refuse makes it a refusal to start; loopback hosts start', () => {
    assert.throws(() => toConfig({ host: '0.0.0.0', devOnNetwork: 'refuse' }, {}), /refusing to start: --auth dev on --host 0\.0\.0\.0/);
    assert.throws(() => toConfig({ host: '192.168.1.5' }, { PRESENTLY_DEV_ON_NETWORK: 'refuse' }), /refusing to start/);
    for (const host of ['127.0.0.1', 'localhost', '::1', '127.0.0.2']) {
      assert.equal(toConfig({ host, devOnNetwork: 'refuse' }, {}).host, host);
    }
  });
});
