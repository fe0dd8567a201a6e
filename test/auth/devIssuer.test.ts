import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { DEV_SIGNING_KEY_META, DevIssuer } from '../../src/auth/devIssuer.ts';
import { ADELE, CONTOSO, DEV_APP, GRAPH, fakeClock, fakeStore } from './fakes.ts';

test('the key is created once and persisted in the store', async () => {
  const store = fakeStore();
  const a = await DevIssuer.load(store, fakeClock());
  assert.ok(store.meta.has(DEV_SIGNING_KEY_META));
  const b = await DevIssuer.load(store, fakeClock());
  assert.equal(a.kid, b.kid);
  assert.deepEqual(a.jwks(), b.jwks());
  const other = await DevIssuer.load(fakeStore(), fakeClock());
  assert.notEqual(other.kid, a.kid);
});

test('concurrent first loads on one store agree on one key', async () => {
  const store = fakeStore();
  const issuers = await Promise.all([1, 2, 3, 4].map(() => DevIssuer.load(store, fakeClock())));
  assert.equal(new Set(issuers.map((i) => i.kid)).size, 1);
});

test('a corrupt stored key is reported, not silently replaced', async () => {
  const store = fakeStore();
  store.meta.set(DEV_SIGNING_KEY_META, '{"kty":"oct"}');
  await assert.rejects(DevIssuer.load(store, fakeClock()), /dev signing key.*unreadable/);
});

test('jwks publishes only the public half', async () => {
  const issuer = await DevIssuer.load(fakeStore(), fakeClock());
  const { keys } = issuer.jwks();
  assert.equal(keys.length, 1);
  const key = keys[0]!;
  assert.deepEqual(Object.keys(key).sort(), ['alg', 'e', 'kid', 'kty', 'n', 'use']);
  assert.equal(key.kid, issuer.kid);
  assert.equal(key.alg, 'RS256');
  assert.equal(key.use, 'sig');
  assert.match(issuer.kid, /^[A-Za-z0-9_-]{43}$/); // SHA-256 thumbprint, base64url
});

test('issuerFor', async () => {
  const issuer = await DevIssuer.load(fakeStore(), fakeClock());
  assert.equal(issuer.issuerFor(CONTOSO), `https://presently.local/${CONTOSO}/v2.0`);
});

test('a delegated token carries Entra v1-like claims stamped with the server clock', async () => {
  const clock = fakeClock(Date.parse('2030-01-01T00:00:00.900Z'));
  const issuer = await DevIssuer.load(fakeStore(), clock);
  const res = await issuer.issue({
    tenantId: CONTOSO.toUpperCase(),
    userId: ADELE.toUpperCase(),
    appId: DEV_APP,
    scopes: ['Presence.Read.All', 'Presence.ReadWrite'],
    expiresIn: 600,
    audience: GRAPH,
    upn: 'AdeleV@contoso.example',
    name: 'Adele Vance',
  });
  assert.equal(res.token_type, 'Bearer');
  assert.equal(res.expires_in, 600);
  const header = decodeProtectedHeader(res.access_token);
  assert.deepEqual(header, { alg: 'RS256', typ: 'JWT', kid: issuer.kid });
  const c = decodeJwt(res.access_token);
  const iat = Date.parse('2030-01-01T00:00:00Z') / 1000;
  assert.equal(c.iat, iat);
  assert.equal(c.nbf, iat);
  assert.equal(c.exp, iat + 600);
  assert.equal(c.aud, GRAPH);
  assert.equal(c.iss, issuer.issuerFor(CONTOSO));
  assert.equal(c.tid, CONTOSO);
  assert.equal(c.oid, ADELE);
  assert.equal(c.sub, ADELE);
  assert.equal(c.appid, DEV_APP);
  assert.equal(c.azp, DEV_APP);
  assert.equal(c.scp, 'Presence.Read.All Presence.ReadWrite');
  assert.equal(c.roles, undefined);
  assert.equal(c.idtyp, 'user');
  assert.equal(c.upn, 'AdeleV@contoso.example');
  assert.equal(c.name, 'Adele Vance');
  assert.equal(c.ver, '1.0');
  assert.equal(typeof c.uti, 'string');
  const again = decodeJwt((await issuer.issue({ tenantId: CONTOSO, userId: ADELE, appId: DEV_APP, audience: GRAPH })).access_token);
  assert.notEqual(again.uti, c.uti);
  assert.equal(again.exp, iat + 3600); // default lifetime
});

test('an application token has sub = appid, roles and no oid/scp', async () => {
  const issuer = await DevIssuer.load(fakeStore(), fakeClock());
  const res = await issuer.issue({ tenantId: CONTOSO, userId: null, appId: DEV_APP, roles: ['Presence.ReadWrite.All'], audience: GRAPH });
  const c = decodeJwt(res.access_token);
  assert.equal(c.sub, DEV_APP);
  assert.equal(c.appid, DEV_APP);
  assert.equal(c.azp, DEV_APP);
  assert.deepEqual(c.roles, ['Presence.ReadWrite.All']);
  assert.equal(c.idtyp, 'app');
  assert.equal(c.oid, undefined);
  assert.equal(c.scp, undefined);
  assert.equal(c.upn, undefined);
});
