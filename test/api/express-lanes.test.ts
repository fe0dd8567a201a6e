/**
 * The express lane of a GET of one presence (src/http/front.ts, src/presence/readLane.ts,
 * docs/contributing/express-lanes.md) answers before the framework, so it must answer exactly as the framework would.
 * Over a real socket (inject never reaches the lanes), each request is sent twice to the same server: as it is (the
 * lane answers) and with `Content-Length: 0` (a lane never takes a request with a body header, so the framework
 * answers the very same request). Status, header names in order, header values (the request ids aside) and body
 * must be the same; the front's count of lane answers says which path answered.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ADELE, ALEX, MEGAN, startInProcess, type TestServer } from '../kit/server.ts';
import { message, setStatusOk } from '../kit/graph.ts';
import { comparable, countedRequests, rawRequest, type RawAnswer } from '../kit/rawHttp.ts';
import Fastify from 'fastify';
import { Front } from '../../src/http/front.ts';
import { DEFAULT_GRAPH_HEADERS } from '../../src/http/graphHeaders.ts';
import { systemClock } from '../../src/platform/clock/system.ts';
import { StoreUnavailable } from '../../src/store/errors.ts';

type Answer = RawAnswer;

const MANUAL_START = Date.parse('2026-12-04T09:00:00Z');

const get = (base: string, path: string, headers: Record<string, string>): Promise<Answer> => rawRequest(base, 'GET', path, headers);
/** A POST with Content-Length (a write lane may take it). */
const post = (base: string, path: string, headers: Record<string, string>, body: string): Promise<Answer> => rawRequest(base, 'POST', path, headers, body);

