import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { SignJWT, decodeJwt, generateKeyPair, type JWTPayload } from 'jose';
import { DevIssuer } from '../../src/auth/devIssuer.ts';
import { AuthError } from '../../src/auth/types.ts';
import { CLOCK_TOLERANCE_SECONDS, MSA_TENANT_ID, devVerifier, principalFromClaims, type TokenVerifier } from '../../src/auth/verify.ts';
import { CLOUDS, GRAPH_APP_ID, graphAudiences } from '../../src/config/clouds.ts';
import { ADELE, CONTOSO, DEV_APP, FABRIKAM, GRAPH, fakeClock, fakeStore, type FakeClock } from './fakes.ts';

let clock: FakeClock;
let issuer: DevIssuer;
let verifier: TokenVerifier;

before(async () => {
  clock = fakeClock();
  issuer = await DevIssuer.load(fakeStore(), clock);
  verifier = devVerifier(issuer, clock, graphAudiences(CLOUDS.global));
});

function rejects401(message: RegExp | string): (err: unknown) => boolean {
  return (err) => {
    assert.ok(err instanceof AuthError, `expected AuthError, got ${String(err)}`);
    assert.equal(err.status, 401);
    assert.equal(err.code, 'InvalidAuthenticationToken');
    if (typeof message === 'string') assert.equal(err.message, message);
    else assert.match(err.message, message);
    return true;
  };
}

async function delegated(extra: Partial<Parameters<DevIssuer['issue']>[0]> = {}): Promise<string> {
  const res = await issuer.issue({
    tenantId: CONTOSO,
    userId: ADELE,
    appId: DEV_APP,
    scopes: ['Presence.Read.All', 'Presence.ReadWrite'],
    audience: GRAPH,
    ...extra,
  });
  return res.access_token;
}

test('delegated round trip', async () => {
  const token = await delegated({ tenantId: CONTOSO.toUpperCase(), userId: ADELE.toUpperCase(), appId: DEV_APP.toUpperCase(), roles: ['Presently.Admin'] });
  const p = await verifier.verify(`Bearer ${token}`);
  assert.equal(p.kind, 'delegated');
  assert.equal(p.tenantId, CONTOSO);
  assert.equal(p.userId, ADELE);
  assert.equal(p.appId, DEV_APP);
  assert.deepEqual([...p.scopes], ['Presence.Read.All', 'Presence.ReadWrite']);
  assert.deepEqual([...p.roles], ['Presently.Admin']);
});

test('application round trip', async () => {
  const { access_token } = await issuer.issue({ tenantId: CONTOSO, userId: null, appId: DEV_APP, roles: ['Presence.Read.All', 'Presence.ReadWrite.All'], audience: GRAPH_APP_ID });
  const p = await verifier.verify(`Bearer ${access_token}`);
  assert.equal(p.kind, 'application');
  assert.equal(p.tenantId, CONTOSO);
  assert.equal(p.userId, null);
  assert.equal(p.appId, DEV_APP);
  assert.equal(p.scopes.size, 0);
  assert.deepEqual([...p.roles], ['Presence.Read.All', 'Presence.ReadWrite.All']);
});

test('the scheme is case-insensitive and surrounding blanks are tolerated', async () => {
  const token = await delegated();
  assert.equal((await verifier.verify(`bearer  ${token} `)).userId, ADELE);
  assert.equal((await verifier.verify(`BEARER ${token}`)).userId, ADELE);
});

test('each accepted audience works: graph root, with slash, Graph app id', async () => {
  for (const audience of graphAudiences(CLOUDS.global)) {
    const p = await verifier.verify(`Bearer ${await delegated({ audience })}`);
    assert.equal(p.userId, ADELE);
  }
});

test('missing or empty token → exactly "Access token is empty."', async () => {
  for (const header of [undefined, '', '   ', 'Bearer', 'Bearer ', 'bearer    ']) {
    await assert.rejects(verifier.verify(header), rejects401('Access token is empty.'), `header ${JSON.stringify(header)}`);
  }
});

test('garbage and wrong schemes → invalid token format', async () => {
  const token = await delegated();
  for (const header of ['Bearer abc', 'Bearer a.b', 'Bearer a.b.c', 'Bearer ....', 'Bearer x y z', `Bearer ${token}x!`, 'Bearer eyJ.eyJ.sig']) {
    await assert.rejects(verifier.verify(header), rejects401(/^Access token validation failure\. Invalid token format/), header);
  }
  await assert.rejects(verifier.verify('Basic dXNlcjpwYXNz'), rejects401(/Invalid token format.*Bearer/));
  await assert.rejects(verifier.verify(token), rejects401(/Invalid token format.*Bearer <token>/));
});

