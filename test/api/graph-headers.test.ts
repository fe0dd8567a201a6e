/**
 * Headers Graph puts on its answers (docs/api/wire-format.md#headers, docs/api/cors.md): Cache-Control and
 * x-ms-ags-diagnostic everywhere, CORS on /v1.0 and /beta (errors included, preflights before authentication), and
 * the WWW-Authenticate Bearer challenge on every 401, per national cloud.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { LightMyRequestResponse } from 'fastify';
import { ADELE, startInProcess, type TestServer } from '../kit/server.ts';
import { assertBaseHeaders, assertGraphError, bearer, message } from '../kit/graph.ts';
import { CLOUDS } from '../../src/config/clouds.ts';
import { graphAuthorizationUri } from '../../src/http/graphHeaders.ts';

/** In dev mode Presently is the authority, so its challenge names its own authorize endpoint [P: d-dev-challenge]. */
const DEV_CHALLENGE = 'Bearer realm="", authorization_uri="http://localhost/common/oauth2/v2.0/authorize", client_id="00000003-0000-0000-c000-000000000000"';
/** `--auth oidc` with an issuer nobody answers for: enough for a 401, which comes before any key is needed. */
const OIDC = { auth: 'oidc', issuers: ['https://127.0.0.1:9/{tenantid}/v2.0'], oidcTimeoutMs: 200 } as const;
const EXPOSED = 'ETag, Location, Preference-Applied, Content-Range, request-id, client-request-id, ReadWriteConsistencyToken, Retry-After, SdkVersion, WWW-Authenticate, x-ms-client-gcc-tenant, X-Planner-Operationid, x-ms-permissions-recommendations';
const ORIGIN = 'https://app.contoso.example';

function assertCors(res: LightMyRequestResponse, where: string): void {
  assert.equal(res.headers['access-control-allow-origin'], '*', `${where}: Access-Control-Allow-Origin`);
  assert.equal(res.headers['access-control-expose-headers'], EXPOSED, `${where}: Access-Control-Expose-Headers`);
  assert.equal(res.headers['access-control-allow-credentials'], undefined, `${where}: no credentials`);
}

