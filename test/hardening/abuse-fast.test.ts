/**
 * The fast slice of the adversarial run (`npm run bench -- --abuse` runs the whole of it against real processes):
 * the same hostile-body generators and token forgeries, in process through inject, a few dozen cases per endpoint.
 * A client sees: no 5xx, every error in Graph's shape, nothing stored changed by a rejected request, every forged
 * token refused without the server fetching a key from the address the token names, and nothing of a user's readable
 * with a foreign tenant's token.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import type { JWK } from 'jose';
import type { LightMyRequestResponse } from 'fastify';
import { ENDPOINTS, fuzzCases, onlyLoopbackUrls, type Endpoint, type FuzzCase, type FuzzTarget } from '../../bench/abuse/generators.ts';
import { startReceiver, type Receiver } from '../../bench/abuse/receivers.ts';
import { forgeries, keysFrom } from '../../bench/abuse/tokens.ts';
import { APP, TENANT, startInProcess, type TestServer } from '../kit/server.ts';

const RUNS = Number(process.env.ABUSE_RUNS ?? 20);
const SEED = Number(process.env.ABUSE_SEED ?? 1414);
const SCOPES = ['Presence.Read.All', 'Presence.ReadWrite', 'MailboxSettings.ReadWrite'];

let server: TestServer;
let receiver: Receiver;
let trap: Receiver;

before(async () => {
  receiver = await startReceiver('good');
  trap = await startReceiver('trap');
  server = await startInProcess({ clock: 'manual' });
});
after(async () => {
  await server.close();
  await receiver.close();
  await trap.close();
});

function graphError(res: LightMyRequestResponse): boolean {
  try {
    const e = (res.json() as { error?: { code?: unknown; message?: unknown } }).error;
    return typeof e?.code === 'string' && e.code !== '' && typeof e.message === 'string';
  } catch {
    return false;
  }
}

async function newUser(tenant = TENANT): Promise<string> {
  const res = await server.inject({
    method: 'POST', url: `/_presently/tenants/${tenant}/users`,
    payload: { userPrincipalName: `fast-${randomUUID().slice(0, 8)}@contoso.example`, displayName: 'Fast' },
  });
  assert.equal(res.statusCode, 201, res.body);
  return (res.json() as { id: string }).id;
}

interface Lane {
  target: FuzzTarget;
  token: string;
}

async function lane(): Promise<Lane> {
  const userId = await newUser();
  const token = await server.userToken(userId, SCOPES);
  const info = await server.inject({ method: 'GET', url: '/_presently/info' });
  const now = Date.parse((info.json() as { clock: { now: string } }).clock.now);
  const sub = await server.inject({
    method: 'POST', url: '/v1.0/subscriptions', headers: { authorization: `Bearer ${token}` },
    payload: { changeType: 'updated', notificationUrl: receiver.url, resource: `/communications/presences/${userId}`, expirationDateTime: new Date(now + 50 * 60_000).toISOString() },
  });
  assert.equal(sub.statusCode, 201, sub.body);
  return { token, target: { userId, appId: APP, receiverUrl: receiver.url, subscriptionId: (sub.json() as { id: string }).id, now } };
}

async function snapshot(l: Lane): Promise<string> {
  const get = (url: string) => server.inject({ method: 'GET', url, headers: { authorization: `Bearer ${l.token}` } });
  const parts = await Promise.all([get(`/v1.0/users/${l.target.userId}/presence`), get(`/v1.0/users/${l.target.userId}/mailboxSettings`), get('/v1.0/subscriptions')]);
  return parts.map((r) => `${r.statusCode} ${r.body}`).join('\n');
}

function send(ep: Endpoint, l: Lane, k: FuzzCase): Promise<LightMyRequestResponse> {
  const headers: Record<string, string> = { authorization: `Bearer ${l.token}` };
  if (k.contentType !== null) headers['content-type'] = k.contentType;
  return server.inject({ method: ep.method, url: ep.path(l.target), headers, payload: k.body });
}

/** Problems with one answer: a 5xx or a non-Graph error, in the answer or (for $batch) in one of its items. */
function problems(ep: Endpoint, res: LightMyRequestResponse): string[] {
  if (res.statusCode >= 500 || (res.statusCode >= 400 && !graphError(res))) return [`${res.statusCode} ${res.body.slice(0, 300)}`];
  if (!ep.batch || res.statusCode >= 400) return [];
  const items = (res.json() as { responses: Array<{ status: number; body?: { error?: { code?: unknown } } }> }).responses;
  return items.filter((i) => i.status >= 500 || (i.status >= 400 && typeof i.body?.error?.code !== 'string'))
    .map((i) => `item ${i.status} ${JSON.stringify(i.body).slice(0, 300)}`);
}

