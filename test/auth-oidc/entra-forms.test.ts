/**
 * Tokens shaped as Entra ID issues them, signed by a local issuer whose discovery document names Entra's
 * multi-tenant templates (`{base}/{tenantid}/v2.0`, v1 `{base}/{tenantid}/`): the template is matched against the
 * token's own `tid`; and every bad token is refused with a 401 that names why — none reaches a key lookup it should
 * not, and no URL in a token is ever fetched.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID, createPublicKey, createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { JWTPayload } from 'jose';
import { expandIssuers, issuerMatches, issuerSpec } from '../../src/auth/oidc/issuers.ts';
import type { ManualClock } from '../../src/platform/clock/manual.ts';
import { assertGraphError, bearer } from '../kit/graph.ts';
import { startJwksServer, type JwksServer } from '../kit/jwksServer.ts';
import { signingKey } from '../kit/oidcProvider.ts';
import { startInProcess, type TestServer } from '../kit/server.ts';

const GRAPH = 'https://graph.microsoft.com';
const APP_ID = '0e4f2c07-2ad0-4ce5-8c1e-1c4f3a3c9d10';

describe('Entra ID issuer forms', () => {
  let jwks: JwksServer;
  let s: TestServer;
  const tenant = randomUUID();
  before(async () => {
    jwks = await startJwksServer();
    s = await startInProcess({ clock: 'manual', auth: 'oidc', issuers: [jwks.v2Template, jwks.v1Template] });
  });
  after(async () => {
    await s?.close();
    await jwks?.close();
  });

  /** Claims of an Entra v2 delegated Graph token for a new user of `tid`, valid from now for an hour. */
  const claims = (over: JWTPayload = {}, tid = tenant): JWTPayload => {
    const now = Math.floor(s.presently.clock.now() / 1000);
    return {
      aud: GRAPH, iss: jwks.v2Template.replace('{tenantid}', tid), iat: now, nbf: now, exp: now + 3600, tid, oid: randomUUID(),
      azp: APP_ID, idtyp: 'user', scp: 'Presence.Read Presence.ReadWrite', name: 'Megan Bowen', preferred_username: 'MeganB@contoso.example', ver: '2.0', ...over,
    };
  };
  const me = (token: string) => s.inject({ method: 'GET', url: '/v1.0/me/presence', headers: bearer(token) });
  const refused = async (token: string, reason: RegExp) => assertGraphError(await me(token), 401, 'InvalidAuthenticationToken', reason);

  it('the v2 template accepts a token whose issuer names its own tid, for any tenant', async () => {
    for (const tid of [tenant, randomUUID()]) {
      const res = await me(await jwks.sign(claims({}, tid)));
      assert.equal(res.statusCode, 200, res.body);
    }
  });

  it('the v1 form https://sts.windows.net/{tid}/ is matched the same way', async () => {
    const res = await me(await jwks.sign(claims({ iss: jwks.v1Template.replace('{tenantid}', tenant), ver: '1.0', appid: APP_ID, azp: undefined, upn: 'x@contoso.example', preferred_username: undefined })));
    assert.equal(res.statusCode, 200, res.body);
  });

  it('an issuer naming another tenant than the token\'s tid is refused', async () => {
    await refused(await jwks.sign(claims({ iss: jwks.v2Template.replace('{tenantid}', randomUUID()) })), /Invalid issuer/);
    await refused(await jwks.sign(claims({ iss: `${jwks.base}/common/v2.0` })), /Invalid issuer/);
  });

  it('expired and not-yet-valid tokens are refused, with at most 5 minutes of skew', async () => {
    const now = Math.floor(s.presently.clock.now() / 1000);
    assert.equal((await me(await jwks.sign(claims({ exp: now - 290 })))).statusCode, 200, 'expired 290 s ago: within the skew');
    await refused(await jwks.sign(claims({ exp: now - 310 })), /Lifetime validation failed, the token is expired/);
    assert.equal((await me(await jwks.sign(claims({ nbf: now + 290 })))).statusCode, 200, 'valid in 290 s: within the skew');
    await refused(await jwks.sign(claims({ nbf: now + 310 })), /not yet valid/);
    await refused(await jwks.sign(claims({ exp: undefined })), /no expiry/);
  });

  it('a cached token is refused once it expires', async () => {
    const token = await jwks.sign(claims());
    assert.equal((await me(token)).statusCode, 200);
    await (s.presently.clock as ManualClock).advance(3600_000 + 301_000);
    await refused(token, /expired/);
  });

  it('alg none is refused', async () => {
    const [, payload] = (await jwks.sign(claims())).split('.');
    const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
    await refused(`${header}.${payload}.`, /unsigned \(alg 'none'\)/);
  });

  it('an HMAC signature made with the issuer\'s public key is refused', async () => {
    const pem = createPublicKey({ key: { kty: jwks.key.kty!, n: jwks.key.n!, e: jwks.key.e! }, format: 'jwk' }).export({ type: 'spki', format: 'pem' });
    const header = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT', kid: jwks.key.kid })).toString('base64url');
    const payload = Buffer.from(JSON.stringify(claims())).toString('base64url');
    const signature = createHmac('sha256', pem).update(`${header}.${payload}`).digest('base64url');
    await refused(`${header}.${payload}.${signature}`, /HMAC-signed \(alg 'HS256'\)/);
  });

  it('jku, x5u and jwk headers are refused and never fetched', async () => {
    const attacker = await signingKey('attacker');
    const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...attackerPublic } = attacker;
    const before = jwks.hits.length;
    await refused(await jwks.sign(claims(), { jku: `${jwks.base}/attacker-keys` }, attacker), /carries 'jku'.*never fetched/);
    await refused(await jwks.sign(claims(), { x5u: `${jwks.base}/attacker-cert` }, attacker), /carries 'x5u'/);
    await refused(await jwks.sign(claims(), { jwk: attackerPublic }, attacker), /carries 'jwk'/);
    assert.deepEqual(jwks.hits.slice(before), [], 'no request reached the URLs named in the tokens');
  });

  it('a key the issuer does not publish is refused naming it; a bad signature too', async () => {
    await refused(await jwks.sign(claims(), {}, await signingKey('not-published')), /signing key 'not-published' is not one that issuer/);
    const forged = await jwks.sign(claims(), {}, { ...(await signingKey('x')), kid: jwks.key.kid! });
    await refused(forged, /Invalid signature/);
  });

  it('the personal-account tenant is refused as Graph refuses it', async () => {
    const msa = '9188040d-6c67-4c5b-b112-36a304b66dad';
    assertGraphError(await me(await jwks.sign(claims({}, msa))), 403, 'Forbidden', /personal Microsoft accounts/);
  });
});

