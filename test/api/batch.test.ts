/**
 * JSON batching, `POST /{version}/$batch` (https://learn.microsoft.com/graph/json-batching): every item answers
 * exactly as the same request sent on its own would, dependsOn follows Graph's patterns with 424 for dependants of a
 * failure, and a bad batch is a 400 naming the problem — never a 500.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { LightMyRequestResponse } from 'fastify';
import { ADELE, ALEX, MEGAN, TENANT, sharedServer, startInProcess, type TestServer } from '../kit/server.ts';
import {
  GUID_RE, ODATA_JSON, VERSIONS, assertGraphError, assertJsonHeaders, bearer, createUser, message, readPresence,
  setStatusOk, type GraphErrorBody, type PresenceJson,
} from '../kit/graph.ts';
import { forEachBackend } from '../kit/backends.ts';

forEachBackend(['memory', 'redis'], (backend) => {
  const shared = sharedServer(() => startInProcess({ store: backend }));
  const HOST = 'presently.test:8080';

  interface BatchRequest {
    id: string;
    method: string;
    url: string;
    headers?: Record<string, string>;
    body?: unknown;
    dependsOn?: string[];
  }

  interface BatchItemResponse {
    id: string;
    status: number;
    headers: Record<string, string>;
    body?: unknown;
  }

  function postBatch(
    s: TestServer,
    token: string | null,
    body: unknown,
    opts: { version?: string; headers?: Record<string, string> } = {},
  ): Promise<LightMyRequestResponse> {
    return s.inject({
      method: 'POST',
      url: `/${opts.version ?? 'v1.0'}/$batch`,
      headers: { 'content-type': 'application/json', host: HOST, ...(token ? bearer(token) : {}), ...opts.headers },
      payload: typeof body === 'string' ? body : JSON.stringify(body),
    });
  }

  /** A batch that must be accepted: 200 with the wire headers and one response per request, in request order. */
  async function batchOk(
    s: TestServer,
    token: string | null,
    requests: BatchRequest[],
    opts: { version?: string; headers?: Record<string, string> } = {},
  ): Promise<Map<string, BatchItemResponse>> {
    const res = await postBatch(s, token, { requests }, opts);
    assert.equal(res.statusCode, 200, res.body);
    assertJsonHeaders(res, opts.headers?.['client-request-id']);
    const body = res.json() as { responses: BatchItemResponse[] };
    assert.deepEqual(Object.keys(body), ['responses']);
    assert.deepEqual(body.responses.map((r) => r.id), requests.map((r) => r.id));
    for (const r of body.responses) {
      assert.equal(typeof r.status, 'number');
      assert.equal(typeof r.headers, 'object');
      assert.notEqual(r.status, 500, `item ${r.id} answered 500: ${JSON.stringify(r.body)}`);
    }
    return new Map(body.responses.map((r) => [r.id, r]));
  }

  /** A Graph error inside a batch response: status, code, message, the full error shape. */
  function assertItemError(item: BatchItemResponse | undefined, status: number, code: string, message?: string | RegExp): GraphErrorBody {
    assert.ok(item, 'no response for the item');
    assert.equal(item.status, status, `item ${item.id}: ${item.status} ${JSON.stringify(item.body)}`);
    assert.equal(item.headers['Content-Type'], ODATA_JSON);
    const body = item.body as GraphErrorBody;
    assert.deepEqual(Object.keys(body), ['error']);
    assert.deepEqual(Object.keys(body.error).sort(), ['code', 'innerError', 'message']);
    assert.equal(body.error.code, code);
    if (typeof message === 'string') assert.equal(body.error.message, message);
    else if (message) assert.match(body.error.message, message);
    assert.deepEqual(Object.keys(body.error.innerError).sort(), ['client-request-id', 'date', 'request-id']);
    assert.match(body.error.innerError.date, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/);
    assert.match(body.error.innerError['request-id'], GUID_RE);
    return body;
  }

  const get = (id: string, url: string, extra: Partial<BatchRequest> = {}): BatchRequest => ({ id, method: 'GET', url, ...extra });
  const setMessage = (id: string, userId: string, content: string, extra: Partial<BatchRequest> = {}): BatchRequest => ({
    id, method: 'POST', url: `/users/${userId}/presence/setStatusMessage`,
    headers: { 'Content-Type': 'application/json' }, body: message(content), ...extra,
  });

  describe('$batch: items answer as direct calls', () => {
    let s: TestServer;
    let app: string;
    let adele: string;
    const users: string[] = [];

    before(async () => {
      s = await shared();
      app = await s.appToken(['Presence.ReadWrite.All']);
      adele = await s.userToken(ADELE);
      users.push(ADELE, ALEX, MEGAN, '5f7c2a10-3b9e-4d1a-8e2f-6a4b9c1d2e30', 'c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e5f');
      for (let i = users.length; i < 20; i++) users.push(await createUser(s, TENANT, { userPrincipalName: `batch${i}@contoso.example` }));
      await setStatusOk(s, MEGAN, app, message('Megan is batched'));
    });

    it('20 GETs of 20 users: all 200, each body equal to the direct GET, headers as Graph writes them', async () => {
      const requests = users.map((u, i) => get(String(i + 1), i % 2 ? `/users/${u}/presence` : `users/${u}/presence`));
      const responses = await batchOk(s, app, requests);
      for (const [i, u] of users.entries()) {
        const item = responses.get(String(i + 1))!;
        assert.equal(item.status, 200, JSON.stringify(item.body));
        assert.equal(item.headers['Content-Type'], ODATA_JSON);
        assert.equal(item.headers['OData-Version'], '4.0');
        assert.match(item.headers['request-id'] ?? '', GUID_RE);
        for (const hopByHop of ['content-length', 'connection', 'transfer-encoding', 'date']) {
          assert.ok(!Object.keys(item.headers).some((h) => h.toLowerCase() === hopByHop), `${hopByHop} copied into item ${i + 1}`);
        }
        const direct = await s.inject({ method: 'GET', url: `/v1.0/users/${u}/presence`, headers: { ...bearer(app), host: HOST } });
        assert.equal(direct.statusCode, 200);
        assert.deepEqual(item.body, direct.json(), `item ${i + 1} differs from GET /users/${u}/presence`);
      }
      assert.equal((responses.get('3')!.body as PresenceJson).statusMessage?.message.content, 'Megan is batched');
    });

    it('the envelope is the JSON text JSON.stringify makes of it, a lane-answered body in any script included', async () => {
      await setStatusOk(s, MEGAN, app, message('Réunion — 会議中 😀 "quoted" \\ tab\t'));
      const requests = users.slice(0, 5).map((u, i) => get(String(i + 1), `/users/${u}/presence`));
      const res = await postBatch(s, app, { requests });
      assert.equal(res.statusCode, 200);
      const parsed = res.json() as { responses: BatchItemResponse[] };
      assert.equal(res.body, JSON.stringify(parsed), 'the bytes of a parse and stringify again');
      assert.equal(Number(res.headers['content-length']), Buffer.byteLength(res.body));
      assert.equal((parsed.responses[2]!.body as PresenceJson).statusMessage?.message.content, 'Réunion — 会議中 😀 "quoted" \\ tab\t');
      await setStatusOk(s, MEGAN, app, message('Megan is batched'));
    });

    for (const version of VERSIONS) {
      it(`/${version}/$batch runs its items under /${version}; the path matches case-insensitively`, async () => {
        const url = version === 'v1.0' ? '/V1.0/$BATCH' : '/Beta/$Batch';
        const res = await s.inject({
          method: 'POST', url, headers: { ...bearer(app), host: HOST },
          payload: { requests: [get('a', `/users/${ALEX}/presence?$select=availability`), get('b', `/communications/presences/${ALEX}`)] },
        });
        assert.equal(res.statusCode, 200, res.body);
        const [a, b] = (res.json() as { responses: BatchItemResponse[] }).responses;
        assert.deepEqual(a!.body, {
          '@odata.context': `http://${HOST}/${version}/$metadata#users('${ALEX}')/presence(availability)/$entity`,
          id: ALEX, availability: 'PresenceUnknown',
        });
        assert.equal((b!.body as PresenceJson)['@odata.context'], `http://${HOST}/${version}/$metadata#communications/presences/$entity`);
      });
    }

    it('GET /$batch is 405 with Allow: POST', async () => {
      const res = await s.inject({ method: 'GET', url: '/v1.0/$batch', headers: bearer(app) });
      assertGraphError(res, 405, 'MethodNotAllowed');
      assert.equal(res.headers.allow, 'POST');
    });

    it('sequential GET → POST setStatusMessage → GET: the later GET sees the new message, the earlier one does not', async () => {
      await setStatusOk(s, ADELE, adele, message('Before the batch'));
      const responses = await batchOk(s, adele, [
        get('before', '/me/presence'),
        setMessage('set', ADELE, 'Set in a batch', { dependsOn: ['before'] }),
        get('after', `/users/${ADELE}/presence`, { dependsOn: ['set'] }),
      ]);
      assert.equal((responses.get('before')!.body as PresenceJson).statusMessage?.message.content, 'Before the batch');
      const set = responses.get('set')!;
      assert.equal(set.status, 200);
      assert.equal(set.body, undefined, 'an empty body is left out');
      assert.equal(set.headers['Content-Type'], undefined);
      const seen = responses.get('after')!.body as PresenceJson;
      assert.equal(seen.statusMessage?.message.content, 'Set in a batch');
      assert.ok(seen.statusMessage?.publishedDateTime, 'the owner sees publishedDateTime');
      assert.equal((await readPresence(s, '/v1.0/me/presence', adele)).statusMessage?.message.content, 'Set in a batch');
    });

    it('"same" pattern: every dependant waits for the one request (listed after them), independents run alongside', async () => {
      const responses = await batchOk(s, app, [
        get('r1', `/users/${ALEX}/presence`, { dependsOn: ['w'] }),
        get('r2', `/communications/presences/${ALEX}`, { dependsOn: ['W'] }),
        get('free', `/users/${MEGAN}/presence`),
        setMessage('w', ALEX, 'Alex, first'),
      ]);
      for (const id of ['r1', 'r2']) assert.equal((responses.get(id)!.body as PresenceJson).statusMessage?.message.content, 'Alex, first');
      assert.equal(responses.get('free')!.status, 200);
      assert.equal(responses.get('w')!.status, 200);
    });

    it('a failed request: its dependants answer 424 FailedDependency and are not run', async () => {
      await setStatusOk(s, ALEX, app, message('Untouched'));
      const responses = await batchOk(s, app, [
        { ...setMessage('1', ALEX, 'x'), body: { statusMessage: { message: { content: 'x', contentType: 'html' } } } },
        setMessage('2', ALEX, 'Must not be written', { dependsOn: ['1'] }),
        get('3', `/users/${ALEX}/presence`, { dependsOn: ['2'] }),
      ]);
      assertItemError(responses.get('1'), 400, 'BadRequest', /html/i);
      assertItemError(responses.get('2'), 424, 'FailedDependency', /'1'.*400/);
      assertItemError(responses.get('3'), 424, 'FailedDependency', /'2'.*424/);
      assert.equal((await readPresence(s, `/v1.0/users/${ALEX}/presence`, app)).statusMessage?.message.content, 'Untouched');

      const same = await batchOk(s, app, [
        get('missing', `/users/${'0'.repeat(8)}-0000-4000-8000-${'0'.repeat(12)}/presence`),
        setMessage('d1', ALEX, 'Nor this', { dependsOn: ['missing'] }),
        get('d2', `/users/${ALEX}/presence`, { dependsOn: ['missing'] }),
        get('free', `/users/${ALEX}/presence`),
      ]);
      assertItemError(same.get('missing'), 404, 'ResourceNotFound');
      assertItemError(same.get('d1'), 424, 'FailedDependency');
      assertItemError(same.get('d2'), 424, 'FailedDependency');
      assert.equal((same.get('free')!.body as PresenceJson).statusMessage?.message.content, 'Untouched');
    });

    it('per-item 401 / 403 / 400 / 404 keep their Graph bodies; an item header overrides the outer Authorization', async () => {
      const readOnly = await s.userToken(ALEX, ['Presence.Read']);
      const responses = await batchOk(s, adele, [
        setMessage('forbidden', ALEX, 'Not mine'),
        get('scope', `/users/${ADELE}/presence`, { headers: { Authorization: `Bearer ${readOnly}` } }),
        get('badtoken', '/me/presence', { headers: { authorization: 'Bearer not.a.jwt' } }),
        get('badid', '/users/not-a-guid/presence'),
        { ...setMessage('unknownprop', ADELE, 'x'), body: { statusMessage: { message: { content: 'x' } }, extra: 1 } },
        get('nosuchpath', '/users/nobody/calendar/events'),
        get('versioned', `/v1.0/users/${ADELE}/presence`),
      ]);
      assertItemError(responses.get('forbidden'), 403, 'Forbidden', /Cannot set the presence of another user/);
      assertItemError(responses.get('scope'), 403, 'Forbidden');
      assertItemError(responses.get('badtoken'), 401, 'InvalidAuthenticationToken');
      assertItemError(responses.get('badid'), 400, 'BadRequest', /not-a-guid/);
      assertItemError(responses.get('unknownprop'), 400, 'BadRequest', /'extra'/);
      assertItemError(responses.get('nosuchpath'), 400, 'BadRequest', "Resource not found for the segment 'calendar'.");
      // As Graph answers a URL that repeats the version (graph-client v3.0.7's BatchRequestContent sends these).
      assertItemError(responses.get('versioned'), 400, 'BadRequest', "Resource not found for the segment 'v1.0'.");
      // The item's own request-id is the one in its error.
      const forbidden = responses.get('forbidden')!;
      assert.equal((forbidden.body as GraphErrorBody).error.innerError['request-id'], forbidden.headers['request-id']);
    });

    it('no Authorization on the batch: each item answers its own 401, the batch itself 200', async () => {
      const responses = await batchOk(s, null, [get('1', '/me/presence'), get('2', `/users/${ADELE}/presence`), setMessage('3', ADELE, 'x')]);
      for (const id of ['1', '2', '3']) assertItemError(responses.get(id), 401, 'InvalidAuthenticationToken', 'Access token is empty.');
    });

    it("the batch's client-request-id reaches every item unless the item sends its own", async () => {
      const responses = await batchOk(s, app, [
        get('1', `/users/${ADELE}/presence`),
        get('2', '/users/nope/presence', { headers: { 'client-request-id': 'item-2' } }),
      ], { headers: { 'client-request-id': 'outer-id' } });
      assert.equal(responses.get('1')!.headers['client-request-id'], 'outer-id');
      assert.equal(responses.get('2')!.headers['client-request-id'], 'item-2');
      assert.equal((responses.get('2')!.body as GraphErrorBody).error.innerError['client-request-id'], 'item-2');
    });

    it('an item body is passed as it is, and its Content-Type decides how it is read', async () => {
      const responses = await batchOk(s, adele, [
        { ...setMessage('text', ADELE, 'x'), headers: { 'Content-Type': 'text/plain' }, body: Buffer.from('hello').toString('base64') },
        { ...setMessage('notobject', ADELE, 'x'), body: ['statusMessage'] },
        { id: 'nobody', method: 'POST', url: '/me/presence/clearUserPreferredPresence' },
        { id: 'lower', method: 'post', url: '/me/presence/setStatusMessage', headers: { 'content-type': 'application/json; charset=utf-8' }, body: message('Lower-case method') },
      ]);
      assertItemError(responses.get('text'), 415, 'UnsupportedMediaType');
      assertItemError(responses.get('notobject'), 400, 'BadRequest');
      assert.equal(responses.get('nobody')!.status, 200);
      assert.equal(responses.get('lower')!.status, 200);
    });

    it('an item that answers 405 carries its Allow header', async () => {
      const responses = await batchOk(s, app, [{ id: 'del', method: 'DELETE', url: `/users/${ADELE}/presence` }]);
      assertItemError(responses.get('del'), 405, 'MethodNotAllowed');
      assert.equal(responses.get('del')!.headers.Allow, 'GET');
    });
  });

  describe('$batch: a bad batch is a 400 naming the problem', () => {
    let s: TestServer;
    let app: string;

    before(async () => {
      s = await shared();
      app = await s.appToken();
    });

    const ok = (id: string): BatchRequest => get(id, `/users/${ADELE}/presence`);
    const cases: Array<[string, unknown, RegExp]> = [
      ['an array body', [ok('1')], /JSON object/],
      ['a string body', '"requests"', /JSON object/],
      ['no requests', {}, /'requests' is required/],
      ['requests null', { requests: null }, /'requests' is required/],
      ['requests not an array', { requests: { id: '1' } }, /'requests' must be an array/],
      ['no request at all', { requests: [] }, /at least one/],
      ['21 requests', { requests: Array.from({ length: 21 }, (_, i) => ok(String(i))) }, /21 requests; the limit is 20/],
      ['an unknown top-level property', { requests: [ok('1')], foo: 1 }, /'foo'/],
      ['an item that is not an object', { requests: [ok('1'), 'GET /me'] }, /'requests\[1\]' must be an object/],
      ['an item without id', { requests: [{ method: 'GET', url: '/me/presence' }] }, /'requests\[0\]\.id' is required/],
      ['a numeric id', { requests: [{ ...ok('1'), id: 1 }] }, /'requests\[0\]\.id' must be a string/],
      ['an empty id', { requests: [{ ...ok('1'), id: '' }] }, /'requests\[0\]\.id' must not be empty/],
      ['an item without method', { requests: [{ id: '1', url: '/me/presence' }] }, /'requests\[0\]\.method' is required/],
      ['an unsupported method', { requests: [{ ...ok('1'), method: 'HEAD' }] }, /'requests\[0\]\.method'.*'HEAD'/],
      ['an item without url', { requests: [{ id: '1', method: 'GET' }] }, /'requests\[0\]\.url' is required/],
      ['an empty url', { requests: [{ ...ok('1'), url: '' }] }, /'requests\[0\]\.url'/],
      ['an absolute url', { requests: [{ ...ok('1'), url: `https://graph.microsoft.com/v1.0/users/${ADELE}/presence` }] }, /'requests\[0\]\.url' must be a URL relative/],
      ['a protocol-relative url', { requests: [{ ...ok('1'), url: '//evil.example/v1.0/me/presence' }] }, /'requests\[0\]\.url'/],
      ['a url leaving the version', { requests: [{ ...ok('1'), url: '/../_presently/clock' }] }, /'requests\[0\]\.url' must stay within/],
      ['an encoded ..', { requests: [{ ...ok('1'), url: '/%2e%2e/_presently/info' }] }, /'requests\[0\]\.url' must stay within/],
      ['a nested $batch', { requests: [{ ...ok('1'), method: 'POST', url: '/$batch', headers: { 'Content-Type': 'application/json' }, body: { requests: [ok('x')] } }] }, /another \$batch/],
      ['an unknown item property', { requests: [{ ...ok('1'), atomicityGroup: 'g' }] }, /'requests\[0\]\.atomicityGroup'/],
      ['a body without Content-Type', { requests: [{ id: '1', method: 'POST', url: '/me/presence/setStatusMessage', body: message('x') }] }, /'requests\[0\]\.headers' must have a Content-Type/],
      ['headers not an object', { requests: [{ ...ok('1'), headers: ['a'] }] }, /'requests\[0\]\.headers' must be an object/],
      ['a header value that is not a string', { requests: [{ ...ok('1'), headers: { 'x-n': 1 } }] }, /'requests\[0\]\.headers\.x-n' must be a string/],
      ['a header value with a line break', { requests: [{ ...ok('1'), headers: { 'x-n': 'a\r\nb: c' } }] }, /'requests\[0\]\.headers\.x-n'/],
      ['an invalid header name', { requests: [{ ...ok('1'), headers: { 'a b': 'c' } }] }, /'requests\[0\]\.headers' has an invalid header name/],
      ['duplicate ids', { requests: [ok('a'), ok('b'), ok('a')] }, /'requests\[2\]\.id'.*'a'.*requests\[0\]/],
      ['ids differing only in case', { requests: [ok('Item'), ok('ITEM')] }, /'requests\[1\]\.id'.*unique/],
      ['dependsOn not an array', { requests: [ok('1'), { ...ok('2'), dependsOn: '1' }] }, /'requests\[1\]\.dependsOn' must be an array/],
      ['dependsOn a number', { requests: [ok('1'), { ...ok('2'), dependsOn: [1] }] }, /'requests\[1\]\.dependsOn\[0\]' must be a request id/],
      ['dependsOn an unknown id', { requests: [ok('1'), { ...ok('2'), dependsOn: ['9'] }] }, /'requests\[1\]\.dependsOn\[0\]'.*'9'.*not in the batch/],
      ['dependsOn itself', { requests: [ok('1'), { ...ok('2'), dependsOn: ['2'] }] }, /cannot depend on itself/],
      ['two dependencies', { requests: [ok('1'), ok('2'), { ...ok('3'), dependsOn: ['1', '2'] }] }, /supported patterns/],
      ['two different targets', { requests: [ok('1'), ok('2'), { ...ok('3'), dependsOn: ['1'] }, { ...ok('4'), dependsOn: ['2'] }] }, /supported patterns/],
      ['a chain with a gap', { requests: [ok('1'), { ...ok('2'), dependsOn: ['1'] }, ok('3'), { ...ok('4'), dependsOn: ['3'] }] }, /supported patterns/],
      ['a chain out of order', { requests: [{ ...ok('1'), dependsOn: ['2'] }, { ...ok('2'), dependsOn: ['3'] }, ok('3')] }, /supported patterns/],
      ['a cycle', { requests: [{ ...ok('1'), dependsOn: ['2'] }, { ...ok('2'), dependsOn: ['1'] }] }, /supported patterns/],
    ];
    for (const [name, body, msg] of cases) {
      it(`${name}: 400`, async () => {
        const res = await postBatch(s, app, body);
        assertGraphError(res, 400, 'BadRequest', msg);
      });
    }

    it('an empty body: 400; malformed JSON: 400; a body that is not JSON: 415', async () => {
      assertGraphError(await postBatch(s, app, ''), 400, 'BadRequest', /empty/);
      assertGraphError(await postBatch(s, app, '{"requests": ['), 400, 'BadRequest', /Unable to read JSON/);
      const res = await s.inject({ method: 'POST', url: '/v1.0/$batch', headers: { ...bearer(app), 'content-type': 'text/plain' }, payload: 'x' });
      assertGraphError(res, 415, 'UnsupportedMediaType');
    });

    it('no input gives a 500: arbitrary JSON as the batch or as its items is answered 200 or 400', async () => {
      const header = fc.dictionary(fc.oneof(fc.constantFrom('Content-Type', 'Authorization', 'client-request-id', 'host', 'x-presently-batch-item'), fc.string()), fc.oneof(fc.string(), fc.jsonValue()));
      const item = fc.record({
        id: fc.oneof(fc.constantFrom('1', '2', 'a', 'A'), fc.string(), fc.jsonValue()),
        method: fc.oneof(fc.constantFrom('GET', 'POST', 'patch', 'DELETE', 'PUT'), fc.string()),
        url: fc.oneof(
          fc.constantFrom('/me/presence', `/users/${ADELE}/presence`, '/me/presence/setStatusMessage', '/$batch', '/v1.0/me/presence', '/..', '%', '/users/%ZZ/presence', '?$select=x'),
          fc.string(), fc.webPath(), fc.webUrl(),
        ),
        headers: fc.oneof(header, fc.jsonValue()),
        body: fc.jsonValue(),
        dependsOn: fc.oneof(fc.array(fc.constantFrom('1', '2', 'a', 'A', 'x')), fc.jsonValue()),
      }, { requiredKeys: [] });
      await fc.assert(fc.asyncProperty(
        fc.oneof(fc.record({ requests: fc.array(item, { maxLength: 5 }) }), fc.jsonValue()),
        async (body) => {
          const res = await postBatch(s, app, JSON.stringify(body));
          assert.ok(res.statusCode === 200 || res.statusCode === 400, `${res.statusCode} for ${JSON.stringify(body)}: ${res.body}`);
          if (res.statusCode === 200) {
            for (const r of (res.json() as { responses: BatchItemResponse[] }).responses) {
              assert.ok(r.status < 500, `item answered ${r.status} for ${JSON.stringify(body)}: ${JSON.stringify(r.body)}`);
            }
          }
        },
      ), { numRuns: 300 });
    });
  });

  describe('$batch: throttling counts each item, not the envelope', () => {
    let s: TestServer;
    let app: string;

    before(async () => {
      s = await startInProcess({ store: backend, throttle: 'graph', throttleReadLimit: 3 });
      app = await s.appToken();
    });
    after(() => s?.close());

    it('3 reads fit a limit of 3; the next items get their own 429 with Retry-After, the batch 200', async () => {
      const first = await batchOk(s, app, [0, 1, 2].map((i) => get(String(i), `/users/${ADELE}/presence`)));
      for (const r of first.values()) assert.equal(r.status, 200, JSON.stringify(r.body));

      const second = await batchOk(s, app, [get('r', `/users/${ADELE}/presence`), setMessage('w', ADELE, 'Writes are not reads')]);
      const throttled = assertItemError(second.get('r'), 429, 'TooManyRequests');
      assert.match(second.get('r')!.headers['Retry-After'] ?? '', /^\d+$/);
      assert.match(throttled.error.message, /Retry after \d+ seconds/);
      assert.equal(second.get('w')!.status, 200);
    });
  });
});