describe('express lane: a GET of one presence answered before the framework, exactly as the framework would', () => {
  let s: TestServer;
  let base: string;
  let adele: string;
  let app: string;

  before(async () => {
    s = await startInProcess({ clock: 'manual' }, { manualStart: MANUAL_START });
    base = await s.listen();
    adele = await s.userToken(ADELE);
    app = await s.appToken(['Presence.Read.All']);
    await setStatusOk(s, ADELE, adele, message('In the lane "quoted" \\ 🚀', { dateTime: '2026-12-31T17:00:00', timeZone: 'Pacific Standard Time' }));
    // A token is known to the lane once the framework has verified it (its first request).
    for (const token of [adele, app]) await get(base, `/v1.0/users/${ADELE}/presence`, { authorization: `Bearer ${token}` });
  });
  after(() => s.close());

  /** Sends `path` through the lane and through the framework; returns both, and whether the lane took the first. */
  async function both(path: string, headers: Record<string, string>): Promise<{ lane: Answer; framework: Answer; laned: boolean }> {
    const before = s.presently.front.laneAnswers;
    const lane = await get(base, path, headers);
    const laned = s.presently.front.laneAnswers === before + 1;
    const framework = await get(base, path, { ...headers, 'content-length': '0' });
    assert.equal(s.presently.front.laneAnswers, before + (laned ? 1 : 0), 'a request with Content-Length never takes the lane');
    return { lane, framework, laned };
  }

  const same = [
    { name: '/me as the owner (expiry and publishedDateTime shown)', path: '/v1.0/me/presence', token: () => adele },
    { name: 'another user as a watcher, under /beta', path: `/beta/users/${ALEX}/presence`, token: () => adele },
    { name: '/communications/presences/{id} with an application token', path: `/v1.0/communications/presences/${ADELE}`, token: () => app },
    { name: 'an upper-case GUID in the path', path: `/v1.0/users/${MEGAN.toUpperCase()}/presence`, token: () => adele },
  ];
  for (const c of same) {
    it(`${c.name}: the same status, headers in the same order and body`, async () => {
      const { lane, framework, laned } = await both(c.path, { authorization: `Bearer ${c.token()}` });
      assert.ok(laned, 'the lane answered the plain request');
      assert.equal(lane.status, 200, lane.body);
      assert.deepEqual(comparable(lane), comparable(framework));
    });
  }

  it('the client\'s client-request-id and another Host (the @odata.context follows it) come back the same way', async () => {
    const { lane, framework, laned } = await both('/v1.0/me/presence', {
      authorization: `Bearer ${adele}`, 'client-request-id': 'my-own-id-42', host: 'presence.example:8443',
    });
    assert.ok(laned);
    assert.deepEqual(comparable(lane), comparable(framework));
    assert.ok(lane.headers.some(([n, v]) => n === 'client-request-id' && v === 'my-own-id-42'));
    assert.match(lane.body, /"@odata\.context":"http:\/\/presence\.example:8443\/v1\.0\/\$metadata#users\('/);
  });

  // What the lane must leave to the framework: the framework's answer is the only right one.
  // A token whose signature has one byte changed. (Editing the last characters is not enough: they carry padding
  // bits a base64url decoder ignores, so the signature could stay valid.)
  const badSignature = (token: string): string => {
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const bytes = Buffer.from(signature, 'base64url');
    bytes[0]! ^= 1;
    return `${header}.${payload}.${bytes.toString('base64url')}`;
  };
  const declined = [
    { name: 'a token never verified before', path: '/v1.0/me/presence', token: () => badSignature(adele), status: 401 },
    { name: '/me with an application token', path: '/v1.0/me/presence', token: () => app, status: 400 },
    { name: 'a watcher without Presence.Read.All', path: `/v1.0/users/${ALEX}/presence`, token: () => 'own-scope', status: 403 },
    { name: 'a user the tenant does not have', path: '/v1.0/users/00000000-0000-4000-8000-000000000000/presence', token: () => adele, status: 404 },
    { name: '$select', path: '/v1.0/me/presence?$select=availability', token: () => adele, status: 200 },
    { name: 'a trailing slash', path: '/v1.0/me/presence/', token: () => adele, status: 200 },
    { name: 'another spelling of the path', path: '/V1.0/Me/Presence', token: () => adele, status: 200 },
    { name: 'an id that is not a GUID', path: '/v1.0/users/not-a-guid-but-36-characters-long-xxxx/presence', token: () => adele, status: 400 },
  ];
  for (const c of declined) {
    it(`left to the framework: ${c.name} (${c.status})`, async () => {
      const token = c.token() === 'own-scope' ? await s.userToken(ADELE, ['Presence.Read']) : c.token();
      if (c.token() === 'own-scope') await get(base, '/v1.0/me/presence', { authorization: `Bearer ${token}` });
      const { lane, framework, laned } = await both(c.path, { authorization: `Bearer ${token}` });
      assert.equal(laned, false, 'the lane declined');
      assert.equal(lane.status, c.status, lane.body);
      assert.deepEqual(comparable(lane).headers.map(([n]) => n), comparable(framework).headers.map(([n]) => n));
    });
  }

  it('lane answers are counted in /metrics under the route, like the framework\'s', async () => {
    const route = '/v1.0/me/presence';
    const counted = await countedRequests(s, 'GET', route, 200);
    const answered = s.presently.front.laneAnswers;
    for (let i = 0; i < 3; i++) assert.equal((await get(base, route, { authorization: `Bearer ${adele}` })).status, 200);
    assert.equal(s.presently.front.laneAnswers, answered + 3, 'the lane answered all three');
    assert.equal(await countedRequests(s, 'GET', route, 200), counted + 3);
  });
});

describe('express lane: a presence with a timed change due is left to the framework, which makes the change', () => {
  it('a status message past its expiry, the due loop behind: the lane declines and the answer shows it gone', async () => {
    const s = await startInProcess({ clock: 'manual' }, { manualStart: MANUAL_START });
    try {
      const base = await s.listen();
      // The due loop is behind (stopped, and moving the manual clock runs nothing): only a read can make the change.
      await s.presently.scheduler.stop();
      s.presently.scheduler.runDue = async () => {};
      const megan = await s.userToken(MEGAN);
      await setStatusOk(s, MEGAN, megan, message('Soon gone', { dateTime: '2026-12-04T09:30:00', timeZone: 'UTC' }));
      const auth = { authorization: `Bearer ${megan}` };
      // The token was verified by the write (so the lane knows it), the snapshot cached by it.
      const shown = await get(base, '/v1.0/me/presence', auth);
      assert.equal(s.presently.front.laneAnswers, 1, 'the cached snapshot is answered in the lane while nothing is due');
      assert.match(shown.body, /Soon gone/);
      assert.equal((await s.inject({ method: 'POST', url: '/_presently/clock', payload: { advance: 'PT31M' } })).statusCode, 200);
      const after = await get(base, '/v1.0/me/presence', auth);
      assert.equal(s.presently.front.laneAnswers, 1, 'declined: the cached snapshot has a change due');
      assert.equal((JSON.parse(after.body) as { statusMessage: unknown }).statusMessage, null);
      // Made and cached by that read: the next one is the lane's again, and agrees.
      const again = await get(base, '/v1.0/me/presence', auth);
      assert.equal(s.presently.front.laneAnswers, 2);
      assert.equal(again.body, after.body);
    } finally {
      await s.close();
    }
  });
});

describe('express lane: a presence not in the read cache is read from the store first (on Redis, every one)', () => {
  it('the lane waits for the store and answers exactly as the framework; a user it does not find is the framework\'s 404', async () => {
    // No read cache: every GET is a store read, as on Redis before its cache is told changes.
    const s = await startInProcess({ clock: 'manual', readCacheUsers: 0 }, { manualStart: MANUAL_START });
    try {
      const base = await s.listen();
      const adele = await s.userToken(ADELE);
      await setStatusOk(s, ADELE, adele, message('Read from the store', { dateTime: '2026-12-31T17:00:00', timeZone: 'W. Europe Standard Time' }));
      const auth = { authorization: `Bearer ${adele}` };
      const before = s.presently.front.laneAnswers;
      const lane = await get(base, `/v1.0/users/${ADELE}/presence`, auth);
      assert.equal(s.presently.front.laneAnswers, before + 1, 'the lane answered after its store read');
      const framework = await get(base, `/v1.0/users/${ADELE}/presence`, { ...auth, 'content-length': '0' });
      assert.deepEqual(comparable(lane), comparable(framework));
      assert.match(lane.body, /Read from the store/);
      const missing = await get(base, '/v1.0/users/00000000-0000-4000-8000-000000000000/presence', auth);
      assert.equal(missing.status, 404, missing.body);
      assert.equal(s.presently.front.laneAnswers, before + 1, 'declined after its read: the framework answered');
    } finally {
      await s.close();
    }
  });

  it('a store that fails the lane\'s read: the framework answers its 503 with Retry-After at once, without reading again', async () => {
    const s = await startInProcess({ readCacheUsers: 0 });
    try {
      const base = await s.listen();
      const adele = await s.userToken(ADELE);
      const auth = { authorization: `Bearer ${adele}` };
      assert.equal((await get(base, '/v1.0/me/presence', auth)).status, 200);
      const store = s.presently.store;
      const getSnapshots = store.getSnapshots.bind(store);
      let reads = 0;
      store.getSnapshots = async () => {
        reads++;
        throw new StoreUnavailable('SQLite', new Error('disk gone'));
      };
      try {
        const res = await get(base, '/v1.0/me/presence', auth);
        assert.equal(res.status, 503, res.body);
        assert.ok(res.headers.some(([n]) => n.toLowerCase() === 'retry-after'), JSON.stringify(res.headers));
        assert.match(res.body, /"code":"serviceNotAvailable"|not reachable/);
        assert.equal(reads, 1, 'the store was asked once: the framework answered the lane\'s error');
      } finally {
        store.getSnapshots = getSnapshots;
      }
      assert.equal((await get(base, '/v1.0/me/presence', auth)).status, 200, 'and the next request, the store back, is answered');
    } finally {
      await s.close();
    }
  });
});

describe('express lanes stand aside where a framework hook must see every request', () => {
  const cases = [
    ['throttling on', { throttle: 'graph' }, {}],
    ['--log-level info', { logLevel: 'info' }, {}],
    ['buildPresently(config, { expressLanes: false })', {}, { expressLanes: false }],
  ] as const;
  for (const [name, overrides, opts] of cases) {
    it(`${name}: every GET and every write goes through the framework`, async () => {
      const s = await startInProcess(overrides, opts);
      try {
        const base = await s.listen();
        const token = await s.userToken(ADELE);
        for (let i = 0; i < 3; i++) assert.equal((await get(base, '/v1.0/me/presence', { authorization: `Bearer ${token}` })).status, 200);
        const body = JSON.stringify(message('Through the framework'));
        const write = await post(base, '/v1.0/me/presence/setStatusMessage', { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body);
        assert.equal(write.status, 200, write.body);
        assert.equal(s.presently.front.laneAnswers, 0);
      } finally {
        await s.close();
      }
    });
  }
});

describe('the front: a lane at fault never takes the process down', () => {
  it('a lane that throws leaves the request to the framework; one that answers is counted and observed', async () => {
    const app = Fastify();
    const front = new Front(app, { clock: systemClock(), headers: DEFAULT_GRAPH_HEADERS, lanes: true });
    let seen = 0;
    front.onAnswer(() => { seen++; });
    front.lane((request) => {
      if (request.url === '/throws') throw new Error('a bug in a lane');
      return { route: '/answered', body: '{}' };
    });
    app.get('/throws', async () => ({ from: 'framework' }));
    app.get('/answered', async () => ({ from: 'framework' }));
    await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const address = app.server.address() as { port: number };
      const base = `http://127.0.0.1:${address.port}`;
      const thrown = await get(base, '/throws', {});
      assert.equal(thrown.status, 200);
      assert.equal(thrown.body, '{"from":"framework"}');
      const laned = await get(base, '/answered', {});
      assert.equal(laned.body, '{}');
      assert.equal(front.laneAnswers, 1);
      assert.equal(seen, 2, 'the observers saw both answers, the framework\'s and the lane\'s');
    } finally {
      await app.close();
    }
  });
});

describe('the front: a lane that waits', () => {
  it('answers when its promise does; null hands the request to the framework; a rejection is the framework\'s error to answer', async () => {
    const app = Fastify();
    const front = new Front(app, { clock: systemClock(), headers: DEFAULT_GRAPH_HEADERS, lanes: true });
    let routeRan = 0;
    app.setErrorHandler((err: Error, _request, reply) => { void reply.code(503).send({ handled: err.message }); });
    front.lane((request) => new Promise((resolve, reject) => setImmediate(() => {
      if (request.url === '/later') resolve({ route: '/later', body: '{"from":"lane"}' });
      else if (request.url === '/declined') resolve(null);
      else reject(new Error('the store is away'));
    })));
    for (const path of ['/later', '/declined', '/failed']) app.get(path, async () => { routeRan++; return { from: 'framework' }; });
    await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
      assert.equal((await get(base, '/later', {})).body, '{"from":"lane"}');
      assert.equal((await get(base, '/declined', {})).body, '{"from":"framework"}');
      const failed = await get(base, '/failed', {});
      assert.equal(failed.status, 503);
      assert.equal(failed.body, '{"handled":"the store is away"}');
      assert.equal(routeRan, 1, 'only the declined request reached its route');
      assert.equal(front.laneAnswers, 1);
    } finally {
      await app.close();
    }
  });
});