test('expired: refused once the clock is past exp plus the tolerance', async () => {
  const c = fakeClock();
  const v = devVerifier(issuer, c, [GRAPH]);
  const token = await delegated({ expiresIn: 600 });
  const exp = decodeJwt(token).exp! * 1000;
  c.set(exp + (CLOCK_TOLERANCE_SECONDS - 1) * 1000);
  assert.equal((await v.verify(`Bearer ${token}`)).userId, ADELE);
  c.set(exp + (CLOCK_TOLERANCE_SECONDS + 1) * 1000);
  await assert.rejects(v.verify(`Bearer ${token}`), rejects401('Lifetime validation failed, the token is expired.'));
});

test('the server clock is used for both stamping and checking (manual clock far from real time)', async () => {
  const c = fakeClock(Date.parse('2040-06-01T00:00:00Z'));
  const iss = await DevIssuer.load(fakeStore(), c);
  const v = devVerifier(iss, c, [GRAPH]);
  const { access_token } = await iss.issue({ tenantId: CONTOSO, userId: null, appId: DEV_APP, audience: GRAPH });
  assert.equal((await v.verify(`Bearer ${access_token}`)).kind, 'application');
  c.advance(3600_000 + CLOCK_TOLERANCE_SECONDS * 1000 + 1000);
  await assert.rejects(v.verify(`Bearer ${access_token}`), rejects401(/expired/));
});

test('not yet valid (nbf ahead of the clock by more than the tolerance)', async () => {
  const token = await issuer.sign({
    ...decodeJwt(await delegated()),
    nbf: Math.floor(clock.now() / 1000) + CLOCK_TOLERANCE_SECONDS + 30,
  });
  await assert.rejects(verifier.verify(`Bearer ${token}`), rejects401(/^Lifetime validation failed, the token is not yet valid/));
});

test('a token without exp is refused', async () => {
  const { exp: _exp, ...claims } = decodeJwt(await delegated());
  const token = await issuer.sign(claims);
  await assert.rejects(verifier.verify(`Bearer ${token}`), rejects401(/^Lifetime validation failed.*no expiry/));
});

test('wrong audience names the expected ones', async () => {
  const token = await delegated({ audience: 'api://something-else' });
  await assert.rejects(
    verifier.verify(`Bearer ${token}`),
    rejects401(/^Invalid audience\. The token's audience is 'api:\/\/something-else'; expected one of: https:\/\/graph\.microsoft\.com, https:\/\/graph\.microsoft\.com\/, 00000003-0000-0000-c000-000000000000\.$/),
  );
  const usgov = devVerifier(issuer, clock, graphAudiences(CLOUDS.usgov));
  await assert.rejects(usgov.verify(`Bearer ${await delegated()}`), rejects401(/Invalid audience.*graph\.microsoft\.us/));
});

test('wrong issuer: a tid-swapped token, re-signed with the right key', async () => {
  const claims = decodeJwt(await delegated());
  const swapped = await issuer.sign({ ...claims, tid: FABRIKAM });
  await assert.rejects(
    verifier.verify(`Bearer ${swapped}`),
    rejects401(`Invalid issuer. The token's issuer is '${issuer.issuerFor(CONTOSO)}'; expected '{server}/${FABRIKAM}/v2.0' for tenant '${FABRIKAM}'.`),
  );
  const foreign = await issuer.sign({ ...claims, iss: `https://sts.windows.net/${CONTOSO}/` });
  await assert.rejects(verifier.verify(`Bearer ${foreign}`), rejects401(/^Invalid issuer/));
  const noIss = await issuer.sign({ ...claims, iss: undefined });
  await assert.rejects(verifier.verify(`Bearer ${noIss}`), rejects401(/^Invalid issuer/));
  const otherServer = await issuer.sign({ ...claims, iss: `https://presently.example:8443/${CONTOSO}/v2.0` });
  assert.equal((await verifier.verify(`Bearer ${otherServer}`)).tenantId, CONTOSO, 'the base is the address the client used');
  const v1Shape = await issuer.sign({ ...claims, iss: `https://presently.example/${CONTOSO}/` });
  await assert.rejects(verifier.verify(`Bearer ${v1Shape}`), rejects401(/^Invalid issuer/));
  const noTid = await issuer.sign({ ...claims, tid: undefined });
  await assert.rejects(verifier.verify(`Bearer ${noTid}`), rejects401(/'tid'/));
});

test('a token signed by another issuer (unknown key) is refused as a signature failure', async () => {
  const other = await DevIssuer.load(fakeStore(), clock);
  const { access_token } = await other.issue({ tenantId: CONTOSO, userId: ADELE, appId: DEV_APP, scopes: ['Presence.Read'], audience: GRAPH });
  await assert.rejects(verifier.verify(`Bearer ${access_token}`), rejects401(/signature/i));
});

test('a token forged with our kid but another key fails signature verification', async () => {
  const { privateKey } = await generateKeyPair('RS256');
  const claims = decodeJwt(await delegated()) as JWTPayload;
  const forged = await new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: issuer.kid }).sign(privateKey);
  await assert.rejects(verifier.verify(`Bearer ${forged}`), rejects401('Access token validation failure. Invalid signature.'));
  // Tampered payload, original signature.
  const [h, , s] = (await delegated()).split('.');
  const body = Buffer.from(JSON.stringify({ ...claims, oid: '00000000-0000-0000-0000-000000000001' })).toString('base64url');
  await assert.rejects(verifier.verify(`Bearer ${h}.${body}.${s}`), rejects401(/Invalid signature/));
});

