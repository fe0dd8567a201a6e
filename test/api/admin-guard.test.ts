/**
 * The admin API's boundary: its paths match exactly (a proxy rule that blocks `/_presently/` cannot be bypassed by
 * another spelling, in any auth mode), and outside dev auth mode every admin call that changes state — the manual
 * clock above all — needs the `Presently.Admin` role, while the token endpoint tells nobody which users exist.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import type { Config } from '../../src/config/config.ts';
import { ADELE, APP, TENANT, startInProcess, type TestServer } from '../kit/server.ts';
import { assertGraphError, bearer } from '../kit/graph.ts';
import { forEachBackend } from '../kit/backends.ts';

const START = Date.parse('2026-11-28T08:00:00Z');

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

  describe('outside dev auth mode: the admin guard', () => {
    let s: TestServer;
    /** A token of the server's own issuer: the dev token endpoint does not exist in this mode. */
    const issue = async (claims: { userId?: string; roles?: string[]; scopes?: string[] }) => (await s.presently.issuer.issue({
      tenantId: TENANT, userId: claims.userId ?? null, appId: APP, audience: 'https://graph.microsoft.com',
      ...(claims.roles ? { roles: claims.roles } : {}), ...(claims.scopes ? { scopes: claims.scopes } : {}),
    })).access_token;
    const clockNow = async (token: string) =>
      Date.parse(((await s.inject({ method: 'GET', url: '/_presently/clock', headers: bearer(token) })).json() as { now: string }).now);

    before(async () => {
      // No such mode exists yet besides dev; any other value is "not dev", as a real identity mode will be.
      s = await startInProcess({ store: backend, clock: 'manual', auth: 'entra' as Config['auth'] }, { manualStart: START });
    });
    after(() => s?.close());

    it('moving the manual clock needs Presently.Admin: 401 without a token, 403 without the role; the clock stays', async () => {
      const admin = await issue({ roles: ['Presently.Admin'] });
      assertGraphError(await s.inject({ method: 'POST', url: '/_presently/clock', payload: { advance: 'P36500D' } }), 401, 'InvalidAuthenticationToken');
      for (const token of [await issue({ roles: ['Presence.ReadWrite.All'] }), await issue({ userId: ADELE, scopes: ['Presence.ReadWrite'] })]) {
        const res = await s.inject({ method: 'POST', url: '/_presently/clock', headers: bearer(token), payload: { advance: 'P36500D' } });
        assertGraphError(res, 403, 'Forbidden', /Presently\.Admin/);
      }
      assertGraphError(await s.inject({ method: 'GET', url: '/_presently/clock' }), 401, 'InvalidAuthenticationToken');
      assert.equal(await clockNow(admin), START, 'the clock did not move');

      const moved = await s.inject({ method: 'POST', url: '/_presently/clock', headers: bearer(admin), payload: { advance: 'PT10M' } });
      assert.equal(moved.statusCode, 200, moved.body);
      assert.equal(await clockNow(admin), START + 10 * 60_000);
    });

    it('the users API and app revocation need it too; a refused request creates nothing', async () => {
      const users = `/_presently/tenants/${TENANT}/users`;
      assertGraphError(await s.inject({ method: 'POST', url: users, payload: { userPrincipalName: 'eve@contoso.example' } }), 401, 'InvalidAuthenticationToken');
      assertGraphError(await s.inject({ method: 'GET', url: users }), 401, 'InvalidAuthenticationToken');
      assertGraphError(await s.inject({ method: 'DELETE', url: `${users}/${ADELE}` }), 401, 'InvalidAuthenticationToken');
      assertGraphError(await s.inject({ method: 'DELETE', url: `/_presently/tenants/${TENANT}/apps/${APP}/access` }), 401, 'InvalidAuthenticationToken');
      assertGraphError(await s.inject({ method: 'GET', url: '/_presently/deliveries' }), 401, 'InvalidAuthenticationToken');
      const list = await s.inject({ method: 'GET', url: users, headers: bearer(await issue({ roles: ['Presently.Admin'] })) });
      assert.equal(list.statusCode, 200, list.body);
      const upns = (list.json() as { value: Array<{ userPrincipalName: string }> }).value.map((u) => u.userPrincipalName);
      assert.ok(upns.includes('AdeleV@contoso.example') && !upns.includes('eve@contoso.example'));
    });

    it('the token endpoint answers the same 404 for a known and an unknown user: no enumeration', async () => {
      const answers = [];
      for (const userId of [ADELE, 'AdeleV@contoso.example', '00000000-0000-4000-8000-000000000000', 'nobody@contoso.example', '']) {
        const res = await s.inject({ method: 'POST', url: '/_presently/tokens', payload: { userId } });
        const body = assertGraphError(res, 404, 'ResourceNotFound');
        answers.push(body.error.message);
      }
      assert.equal(new Set(answers).size, 1, `one answer for all: ${answers.join(' | ')}`);
      assert.ok(!answers[0]!.includes('No user'));
    });

    it('exact paths hold in this mode as well, even with the admin role', async () => {
      const admin = await issue({ roles: ['Presently.Admin'] });
      for (const variant of VARIANTS) {
        const res = await s.inject({ method: 'POST', url: spell(variant, 'clock'), headers: bearer(admin), payload: { advance: 'PT1M' } });
        assertGraphError(res, 404, 'ResourceNotFound');
      }
      assert.equal(await clockNow(admin), START + 10 * 60_000);
    });

    it('health, readiness, info and the signing keys stay open', async () => {
      for (const url of ['/_presently/health', '/_presently/ready', '/_presently/info', '/_presently/keys']) {
        assert.equal((await s.inject({ method: 'GET', url })).statusCode, 200, url);
      }
    });
  });
});
