/**
 * The built-in webhook sink, /_presently/sink/{name} (docs/notifications/testing.md): it answers the validation handshake, so a
 * subscription can point at the server itself; it records other POSTs and gives them back; DELETE clears it.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ADELE, ALEX, startInProcess, type TestServer } from '../kit/server.ts';
import { assertGraphError, bearer } from '../kit/graph.ts';
import { SinkStore, type SinkRecord } from '../../src/admin/sink.ts';
import { forEachBackend } from '../kit/backends.ts';
import { eventually } from '../kit/time.ts';

forEachBackend(['memory', 'redis'], (backend) => {
  const T0 = Date.parse('2026-11-28T08:00:00Z');

  describe('sink over the network', () => {
    let s: TestServer;
    let base: string;

    before(async () => {
      s = await startInProcess({ store: backend, port: 0, clock: 'manual', handshakeTimeoutMs: 2_000, maxSubscriptionsPerUser: 100 }, { manualStart: T0 });
      base = await s.presently.listen();
    });
    after(() => s?.close());

    const read = async (name: string) => {
      const res = await fetch(`${base}/_presently/sink/${name}`);
      assert.equal(res.status, 200);
      return (await res.json() as { value: SinkRecord[] }).value;
    };

    it('answers the handshake: 200, text/plain, the decoded token; not recorded', async () => {
      const token = 'Validation: Testing client application reachability for subscription Request-Id: 1234';
      const res = await fetch(`${base}/_presently/sink/handshake?validationToken=${encodeURIComponent(token)}`, {
        method: 'POST', headers: { 'content-type': 'text/plain; charset=utf-8' }, body: token,
      });
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
      assert.equal(await res.text(), token);
      assert.deepEqual(await read('handshake'), []);
    });

    it('a subscription can use it as its notificationUrl (the handshake goes over the network)', async () => {
      const token = await s.userToken(ADELE);
      const res = await fetch(`${base}/v1.0/subscriptions`, {
        method: 'POST',
        headers: { ...bearer(token), 'content-type': 'application/json' },
        body: JSON.stringify({
          changeType: 'updated',
          notificationUrl: `${base}/_presently/sink/ci`,
          lifecycleNotificationUrl: `${base}/_presently/sink/ci-lifecycle`,
          resource: `/communications/presences/${ALEX}`,
          expirationDateTime: new Date(T0 + 50 * 60_000).toISOString(),
        }),
      });
      assert.equal(res.status, 201, await res.clone().text());
      const sub = await res.json() as { notificationUrl: string };
      assert.equal(sub.notificationUrl, `${base}/_presently/sink/ci`);
    });

    it('end to end: a presence change of a watched user arrives in the sink', async () => {
      const token = await s.userToken(ADELE);
      const created = await fetch(`${base}/v1.0/subscriptions`, {
        method: 'POST',
        headers: { ...bearer(token), 'content-type': 'application/json' },
        body: JSON.stringify({
          changeType: 'updated',
          notificationUrl: `${base}/_presently/sink/e2e`,
          resource: `/communications/presences?$filter=id in ('${ADELE}')`,
          expirationDateTime: new Date(T0 + 50 * 60_000).toISOString(),
          clientState: 'e2e-state',
        }),
      });
      assert.equal(created.status, 201, await created.clone().text());
      const { id } = await created.json() as { id: string };
      const set = await fetch(`${base}/v1.0/me/presence/setStatusMessage`, {
        method: 'POST',
        headers: { ...bearer(token), 'content-type': 'application/json' },
        body: JSON.stringify({ statusMessage: { message: { content: 'In the sink test', contentType: 'text' } } }),
      });
      assert.equal(set.status, 200, await set.text());
      const records = await eventually(() => read('e2e'), (r) => r.length > 0, 5000, 'the notification in the sink');
      assert.equal(records.length, 1, 'one notification POST');
      const items = (records[0]!.body as { value: Array<Record<string, unknown>> }).value;
      assert.equal(items[0]!.subscriptionId, id);
      assert.equal(items[0]!.clientState, 'e2e-state');
      assert.equal(items[0]!.changeType, 'updated');
      assert.match(records[0]!.headers['content-type'] ?? '', /^application\/json/);
    });

    it('records a JSON POST (time, headers, parsed body) and answers 202; GET gives them back, oldest last', async () => {
      const first = { value: [{ subscriptionId: 'a', changeType: 'updated' }] };
      const second = { value: [{ subscriptionId: 'b', changeType: 'updated' }] };
      for (const body of [first, second]) {
        const res = await fetch(`${base}/_presently/sink/records`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'client-request-id': 'abc', authorization: 'Bearer secret', cookie: 'c=1' },
          body: JSON.stringify(body),
        });
        assert.equal(res.status, 202);
        assert.equal(await res.text(), '');
      }
      const records = await read('records');
      assert.equal(records.length, 2);
      const [r1, r2] = records as [SinkRecord, SinkRecord];
      assert.deepEqual(r1.body, first);
      assert.deepEqual(r2.body, second);
      assert.equal(r1.receivedDateTime, '2026-11-28T08:00:00.0000000Z');
      assert.equal(r1.method, 'POST');
      assert.equal(r1.url, '/_presently/sink/records');
      assert.equal(r1.headers['content-type'], 'application/json');
      assert.equal(r1.headers['client-request-id'], 'abc');
      assert.equal(r1.headers.authorization, undefined, 'credentials are not kept');
      assert.equal(r1.headers.cookie, undefined);
    });

    it('non-JSON bodies are kept as text; an empty body as null; a body over the API limit is fine', async () => {
      await fetch(`${base}/_presently/sink/text`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hello' });
      await fetch(`${base}/_presently/sink/text`, { method: 'POST' });
      await fetch(`${base}/_presently/sink/text`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{not json' });
      const big = { value: [{ data: 'x'.repeat(200 * 1024) }] };
      const res = await fetch(`${base}/_presently/sink/text`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(big) });
      assert.equal(res.status, 202);
      const bodies = (await read('text')).map((r) => r.body);
      assert.deepEqual(bodies, ['hello', null, '{not json', big]);
    });

    it('names are case-insensitive; DELETE clears (204)', async () => {
      await fetch(`${base}/_presently/sink/MixedCase`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"n":1}' });
      assert.equal((await read('mixedcase')).length, 1);
      const del = await fetch(`${base}/_presently/sink/mixedCASE`, { method: 'DELETE' });
      assert.equal(del.status, 204);
      assert.deepEqual(await read('MixedCase'), []);
      assert.deepEqual(await read('never-used'), []);
    });
  });

  describe('sink over inject: errors', () => {
    let s: TestServer;
    before(async () => {
      s = await startInProcess({ store: backend });
    });
    after(() => s?.close());

    it('an invalid name is a 400; PUT and PATCH are 405', async () => {
      assertGraphError(await s.inject({ method: 'GET', url: `/_presently/sink/${'n'.repeat(101)}` }), 400, 'BadRequest', /Invalid sink name/);
      assertGraphError(await s.inject({ method: 'POST', url: '/_presently/sink/a%20b', payload: '{}', headers: { 'content-type': 'application/json' } }), 400, 'BadRequest');
      const put = await s.inject({ method: 'PUT', url: '/_presently/sink/x', payload: '{}', headers: { 'content-type': 'application/json' } });
      assertGraphError(put, 405, 'MethodNotAllowed');
      assert.equal(put.headers.allow, 'GET, POST, DELETE');
    });

    it('the rest of the API still refuses non-JSON bodies (the catch-all parser is the sink\'s alone)', async () => {
      const res = await s.inject({ method: 'POST', url: '/v1.0/subscriptions', payload: 'x', headers: { 'content-type': 'text/plain' } });
      assertGraphError(res, 415, 'UnsupportedMediaType');
    });
  });
});

describe('SinkStore limits', () => {
  const meta = (n: number) => ({ receivedDateTime: `t${n}`, method: 'POST', url: '/', headers: {} });
  const put = (sinks: SinkStore, name: string, n: number, body = String(n)) => sinks.record(name, meta(n), Buffer.from(body), 'application/json');
  /** Bytes one record of put(…, n) with a one-digit body takes. */
  const ONE = JSON.stringify({ ...meta(1), body: 1 }).length;

  it('keeps the most recent maxRecords per sink', () => {
    const sinks = new SinkStore({ maxRecords: 3, maxBytes: 1e9, maxSinks: 10 });
    for (let i = 1; i <= 5; i++) put(sinks, 'a', i);
    assert.deepEqual(sinks.list('a').map((r) => r.body), [3, 4, 5]);
  });

  it('drops the oldest records beyond maxBytes, but keeps the latest even when it alone is over', () => {
    const sinks = new SinkStore({ maxRecords: 100, maxBytes: 2 * ONE + 1, maxSinks: 10 });
    put(sinks, 'a', 1);
    put(sinks, 'a', 2);
    put(sinks, 'a', 3);
    assert.deepEqual(sinks.list('a').map((r) => r.body), [2, 3]);
    put(sinks, 'a', 4, `"${'x'.repeat(10 * ONE)}"`);
    assert.deepEqual(sinks.list('a').map((r) => r.body), ['x'.repeat(10 * ONE)]);
  });

  it('forgets the least recently written sink beyond maxSinks', () => {
    const sinks = new SinkStore({ maxRecords: 10, maxBytes: 1e9, maxSinks: 2 });
    put(sinks, 'a', 1);
    put(sinks, 'b', 2);
    put(sinks, 'a', 3);
    put(sinks, 'c', 4);
    assert.deepEqual(sinks.list('b'), []);
    assert.deepEqual(sinks.list('a').map((r) => r.body), [1, 3]);
    assert.equal(sinks.clear('c'), 1);
  });
});