describe('Graph headers', () => {
  let s: TestServer;
  let adele: string;

  before(async () => {
    s = await startInProcess();
    adele = await s.userToken(ADELE);
  });
  after(() => s.close());

  it('every answer has Cache-Control: no-cache and x-ms-ags-diagnostic with Presently\'s own ServerInfo', async () => {
    const answers = [
      await s.inject({ method: 'GET', url: '/v1.0/me/presence', headers: bearer(adele) }),
      await s.inject({ method: 'GET', url: '/v1.0/me/presence' }),
      await s.inject({ method: 'GET', url: '/v1.0/me/nothing' }),
      await s.inject({ method: 'DELETE', url: '/v1.0/me/presence' }),
      await s.inject({ method: 'GET', url: '/_presently/health' }),
      await s.inject({ method: 'GET', url: '/_presently/nothing' }),
      await s.inject({ method: 'GET', url: '/v1.0/me/presence%zz' }),
    ];
    for (const res of answers) {
      assertBaseHeaders(res);
      const info = (JSON.parse(String(res.headers['x-ms-ags-diagnostic'])) as { ServerInfo: Record<string, string> }).ServerInfo;
      assert.equal(info.DataCenter, 'Presently');
      assert.equal(info.Slice, 'memory');
      assert.equal(info.Ring, 'global');
      assert.match(info.RoleInstance!, /:\d+$/);
    }
  });

  it('answers under /v1.0 and /beta allow any origin and expose Graph\'s headers, errors included; Presently\'s own paths do not', async () => {
    const graph = [
      await s.inject({ method: 'GET', url: '/beta/me/presence', headers: { ...bearer(adele), origin: ORIGIN } }),
      await s.inject({ method: 'GET', url: '/v1.0/me/presence', headers: { origin: ORIGIN } }),
      await s.inject({ method: 'GET', url: '/v1.0/me/nothing', headers: { origin: ORIGIN } }),
      await s.inject({ method: 'POST', url: '/v1.0/me/presence/setStatusMessage', headers: { origin: ORIGIN, 'content-type': 'text/plain' }, payload: 'x' }),
    ];
    for (const res of graph) assertCors(res, `${res.statusCode}`);
    const own = await s.inject({ method: 'GET', url: '/_presently/health', headers: { origin: ORIGIN } });
    assert.equal(own.headers['access-control-allow-origin'], undefined);
  });

  it('a preflight is 204 with the methods, the asked headers and a max-age, before authentication, on any Graph path', async () => {
    const asked = 'authorization,client-request-id,content-type,sdkversion,prefer,consistencylevel';
    for (const url of ['/v1.0/me/presence', '/v1.0/me/presence/setStatusMessage', `/beta/users/${ADELE}/presence`, '/v1.0/$batch', '/v1.0/subscriptions', '/v1.0/me/nothing']) {
      const res = await s.inject({
        method: 'OPTIONS', url, headers: { origin: ORIGIN, 'access-control-request-method': 'POST', 'access-control-request-headers': asked },
      });
      assert.equal(res.statusCode, 204, url);
      assertCors(res, url);
      assert.equal(res.headers['access-control-allow-methods'], 'GET, POST, PUT, PATCH, DELETE');
      assert.equal(res.headers['access-control-allow-headers'], asked);
      assert.equal(res.headers['access-control-max-age'], '3600');
      assert.equal(res.body, '');
    }
  });

  it('a plain OPTIONS (no preflight) of a served path is 204 with Allow; of an unknown segment, Graph\'s 400', async () => {
    const known = await s.inject({ method: 'OPTIONS', url: '/v1.0/me/presence' });
    assert.equal(known.statusCode, 204);
    assert.equal(known.headers.allow, 'GET');
    const action = await s.inject({ method: 'OPTIONS', url: '/v1.0/me/presence/setStatusMessage' });
    assert.equal(action.headers.allow, 'POST');
    assertGraphError(await s.inject({ method: 'OPTIONS', url: '/v1.0/me/nothing' }), 400, 'BadRequest', "Resource not found for the segment 'nothing'.");
  });

  it('every 401 carries a WWW-Authenticate challenge, in dev mode naming Presently\'s own authority; a 403 does not', async () => {
    const unauthorized = [
      await s.inject({ method: 'GET', url: '/v1.0/me/presence' }),
      await s.inject({ method: 'GET', url: '/v1.0/me/presence', headers: { authorization: 'Bearer not.a.token' } }),
      await s.inject({ method: 'POST', url: '/beta/me/presence/setStatusMessage', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(message('x')) }),
      await s.inject({ method: 'GET', url: '/v1.0/subscriptions' }),
    ];
    for (const res of unauthorized) {
      assertGraphError(res, 401, 'InvalidAuthenticationToken');
      assert.equal(res.headers['www-authenticate'], DEV_CHALLENGE);
    }
    const weak = await s.userToken(ADELE, ['User.Read']);
    const forbidden = await s.inject({ method: 'GET', url: `/v1.0/users/${ADELE}/presence`, headers: bearer(weak) });
    assertGraphError(forbidden, 403, 'Forbidden');
    assert.equal(forbidden.headers['www-authenticate'], undefined);
  });

  it('a $batch item that answers 401 carries the challenge in its own headers; items carry no diagnostics or CORS headers', async () => {
    const res = await s.inject({
      method: 'POST', url: '/v1.0/$batch', headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ requests: [{ id: '1', method: 'GET', url: '/me/presence' }] }),
    });
    const item = (res.json() as { responses: Array<{ status: number; headers: Record<string, string> }> }).responses[0]!;
    assert.equal(item.status, 401);
    assert.equal(item.headers['WWW-Authenticate'], DEV_CHALLENGE);
    assert.equal(item.headers['x-ms-ags-diagnostic'], undefined);
    assert.equal(item.headers['access-control-allow-origin'], undefined);
  });
});

describe('outside dev mode the 401 challenge is Graph\'s, naming the cloud\'s login host', () => {
  for (const [cloud, host] of [['global', 'login.microsoftonline.com'], ['usgov', 'login.microsoftonline.us'], ['dod', 'login.microsoftonline.us']] as const) {
    it(`${cloud}: ${host}`, async (t) => {
      const s = await startInProcess({ cloud, ...OIDC, issuers: [...OIDC.issuers] });
      t.after(() => s.close());
      const res = await s.inject({ method: 'GET', url: '/v1.0/me/presence' });
      const challenge = String(res.headers['www-authenticate'] ?? '');
      assert.equal(res.statusCode, 401);
      assert.equal(challenge, `Bearer realm="", authorization_uri="https://${host}/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"`);
      const diag = JSON.parse(String(res.headers['x-ms-ags-diagnostic'])) as { ServerInfo: { Ring: string } };
      assert.equal(diag.ServerInfo.Ring, cloud);
    });
  }

  it('china (which offers no presence API, so answers 404 before authentication) would name login.chinacloudapi.cn', () => {
    assert.equal(graphAuthorizationUri(CLOUDS.china), 'https://login.chinacloudapi.cn/common/oauth2/authorize');
  });
});
