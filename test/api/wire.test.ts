/**
 * Wire conventions (docs/api/wire-format.md): 405 with Allow on known paths, 400 for unknown segments under /v1.0 and /beta, 404 elsewhere, 413, 415, invalid
 * JSON, empty bodies and unknown action segments — every one a Graph-shaped error.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ADELE, sharedServer, startInProcess, type TestServer } from '../kit/server.ts';
import { assertBadProperty, assertGraphError, bearer, message, readPresence, setStatusOk } from '../kit/graph.ts';
import { forEachBackend } from '../kit/backends.ts';

forEachBackend(['memory', 'redis'], (backend) => {
  const shared = sharedServer(() => startInProcess({ store: backend }));
  /** A setStatusMessage body of exactly `size` bytes (valid JSON; its content is over the length limit when large). */
  function bodyOfSize(size: number): string {
    const empty = JSON.stringify(message(''));
    const body = JSON.stringify(message('x'.repeat(size - empty.length)));
    assert.equal(Buffer.byteLength(body), size);
    return body;
  }

  describe('wire: methods and paths', () => {
    let s: TestServer;
    let adele: string;

    before(async () => {
      s = await shared();
      adele = await s.userToken(ADELE);
    });

    it('405 with an Allow header for a wrong method on a known path', async () => {
      const cases: Array<[string, string, string]> = [
        ['DELETE', '/v1.0/me/presence', 'GET'],
        ['PUT', `/v1.0/users/${ADELE}/presence`, 'GET'],
        ['PATCH', `/beta/users/${ADELE}/presence`, 'GET'],
        ['POST', `/beta/users/${ADELE}/presence`, 'GET'],
        ['POST', `/v1.0/communications/presences/${ADELE}`, 'GET'],
        ['GET', `/v1.0/users/${ADELE}/presence/setStatusMessage`, 'POST'],
        ['GET', '/beta/me/presence/setStatusMessage', 'POST'],
        ['DELETE', `/v1.0/communications/presences/${ADELE}/setStatusMessage`, 'POST'],
        ['GET', '/v1.0/communications/getPresencesByUserId', 'POST'],
        ['POST', '/_presently/health', 'GET'],
        ['DELETE', '/_presently/tokens', 'POST'],
      ];
      for (const [method, url, allow] of cases) {
        const res = await s.inject({ method: method as 'GET', url, headers: bearer(adele) });
        assertGraphError(res, 405, 'MethodNotAllowed', new RegExp(method));
        assert.equal(res.headers.allow, allow, `${method} ${url}`);
      }
    });

    it('405 for a wrong method even without a token (the path is known, whoever asks)', async () => {
      const res = await s.inject({ method: 'DELETE', url: '/v1.0/me/presence' });
      assertGraphError(res, 405, 'MethodNotAllowed');
      assert.equal(res.headers.allow, 'GET');
    });

    it('under /v1.0 and /beta an unknown segment is 400 naming the first one that does not resolve, before authentication', async () => {
      const cases: Array<[string, string]> = [
        ['/v1.0/me/presences', 'presences'],
        ['/v1.0/me/moodRing', 'moodRing'],
        [`/v1.0/users/${ADELE}/calendar`, 'calendar'],
        [`/v1.0/users/${ADELE}/calendar/events`, 'calendar'],
        ['/beta/communications/calls', 'calls'],
        ['/beta/groups', 'groups'],
        ['/v1.0/me/presence/setStatusMessage/extra', 'extra'],
        ['/v1.0/me/Presence%20X', 'Presence X'],
      ];
      for (const [url, segment] of cases) {
        for (const method of ['GET', 'POST', 'DELETE'] as const) {
          for (const headers of [bearer(adele), {}]) {
            const res = await s.inject({ method, url, headers });
            const body = assertGraphError(res, 400, 'BadRequest');
            assert.equal(body.error.message, `Resource not found for the segment '${segment}'.`, `${method} ${url}`);
          }
        }
      }
    });

    it('a path Presently serves only below is 404 naming what it serves there', async () => {
      for (const url of ['/v1.0', '/v1.0/me', `/v1.0/users/${ADELE}`, '/beta/communications', '/v1.0/communications/presences']) {
        const res = await s.inject({ method: 'GET', url, headers: bearer(adele) });
        assertGraphError(res, 404, 'ResourceNotFound', /Presently does not serve GET/);
      }
      const me = await s.inject({ method: 'GET', url: '/v1.0/me', headers: bearer(adele) });
      assert.match((me.json() as { error: { message: string } }).error.message, /presence, mailboxsettings/);
    });

    it('outside Graph\'s trees an unknown path is 404 ResourceNotFound', async () => {
      for (const url of ['/', '/v2.0/me/presence', '/_presently/nothing', '/favicon.ico']) {
        for (const method of ['GET', 'POST'] as const) {
          const res = await s.inject({ method, url, headers: bearer(adele) });
          assertGraphError(res, 404, 'ResourceNotFound');
        }
      }
    });

    it('an unknown action segment is 400 naming it', async () => {
      for (const url of [`/v1.0/users/${ADELE}/presence/setMood`, '/beta/me/presence/setMood', `/v1.0/communications/presences/${ADELE}/setMood`]) {
        const res = await s.inject({
          method: 'POST', url, headers: { 'content-type': 'application/json', ...bearer(adele) }, payload: JSON.stringify(message('x')),
        });
        assertGraphError(res, 400, 'BadRequest', /'setMood'/);
        // Whatever the method: the segment names nothing, so there is no method to allow (not 405).
        for (const method of ['GET', 'DELETE', 'OPTIONS'] as const) {
          const other = await s.inject({ method, url, headers: bearer(adele) });
          assertGraphError(other, 400, 'BadRequest');
          assert.equal((other.json() as { error: { message: string } }).error.message, "Resource not found for the segment 'setMood'.");
        }
      }
    });

    it('HEAD of a presence answers like GET without a body', async () => {
      const res = await s.inject({ method: 'HEAD', url: '/v1.0/me/presence', headers: bearer(adele) });
      assert.equal(res.statusCode, 200);
      assert.equal(res.body, '');
    });

    it('a trailing slash is tolerated', async () => {
      const res = await s.inject({ method: 'GET', url: '/v1.0/me/presence/', headers: bearer(adele) });
      assert.equal(res.statusCode, 200, res.body);
    });
  });

  describe('wire: request bodies', () => {
    let s: TestServer;
    let adele: string;
    const post = (payload: string | Buffer, headers: Record<string, string>, url = `/v1.0/users/${ADELE}/presence/setStatusMessage`) =>
      s.inject({ method: 'POST', url, headers: { ...bearer(adele), ...headers }, payload });

    before(async () => {
      s = await shared();
      adele = await s.userToken(ADELE);
      await setStatusOk(s, ADELE, adele, message('kept'));
    });
    after(async () => {
      assert.equal((await readPresence(s, '/v1.0/me/presence', adele)).statusMessage?.message.content, 'kept', 'no refused request changed anything');
    });

    it('413 for a body over 64 KiB', async () => {
      const res = await post(bodyOfSize(64 * 1024 + 1), { 'content-type': 'application/json' });
      assertGraphError(res, 413, 'RequestEntityTooLarge');
    });

    it('the 413 message states the limit (65536 bytes)', async () => {
      const res = await post(bodyOfSize(64 * 1024 + 1), { 'content-type': 'application/json' });
      const body = assertGraphError(res, 413, 'RequestEntityTooLarge');
      assert.match(body.error.message, /65536|64 KiB/, `the message states the limit: "${body.error.message}"`);
    });

    it('exactly 64 KiB is read (and then refused for its content, not its size)', async () => {
      const res = await post(bodyOfSize(64 * 1024), { 'content-type': 'application/json' });
      assertBadProperty(res, 'statusMessage.message.content');
    });

    it('413 also for getPresencesByUserId and for bodies of the wrong type', async () => {
      const ids = JSON.stringify({ ids: Array.from({ length: 2000 }, () => ADELE) });
      assert.ok(ids.length > 64 * 1024);
      const res = await post(ids, { 'content-type': 'application/json' }, '/v1.0/communications/getPresencesByUserId');
      assertGraphError(res, 413, 'RequestEntityTooLarge');
    });

    it('415 for text/plain, form and other non-JSON bodies', async () => {
      const cases: Array<[string, string]> = [
        ['text/plain', JSON.stringify(message('x'))],
        ['application/x-www-form-urlencoded', 'statusMessage=hello'],
        ['multipart/form-data; boundary=xyz', '--xyz\r\nContent-Disposition: form-data; name="a"\r\n\r\nb\r\n--xyz--\r\n'],
        ['application/xml', '<statusMessage/>'],
      ];
      for (const [type, payload] of cases) {
        const res = await post(payload, { 'content-type': type });
        const body = assertGraphError(res, 415, 'UnsupportedMediaType');
        assert.match(body.error.message, /application\/json/);
      }
    });

    it('a JSON body sent without any Content-Type is 415', async () => {
      const res = await post(JSON.stringify(message('x')), {});
      assertGraphError(res, 415, 'UnsupportedMediaType');
    });

    it('application/json with parameters is accepted', async () => {
      for (const type of ['application/json; charset=utf-8', 'application/json;odata.metadata=minimal', 'Application/JSON']) {
        const res = await post(JSON.stringify(message('kept')), { 'content-type': type });
        assert.equal(res.statusCode, 200, `${type}: ${res.body}`);
      }
    });

    it('invalid JSON is 400', async () => {
      for (const payload of ['{', '{"statusMessage": }', "{'statusMessage': null}", '{"statusMessage": null,}', 'undefined', '\u0000']) {
        const res = await post(payload, { 'content-type': 'application/json' });
        assertGraphError(res, 400, 'BadRequest', /JSON/);
      }
    });

    it('an empty body on setStatusMessage is 400 naming statusMessage (with or without Content-Type)', async () => {
      const variants: Array<Record<string, string>> = [{ 'content-type': 'application/json' }, {}];
      for (const headers of variants) {
        assertBadProperty(await post('', headers), 'statusMessage');
      }
    });

    it('an empty body on getPresencesByUserId is 400 naming ids', async () => {
      const res = await post('', { 'content-type': 'application/json' }, '/v1.0/communications/getPresencesByUserId');
      assertBadProperty(res, 'ids');
    });
  });

  describe('wire: bodyLimit override', () => {
    let s: TestServer;
    let adele: string;

    before(async () => {
      s = await startInProcess({ store: backend, bodyLimit: 1024 });
      adele = await s.userToken(ADELE);
    });
    after(() => s?.close());

    const headers = () => ({ 'content-type': 'application/json', ...bearer(adele) });
    const url = `/v1.0/users/${ADELE}/presence/setStatusMessage`;

    it('the configured limit applies: 1 KiB + 1 is 413, 1 KiB is read', async () => {
      assertGraphError(await s.inject({ method: 'POST', url, headers: headers(), payload: bodyOfSize(1025) }), 413, 'RequestEntityTooLarge');
      const at = await s.inject({ method: 'POST', url, headers: headers(), payload: bodyOfSize(1024) });
      assertBadProperty(at, 'statusMessage.message.content');
    });

    it('the 413 message states the configured limit (1024 bytes)', async () => {
      const over = await s.inject({ method: 'POST', url, headers: headers(), payload: bodyOfSize(1025) });
      const body = assertGraphError(over, 413, 'RequestEntityTooLarge');
      assert.match(body.error.message, /1024|1 KiB/, `the message states the limit: "${body.error.message}"`);
    });
  });
});