test('a header that ends like a verified one (its signature, another payload) is verified in full, not taken from the cache', async () => {
  // The cache of verified tokens is keyed by a header's end (src/auth/tokenCache.ts): a hit must still be the whole header.
  const original = await delegated();
  const first = await verifier.verify(`Bearer ${original}`);
  assert.equal(first.userId, ADELE);
  const [h, payload, s] = original.split('.');
  const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString()) as JWTPayload;
  const other = Buffer.from(JSON.stringify({ ...claims, oid: '00000000-0000-0000-0000-000000000001' })).toString('base64url');
  for (const header of [`Bearer ${h}.${other}.${s}`, `bearer ${original}`.replace('bearer', 'Bearer  x'), `${original.slice(-64)}`]) {
    await assert.rejects(verifier.verify(header), (err) => err instanceof AuthError && err.status === 401, header.slice(0, 40));
  }
  // The verified token still passes, as itself.
  assert.deepEqual(await verifier.verify(`Bearer ${original}`), first);
});

test('other algorithms (HS256, none) are refused', async () => {
  const claims = decodeJwt(await delegated()) as JWTPayload;
  const hs = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256', kid: issuer.kid }).sign(new TextEncoder().encode('x'.repeat(32)));
  await assert.rejects(verifier.verify(`Bearer ${hs}`), rejects401(/signature algorithm/));
  const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.`;
  await assert.rejects(verifier.verify(`Bearer ${none}`), (err) => err instanceof AuthError && err.status === 401);
});

test('personal Microsoft accounts → 403', async () => {
  const token = await delegated({ tenantId: MSA_TENANT_ID });
  await assert.rejects(verifier.verify(`Bearer ${token}`), (err) => {
    assert.ok(err instanceof AuthError);
    assert.equal(err.status, 403);
    assert.equal(err.code, 'Forbidden');
    assert.match(err.message, /personal Microsoft accounts are not supported/);
    return true;
  });
});

test('principalFromClaims: delegated vs application', () => {
  const base = { tid: CONTOSO, appid: DEV_APP };
  // Entra app tokens carry the service principal's oid; without scp they are application tokens.
  assert.equal(principalFromClaims({ ...base, oid: ADELE, roles: ['Presence.Read.All'] }).kind, 'application');
  assert.equal(principalFromClaims({ ...base, oid: ADELE, idtyp: 'app', scp: 'Presence.Read' }).kind, 'application');
  const d = principalFromClaims({ ...base, oid: ADELE.toUpperCase(), scp: ' Presence.Read  Presence.ReadWrite ' });
  assert.equal(d.kind, 'delegated');
  assert.equal(d.userId, ADELE);
  assert.deepEqual([...d.scopes], ['Presence.Read', 'Presence.ReadWrite']);
  assert.equal(principalFromClaims({ ...base, oid: ADELE, idtyp: 'user' }).scopes.size, 0);
  // appid falls back to azp; ids lower-cased; non-string roles ignored.
  const a = principalFromClaims({ tid: CONTOSO.toUpperCase(), azp: DEV_APP.toUpperCase(), roles: ['Presence.Read.All', 7, ''] });
  assert.equal(a.appId, DEV_APP);
  assert.equal(a.tenantId, CONTOSO);
  assert.deepEqual([...a.roles], ['Presence.Read.All']);
  assert.throws(() => principalFromClaims({ ...base, scp: 'Presence.Read' }), rejects401(/'oid'/));
  assert.throws(() => principalFromClaims({ appid: DEV_APP }), rejects401(/'tid'/));
  assert.throws(() => principalFromClaims({ tid: CONTOSO }), rejects401(/'appid'/));
  assert.throws(() => principalFromClaims({ ...base, tid: MSA_TENANT_ID.toUpperCase() }), (err) => err instanceof AuthError && err.status === 403);
});