describe('express lane: $batch GET items are answered by the lane, exactly as injected items', () => {
  for (const cache of ['read cache', 'no read cache (the lane waits for the store)']) it(`the same batch on a server with lanes and one without: the same items, status, headers and bodies (${cache})`, async () => {
    // Two servers in the same state: the same signing key (so one token serves both), the same manual time.
    const [laned, plain] = await Promise.all([
      startInProcess({ clock: 'manual', ...(cache === 'read cache' ? {} : { readCacheUsers: 0 }) }, { manualStart: MANUAL_START }),
      startInProcess({ clock: 'manual' }, { manualStart: MANUAL_START, expressLanes: false }),
    ]);
    try {
      const adele = await laned.userToken(ADELE);
      for (const s of [laned, plain]) {
        await setStatusOk(s, ADELE, adele, message('Batched "lane" \\ ✓', { dateTime: '2026-12-31T17:00:00', timeZone: 'Tokyo Standard Time' }));
      }
      const requests = [
        { id: '1', method: 'GET', url: '/me/presence' },
        { id: '2', method: 'GET', url: `/users/${ALEX}/presence` },
        { id: '3', method: 'GET', url: `/communications/presences/${ADELE}` },
        { id: '4', method: 'GET', url: '/me/presence?$select=availability' },
        { id: '5', method: 'GET', url: '/users/00000000-0000-4000-8000-000000000000/presence' },
        { id: '6', method: 'GET', url: `/users/${MEGAN}/presence`, dependsOn: ['1'] },
      ];
      const answers = [];
      for (const s of [laned, plain]) {
        const before = s.presently.front.laneAnswers;
        const res = await s.inject({
          method: 'POST', url: '/v1.0/$batch', headers: { authorization: `Bearer ${adele}`, 'content-type': 'application/json', host: 'presence.example' },
          payload: { requests },
        });
        assert.equal(res.statusCode, 200, res.body);
        answers.push({ body: res.json() as { responses: Array<{ id: string; headers: Record<string, string> }> }, lanes: s.presently.front.laneAnswers - before });
      }
      const [a, b] = answers as [typeof answers[0], typeof answers[0]];
      assert.equal(a.lanes, 4, 'items 1, 2, 3 and 6 are the lane\'s');
      assert.equal(b.lanes, 0);
      // Each item's own request id (in its headers and in an error's innerError) differs by design.
      const masked = (r: typeof a.body) => r.responses.map((item) => JSON.parse(JSON.stringify(item).split(item.headers['request-id']!).join('<id>')) as unknown);
      assert.deepEqual(masked(a.body), masked(b.body));
    } finally {
      await Promise.all([laned.close(), plain.close()]);
    }
  });
});
