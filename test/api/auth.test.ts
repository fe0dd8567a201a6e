/**
 * Who may do what (docs/api/permissions.md) as a client sees it: 401 for missing or bad tokens, 403 for missing scopes
 * and roles, `/me` with an app token, personal accounts, and tenant isolation.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { SignJWT, decodeJwt, generateKeyPair } from 'jose';
import { ADELE, ALEX, APP, TENANT, startInProcess, type TestServer } from '../kit/server.ts';
import {
  MSA_TENANT, assertGraphError, bearer, createUser, getPresence, message, mintToken, moveClock, readPresence, setStatus,
  setStatusOk,
} from '../kit/graph.ts';
import { forEachBackend } from '../kit/backends.ts';

forEachBackend(['memory', 'redis'], (backend) => {
  const INVALID = 'InvalidAuthenticationToken';

  describe('401: missing and bad tokens', () => {
    let s: TestServer;

    before(async () => {
      s = await startInProcess({ store: backend });
    });
    after(() => s?.close());

    const targets = [
      { method: 'GET' as const, url: '/v1.0/me/presence' },
      { method: 'GET' as const, url: `/beta/users/${ADELE}/presence` },
      { method: 'GET' as const, url: `/v1.0/communications/presences/${ADELE}` },
      { method: 'POST' as const, url: `/v1.0/users/${ADELE}/presence/setStatusMessage` },
      { method: 'POST' as const, url: '/beta/communications/getPresencesByUserId' },
    ];
    const send = (t: (typeof targets)[number], headers: Record<string, string>) => s.inject({
      method: t.method, url: t.url, headers: { ...headers, ...(t.method === 'POST' ? { 'content-type': 'application/json' } : {}) },
      ...(t.method === 'POST' ? { payload: JSON.stringify(t.url.endsWith('getPresencesByUserId') ? { ids: [ADELE] } : message('x')) } : {}),
    });

    it('no Authorization header: 401 InvalidAuthenticationToken "Access token is empty."', async () => {
      for (const t of targets) assertGraphError(await send(t, {}), 401, INVALID, 'Access token is empty.');
    });

    it('an empty bearer: 401 "Access token is empty."', async () => {
      for (const headers of [{ authorization: '' }, { authorization: 'Bearer' }, { authorization: 'Bearer   ' }]) {
        assertGraphError(await send(targets[0]!, headers), 401, INVALID, 'Access token is empty.');
      }
    });

    it('garbage tokens and wrong schemes: 401 with a message saying what failed', async () => {
      const cases = ['Bearer abc', 'Bearer a.b.c', 'Bearer eyJhbGciOiJSUzI1NiJ9.eyJ0aWQiOiJ4In0.c2ln', 'Basic dXNlcjpwYXNz', 'Bearer 🙂.🙂.🙂'];
      for (const authorization of cases) {
        for (const t of targets) {
          const body = assertGraphError(await send(t, { authorization }), 401, INVALID);
          assert.notEqual(body.error.message, 'Access token is empty.', authorization);
        }
      }
    });

    it('a token without the Bearer scheme says so', async () => {
      const token = await s.userToken(ADELE);
      assertGraphError(await send(targets[0]!, { authorization: token }), 401, INVALID, /Bearer/);
    });

    it('a token signed by a key the server does not trust: 401 naming the signature', async () => {
      const good = decodeJwt(await s.userToken(ADELE));
      const { privateKey } = await generateKeyPair('RS256');
      const forged = await new SignJWT(good).setProtectedHeader({ alg: 'RS256', kid: 'forged' }).sign(privateKey);
      assertGraphError(await send(targets[0]!, bearer(forged)), 401, INVALID, /signature/i);
      // Same kid as the real key, wrong key.
      const kid = s.presently.issuer.kid;
      const forged2 = await new SignJWT(good).setProtectedHeader({ alg: 'RS256', kid }).sign(privateKey);
      assertGraphError(await send(targets[0]!, bearer(forged2)), 401, INVALID, /signature/i);
      // alg none / HS256 are refused.
      const hs = await new SignJWT(good).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode('x'.repeat(32)));
      assertGraphError(await send(targets[0]!, bearer(hs)), 401, INVALID);
      const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify(good)).toString('base64url')}.`;
      assertGraphError(await send(targets[0]!, bearer(none)), 401, INVALID);
    });

    it('a tampered payload (scopes widened) fails the signature check', async () => {
      const token = await s.userToken(ADELE, ['Presence.Read']);
      const [h, p, sig] = token.split('.');
      const claims = JSON.parse(Buffer.from(p!, 'base64url').toString()) as Record<string, unknown>;
      claims.scp = 'Presence.Read.All Presence.ReadWrite';
      const tampered = `${h}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${sig}`;
      assertGraphError(await send(targets[0]!, bearer(tampered)), 401, INVALID, /signature/i);
    });

    it('wrong audience and wrong issuer: 401 naming the check', async () => {
      const claims = decodeJwt(await s.userToken(ADELE));
      const wrongAud = await s.presently.issuer.sign({ ...claims, aud: 'https://management.azure.com' });
      assertGraphError(await send(targets[0]!, bearer(wrongAud)), 401, INVALID, /audience/i);
      const wrongIss = await s.presently.issuer.sign({ ...claims, iss: 'https://login.microsoftonline.com/evil/v2.0' });
      assertGraphError(await send(targets[0]!, bearer(wrongIss)), 401, INVALID, /issuer/i);
      // Graph's app id is an accepted audience.
      const appIdAud = await s.presently.issuer.sign({ ...claims, aud: '00000003-0000-0000-c000-000000000000' });
      assert.equal((await send(targets[0]!, bearer(appIdAud))).statusCode, 200);
    });

    it('a token without exp is refused', async () => {
      const { exp: _exp, ...claims } = decodeJwt(await s.userToken(ADELE));
      assertGraphError(await send(targets[0]!, bearer(await s.presently.issuer.sign(claims))), 401, INVALID, /expir|exp/i);
    });
  });

  describe('401: expired token (manual clock)', () => {
    let s: TestServer;

    before(async () => {
      s = await startInProcess({ store: backend, clock: 'manual' }, { manualStart: Date.parse('2026-11-28T08:00:00Z') });
    });
    after(() => s?.close());

    it('a 60 s token works now and is refused once the clock moved 10 minutes', async () => {
      const user = await mintToken(s, { userId: ADELE, expiresIn: 60 });
      const app = await mintToken(s, { roles: ['Presence.ReadWrite.All'], expiresIn: 60 });
      assert.equal((await getPresence(s, '/v1.0/me/presence', user)).statusCode, 200);
      assert.equal((await getPresence(s, `/v1.0/users/${ADELE}/presence`, app)).statusCode, 200);
      await moveClock(s, { advance: 'PT10M' });
      assertGraphError(await getPresence(s, '/v1.0/me/presence', user), 401, INVALID, /expired/i);
      assertGraphError(await getPresence(s, `/v1.0/users/${ADELE}/presence`, app), 401, INVALID, /expired/i);
      assertGraphError(await setStatus(s, ADELE, user, message('late')), 401, INVALID, /expired/i);
      // A fresh token works again.
      assert.equal((await getPresence(s, '/v1.0/me/presence', await s.userToken(ADELE))).statusCode, 200);
    });

    it('a token whose nbf is in the future is refused', async () => {
      const claims = decodeJwt(await s.userToken(ADELE));
      const future = (claims.iat ?? 0) + 3600;
      const early = await s.presently.issuer.sign({ ...claims, nbf: future, exp: future + 3600 });
      assertGraphError(await getPresence(s, '/v1.0/me/presence', early), 401, INVALID, /nbf|not yet valid/i);
    });
  });

  describe('403: scopes and roles (the table of docs/api/permissions.md)', () => {
    let s: TestServer;
    const forbidden = (res: Awaited<ReturnType<TestServer['inject']>>, message?: string | RegExp) =>
      assertGraphError(res, 403, 'Forbidden', message);

    before(async () => {
      s = await startInProcess({ store: backend });
    });
    after(() => s?.close());

    it('read own presence: Presence.Read, Presence.Read.All or Presence.ReadWrite; nothing else', async () => {
      for (const scopes of [['Presence.Read'], ['Presence.Read.All'], ['Presence.ReadWrite'], ['presence.read']]) {
        const token = await s.userToken(ADELE, scopes);
        for (const url of ['/v1.0/me/presence', `/beta/users/${ADELE}/presence`, `/v1.0/communications/presences/${ADELE}`]) {
          assert.equal((await getPresence(s, url, token)).statusCode, 200, `${scopes.join(' ')} ${url}`);
        }
      }
      for (const scopes of [[], ['User.Read'], ['Presence.Read.Everything'], ['Calendars.Read', 'Mail.Read']]) {
        const token = await s.userToken(ADELE, scopes);
        forbidden(await getPresence(s, '/v1.0/me/presence', token));
        forbidden(await getPresence(s, `/v1.0/users/${ADELE}/presence`, token));
      }
    });

    it('read another user: needs Presence.Read.All (Presence.Read and Presence.ReadWrite are not enough)', async () => {
      const all = await s.userToken(ADELE, ['Presence.Read.All']);
      assert.equal((await getPresence(s, `/v1.0/users/${ALEX}/presence`, all)).statusCode, 200);
      assert.equal((await getPresence(s, `/beta/communications/presences/${ALEX}`, all)).statusCode, 200);
      for (const scopes of [['Presence.Read'], ['Presence.ReadWrite'], ['Presence.Read', 'Presence.ReadWrite'], []]) {
        const token = await s.userToken(ADELE, scopes);
        forbidden(await getPresence(s, `/v1.0/users/${ALEX}/presence`, token), /Presence\.Read\.All/);
        forbidden(await getPresence(s, `/beta/communications/presences/${ALEX}`, token));
      }
    });

    it('write own presence: needs Presence.ReadWrite', async () => {
      const rw = await s.userToken(ADELE, ['Presence.ReadWrite']);
      await setStatusOk(s, ADELE, rw, message('mine'));
      const res = await s.inject({
        method: 'POST', url: '/v1.0/me/presence/setStatusMessage', headers: { 'content-type': 'application/json', ...bearer(rw) },
        payload: JSON.stringify(message('mine via me')),
      });
      assert.equal(res.statusCode, 200, res.body);
      for (const scopes of [['Presence.Read'], ['Presence.Read.All'], ['Presence.ReadWrite.All'], []]) {
        const token = await s.userToken(ADELE, scopes);
        forbidden(await setStatus(s, ADELE, token, message('nope')), /Presence\.ReadWrite/);
      }
      // Refused writes changed nothing.
      assert.equal((await readPresence(s, '/v1.0/me/presence', rw)).statusMessage?.message.content, 'mine via me');
    });

    it('delegated write of another user: 403 "Cannot set the presence of another user" whatever the scopes', async () => {
      for (const scopes of [['Presence.ReadWrite'], ['Presence.ReadWrite', 'Presence.Read.All', 'Presence.ReadWrite.All']]) {
        const token = await s.userToken(ADELE, scopes);
        for (const url of [`/v1.0/users/${ALEX}/presence/setStatusMessage`, `/beta/communications/presences/${ALEX}/setStatusMessage`]) {
          const res = await s.inject({
            method: 'POST', url, headers: { 'content-type': 'application/json', ...bearer(token) }, payload: JSON.stringify(message('hijack')),
          });
          forbidden(res, /Cannot set the presence of another user/);
        }
      }
      const app = await s.appToken(['Presence.Read.All']);
      assert.equal((await readPresence(s, `/v1.0/users/${ALEX}/presence`, app)).statusMessage, null);
    });

    it('application write: needs Presence.ReadWrite.All', async () => {
      const rwAll = await s.appToken(['Presence.ReadWrite.All']);
      await setStatusOk(s, ALEX, rwAll, message('set by the app'));
      for (const roles of [['Presence.Read.All'], [], ['Presence.ReadWrite'], ['User.Read.All']]) {
        const app = await s.appToken(roles);
        forbidden(await setStatus(s, ALEX, app, message('nope')), /Presence\.ReadWrite\.All/);
      }
    });

    it('application with only Presence.Read.All can read anyone but not write', async () => {
      const app = await s.appToken(['Presence.Read.All']);
      for (const url of [`/v1.0/users/${ADELE}/presence`, `/beta/communications/presences/${ALEX}`]) {
        assert.equal((await getPresence(s, url, app)).statusCode, 200);
      }
      forbidden(await setStatus(s, ADELE, app, message('nope')));
    });

    it('application with no presence role cannot read', async () => {
      for (const roles of [[], ['Presence.Read'], ['User.Read.All']]) {
        const app = await s.appToken(roles);
        forbidden(await getPresence(s, `/v1.0/users/${ADELE}/presence`, app));
      }
    });

    it('/me with an application token is 400', async () => {
      const app = await s.appToken(['Presence.ReadWrite.All']);
      assertGraphError(await getPresence(s, '/v1.0/me/presence', app), 400, 'BadRequest', /delegated/);
      const res = await s.inject({
        method: 'POST', url: '/beta/me/presence/setStatusMessage', headers: { 'content-type': 'application/json', ...bearer(app) },
        payload: JSON.stringify(message('x')),
      });
      assertGraphError(res, 400, 'BadRequest', /delegated/);
    });

    it('scope and role names match case-insensitively', async () => {
      const user = await s.userToken(ADELE, ['presence.read.all']);
      assert.equal((await getPresence(s, `/v1.0/users/${ALEX}/presence`, user)).statusCode, 200);
      const app = await s.appToken(['PRESENCE.READWRITE.ALL']);
      await setStatusOk(s, ALEX, app, message('shouting'));
    });
  });

  describe('personal accounts and tenants', () => {
    let s: TestServer;
    const OTHER_TENANT = 'b4f5d6e7-1a2b-4c3d-9e8f-0a1b2c3d4e5f';
    let outsider: string;

    before(async () => {
      s = await startInProcess({ store: backend });
      outsider = await createUser(s, OTHER_TENANT, { displayName: 'Fabrikam User', userPrincipalName: 'user@fabrikam.example' });
    });
    after(() => s?.close());

    it('personal Microsoft account tenant: 403 (application token minted for that tenant)', async () => {
      const app = await mintToken(s, { tenantId: MSA_TENANT, roles: ['Presence.ReadWrite.All'] });
      const res = await getPresence(s, `/v1.0/users/${ADELE}/presence`, app);
      assertGraphError(res, 403, 'Forbidden', /personal/i);
      assertGraphError(await setStatus(s, ADELE, app, message('x')), 403, 'Forbidden', /personal/i);
    });

    it('personal Microsoft account tenant: 403 (delegated token signed with the dev key)', async () => {
      const claims = decodeJwt(await s.userToken(ADELE));
      const msaUser = randomUUID();
      const token = await s.presently.issuer.sign({
        ...claims, tid: MSA_TENANT, iss: s.presently.issuer.issuerFor(MSA_TENANT), oid: msaUser, sub: msaUser,
      });
      assertGraphError(await getPresence(s, '/v1.0/me/presence', token), 403, 'Forbidden', /personal/i);
      assertGraphError(await getPresence(s, `/v1.0/users/${ADELE}/presence`, token), 403, 'Forbidden');
    });

    it('a user of another tenant is 404 to the demo tenant, as if there were no such user', async () => {
      const nobody = randomUUID();
      const adele = await s.userToken(ADELE);
      const app = await s.appToken(['Presence.ReadWrite.All']);
      for (const token of [adele, app]) {
        for (const url of [`/v1.0/users/${outsider}/presence`, `/beta/communications/presences/${outsider}`]) {
          const other = assertGraphError(await getPresence(s, url, token), 404, 'ResourceNotFound');
          const none = assertGraphError(await getPresence(s, url.replace(outsider, nobody), token), 404, 'ResourceNotFound');
          assert.equal(other.error.message.replace(outsider, 'ID'), none.error.message.replace(nobody, 'ID'), 'indistinguishable');
        }
      }
      assertGraphError(await setStatus(s, outsider, app, message('cross-tenant')), 404, 'ResourceNotFound');
      // The getPresencesByUserId view of it: like an unknown id.
      const res = await s.inject({
        method: 'POST', url: '/v1.0/communications/getPresencesByUserId', headers: { 'content-type': 'application/json', ...bearer(app) },
        payload: JSON.stringify({ ids: [outsider] }),
      });
      assert.equal(res.statusCode, 200, res.body);
      const [item] = (res.json() as { value: Array<{ id: string; availability: string; activity: string }> }).value;
      assert.deepEqual([item?.id, item?.availability, item?.activity], [outsider, 'PresenceUnknown', 'PresenceUnknown']);
    });

    it('the other tenant\'s own tokens see their user, and not the demo tenant\'s', async () => {
      const own = await mintToken(s, { userId: 'user@fabrikam.example' });
      const p = await readPresence(s, '/v1.0/me/presence', own);
      assert.equal(p.id, outsider);
      await setStatusOk(s, outsider, own, message('Fabrikam status'));
      assertGraphError(await getPresence(s, `/v1.0/users/${ADELE}/presence`, own), 404, 'ResourceNotFound');
      const otherApp = await mintToken(s, { tenantId: OTHER_TENANT, roles: ['Presence.Read.All'] });
      assert.equal((await readPresence(s, `/v1.0/users/${outsider}/presence`, otherApp)).statusMessage?.message.content, 'Fabrikam status');
      assertGraphError(await getPresence(s, `/v1.0/users/${ALEX}/presence`, otherApp), 404, 'ResourceNotFound');
      // The demo tenant's view of its own users is untouched.
      const adele = await s.userToken(ADELE);
      assert.equal((await readPresence(s, '/v1.0/me/presence', adele)).statusMessage, null);
      assert.equal(TENANT, (decodeJwt(adele) as { tid?: string }).tid);
      assert.equal(APP, (decodeJwt(adele) as { azp?: string }).azp);
    });
  });
});
