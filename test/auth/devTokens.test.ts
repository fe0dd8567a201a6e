import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { decodeJwt } from 'jose';
import { DevIssuer } from '../../src/auth/devIssuer.ts';
import { mintDevToken, type MintDeps } from '../../src/auth/devTokens.ts';
import { devVerifier, type TokenVerifier } from '../../src/auth/verify.ts';
import { InvalidInput } from '../../src/platform/json/errors.ts';
import { ADELE, ALEX, CONTOSO, DEV_APP, FABRIKAM, FAB_USER, GRAPH, fakeClock, fakeStore } from './fakes.ts';

const OTHER_APP = 'c0ffee00-1111-4222-8333-444455556666';
let deps: MintDeps;
let verifier: TokenVerifier;

before(async () => {
  const clock = fakeClock();
  const store = fakeStore();
  const issuer = await DevIssuer.load(store, clock);
  deps = { issuer, store, audience: GRAPH, defaultTenantId: CONTOSO, defaultAppId: DEV_APP };
  verifier = devVerifier(issuer, clock, [GRAPH]);
});

async function mint(body: unknown) {
  const res = await mintDevToken(deps, body);
  return { res, claims: decodeJwt(res.access_token), principal: await verifier.verify(`Bearer ${res.access_token}`) };
}

function invalid(property: string | undefined, message: RegExp): (err: unknown) => boolean {
  return (err) => {
    assert.ok(err instanceof InvalidInput, `expected InvalidInput, got ${String(err)}`);
    assert.equal(err.property, property);
    assert.match(err.message, message);
    return true;
  };
}

test('no body / empty body: an application token for the dev app in the default tenant, Presence.ReadWrite.All, 1 h', async () => {
  for (const body of [undefined, null, {}]) {
    const { res, claims, principal } = await mint(body);
    assert.equal(res.token_type, 'Bearer');
    assert.equal(res.expires_in, 3600);
    assert.equal(claims.exp! - claims.iat!, 3600);
    assert.equal(claims.aud, GRAPH);
    assert.equal(principal.kind, 'application');
    assert.equal(principal.tenantId, CONTOSO);
    assert.equal(principal.appId, DEV_APP);
    assert.deepEqual([...principal.roles], ['Presence.ReadWrite.All']);
  }
});

test('application token with explicit app, tenant, roles and lifetime', async () => {
  const { res, principal } = await mint({ appId: OTHER_APP.toUpperCase(), tenantId: FABRIKAM, roles: ['Presence.Read.All'], expiresIn: 60 });
  assert.equal(res.expires_in, 60);
  assert.equal(principal.kind, 'application');
  assert.equal(principal.appId, OTHER_APP);
  assert.equal(principal.tenantId, FABRIKAM);
  assert.deepEqual([...principal.roles], ['Presence.Read.All']);
});

test('delegated token by object id: default scopes, dev app, the user tenant, upn and name', async () => {
  const { claims, principal } = await mint({ userId: ADELE.toUpperCase() });
  assert.equal(principal.kind, 'delegated');
  assert.equal(principal.userId, ADELE);
  assert.equal(principal.tenantId, CONTOSO);
  assert.equal(principal.appId, DEV_APP);
  assert.deepEqual([...principal.scopes], ['Presence.Read.All', 'Presence.ReadWrite']);
  assert.equal(claims.upn, 'AdeleV@contoso.example');
  assert.equal(claims.name, 'Adele Vance');
  assert.equal(claims.azp, DEV_APP);
});

test('delegated token by UPN (case-insensitive), for another app, with scopes and roles', async () => {
  const { principal } = await mint({ userId: 'alexw@CONTOSO.example', appId: OTHER_APP, scopes: ['Presence.Read'], roles: ['Presently.Admin'] });
  assert.equal(principal.userId, ALEX);
  assert.equal(principal.appId, OTHER_APP);
  assert.deepEqual([...principal.scopes], ['Presence.Read']);
  assert.deepEqual([...principal.roles], ['Presently.Admin']);
});

