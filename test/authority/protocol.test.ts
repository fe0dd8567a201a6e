/**
 * The dev authority's protocol, in process: the discovery document, Entra-shaped errors, each grant's checks, codes
 * that are single-use and short-lived on the server clock, refresh tokens, and app registrations through the admin
 * API and the seed file.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { decodeJwt } from 'jose';
import { DEMO_APP_SECRET } from '../../src/authority/registrations.ts';
import { DEV_USER_PASSWORD } from '../../src/authority/grants.ts';
import type { ManualClock } from '../../src/platform/clock/manual.ts';
import { ADELE, APP, TENANT, startInProcess, tempDir, type TestServer } from '../kit/server.ts';

const GRAPH_DEFAULT = 'https://graph.microsoft.com/.default';
const VERIFIER = 'a-code-verifier-of-forty-three-characters-or-more-0123';
const CHALLENGE = createHash('sha256').update(VERIFIER).digest('base64url');
const REDIRECT = 'http://localhost:5173/callback';
const SEEDED_APP = '0b9e8d7c-6a5f-4e3d-8c2b-1a0f9e8d7c6b';

describe('dev authority: protocol', () => {
  let s: TestServer;
  let clock: ManualClock;
  let seedDir: string;

  before(async () => {
    seedDir = tempDir();
    const seedFile = join(seedDir, 'seed.json');
    writeFileSync(seedFile, JSON.stringify({
      apps: [{ id: SEEDED_APP, displayName: 'Seeded', secrets: ['seeded-secret-0123456789'], roles: ['Presence.Read.All'], redirectUris: ['https://app.example/cb'] }],
    }));
    s = await startInProcess({ clock: 'manual', seedFile });
    clock = s.presently.clock as ManualClock;
  });
  after(() => s.close());

  const post = (params: Record<string, string>, tenant = TENANT) => s.inject({
    method: 'POST', url: `/${tenant}/oauth2/v2.0/token`,
    headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams(params).toString(),
  });

  async function entraError(params: Record<string, string>, status: number, error: string, code: number, tenant?: string) {
    const res = await post(params, tenant);
    assert.equal(res.statusCode, status, res.body);
    const body = res.json() as Record<string, unknown>;
    assert.equal(body.error, error);
    assert.deepEqual(body.error_codes, [code]);
    assert.match(String(body.error_description), new RegExp(`^AADSTS${code}: .* Trace ID: ${body.trace_id} Correlation ID: ${body.correlation_id} Timestamp: `));
    assert.match(String(body.timestamp), /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/);
    return body;
  }

  /** A code for Adele through the sign-in page's POST; returns the redirect's query. */
  async function code(extra: Record<string, string> = {}): Promise<URLSearchParams> {
    const res = await s.inject({
      method: 'POST', url: `/${TENANT}/oauth2/v2.0/authorize`, headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({
        client_id: APP, response_type: 'code', redirect_uri: REDIRECT, scope: 'Presence.ReadWrite offline_access openid', state: 's1',
        code_challenge: CHALLENGE, code_challenge_method: 'S256', login: `${TENANT}:${ADELE}`, ...extra,
      }).toString(),
    });
    assert.equal(res.statusCode, 302, res.body);
    const location = new URL(res.headers.location as string);
    assert.equal(`${location.origin}${location.pathname}`, REDIRECT);
    return location.searchParams;
  }

  test('answers are plain JSON as Entra ID sends them, not Graph\'s OData JSON', async () => {
    const answers = [
      await s.inject({ method: 'GET', url: `/${TENANT}/v2.0/.well-known/openid-configuration` }),
      await s.inject({ method: 'GET', url: `/${TENANT}/discovery/v2.0/keys` }),
      await post({ grant_type: 'client_credentials', client_id: APP, client_secret: DEMO_APP_SECRET, scope: 'https://graph.microsoft.com/.default' }),
      await post({ grant_type: 'client_credentials', client_id: APP, client_secret: 'wrong', scope: 'https://graph.microsoft.com/.default' }),
    ];
    assert.deepEqual(answers.map((r) => r.statusCode), [200, 200, 200, 401]);
    for (const res of answers) {
      assert.equal(res.headers['content-type'], 'application/json; charset=utf-8', res.body);
      assert.equal(res.headers['odata-version'], undefined);
    }
  });

  test('discovery: endpoints on the address the client used, the issuer matching the tokens', async () => {
    const res = await s.inject({ method: 'GET', url: `/${TENANT}/v2.0/.well-known/openid-configuration`, headers: { host: 'presently.test:8443' } });
    assert.equal(res.statusCode, 200);
    const doc = res.json() as Record<string, string>;
    assert.equal(doc.issuer, `http://presently.test:8443/${TENANT}/v2.0`);
    assert.equal(doc.token_endpoint, `http://presently.test:8443/${TENANT}/oauth2/v2.0/token`);
    assert.equal(doc.jwks_uri, `http://presently.test:8443/${TENANT}/discovery/v2.0/keys`);
    const common = (await s.inject({ method: 'GET', url: '/common/v2.0/.well-known/openid-configuration' })).json() as Record<string, string>;
    assert.equal(common.issuer, 'http://localhost/{tenantid}/v2.0');
    const keys = (await s.inject({ method: 'GET', url: '/organizations/discovery/v2.0/keys' })).json() as { keys: Array<{ kid: string }> };
    assert.equal(keys.keys[0]!.kid, s.presently.issuer.kid);
    const unknown = await s.inject({ method: 'GET', url: '/0e0e0e0e-0000-4000-8000-000000000000/v2.0/.well-known/openid-configuration' });
    assert.equal(unknown.statusCode, 400);
    assert.deepEqual((unknown.json() as { error_codes: number[] }).error_codes, [90002]);
    const token = (await post({ grant_type: 'client_credentials', client_id: APP, client_secret: DEMO_APP_SECRET, scope: GRAPH_DEFAULT })).json() as { access_token: string };
    assert.equal(decodeJwt(token.access_token).iss, `http://localhost/${TENANT}/v2.0`);
  });

  test('/_presently/tokens stamps the same issuer', async () => {
    const res = await s.inject({ method: 'POST', url: '/_presently/tokens', headers: { host: '127.0.0.1:9999' }, payload: {} });
    assert.equal(decodeJwt((res.json() as { access_token: string }).access_token).iss, `http://127.0.0.1:9999/${TENANT}/v2.0`);
  });

  test('client credentials: errors as Entra gives them', async () => {
    const ok = { grant_type: 'client_credentials', client_id: APP, client_secret: DEMO_APP_SECRET, scope: GRAPH_DEFAULT };
    await entraError({ ...ok, client_secret: 'wrong-secret-0123456789' }, 401, 'invalid_client', 7000215);
    await entraError({ grant_type: 'client_credentials', client_id: APP, scope: GRAPH_DEFAULT }, 401, 'invalid_client', 7000216);
    await entraError({ ...ok, client_id: '11111111-2222-4333-8444-555555555555' }, 400, 'unauthorized_client', 700016);
    await entraError({ ...ok, scope: 'Presence.Read.All' }, 400, 'invalid_scope', 1002012);
    await entraError({ ...ok, scope: 'api://other/.default' }, 400, 'invalid_scope', 500011);
    await entraError(ok, 400, 'invalid_request', 50059, 'common');
    await entraError({ ...ok, grant_type: 'implicit' }, 400, 'unsupported_grant_type', 70003);
    await entraError({ client_id: APP }, 400, 'invalid_request', 900144);
  });

  test('password: unknown user, wrong password, a user of another tenant, an unconsented permission', async () => {
    const ok = { grant_type: 'password', client_id: APP, username: 'AdeleV@contoso.example', password: DEV_USER_PASSWORD, scope: 'Presence.Read' };
    assert.equal((await post(ok)).statusCode, 200);
    await entraError({ ...ok, password: 'nope' }, 400, 'invalid_grant', 50126);
    await entraError({ ...ok, username: 'nobody@contoso.example' }, 400, 'invalid_grant', 50034);
    const fabrikam = '9f9f9f9f-0000-4000-8000-000000000000';
    const created = await s.inject({ method: 'POST', url: `/_presently/tenants/${fabrikam}/users`, payload: { userPrincipalName: 'pat@fabrikam.example' } });
    assert.equal(created.statusCode, 201);
    await entraError({ ...ok, username: 'pat@fabrikam.example' }, 400, 'invalid_grant', 50034);
    assert.equal((await post({ ...ok, username: 'pat@fabrikam.example' }, 'organizations')).statusCode, 200);
    await entraError({ ...ok, scope: 'Calendars.Read' }, 400, 'invalid_grant', 65001);
  });

  test('authorization code: single use, PKCE checked, redirect URI must match, expires after 10 minutes of server time', async () => {
    const first = await code();
    assert.equal(first.get('state'), 's1');
    const redeem = { grant_type: 'authorization_code', client_id: APP, redirect_uri: REDIRECT, code_verifier: VERIFIER, code: first.get('code')! };
    const res = await post(redeem);
    assert.equal(res.statusCode, 200, res.body);
    const tokens = res.json() as { access_token: string; refresh_token: string; id_token: string };
    assert.equal(decodeJwt(tokens.access_token).scp, 'Presence.ReadWrite');
    assert.equal(decodeJwt(tokens.id_token).aud, APP);
    await entraError(redeem, 400, 'invalid_grant', 54005);

    await entraError({ ...redeem, code: (await code()).get('code')!, code_verifier: `${VERIFIER}x` }, 400, 'invalid_grant', 50148);
    await entraError({ ...redeem, code: (await code()).get('code')!, redirect_uri: 'http://localhost:5173/other' }, 400, 'invalid_grant', 50011);
    const late = (await code()).get('code')!;
    await clock.advance(10 * 60_000 + 1000);
    await entraError({ ...redeem, code: late }, 400, 'invalid_grant', 70008);

    // The refresh token gets new tokens; as a bearer token at Graph it is refused.
    const refreshed = await post({ grant_type: 'refresh_token', client_id: APP, refresh_token: tokens.refresh_token });
    assert.equal(refreshed.statusCode, 200, refreshed.body);
    const asBearer = await s.inject({ method: 'GET', url: '/v1.0/me/presence', headers: { authorization: `Bearer ${tokens.refresh_token}` } });
    assert.equal(asBearer.statusCode, 401);
  });

  test('authorize: an unregistered redirect URI is shown on a page, never redirected to', async () => {
    const res = await s.inject({ method: 'GET', url: `/${TENANT}/oauth2/v2.0/authorize?client_id=${APP}&response_type=code&redirect_uri=${encodeURIComponent('https://evil.example/cb')}&code_challenge=${CHALLENGE}&code_challenge_method=S256` });
    assert.equal(res.statusCode, 400);
    assert.equal(res.headers.location, undefined);
    assert.match(res.body, /AADSTS50011/);
    const plain = await s.inject({ method: 'GET', url: `/${TENANT}/oauth2/v2.0/authorize?client_id=${APP}&response_type=code&redirect_uri=${encodeURIComponent(REDIRECT)}&code_challenge=${CHALLENGE}&code_challenge_method=plain&state=q` });
    assert.equal(plain.statusCode, 302);
    const back = new URL(plain.headers.location as string).searchParams;
    assert.equal(back.get('error'), 'invalid_request');
    assert.equal(back.get('state'), 'q');
  });

  test('registrations: a secret added through the admin API works, and stops working once deleted; seeded apps work', async () => {
    const app = '3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5e6f';
    assert.equal((await s.inject({ method: 'PUT', url: `/_presently/apps/${app}`, payload: { displayName: 'Scripted', roles: ['Presence.ReadWrite.All'] } })).statusCode, 201);
    const added = await s.inject({ method: 'POST', url: `/_presently/apps/${app}/secrets`, payload: {} });
    assert.equal(added.statusCode, 201);
    const { secretText, keyId } = added.json() as { secretText: string; keyId: string };
    const cc = { grant_type: 'client_credentials', client_id: app, client_secret: secretText, scope: GRAPH_DEFAULT };
    assert.deepEqual(decodeJwt((((await post(cc)).json()) as { access_token: string }).access_token).roles, ['Presence.ReadWrite.All']);
    const shown = (await s.inject({ method: 'GET', url: `/_presently/apps/${app}` })).json() as { secrets: unknown[] };
    assert.deepEqual(shown.secrets, [{ keyId, hint: secretText.slice(0, 3) }]);
    assert.equal((await s.inject({ method: 'DELETE', url: `/_presently/apps/${app}/secrets/${keyId}` })).statusCode, 204);
    await entraError(cc, 401, 'invalid_client', 7000215);

    const seeded = await post({ grant_type: 'client_credentials', client_id: SEEDED_APP, client_secret: 'seeded-secret-0123456789', scope: GRAPH_DEFAULT });
    assert.deepEqual(decodeJwt((seeded.json() as { access_token: string }).access_token).roles, ['Presence.Read.All']);
  });

  test('CORS: the token endpoint answers a preflight and echoes the origin; Graph routes are not changed by it', async () => {
    const pre = await s.inject({
      method: 'OPTIONS', url: `/${TENANT}/oauth2/v2.0/token`,
      headers: { origin: 'http://localhost:5173', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,client-request-id' },
    });
    assert.equal(pre.statusCode, 204);
    assert.equal(pre.headers['access-control-allow-origin'], 'http://localhost:5173');
    assert.equal(pre.headers['access-control-allow-headers'], 'content-type,client-request-id');
    const res = await s.inject({
      method: 'POST', url: `/${TENANT}/oauth2/v2.0/token`, headers: { origin: 'http://localhost:5173', 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'grant_type=client_credentials',
    });
    assert.equal(res.headers['access-control-allow-origin'], 'http://localhost:5173', 'errors carry CORS too, so the app can read them');
  });
});

describe('dev authority: --public-url', () => {
  let s: TestServer;
  before(async () => { s = await startInProcess({ publicUrl: 'https://presence.example.com/' }); });
  after(() => s.close());

  test('the discovery document and the tokens use the public URL, whatever host was called', async () => {
    const doc = (await s.inject({ method: 'GET', url: `/${TENANT}/v2.0/.well-known/openid-configuration`, headers: { host: '10.0.0.5:8080' } })).json() as Record<string, string>;
    assert.equal(doc.issuer, `https://presence.example.com/${TENANT}/v2.0`);
    assert.equal(doc.token_endpoint, `https://presence.example.com/${TENANT}/oauth2/v2.0/token`);
    const res = await s.inject({
      method: 'POST', url: `/${TENANT}/oauth2/v2.0/token`, headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ grant_type: 'client_credentials', client_id: APP, client_secret: DEMO_APP_SECRET, scope: GRAPH_DEFAULT }).toString(),
    });
    assert.equal(decodeJwt((res.json() as { access_token: string }).access_token).iss, doc.issuer);
  });
});