describe('issuer templates of the real clouds', () => {
  it('entra names the cloud\'s v2 and v1 templates; discovery goes to the cloud\'s sign-in host', () => {
    assert.deepEqual(expandIssuers(['entra'], 'global'), ['https://login.microsoftonline.com/{tenantid}/v2.0', 'https://sts.windows.net/{tenantid}/']);
    assert.deepEqual(expandIssuers(['entra'], 'usgov'), ['https://login.microsoftonline.us/{tenantid}/v2.0', 'https://sts.windows.net/{tenantid}/']);
    assert.deepEqual(expandIssuers(['entra'], 'china'), ['https://login.chinacloudapi.cn/{tenantid}/v2.0', 'https://sts.chinacloudapi.cn/{tenantid}/']);
    assert.equal(issuerSpec('https://login.microsoftonline.com/{TenantId}/v2.0').discoveryUrl, 'https://login.microsoftonline.com/common/v2.0/.well-known/openid-configuration');
    assert.equal(issuerSpec('https://sts.windows.net/{tenantid}/').discoveryUrl, 'https://login.microsoftonline.com/common/.well-known/openid-configuration');
    assert.equal(issuerSpec('https://sts.chinacloudapi.cn/{tenantid}/').discoveryUrl, 'https://login.chinacloudapi.cn/common/.well-known/openid-configuration');
    const single = issuerSpec('https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0');
    assert.equal(single.discoveryUrl, 'https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0/.well-known/openid-configuration');
  });

  it('a template matches only its own tid; a single-tenant issuer only itself', () => {
    const tid = '72f988bf-86f1-41af-91ab-2d7cd011db47';
    const v2 = issuerSpec('https://login.microsoftonline.com/{tenantid}/v2.0');
    assert.ok(issuerMatches(v2, `https://login.microsoftonline.com/${tid}/v2.0`, tid));
    assert.ok(!issuerMatches(v2, `https://login.microsoftonline.com/${tid}/v2.0`, randomUUID()));
    assert.ok(!issuerMatches(v2, 'https://login.microsoftonline.com/not-a-guid/v2.0', 'not-a-guid'));
    assert.ok(!issuerMatches(v2, `https://login.microsoftonline.com/${tid}/v2.0`, undefined));
    const v1 = issuerSpec('https://sts.windows.net/{tenantid}/');
    assert.ok(issuerMatches(v1, `https://sts.windows.net/${tid}/`, tid));
    const one = issuerSpec(`https://login.microsoftonline.com/${tid}/v2.0`);
    assert.ok(issuerMatches(one, `https://login.microsoftonline.com/${tid}/v2.0`, randomUUID()) === true, 'a concrete issuer is compared as is');
  });
});

