/**
 * One Presently as the identity provider of another: a node with `--auth oidc --issuer {devURL}/{tenantid}/v2.0`
 * accepts the tokens a dev-mode Presently's authority issues (client credentials with the demo app's well-known
 * secret, and a user's password grant), discovering the issuer and its keys over HTTP as it would Entra ID's; and it
 * refuses what that authority did not sign.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { DEV_USER_PASSWORD } from '../../src/authority/grants.ts';
import { DEMO_APP_SECRET } from '../../src/authority/registrations.ts';
import { assertGraphError, bearer } from '../kit/graph.ts';
import { ADELE, APP, TENANT, startInProcess, type TestServer } from '../kit/server.ts';

describe('Presently in --auth oidc against a dev-mode Presently as its issuer', () => {
  let authority: TestServer;
  let service: TestServer;
  let authorityUrl: string;

  before(async () => {
    authority = await startInProcess();
    authorityUrl = await authority.listen();
    service = await startInProcess({ auth: 'oidc', issuers: [`${authorityUrl}/{tenantid}/v2.0`] });
    // The service fetches the discovery document and keys when it starts: wait (bounded) until it says it is ready.
    for (let i = 0; ; i++) {
      const ready = await service.inject({ method: 'GET', url: '/_presently/ready' });
      if (ready.statusCode === 200) break;
      if (i === 100) assert.fail(`the service never became ready: ${ready.body}`);
      await sleep(50);
    }
  });
  after(async () => {
    await service?.close();
    await authority?.close();
  });

  const tokenFrom = async (form: Record<string, string>): Promise<string> => {
    const res = await fetch(`${authorityUrl}/${TENANT}/oauth2/v2.0/token`, { method: 'POST', body: new URLSearchParams(form) });
    const body = await res.json() as { access_token?: string; error_description?: string };
    assert.equal(res.status, 200, body.error_description);
    return body.access_token!;
  };

  it('an app token from the authority\'s client-credentials grant reads a presence on the service', async () => {
    const token = await tokenFrom({
      grant_type: 'client_credentials', client_id: APP, client_secret: DEMO_APP_SECRET, scope: 'https://graph.microsoft.com/.default',
    });
    const res = await service.inject({ method: 'GET', url: `/v1.0/users/${ADELE}/presence`, headers: bearer(token) });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal((res.json() as { id: string }).id, ADELE);
  });

  it('a user signed in by password sets and reads their own status on the service', async () => {
    const token = await tokenFrom({
      grant_type: 'password', client_id: APP, username: 'AdeleV@contoso.example', password: DEV_USER_PASSWORD,
      scope: 'Presence.ReadWrite Presence.Read.All',
    });
    const set = await service.inject({
      method: 'POST', url: '/v1.0/me/presence/setStatusMessage', headers: bearer(token),
      payload: { statusMessage: { message: { content: 'Signed in at another Presently', contentType: 'text' } } },
    });
    assert.equal(set.statusCode, 200, set.body);
    const me = await service.inject({ method: 'GET', url: '/v1.0/me/presence', headers: bearer(token) });
    assert.equal((me.json() as { statusMessage: { message: { content: string } } }).statusMessage.message.content, 'Signed in at another Presently');
  });

  it('a token whose issuer names another address than the configured one is refused with 401', async () => {
    // The authority's own /_presently/tokens endpoint signs with the same key, but names the address it was asked at.
    const viaOtherHost = await authority.userToken(ADELE);
    const res = await service.inject({ method: 'GET', url: '/v1.0/me/presence', headers: bearer(viaOtherHost) });
    assertGraphError(res, 401, 'InvalidAuthenticationToken', /Invalid issuer/);
  });
});
