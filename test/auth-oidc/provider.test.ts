/**
 * `--auth oidc` against a real OpenID Connect provider (oidc-provider, issuing Entra-shaped JWT access tokens):
 * users and tenants made on first use, audiences, the tenant allow-list, issuers, key rotation while Presently runs,
 * the cool-down on unknown keys, and a provider that is down at start and comes back.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { SignJWT, importJWK, type JWK } from 'jose';
import type { Config } from '../../src/config/config.ts';
import type { ManualClock } from '../../src/platform/clock/manual.ts';
import { assertGraphError, bearer } from '../kit/graph.ts';
import { signingKey, startProvider, type TestProvider } from '../kit/oidcProvider.ts';
import { startInProcess, type TestServer } from '../kit/server.ts';

const ADMIN_KEY = 'oidc-test-admin-key-0123456789';
const admin = { authorization: `Bearer ${ADMIN_KEY}` };

function oidcServer(provider: TestProvider, extra: Partial<Config> = {}): Promise<TestServer> {
  return startInProcess({ clock: 'manual', auth: 'oidc', issuers: [provider.issuer], adminKey: ADMIN_KEY, ...extra });
}

const me = (s: TestServer, token: string) => s.inject({ method: 'GET', url: '/v1.0/me/presence', headers: bearer(token) });

describe('--auth oidc with a real OpenID provider', () => {
  let provider: TestProvider;
  let s: TestServer;
  const tenant = randomUUID();
  before(async () => {
    provider = await startProvider({ keys: [await signingKey('k1')] });
    s = await oidcServer(provider);
  });
  after(async () => {
    await s?.close();
    await provider?.close();
  });

  it('is ready once the provider\'s keys are loaded, and says whose', async () => {
    const res = await s.inject({ method: 'GET', url: '/_presently/ready' });
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json() as { status: string; issuers: Array<{ issuer: string; ready: boolean; keys: string[] }> };
    assert.equal(body.status, 'ready');
    assert.deepEqual(body.issuers.map((i) => [i.issuer, i.ready, i.keys]), [[provider.issuer, true, ['k1']]]);
  });

  it('a user\'s first call creates the tenant and the user, named as the token says', async () => {
    const oid = randomUUID();
    const token = await provider.token({ tid: tenant, oid, name: 'Pradeep Gupta', preferred_username: 'PradeepG@fabrikam.example' });
    const res = await me(s, token);
    assert.equal(res.statusCode, 200, res.body);
    assert.equal((res.json() as { id: string }).id, oid);
    const users = await s.inject({ method: 'GET', url: `/_presently/tenants/${tenant}/users`, headers: admin });
    assert.equal(users.statusCode, 200, users.body);
    assert.deepEqual((users.json() as { value: unknown[] }).value, [
      { id: oid, tenantId: tenant, displayName: 'Pradeep Gupta', userPrincipalName: 'PradeepG@fabrikam.example' },
    ]);
    // Later calls are the same user, not a new one.
    assert.equal((await me(s, await provider.token({ tid: tenant, oid, name: 'Pradeep' }))).statusCode, 200);
    assert.equal(((await s.inject({ method: 'GET', url: `/_presently/tenants/${tenant}/users`, headers: admin })).json() as { value: unknown[] }).value.length, 1);
  });

  it('an application token reads the presence of a user of its tenant; its roles decide', async () => {
    const oid = randomUUID();
    assert.equal((await me(s, await provider.token({ tid: tenant, oid, preferred_username: `${oid}@fabrikam.example` }))).statusCode, 200);
    const url = `/v1.0/users/${oid}/presence`;
    const reader = await provider.token({ tid: tenant, roles: ['Presence.Read.All'] });
    const ok = await s.inject({ method: 'GET', url, headers: bearer(reader) });
    assert.equal(ok.statusCode, 200, ok.body);
    const none = await provider.token({ tid: tenant, roles: [] });
    assertGraphError(await s.inject({ method: 'GET', url, headers: bearer(none) }), 403, 'Forbidden');
  });

  it('a token for another audience is refused with 401 naming it', async () => {
    const token = await provider.token({ tid: tenant, oid: randomUUID() }, 'api://someone-else');
    assertGraphError(await me(s, token), 401, 'InvalidAuthenticationToken', /Invalid audience.*'api:\/\/someone-else'.*https:\/\/graph\.microsoft\.com/);
  });

  it('a token of another issuer is refused with 401 naming it', async () => {
    const other = await startProvider({ keys: [await signingKey('other')] });
    after(() => other.close());
    const res = await me(s, await other.token({ tid: tenant, oid: randomUUID() }));
    assertGraphError(res, 401, 'InvalidAuthenticationToken', new RegExp(`Invalid issuer.*'${other.issuer}'.*not one this server trusts`));
  });

  it('the personal-account tenant is refused as Graph refuses it', async () => {
    const token = await provider.token({ tid: '9188040d-6c67-4c5b-b112-36a304b66dad', oid: randomUUID() });
    assertGraphError(await me(s, token), 403, 'Forbidden', /personal Microsoft accounts/);
  });

  it('an expired token is refused once more than 5 minutes of skew are past its exp', async () => {
    const token = await provider.token({ tid: tenant, oid: randomUUID() });
    const clock = s.presently.clock as ManualClock;
    const start = clock.now();
    await clock.advance(3600_000 + 4 * 60_000);
    assert.equal((await me(s, token)).statusCode, 200, 'within the skew');
    await clock.advance(2 * 60_000);
    assertGraphError(await me(s, token), 401, 'InvalidAuthenticationToken', /expired/);
    await clock.set(start);
  });
});

describe('--audience and --tenants', () => {
  let provider: TestProvider;
  let s: TestServer;
  const allowed = randomUUID();
  before(async () => {
    provider = await startProvider({ keys: [await signingKey('k1')] });
    s = await oidcServer(provider, { audiences: ['api://presently'], tenants: [allowed] });
  });
  after(async () => {
    await s?.close();
    await provider?.close();
  });

  it('a team\'s own API is the audience: its tokens pass, Graph\'s do not', async () => {
    assert.equal((await me(s, await provider.token({ tid: allowed, oid: randomUUID() }, 'api://presently'))).statusCode, 200);
    const graph = await provider.token({ tid: allowed, oid: randomUUID() });
    assertGraphError(await me(s, graph), 401, 'InvalidAuthenticationToken', /Invalid audience.*expected one of: api:\/\/presently\./);
  });

  it('a tenant off the allow-list is refused with 401 naming it, and nothing is created for it', async () => {
    const other = randomUUID();
    const res = await me(s, await provider.token({ tid: other, oid: randomUUID() }, 'api://presently'));
    assertGraphError(res, 401, 'InvalidAuthenticationToken', new RegExp(`tenant '${other}' are not accepted`));
    const users = await s.inject({ method: 'GET', url: `/_presently/tenants/${other}/users`, headers: admin });
    assert.deepEqual((users.json() as { value?: unknown[] }).value ?? [], []);
  });
});

describe('key rotation while Presently runs', () => {
  let provider: TestProvider;
  let k1: JWK;
  let s: TestServer;
  const tenant = randomUUID();
  before(async () => {
    k1 = await signingKey('k1');
    provider = await startProvider({ keys: [k1] });
    s = await oidcServer(provider, { keysRefreshMs: 600_000 });
  });
  after(async () => {
    await s?.close();
    await provider?.close();
  });

  it('a new kid is accepted without a restart; the old one is refused once the provider drops it', async () => {
    const oldUsed = await provider.token({ tid: tenant, oid: randomUUID() });
    const oldUnused = await provider.token({ tid: tenant, oid: randomUUID() });
    assert.equal((await me(s, oldUsed)).statusCode, 200);

    const k2 = await signingKey('k2');
    provider.setKeys([k2, k1]);
    const fetches = provider.jwksFetches();
    const fresh = await provider.token({ tid: tenant, oid: randomUUID() });
    assert.equal((await me(s, fresh)).statusCode, 200, 'signed by k2, which Presently had not seen');
    assert.equal(provider.jwksFetches(), fetches + 1, 'the unknown kid fetched the key set once');

    // The provider drops k1; Presently notices on its next refresh.
    provider.setKeys([k2]);
    await (s.presently.clock as ManualClock).advance(600_000);
    await waitFor(async () => ((await s.inject({ method: 'GET', url: '/_presently/ready' })).json() as { issuers: Array<{ keys: string[] }> }).issuers[0]!.keys.join() === 'k2');
    assertGraphError(await me(s, oldUnused), 401, 'InvalidAuthenticationToken', /signing key 'k1' is not one that issuer/);
    assertGraphError(await me(s, oldUsed), 401, 'InvalidAuthenticationToken', /signing key 'k1'/);
    assert.equal((await me(s, fresh)).statusCode, 200);
  });

  it('tokens naming unknown keys fetch the key set at most once per cool-down', async () => {
    const stranger = await signingKey('made-up');
    const key = await importJWK(stranger, 'RS256');
    const before = provider.jwksFetches();
    for (let i = 0; i < 20; i++) {
      const now = Math.floor(s.presently.clock.now() / 1000);
      const token = await new SignJWT({ tid: tenant, oid: randomUUID(), idtyp: 'user', scp: 'Presence.Read', appid: randomUUID(), aud: 'https://graph.microsoft.com', iss: provider.issuer, iat: now, exp: now + 600 })
        .setProtectedHeader({ alg: 'RS256', kid: `made-up-${i}` }).sign(key);
      assertGraphError(await me(s, token), 401, 'InvalidAuthenticationToken', new RegExp(`signing key 'made-up-${i}'`));
    }
    assert.ok(provider.jwksFetches() - before <= 1, `fetched ${provider.jwksFetches() - before} times`);
  });

  it('once the provider is gone, loaded keys keep working; an unknown kid after the cool-down is a 503, not a 401', async () => {
    const known = await provider.token({ tid: tenant, oid: randomUUID() });
    await provider.close();
    assert.equal((await me(s, known)).statusCode, 200, 'signed by a key already loaded');
    await (s.presently.clock as ManualClock).advance(31_000);
    const now = Math.floor(s.presently.clock.now() / 1000);
    const rotated = await new SignJWT({ tid: tenant, oid: randomUUID(), idtyp: 'user', scp: 'Presence.Read', appid: randomUUID(), aud: 'https://graph.microsoft.com', iss: provider.issuer, iat: now, exp: now + 600 })
      .setProtectedHeader({ alg: 'RS256', kid: 'k3' }).sign(await importJWK(await signingKey('k3'), 'RS256'));
    const res = await me(s, rotated);
    assertGraphError(res, 503, 'ServiceUnavailable', /could not be fetched again/);
    assert.ok(Number(res.headers['retry-after']) >= 1);
    assert.equal((await s.inject({ method: 'GET', url: '/_presently/ready' })).statusCode, 200, 'still ready: its keys are loaded');
  });
});

describe('a provider that is down at start', () => {
  let provider: TestProvider;
  let s: TestServer;
  before(async () => {
    provider = await startProvider({ keys: [await signingKey('k1')], down: true });
    s = await oidcServer(provider);
  });
  after(async () => {
    await s?.close();
    await provider?.close();
  });

  it('Presently starts not ready, answers 503 with Retry-After, and is ready once the provider is back', async () => {
    const ready = await s.inject({ method: 'GET', url: '/_presently/ready' });
    assertGraphError(ready, 503, 'ServiceUnavailable', new RegExp(`issuer '${provider.issuer}'.*could not be reached`));
    assert.equal(ready.headers['retry-after'], '1');

    const tenant = randomUUID();
    const now = Math.floor(s.presently.clock.now() / 1000);
    const unverifiable = await new SignJWT({ tid: tenant, oid: randomUUID(), idtyp: 'user', scp: 'Presence.Read', appid: randomUUID(), aud: 'https://graph.microsoft.com', iss: provider.issuer, iat: now, exp: now + 600 })
      .setProtectedHeader({ alg: 'RS256', kid: 'k1' }).sign(await importJWK(await signingKey('k1'), 'RS256'));
    const refused = await me(s, unverifiable);
    assertGraphError(refused, 503, 'ServiceUnavailable', /not loaded/);
    assert.ok(Number(refused.headers['retry-after']) >= 1);

    // Back-off on Presently's clock: the second attempt 1 s after the first, the third 2 s after that.
    const clock = s.presently.clock as ManualClock;
    const next = () => Date.parse(s.presently.oidc!.readiness().issuers[0]!.nextAttemptAt);
    const second = next();
    assert.equal(second, clock.now() + 1000);
    await clock.advance(1000);
    await waitFor(async () => next() !== second);
    assert.equal(next(), clock.now() + 2000, 'the third attempt backs off 2 s');
    await provider.up();
    await clock.advance(2000);
    await waitFor(async () => (await s.inject({ method: 'GET', url: '/_presently/ready' })).statusCode === 200);
    const token = await provider.token({ tid: tenant, oid: randomUUID() });
    assert.equal((await me(s, token)).statusCode, 200);
  });
});

/** Waits for background work (a key fetch over a socket) to show; fails after 5 s. */
async function waitFor(check: () => Promise<boolean>): Promise<void> {
  const until = Date.now() + 5000;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('the condition did not come true within 5 s');
    await new Promise((resolve) => setImmediate(resolve));
  }
}
