/**
 * The express lane of setPresence and setStatusMessage (src/http/front.ts `BodyLane`, src/presence/writeLane.ts,
 * docs/contributing/express-lanes.md) answers before the framework, so it must answer exactly as the framework would,
 * and give every request it declines to the framework whole, its body included. Over a real socket (inject never
 * reaches the lanes), each write is sent twice to the same server: as it is (Content-Length: the lane may take it) and
 * with its body chunked (a lane never takes a chunked body, so the framework answers the very same write). Status,
 * header names in order, header values (the request ids aside) and body must be the same, and so must what the write
 * did; the front's count of lane answers says which path answered.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import { connect } from 'node:net';
import { comparable, countedRequests, rawRequest, startWriteLaneServer } from '../kit/rawHttp.ts';
import { ADELE, ALEX, MEGAN, startInProcess, type TestServer } from '../kit/server.ts';
import { message } from '../kit/graph.ts';
import { StoreUnavailable } from '../../src/store/errors.ts';

const MANUAL_START = Date.parse('2026-12-04T09:00:00Z');
const NOBODY = '00000000-0000-4000-8000-000000000000';
const send = rawRequest;

const JSON_TYPE = { 'content-type': 'application/json' };

describe('write express lane: setPresence and setStatusMessage answered before the framework, exactly as the framework would', () => {
  let s: TestServer;
  let base: string;
  let adele: string;
  let writer: string;
  let reader: string;

  before(async () => {
    ({ s, base, adele, writer, reader } = await startWriteLaneServer(MANUAL_START));
  });
  after(() => s.close());

  /** The presence as a GET shows it (its statusMessage and availability), through the framework. */
  async function shown(userId: string): Promise<{ availability: string; activity: string; statusMessage: unknown }> {
    const res = await s.inject({ method: 'GET', url: `/v1.0/users/${userId}/presence`, headers: { authorization: `Bearer ${reader}` } });
    return res.json() as { availability: string; activity: string; statusMessage: unknown };
  }

  /** Sends the write through the lane (if it takes it), then through the framework; both answers, and which path took the first. */
  async function both(path: string, token: string, body: string, headers: Record<string, string> = JSON_TYPE) {
    const auth = { ...headers, authorization: `Bearer ${token}` };
    const before = s.presently.front.laneAnswers;
    const lane = await send(base, 'POST', path, auth, body);
    const laned = s.presently.front.laneAnswers === before + 1;
    const framework = await send(base, 'POST', path, auth, body, true);
    assert.equal(s.presently.front.laneAnswers, before + (laned ? 1 : 0), 'a chunked body never takes the lane');
    return { lane, framework, laned };
  }

  const taken = [
    {
      name: 'setStatusMessage at /me, delegated', path: '/v1.0/me/presence/setStatusMessage', token: () => adele, user: ADELE,
      body: message('In the write lane "quoted" \\ 🚀', { dateTime: '2026-12-31T17:00:00', timeZone: 'Pacific Standard Time' }),
    },
    {
      name: 'setPresence at /users/{id}, an application', path: `/v1.0/users/${ALEX}/presence/setPresence`, token: () => writer, user: ALEX,
      body: { sessionId: '22553876-f5ab-4529-bffb-cfe50aa89f87', availability: 'Busy', activity: 'InACall', expirationDuration: 'PT1H' },
    },
    {
      name: 'setStatusMessage at /communications/presences/{id} under /beta, an upper-case GUID', path: `/beta/communications/presences/${MEGAN.toUpperCase()}/setStatusMessage`,
      token: () => writer, user: MEGAN, body: message('Upper-case and beta'),
    },
    { name: 'a status message cleared', path: '/v1.0/me/presence/setStatusMessage', token: () => adele, user: ADELE, body: { statusMessage: null } },
  ];
  for (const c of taken) {
    it(`${c.name}: the same answer, and the write done`, async () => {
      const { lane, framework, laned } = await both(c.path, c.token(), JSON.stringify(c.body));
      assert.ok(laned, 'the lane answered the plain request');
      assert.equal(lane.status, 200, lane.body);
      assert.equal(lane.body, '');
      assert.deepEqual(comparable(lane), comparable(framework));
      const now = await shown(c.user);
      const sent = c.body as { statusMessage?: { message: { content: string } } | null; availability?: string };
      if (sent.availability) assert.equal(now.availability, sent.availability);
      else assert.deepEqual((now.statusMessage as { message?: unknown } | null)?.message ?? null, sent.statusMessage?.message ?? null);
    });
  }

  it('a client-request-id comes back the same way, and the JSON may say its charset', async () => {
    const { lane, framework, laned } = await both('/v1.0/me/presence/setStatusMessage', adele, JSON.stringify(message('With my id')),
      { 'content-type': 'application/json; charset=utf-8', 'client-request-id': 'my-write-id-7' });
    assert.ok(laned);
    assert.deepEqual(comparable(lane), comparable(framework));
    assert.ok(lane.headers.some(([n, v]) => n === 'client-request-id' && v === 'my-write-id-7'));
  });

  // What the lane must leave to the framework: the framework's answer is the only right one, and it needs the body.
  const badSignature = (token: string): string => {
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const bytes = Buffer.from(signature, 'base64url');
    bytes[0]! ^= 1;
    return `${header}.${payload}.${bytes.toString('base64url')}`;
  };
  const ok = JSON.stringify(message('Fine'));
  const declined = [
    { name: 'a body that is not JSON', path: '/v1.0/me/presence/setStatusMessage', token: () => adele, body: '{"statusMessage":', status: 400 },
    { name: 'a body the action refuses', path: '/v1.0/me/presence/setStatusMessage', token: () => adele, body: '{"statusMessage":{"message":{"content":"x","contentType":"html"}}}', status: 400 },
    { name: 'a body of blanks', path: `/v1.0/users/${ALEX}/presence/setPresence`, token: () => writer, body: '   ', status: 400 },
    { name: 'a body nested too deeply', path: '/v1.0/me/presence/setStatusMessage', token: () => adele, body: `${'['.repeat(200)}${']'.repeat(200)}`, status: 400 },
    { name: 'a user the tenant does not have (declined after the store was asked)', path: `/v1.0/users/${NOBODY}/presence/setStatusMessage`, token: () => writer, body: ok, status: 404 },
    { name: 'another user\'s status, delegated', path: `/v1.0/users/${ALEX}/presence/setStatusMessage`, token: () => adele, body: ok, status: 403 },
    { name: 'an application without Presence.ReadWrite.All', path: `/v1.0/users/${ALEX}/presence/setStatusMessage`, token: () => reader, body: ok, status: 403 },
    { name: '/me with an application token', path: '/v1.0/me/presence/setStatusMessage', token: () => writer, body: ok, status: 400 },
    { name: 'a token never verified before', path: '/v1.0/me/presence/setStatusMessage', token: () => badSignature(adele), body: ok, status: 401 },
    { name: 'another spelling of the action', path: '/v1.0/me/presence/SetStatusMessage', token: () => adele, body: ok, status: 200 },
    { name: 'another action (clearUserPreferredPresence)', path: `/v1.0/users/${ALEX}/presence/clearUserPreferredPresence`, token: () => writer, body: '{}', status: 200 },
    { name: 'a query string', path: '/v1.0/me/presence/setStatusMessage?x=1', token: () => adele, body: ok, status: 200 },
    { name: 'an id that is not a GUID', path: '/v1.0/users/not-a-guid-but-36-characters-long-xxxx/presence/setStatusMessage', token: () => writer, body: ok, status: 400 },
    { name: 'a body over 8 KiB', path: '/v1.0/me/presence/setStatusMessage', token: () => adele, body: JSON.stringify({ ...(message('Long') as object), padding: 'x'.repeat(9_000) }), status: 400 },
  ];
  for (const c of declined) {
    it(`left to the framework, body and all: ${c.name} (${c.status})`, async () => {
      const { lane, framework, laned } = await both(c.path, c.token(), c.body);
      assert.equal(laned, false, 'the lane declined');
      assert.equal(lane.status, c.status, lane.body);
      assert.deepEqual(comparable(lane), comparable(framework));
    });
  }

  it('a Content-Type the lane does not take goes to the framework (which takes any JSON one)', async () => {
    const { lane, framework, laned } = await both('/v1.0/me/presence/setStatusMessage', adele, ok, { 'content-type': 'application/json; charset=UTF-8' });
    assert.equal(laned, false);
    assert.equal(lane.status, 200);
    assert.deepEqual(comparable(lane), comparable(framework));
  });

  it('a connection that sends a write declined after its body was read, then a taken one, is answered in order', async () => {
    // Keep-alive: the declined body must be read whole by the framework, or the next request on the connection breaks.
    // The first is for a user the tenant does not have: the lane read its body and asked the store before declining.
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const paths = [`/v1.0/users/${NOBODY}/presence/setStatusMessage`, `/v1.0/users/${ADELE}/presence/setStatusMessage`];
    const body = JSON.stringify(message('Second on the connection'));
    const answers: Array<{ status: number; socket: object; connection: string | undefined }> = [];
    try {
      for (const path of paths) {
        answers.push(await new Promise((resolve, reject) => {
          const req = request(`${base}${path}`, {
            method: 'POST', agent, headers: { ...JSON_TYPE, authorization: `Bearer ${writer}`, 'content-length': String(Buffer.byteLength(body)) },
          }, (res) => {
            res.resume();
            res.on('end', () => resolve({ status: res.statusCode ?? 0, socket: req.socket!, connection: res.headers.connection }));
          });
          req.on('error', reject);
          req.end(body);
        }));
      }
    } finally {
      agent.destroy();
    }
    assert.deepEqual(answers.map((a) => a.status), [404, 200]);
    assert.ok(answers[0]!.socket === answers[1]!.socket, `one connection (the first answer said connection: ${answers[0]!.connection})`);
    const { statusMessage } = await shown(ADELE);
    assert.deepEqual((statusMessage as { message: unknown }).message, { content: 'Second on the connection', contentType: 'text' });
  });

  it('a client that goes before its body has all come: nothing is written, and the next writes are answered', async () => {
    const answeredBefore = s.presently.front.laneAnswers;
    const full = JSON.stringify(message('Never all sent'));
    const { port } = new URL(base);
    await new Promise<void>((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1', () => {
        socket.write(`POST /v1.0/me/presence/setStatusMessage HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${adele}\r\n`
          + `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(full)}\r\n\r\n${full.slice(0, 20)}`);
        // Long enough for the lane to have claimed the request and be waiting for the rest of the body.
        setTimeout(() => { socket.destroy(); resolve(); }, 50);
      });
      socket.on('error', reject);
    });
    const after = await send(base, 'POST', '/v1.0/me/presence/setStatusMessage', { ...JSON_TYPE, authorization: `Bearer ${adele}` }, JSON.stringify(message('Sent whole')));
    assert.equal(after.status, 200, after.body);
    assert.equal(s.presently.front.laneAnswers, answeredBefore + 1, 'only the whole write was answered');
    assert.deepEqual(((await shown(ADELE)).statusMessage as { message: unknown }).message, { content: 'Sent whole', contentType: 'text' });
  });

  it('lane answers are counted in /metrics under the action\'s route, like the framework\'s', async () => {
    const route = '/v1.0/me/presence/:action';
    const counted = await countedRequests(s, 'POST', route, 200);
    const answered = s.presently.front.laneAnswers;
    for (let i = 0; i < 3; i++) {
      const res = await send(base, 'POST', '/v1.0/me/presence/setStatusMessage', { ...JSON_TYPE, authorization: `Bearer ${adele}` }, JSON.stringify(message(`Counted ${i}`)));
      assert.equal(res.status, 200, res.body);
    }
    assert.equal(s.presently.front.laneAnswers, answered + 3, 'the lane answered all three');
    assert.equal(await countedRequests(s, 'POST', route, 200), counted + 3);
  });
});