function rejected(ep: Endpoint, res: LightMyRequestResponse): boolean {
  if (res.statusCode >= 400) return true;
  if (!ep.batch) return false;
  return (res.json() as { responses: Array<{ status: number }> }).responses.every((i) => i.status >= 400);
}

describe('hostile bodies on every write endpoint (abuse run, fast slice)', () => {
  ENDPOINTS.forEach((ep, index) => {
    it(`${ep.name}: ${RUNS} hostile bodies → Graph-shaped 4xx, nothing stored changes when refused`, async () => {
      const l = await lane();
      const cases = fc.sample(fuzzCases(ep, l.target), { numRuns: RUNS, seed: SEED + index })
        .filter((k) => ep.state !== 'subscriptions' || onlyLoopbackUrls(k.body));
      assert.match(await snapshot(l), /^200 .*\n200 .*\n200 /s, 'the state snapshot must be readable to be compared');
      for (const k of cases) {
        const before = await snapshot(l);
        const res = await send(ep, l, k);
        assert.deepEqual(problems(ep, res), [], `${ep.name}: ${k.what} (${k.contentType})`);
        if (rejected(ep, res)) assert.equal(await snapshot(l), before, `${ep.name}: a refused request changed state: ${k.what}`);
      }
    });
  });
});

describe('forged tokens and a foreign tenant (abuse run, fast slice)', () => {
  it('every forgery is refused with a Graph-shaped 401, nothing changes, and no key is fetched from jku/x5u', async () => {
    const l = await lane();
    const before = await snapshot(l);
    const jwks = (await server.inject({ method: 'GET', url: '/_presently/keys' })).json() as { keys: JWK[] };
    const forged = await forgeries(await keysFrom(jwks, null), l.token, trap.url.replace(/\/hook$/, ''), l.target.userId);
    assert.ok(forged.length > 40);
    for (const [name, token] of forged) {
      for (const [method, url, payload] of [
        ['GET', `/v1.0/users/${l.target.userId}/presence`, undefined],
        ['POST', `/v1.0/users/${l.target.userId}/presence/setStatusMessage`, { statusMessage: { message: { content: 'pwned' } } }],
      ] as const) {
        const res = await server.inject({ method, url, headers: { authorization: `Bearer ${token}` }, ...(payload ? { payload } : {}) });
        assert.equal(res.statusCode, 401, `${name}: ${method} ${url}: ${res.body.slice(0, 200)}`);
        assert.ok(graphError(res), `${name}: ${res.body.slice(0, 200)}`);
      }
    }
    assert.equal(await snapshot(l), before);
    assert.equal(trap.hits, 0, 'the server fetched a key from an address a token named');
  });

  it("a foreign tenant's valid tokens read nothing of the user's and cannot touch their subscription", async () => {
    const l = await lane();
    const foreign = randomUUID();
    const stranger = await newUser(foreign);
    const foreignApp = await server.inject({ method: 'POST', url: '/_presently/tokens', payload: { tenantId: foreign, roles: ['Presence.ReadWrite.All', 'MailboxSettings.ReadWrite'] } });
    const tokens = [await server.userToken(stranger, SCOPES), (foreignApp.json() as { access_token: string }).access_token];
    for (const token of tokens) {
      for (const [method, url] of [
        ['GET', `/v1.0/users/${l.target.userId}/presence`], ['GET', `/v1.0/communications/presences/${l.target.userId}`],
        ['GET', `/v1.0/users/${l.target.userId}/mailboxSettings`], ['GET', `/v1.0/subscriptions/${l.target.subscriptionId}`],
        ['DELETE', `/v1.0/subscriptions/${l.target.subscriptionId}`],
      ] as const) {
        const res = await server.inject({ method, url, headers: { authorization: `Bearer ${token}` } });
        assert.ok(res.statusCode >= 400 && res.statusCode < 500 && graphError(res), `${method} ${url}: ${res.statusCode} ${res.body.slice(0, 200)}`);
      }
    }
    const still = await server.inject({ method: 'GET', url: `/v1.0/subscriptions/${l.target.subscriptionId}`, headers: { authorization: `Bearer ${l.token}` } });
    assert.equal(still.statusCode, 200);
  });
});