test("a user's tenant is the token's tenant; the object id is found in a non-default tenant too", async () => {
  assert.equal((await mint({ userId: 'fabrice@fabrikam.example' })).principal.tenantId, FABRIKAM);
  assert.equal((await mint({ userId: FAB_USER })).principal.tenantId, FABRIKAM);
  assert.equal((await mint({ userId: FAB_USER, tenantId: FABRIKAM })).principal.userId, FAB_USER);
  assert.equal((await mint({ userId: 'AdeleV@contoso.example', tenantId: CONTOSO.toUpperCase() })).principal.tenantId, CONTOSO);
});

test('scopes and roles also accept one space- or comma-separated string; duplicates are dropped', async () => {
  assert.deepEqual([...(await mint({ userId: ADELE, scopes: 'Presence.Read  Presence.ReadWrite,Presence.Read' })).principal.scopes], [
    'Presence.Read',
    'Presence.ReadWrite',
  ]);
  assert.deepEqual([...(await mint({ roles: 'Presence.Read.All Presently.Admin' })).principal.roles], ['Presence.Read.All', 'Presently.Admin']);
  assert.equal((await mint({ userId: ADELE, scopes: [] })).principal.scopes.size, 0);
});

test('unknown users', async () => {
  await assert.rejects(
    mintDevToken(deps, { userId: 'nobody@contoso.example' }),
    invalid('userId', /^No user 'nobody@contoso\.example' in any tenant\. Create one with POST \/_presently\/tenants\/2b5f4ac6-0f43-4b31-8a3c-2d8b8e4f5c01\/users\.$/),
  );
  const ghost = '11111111-2222-4333-8444-555555555555';
  await assert.rejects(mintDevToken(deps, { userId: ghost }), invalid('userId', /^No user '11111111-2222-4333-8444-555555555555' in any tenant/));
  await assert.rejects(
    mintDevToken(deps, { userId: FAB_USER, tenantId: CONTOSO }),
    invalid('userId', new RegExp(`^No user '${FAB_USER}' in tenant '${CONTOSO}'\\. Create one with POST /_presently/tenants/${CONTOSO}/users\\.$`)),
  );
  await assert.rejects(mintDevToken(deps, { userId: '  ' }), invalid('userId', /not empty/));
});

test('a UPN of another tenant than the one given is refused', async () => {
  await assert.rejects(mintDevToken(deps, { userId: 'AdeleV@contoso.example', tenantId: FABRIKAM }), invalid('tenantId', /belongs to tenant '2b5f4ac6/));
});

test('unknown properties and wrong types', async () => {
  // Names match in any case, as in every request body (docs/decisions.md#d-body-property-case): a misspelling is unknown.
  await assert.rejects(mintDevToken(deps, { user: ADELE }), invalid('user', /'user' does not exist/));
  await assert.rejects(mintDevToken(deps, { scope: 'x' }), invalid('scope', /'scope' does not exist/));
  await assert.rejects(mintDevToken(deps, []), invalid(undefined, /must be a JSON object/));
  await assert.rejects(mintDevToken(deps, 'x'), invalid(undefined, /must be a JSON object/));
  await assert.rejects(mintDevToken(deps, { userId: 42 }), invalid('userId', /must be a string/));
  await assert.rejects(mintDevToken(deps, { appId: 'dev-app' }), invalid('appId', /must be a GUID.*'dev-app'/));
  await assert.rejects(mintDevToken(deps, { tenantId: 'contoso' }), invalid('tenantId', /must be a GUID/));
  await assert.rejects(mintDevToken(deps, { roles: [1] }), invalid('roles', /array of strings/));
  await assert.rejects(mintDevToken(deps, { roles: { a: 1 } }), invalid('roles', /array of strings/));
  await assert.rejects(mintDevToken(deps, { userId: ADELE, scopes: ['Presence."Read'] }), invalid('scopes', /invalid name/));
  await assert.rejects(mintDevToken(deps, { scopes: ['Presence.Read.All'] }), invalid('scopes', /only to delegated tokens/));
});

test('expiresIn: an integer from 60 to 86400', async () => {
  assert.equal((await mintDevToken(deps, { expiresIn: 86400 })).expires_in, 86400);
  for (const expiresIn of [59, 86401, 0, -5, 1.5, '3600', true, 1e20]) {
    await assert.rejects(mintDevToken(deps, { expiresIn }), invalid('expiresIn', /from 60 to 86400/), String(expiresIn));
  }
});