describe('users on first use: names, stand-ins and re-creation', () => {
  let jwks: JwksServer;
  let s: TestServer;
  const tenant = randomUUID();
  const ADMIN_KEY = 'first-use-admin-key-0123456789';
  before(async () => {
    jwks = await startJwksServer();
    s = await startInProcess({ auth: 'oidc', issuers: [jwks.v2Template], adminKey: ADMIN_KEY });
  });
  after(async () => {
    await s?.close();
    await jwks?.close();
  });

  const token = (oid: string, over: JWTPayload = {}) => {
    const now = Math.floor(Date.now() / 1000);
    return jwks.sign({
      aud: GRAPH, iss: jwks.v2Template.replace('{tenantid}', tenant), iat: now, exp: now + 3600, tid: tenant, oid, azp: APP_ID,
      idtyp: 'user', scp: 'Presence.ReadWrite', ...over,
    });
  };
  const users = async () => ((await s.inject({ method: 'GET', url: `/_presently/tenants/${tenant}/users`, headers: { authorization: `Bearer ${ADMIN_KEY}` } }))
    .json() as { value: Array<{ id: string; displayName: string; userPrincipalName: string }> }).value;
  const me = async (t: string) => s.inject({ method: 'GET', url: '/v1.0/me/presence', headers: bearer(t) });

  it('a UPN another user holds, or none, gives the stand-in {oid}@{tid}', async () => {
    const taken = randomUUID();
    const none = randomUUID();
    assert.equal((await me(await token(taken, { name: 'Not Adele', preferred_username: 'AdeleV@contoso.example' }))).statusCode, 200);
    assert.equal((await me(await token(none))).statusCode, 200);
    const byId = new Map((await users()).map((u) => [u.id, u]));
    assert.deepEqual(byId.get(taken), { id: taken, tenantId: tenant, displayName: 'Not Adele', userPrincipalName: `${taken}@${tenant}` });
    assert.deepEqual(byId.get(none), { id: none, tenantId: tenant, displayName: `${none}@${tenant}`, userPrincipalName: `${none}@${tenant}` });
  });

  it('twenty first calls at once make one user', async () => {
    const oid = randomUUID();
    const tokens = await Promise.all(Array.from({ length: 20 }, (_, i) => token(oid, { preferred_username: 'rush@fabrikam.example', jti: String(i) })));
    const answers = await Promise.all(tokens.map(me));
    assert.deepEqual([...new Set(answers.map((r) => r.statusCode))], [200]);
    assert.equal((await users()).filter((u) => u.id === oid).length, 1);
  });

  it('a user deleted through the admin API is made again by their next token', async () => {
    const oid = randomUUID();
    assert.equal((await me(await token(oid, { preferred_username: 'again@fabrikam.example' }))).statusCode, 200);
    const del = await s.inject({ method: 'DELETE', url: `/_presently/tenants/${tenant}/users/${oid}`, headers: { authorization: `Bearer ${ADMIN_KEY}` } });
    assert.equal(del.statusCode, 204, del.body);
    assert.ok(!(await users()).some((u) => u.id === oid));
    assert.equal((await me(await token(oid, { preferred_username: 'again@fabrikam.example', jti: 'new' }))).statusCode, 200);
    assert.ok((await users()).some((u) => u.id === oid && u.userPrincipalName === 'again@fabrikam.example'));
  });
});

describe('an issuer that accepts connections and never answers', () => {
  it('bounds the start by --oidc-timeout and says so; requests get 503, not a hang', async (t) => {
    const silent = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    t.after(() => new Promise<void>((resolve) => {
      silent.closeAllConnections();
      silent.close(() => resolve());
    }));
    const issuer = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/{tenantid}/v2.0`;
    const started = Date.now();
    const s = await startInProcess({ auth: 'oidc', issuers: [issuer], oidcTimeoutMs: 300 });
    t.after(() => s.close());
    assert.ok(Date.now() - started < 5000, `started in ${Date.now() - started} ms`);
    assertGraphError(await s.inject({ method: 'GET', url: '/_presently/ready' }), 503, 'ServiceUnavailable', /no answer within 300 ms/);
    const tid = randomUUID();
    const now = Math.floor(Date.now() / 1000);
    const jwks = await startJwksServer();
    t.after(() => jwks.close());
    const token = await jwks.sign({ aud: GRAPH, iss: issuer.replace('{tenantid}', tid), iat: now, exp: now + 600, tid, oid: randomUUID(), scp: 'Presence.Read', azp: APP_ID });
    const res = await s.inject({ method: 'GET', url: '/v1.0/me/presence', headers: bearer(token) });
    assertGraphError(res, 503, 'ServiceUnavailable', /not loaded/);
    assert.ok(Number(res.headers['retry-after']) >= 1);
  });
});