describe('write express lane: a store that fails the write', () => {
  it('the framework answers its 503 with Retry-After, once, and the write is not made twice', async () => {
    const s = await startInProcess({});
    try {
      const base = await s.listen();
      const adele = await s.userToken(ADELE);
      const auth = { ...JSON_TYPE, authorization: `Bearer ${adele}` };
      assert.equal((await send(base, 'GET', '/v1.0/me/presence', { authorization: `Bearer ${adele}` })).status, 200);
      const store = s.presently.store;
      const updatePresence = store.updatePresence.bind(store);
      let writes = 0;
      store.updatePresence = async () => {
        writes++;
        throw new StoreUnavailable('SQLite', new Error('disk gone'));
      };
      try {
        const res = await send(base, 'POST', '/v1.0/me/presence/setStatusMessage', auth, JSON.stringify(message('Not now')));
        assert.equal(res.status, 503, res.body);
        assert.ok(res.headers.some(([n]) => n.toLowerCase() === 'retry-after'), JSON.stringify(res.headers));
        assert.equal(writes, 1, 'the store was asked once: the framework answered the lane\'s error');
      } finally {
        store.updatePresence = updatePresence;
      }
      const before = s.presently.front.laneAnswers;
      assert.equal((await send(base, 'POST', '/v1.0/me/presence/setStatusMessage', auth, JSON.stringify(message('Now')))).status, 200);
      assert.equal(s.presently.front.laneAnswers, before + 1, 'the store back, the next write is the lane\'s');
    } finally {
      await s.close();
    }
  });
});
