/**
 * The admin and testing API under /_presently (docs/operations/auth.md, docs/operations/admin-api.md) and /metrics, in dev mode.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createLocalJWKSet, decodeJwt, jwtVerify, type JWK } from 'jose';
import { ADELE, ALEX, APP, TENANT, sharedServer, startInProcess, type TestServer } from '../kit/server.ts';
import {
  assertBadProperty, assertGraphError, assertJsonHeaders, getPresence, message, mintToken, moveClock, readPresence,
  setStatusOk,
} from '../kit/graph.ts';
import { VERSION } from '../../src/server.ts';
import { forEachBackend } from '../kit/backends.ts';
import { sampleValue } from '../kit/metrics.ts';

forEachBackend(['memory', 'journal', 'redis'], (backend) => {
  const shared = sharedServer(() => startInProcess({ store: backend }));
  const START = Date.parse('2026-11-28T08:00:00Z');

  describe('admin: health, ready, info, keys, metrics', () => {
    let s: TestServer;
    /** The store the server runs on (the journal is a way of keeping a SQLite store's presence records). */
    const expectedStore = backend === 'journal' ? 'sqlite' : backend;

    before(async () => {
      s = await shared();
    });

    it('GET /_presently/health: 200 {"status":"ok"}', async () => {
      const res = await s.inject({ method: 'GET', url: '/_presently/health' });
      assert.equal(res.statusCode, 200);
      assertJsonHeaders(res);
      assert.deepEqual(res.json(), { status: 'ok' });
    });

    it('GET /_presently/ready: 200 with the store', async () => {
      const res = await s.inject({ method: 'GET', url: '/_presently/ready' });
      assert.equal(res.statusCode, 200);
      assert.deepEqual(res.json(), { status: 'ready', store: expectedStore });
    });

    it('GET /_presently/info: version, store, auth, cloud, clock {mode, now}, warnings', async () => {
      const res = await s.inject({ method: 'GET', url: '/_presently/info' });
      assert.equal(res.statusCode, 200);
      const info = res.json() as { version: string; store: string; auth: string; cloud: string; clock: { mode: string; now: string }; warnings: string[] };
      assert.deepEqual(Object.keys(info).sort(), ['auth', 'clock', 'cloud', 'store', 'version', 'warnings']);
      assert.deepEqual(info.warnings, [], 'dev mode on loopback warns of nothing');
      assert.equal(info.version, VERSION);
      assert.match(info.version, /^\d+\.\d+\.\d+/);
      assert.equal(info.store, expectedStore);
      assert.equal(info.auth, 'dev');
      assert.equal(info.cloud, 'global');
      assert.equal(info.clock.mode, 'system');
      assert.ok(Math.abs(Date.parse(info.clock.now) - Date.now()) < 5_000, info.clock.now);
    });

    it('GET /_presently/keys: a JWKS whose key (kid, alg RS256) verifies the tokens the server issues', async () => {
      const res = await s.inject({ method: 'GET', url: '/_presently/keys' });
      assert.equal(res.statusCode, 200);
      const jwks = res.json() as { keys: JWK[] };
      assert.equal(jwks.keys.length, 1);
      const key = jwks.keys[0]!;
      assert.equal(key.kty, 'RSA');
      assert.equal(key.alg, 'RS256');
      assert.equal(key.use, 'sig');
      assert.equal(typeof key.kid, 'string');
      assert.ok((key.kid ?? '').length > 0);
      assert.equal(key.d, undefined, 'no private part');
      assert.equal(key.p, undefined, 'no private part');
      const token = await s.userToken(ADELE);
      const { protectedHeader, payload } = await jwtVerify(token, createLocalJWKSet(jwks), { audience: 'https://graph.microsoft.com' });
      assert.equal(protectedHeader.kid, key.kid);
      assert.equal(payload.oid, ADELE);
    });

    it('GET /metrics: Prometheus text with presently_http_requests_total', async () => {
      await s.inject({ method: 'GET', url: '/_presently/health' });
      const res = await s.inject({ method: 'GET', url: '/metrics' });
      assert.equal(res.statusCode, 200);
      assert.match(String(res.headers['content-type']), /^text\/plain/);
      assert.match(res.body, /^# TYPE presently_http_requests_total counter$/m);
      assert.match(res.body, /^presently_http_requests_total\{[^}]*route="\/_presently\/health"[^}]*\} \d+/m);
    });

    it('GET /metrics: presently_heap_live_bytes is the heap a major collection left, young generation excluded', async () => {
      // A major collection, as V8 makes them under load (node's own gc(), reached without --expose-gc).
      v8.setFlagsFromString('--expose-gc');
      (runInNewContext('gc') as () => void)();
      await new Promise((resolve) => setTimeout(resolve, 20)); // the gc entry's callback
      const res = await s.inject({ method: 'GET', url: '/metrics' });
      const live = Number(sampleValue(res.body, 'presently_heap_live_bytes'));
      const used = Number(sampleValue(res.body, 'presently_nodejs_heap_size_used_bytes'));
      assert.ok(live > 1e6 && live <= used, `live ${live}, used ${used}`);
    });

    it('request ids and headers on admin responses too', async () => {
      const res = await s.inject({ method: 'GET', url: '/_presently/info', headers: { 'client-request-id': 'admin-1' } });
      assertJsonHeaders(res, 'admin-1');
    });
  });

  describe('admin: tokens', () => {
    let s: TestServer;

    before(async () => {
      s = await shared();
    });

    const mint = (body: unknown) => s.inject({
      method: 'POST', url: '/_presently/tokens', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(body),
    });

    it('a delegated token by UPN (case-insensitive), with default scopes: reads and writes the user\'s own presence', async () => {
      const res = await mint({ userId: 'adelev@CONTOSO.example' });
      assert.equal(res.statusCode, 200, res.body);
      assertJsonHeaders(res);
      const body = res.json() as { access_token: string; expires_in: number; token_type?: string };
      assert.equal(body.expires_in, 3600);
      const claims = decodeJwt(body.access_token);
      assert.equal(claims.oid, ADELE);
      assert.equal(claims.tid, TENANT);
      assert.equal(claims.aud, 'https://graph.microsoft.com');
      assert.deepEqual(String(claims.scp).split(' ').sort(), ['Presence.Read.All', 'Presence.ReadWrite']);
      assert.equal((await readPresence(s, '/v1.0/me/presence', body.access_token)).id, ADELE);
      await setStatusOk(s, ADELE, body.access_token, message('minted by UPN'));
    });

    it('a delegated token by object id with given scopes (array or space-separated string)', async () => {
      for (const scopes of [['Presence.Read'], 'Presence.Read']) {
        const token = await mintToken(s, { userId: ALEX, scopes });
        assert.equal(decodeJwt(token).scp, 'Presence.Read');
        assert.equal((await getPresence(s, '/v1.0/me/presence', token)).statusCode, 200);
        assertGraphError(await getPresence(s, `/v1.0/users/${ADELE}/presence`, token), 403, 'Forbidden');
      }
    });

    it('an application token: default dev app and Presence.ReadWrite.All; or any app id and roles', async () => {
      const def = await mintToken(s, {});
      const claims = decodeJwt(def);
      assert.equal(claims.appid, APP);
      assert.deepEqual(claims.roles, ['Presence.ReadWrite.All']);
      assert.equal(claims.oid, undefined);
      await setStatusOk(s, ALEX, def, message('from the app'));

      const otherApp = randomUUID();
      const reader = await mintToken(s, { appId: otherApp.toUpperCase(), roles: ['Presence.Read.All'], expiresIn: 120 });
      const rc = decodeJwt(reader);
      assert.equal(rc.appid, otherApp);
      assert.equal((rc.exp ?? 0) - (rc.iat ?? 0), 120);
      assert.equal((await readPresence(s, `/v1.0/users/${ALEX}/presence`, reader)).statusMessage?.message.content, 'from the app');
    });

    it('bad input is 400 naming the property', async () => {
      const cases: Array<[unknown, string]> = [
        [{ userId: 42 }, 'userId'],
        [{ userId: '' }, 'userId'],
        [{ appId: 'not-a-guid' }, 'appId'],
        [{ tenantId: 'contoso' }, 'tenantId'],
        [{ scopes: ['Presence.Read'] }, 'scopes'],
        [{ userId: ADELE, scopes: 5 }, 'scopes'],
        [{ userId: ADELE, scopes: [5] }, 'scopes'],
        [{ roles: 'bad"role' }, 'roles'],
        [{ expiresIn: 10 }, 'expiresIn'],
        [{ expiresIn: 10_000_000 }, 'expiresIn'],
        [{ expiresIn: '3600' }, 'expiresIn'],
        [{ expiresIn: 60.5 }, 'expiresIn'],
        [{ audience: 'https://evil.example' }, 'audience'],
      ];
      for (const [body, property] of cases) assertBadProperty(await mint(body), property);
    });

    it('an unknown user is 400 naming the user and how to create one', async () => {
      const nobody = randomUUID();
      for (const userId of ['nobody@contoso.example', nobody]) {
        const body = assertGraphError(await mint({ userId }), 400, 'BadRequest');
        assert.ok(body.error.message.includes(`'${userId}'`), body.error.message);
        assert.match(body.error.message, /POST \/_presently\/tenants\/[0-9a-f-]{36}\/users/);
      }
    });

    it('a user asked for in the wrong tenant is 400 naming both tenants', async () => {
      const other = randomUUID();
      const body = assertGraphError(await mint({ userId: 'AdeleV@contoso.example', tenantId: other }), 400, 'BadRequest');
      assert.ok(body.error.message.includes(TENANT) && body.error.message.includes(other), body.error.message);
    });

    it('no body at all: an application token for the dev app', async () => {
      const res = await s.inject({ method: 'POST', url: '/_presently/tokens' });
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(decodeJwt((res.json() as { access_token: string }).access_token).appid, APP);
    });

    it('a body that is not an object is 400', async () => {
      for (const payload of ['[]', '"x"', '42']) {
        const res = await s.inject({ method: 'POST', url: '/_presently/tokens', headers: { 'content-type': 'application/json' }, payload });
        assertGraphError(res, 400, 'BadRequest');
      }
    });
  });

  describe('admin: users API', () => {
    let s: TestServer;
    const OTHER = 'd7a1c2b3-4e5f-4a6b-8c7d-9e0f1a2b3c4d';
    const users = (tid = TENANT) => `/_presently/tenants/${tid}/users`;
    const create = (body: unknown, tid = TENANT) => s.inject({
      method: 'POST', url: users(tid), headers: { 'content-type': 'application/json' }, payload: JSON.stringify(body),
    });

    before(async () => {
      s = await shared();
    });

    it('lists the demo tenant\'s users (Adele, Alex and three more)', async () => {
      const res = await s.inject({ method: 'GET', url: users() });
      assert.equal(res.statusCode, 200);
      assertJsonHeaders(res);
      const list = (res.json() as { value: Array<{ id: string; tenantId: string; displayName: string; userPrincipalName: string }> }).value;
      assert.equal(list.length, 5);
      const adele = list.find((u) => u.id === ADELE);
      assert.deepEqual(adele, { id: ADELE, tenantId: TENANT, displayName: 'Adele Vance', userPrincipalName: 'AdeleV@contoso.example' });
      assert.ok(list.some((u) => u.id === ALEX && u.userPrincipalName === 'AlexW@contoso.example'));
    });

    it('create with an id → 201 (id lower-cased); without an id → 201 with a new GUID; both can sign in', async () => {
      const id = randomUUID();
      const withId = await create({ id: id.toUpperCase(), displayName: 'Isaiah Langer', userPrincipalName: 'IsaiahL@contoso.example' });
      assert.equal(withId.statusCode, 201, withId.body);
      assertJsonHeaders(withId);
      assert.deepEqual(withId.json(), { id, tenantId: TENANT, displayName: 'Isaiah Langer', userPrincipalName: 'IsaiahL@contoso.example' });

      const noId = await create({ userPrincipalName: 'JoniS@contoso.example' });
      assert.equal(noId.statusCode, 201, noId.body);
      const created = noId.json() as { id: string; displayName: string };
      assert.match(created.id, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      assert.equal(created.displayName, 'JoniS@contoso.example');

      const list = (await s.inject({ method: 'GET', url: users() })).json() as { value: Array<{ id: string }> };
      assert.ok(list.value.some((u) => u.id === id));
      assert.ok(list.value.some((u) => u.id === created.id));

      for (const userId of [id, 'JoniS@contoso.example']) {
        const token = await mintToken(s, { userId });
        const p = await readPresence(s, '/v1.0/me/presence', token);
        assert.equal(p.availability, 'PresenceUnknown');
        assert.equal(p.statusMessage, null);
      }
    });

    it('a user in a new tenant creates the tenant; its list holds only its users', async () => {
      const res = await create({ userPrincipalName: 'someone@fabrikam.example' }, OTHER);
      assert.equal(res.statusCode, 201, res.body);
      const list = (await s.inject({ method: 'GET', url: users(OTHER) })).json() as { value: Array<{ userPrincipalName: string; tenantId: string }> };
      assert.deepEqual(list.value.map((u) => [u.userPrincipalName, u.tenantId]), [['someone@fabrikam.example', OTHER]]);
    });

    it('a duplicate userPrincipalName (any case, any tenant) is 409', async () => {
      assertGraphError(await create({ userPrincipalName: 'AdeleV@contoso.example' }), 409, 'Conflict');
      assertGraphError(await create({ id: randomUUID(), userPrincipalName: 'ADELEV@CONTOSO.EXAMPLE' }), 409, 'Conflict');
      assertGraphError(await create({ userPrincipalName: 'AdeleV@contoso.example' }, OTHER), 409, 'Conflict');
      // Adele is untouched.
      const list = (await s.inject({ method: 'GET', url: users() })).json() as { value: Array<{ id: string; displayName: string }> };
      assert.equal(list.value.find((u) => u.id === ADELE)?.displayName, 'Adele Vance');
    });

    it('bad input is 400 naming the property', async () => {
      assertBadProperty(await create({ id: 'nope', userPrincipalName: 'x@contoso.example' }), 'id');
      assertBadProperty(await create({ displayName: 'No UPN' }), 'userPrincipalName');
      assertBadProperty(await create({ userPrincipalName: 'not-an-email' }), 'userPrincipalName');
      assertBadProperty(await create({ userPrincipalName: 42 }), 'userPrincipalName');
      assertBadProperty(await create({ userPrincipalName: 'x@contoso.example', mail: 'x@contoso.example' }), 'mail');
      assertGraphError(await s.inject({ method: 'GET', url: '/_presently/tenants/contoso/users' }), 400, 'BadRequest', /tenant/);
    });

    it('an empty body is 400 naming the missing userPrincipalName', async () => {
      for (const headers of [{ 'content-type': 'application/json' }, {}]) {
        assertBadProperty(await s.inject({ method: 'POST', url: users(), headers, payload: '' }), 'userPrincipalName');
      }
    });

    it('delete → 204 with no body, then 404; the deleted user\'s presence is 404; the UPN is free again', async () => {
      const id = await (async () => {
        const res = await create({ userPrincipalName: 'LidiaH@contoso.example' });
        assert.equal(res.statusCode, 201);
        return (res.json() as { id: string }).id;
      })();
      const app = await s.appToken(['Presence.ReadWrite.All']);
      await setStatusOk(s, id, app, message('about to go'));
      assert.equal((await getPresence(s, `/v1.0/users/${id}/presence`, app)).statusCode, 200);

      const del = await s.inject({ method: 'DELETE', url: `${users()}/${id.toUpperCase()}` });
      assert.equal(del.statusCode, 204, del.body);
      assert.equal(del.body, '');
      assertGraphError(await s.inject({ method: 'DELETE', url: `${users()}/${id}` }), 404, 'ResourceNotFound');

      assertGraphError(await getPresence(s, `/v1.0/users/${id}/presence`, app), 404, 'ResourceNotFound');
      assertGraphError(await getPresence(s, `/beta/communications/presences/${id}`, app), 404, 'ResourceNotFound');
      const list = (await s.inject({ method: 'GET', url: users() })).json() as { value: Array<{ id: string }> };
      assert.ok(!list.value.some((u) => u.id === id));

      // Created again, the user starts with a fresh presence.
      const again = await create({ id, userPrincipalName: 'LidiaH@contoso.example' });
      assert.equal(again.statusCode, 201, again.body);
      assert.equal((await readPresence(s, `/v1.0/users/${id}/presence`, app)).statusMessage, null);
    });

    it('deleting in the wrong tenant is 404 and keeps the user', async () => {
      assertGraphError(await s.inject({ method: 'DELETE', url: `${users(OTHER)}/${ADELE}` }), 404, 'ResourceNotFound');
      const list = (await s.inject({ method: 'GET', url: users() })).json() as { value: Array<{ id: string }> };
      assert.ok(list.value.some((u) => u.id === ADELE));
    });
  });

  describe('admin: clock (system clock)', () => {
    let s: TestServer;

    before(async () => {
      s = await shared();
    });

    it('GET shows the system clock; POST is 409 Conflict', async () => {
      const get = await s.inject({ method: 'GET', url: '/_presently/clock' });
      assert.equal(get.statusCode, 200);
      assert.equal((get.json() as { mode: string }).mode, 'system');
      for (const body of [{ advance: 'PT10M' }, { now: '2030-01-01T00:00:00Z' }]) {
        const res = await s.inject({ method: 'POST', url: '/_presently/clock', payload: body });
        assertGraphError(res, 409, 'Conflict', /manual/);
      }
    });
  });

  describe('admin: clock (manual clock)', () => {
    let s: TestServer;
    const post = (body: unknown) => s.inject({
      method: 'POST', url: '/_presently/clock', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(body),
    });
    const info = async () => ((await s.inject({ method: 'GET', url: '/_presently/info' })).json() as { clock: { mode: string; now: string } }).clock;

    before(async () => {
      s = await startInProcess({ store: backend, clock: 'manual' }, { manualStart: START });
    });
    after(() => s?.close());

    it('starts at manualStart; info and GET /_presently/clock agree', async () => {
      assert.deepEqual(await info(), { mode: 'manual', now: '2026-11-28T08:00:00.000Z' });
      const get = await s.inject({ method: 'GET', url: '/_presently/clock' });
      assert.equal(get.statusCode, 200);
      const c = get.json() as { mode: string; now: string };
      assert.equal(c.mode, 'manual');
      assert.equal(Date.parse(c.now), START);
    });

    it('advance moves it forward by an ISO-8601 duration', async () => {
      const c = await moveClock(s, { advance: 'PT10M' });
      assert.equal(c.mode, 'manual');
      assert.equal(Date.parse(c.now), START + 600_000);
      assert.equal((await info()).now, '2026-11-28T08:10:00.000Z');
      await moveClock(s, { advance: 'P1DT1H30M15.5S' });
      assert.equal((await info()).now, '2026-11-29T09:40:15.500Z');
      await moveClock(s, { advance: 'PT0S' });
      assert.equal((await info()).now, '2026-11-29T09:40:15.500Z');
    });

    it('now sets it to an instant (also the current one)', async () => {
      await moveClock(s, { now: '2026-12-01T00:00:00Z' });
      assert.equal((await info()).now, '2026-12-01T00:00:00.000Z');
      await moveClock(s, { now: '2026-12-01T01:00:00+01:00' });
      assert.equal((await info()).now, '2026-12-01T00:00:00.000Z');
    });

    it('the server stamps with the moved clock: publishedDateTime and error dates', async () => {
      const adele = await s.userToken(ADELE);
      await setStatusOk(s, ADELE, adele, message('stamped'));
      assert.equal((await readPresence(s, '/v1.0/me/presence', adele)).statusMessage?.publishedDateTime, '2026-12-01T00:00:00.0000000Z');
      const err = assertGraphError(await getPresence(s, '/v1.0/users/nope/presence', adele), 400, 'BadRequest');
      assert.equal(err.error.innerError.date, '2026-12-01T00:00:00');
    });

    it('backwards is 400 naming now / advance, and the clock does not move', async () => {
      assertBadProperty(await post({ now: '2026-11-30T23:59:59.999Z' }), 'now');
      assertBadProperty(await post({ advance: '-PT1M' }), 'advance');
      assert.equal((await info()).now, '2026-12-01T00:00:00.000Z');
    });

    it('a bad duration or instant is 400 naming the property', async () => {
      for (const advance of ['10 minutes', 'PT', 'P1Y2', '', 'T10M']) assertBadProperty(await post({ advance }), 'advance');
      for (const now of ['tomorrow', '2027-13-01T00:00:00Z', '', '1766000000000']) assertBadProperty(await post({ now }), 'now');
      assertBadProperty(await post({ advance: 600 }), 'advance');
      assertBadProperty(await post({ now: 1766000000000 }), 'now');
      assertBadProperty(await post({ advance: 'PT1M', later: true }), 'later');
      assert.equal((await info()).now, '2026-12-01T00:00:00.000Z');
    });

    it('now without an offset does not depend on the server machine\'s time zone (400, or read as UTC)', async () => {
      const saved = process.env.TZ;
      process.env.TZ = 'America/New_York';
      try {
        const res = await post({ now: '2026-12-02T00:00:00' });
        if (res.statusCode === 400) {
          assertBadProperty(res, 'now');
          assert.equal((await info()).now, '2026-12-01T00:00:00.000Z');
        } else {
          assert.equal(res.statusCode, 200, res.body);
          assert.equal((await info()).now, '2026-12-02T00:00:00.000Z', 'a local-time "now" was read in the machine\'s zone');
        }
      } finally {
        if (saved === undefined) delete process.env.TZ;
        else process.env.TZ = saved;
      }
    });

    it('a user deleted and created again keeps sequenceNumber increasing (clock not moved in between)', async () => {
      const id = randomUUID();
      const app = await s.appToken(['Presence.ReadWrite.All']);
      const seq = async () => (await readPresence(s, `/v1.0/users/${id}/presence`, app)).sequenceNumber ?? '';
      const createIt = () => s.inject({ method: 'POST', url: `/_presently/tenants/${TENANT}/users`, payload: { id, userPrincipalName: 'again@contoso.example' } });
      assert.equal((await createIt()).statusCode, 201);
      for (const content of ['one', 'two', 'three']) await setStatusOk(s, id, app, message(content));
      const before = await seq();
      assert.equal((await s.inject({ method: 'DELETE', url: `/_presently/tenants/${TENANT}/users/${id}` })).statusCode, 204);
      assert.equal((await createIt()).statusCode, 201);
      const after = await seq();
      assert.ok(after > before, `sequenceNumber went from ${before} to ${after}`);
    });

    it('exactly one of advance and now (an empty body says so too)', async () => {
      assertGraphError(await post({}), 400, 'BadRequest', /exactly one/);
      assertGraphError(await s.inject({ method: 'POST', url: '/_presently/clock' }), 400, 'BadRequest', /exactly one/);
      assertGraphError(await post({ advance: 'PT1M', now: '2027-01-01T00:00:00Z' }), 400, 'BadRequest', /exactly one/);
    });
  });
});
