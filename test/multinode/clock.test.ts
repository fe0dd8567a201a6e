/**
 * Scale-out on Redis (issue 5), the state nodes share that is not presence: two in-process Presently nodes on one
 * Redis key prefix with `--clock manual`. The manual clock is one clock for both (a move on either is seen by the
 * other, never backwards, and the node that moved it has finished the due work — made once — when it answers); the
 * dev signing key is one key (a token minted on one node is valid on the other); and the slow-endpoint accounting of
 * the deliverers is one account.
 *
 * Redis is PRESENTLY_TEST_REDIS_URL, else redis://127.0.0.1:6379. Every test uses a prefix of its own and deletes its
 * keys afterwards. When Redis cannot be reached, the suite is skipped, saying so.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { it, type TestContext } from 'node:test';
import { DevIssuer } from '../../src/auth/devIssuer.ts';
import { manualClock } from '../../src/platform/clock/manual.ts';
import { Deliverer } from '../../src/notifications/deliverer.ts';
import { DeliveryLog } from '../../src/notifications/deliveryLog.ts';
import type { NewDelivery, Subscription } from '../../src/domain/subscription.ts';
import { openRedisStore, type RedisStore } from '../../src/store/redis/redisStore.ts';
import { message, moveClock, readPresence, setStatusOk, type PresenceJson } from '../kit/graph.ts';
import { TEST_REDIS_URL, deleteRedisPrefix, newRedisPrefix } from '../kit/redis.ts';
import { needsRedis } from '../kit/backends.ts';
import { startReceiver } from '../kit/receiver.ts';
import { richChange, richKeys } from '../kit/rich.ts';
import type { EncryptedContent } from '../../src/notifications/encryption.ts';
import { eventually, sleep } from '../kit/time.ts';
import { ADELE, ALEX, APP, MEGAN, TENANT, startInProcess, type TestServer } from '../kit/server.ts';

const RICH = await richKeys();

const START = Date.parse('2026-11-28T08:00:00Z');
const MIN = 60_000;
const HOUR = 60 * MIN;
const iso = (t: number) => new Date(t).toISOString();

/** A fresh key prefix for this test, whose keys are deleted when it ends (after everything the test closes). */
function prefixFor(t: TestContext): string {
  const prefix = newRedisPrefix();
  t.after(() => deleteRedisPrefix(prefix));
  return prefix;
}

/** Two nodes on one prefix, with the manual clock: `a` started first (at START), `b` asking for another start. */
async function twoNodes(t: TestContext): Promise<[TestServer, TestServer]> {
  const prefix = prefixFor(t);
  const node = (manualStart: number) => startInProcess({ store: 'redis', redisPrefix: prefix, clock: 'manual' }, { manualStart });
  const a = await node(START);
  t.after(() => a.close());
  const b = await node(START + 24 * HOUR);
  t.after(() => b.close());
  return [a, b];
}

async function clockOf(s: TestServer, path: '/_presently/info' | '/_presently/clock'): Promise<string> {
  const res = await s.inject({ method: 'GET', url: path });
  assert.equal(res.statusCode, 200, res.body);
  const body = res.json() as { now: string } | { clock: { now: string } };
  return 'clock' in body ? body.clock.now : body.now;
}

/** Dates compared as instants (the info endpoint answers with milliseconds, the clock endpoint without). */
const same = (a: string, b: string | number) => Date.parse(a) === (typeof b === 'number' ? b : Date.parse(b));

/**
 * The kit's receiver at /hooks. Each POST is answered `delayMs` after it arrived, with `status(n)` for the n-th POST
 * (from 0); `items` are those of the POSTs answered 2xx — so a POST still in flight is not counted yet.
 */
async function receiver(t: TestContext, status: (n: number) => number = () => 202, delayMs = 50) {
  const items: { userId: string; seq: string }[] = [];
  const rx = await startReceiver({
    path: '/hooks',
    answer: async (n, req) => {
      await sleep(delayMs);
      const code = status(n);
      if (code < 300) {
        // The subscription is rich: the decrypted presence carries the sequenceNumber.
        for (const item of (JSON.parse(req.body) as { value: { encryptedContent?: EncryptedContent }[] }).value) {
          const change = richChange(item, RICH.key);
          if (change) items.push(change);
        }
      }
      return code;
    },
  });
  t.after(rx.close);
  return {
    url: rx.url,
    items,
    /** POSTs received (answered or not). */
    get posts() {
      return rx.posts.length;
    },
  };
}

/** A change-notification subscription to `users` of the demo tenant, posting to `url`. */
function subscription(users: string[], url: string): Subscription {
  return {
    id: randomUUID(), tenantId: TENANT, applicationId: APP, creatorId: ALEX, changeType: 'updated',
    resource: `/communications/presences?$filter=id in ('${users.join("','")}')`, userIds: users, lifecycleNotificationUrl: null,
    expiresAt: START + 24 * HOUR, clientState: 'multinode', ...RICH.subscription, latestSupportedTlsVersion: 'v1_2', reauthorizationNotifiedAt: null, createdAt: START,
    notificationUrl: url,
  };
}

needsRedis('multi-node: the shared manual clock', {}, () => {
  it('is one clock: the nodes start at the time the first node stored, and a move on either is seen by the other', async (t) => {
    const [a, b] = await twoNodes(t);
    assert.equal(a.presently.clock.now(), START);
    assert.equal(b.presently.clock.now(), START, 'B keeps the time A stored, not its own start');

    // Every value B's local copy takes, sampled as fast as the event loop allows: it must never go backwards.
    const seen: number[] = [];
    const sampler = setInterval(() => seen.push(b.presently.clock.now()), 1);
    t.after(() => clearInterval(sampler));

    const moved = await moveClock(a, { advance: 'PT10M' });
    assert.ok(same(moved.now, START + 10 * MIN), moved.now);
    // B's copy follows by pub/sub alone (no request to B in between), within a bounded lag.
    await eventually(() => b.presently.clock.now(), (v) => v === START + 10 * MIN, 200, "B's copy of the clock");
    assert.ok(same(await clockOf(b, '/_presently/info'), START + 10 * MIN));
    assert.ok(same(await clockOf(b, '/_presently/clock'), START + 10 * MIN));

    // B moves it for A too; and on B, too, it only moves forward.
    const back = await b.inject({ method: 'POST', url: '/_presently/clock', payload: { now: iso(START + 5 * MIN) } });
    assert.equal(back.statusCode, 400, back.body);
    assert.match(back.body, /before the clock's current time 2026-11-28T08:10:00/);
    assert.ok(same((await moveClock(b, { now: iso(START + 15 * MIN) })).now, START + 15 * MIN));
    assert.ok(same(await clockOf(a, '/_presently/info'), START + 15 * MIN), 'seen by A as soon as B answered');

    // Concurrent advances on both nodes all count, as they do on one node.
    await Promise.all([moveClock(a, { advance: 'PT1M' }), moveClock(b, { advance: 'PT1M' }), moveClock(a, { advance: 'PT1M' }), moveClock(b, { advance: 'PT1M' })]);
    const expected = START + 19 * MIN;
    assert.ok(same(await clockOf(a, '/_presently/clock'), expected));
    assert.ok(same(await clockOf(b, '/_presently/clock'), expected));
    await eventually(() => [a.presently.clock.now(), b.presently.clock.now()], (v) => v[0] === expected && v[1] === expected, 200, 'both copies');

    clearInterval(sampler);
    assert.ok(seen.length > 0);
    for (let i = 1; i < seen.length; i++) assert.ok(seen[i]! >= seen[i - 1]!, `B's clock went back from ${iso(seen[i - 1]!)} to ${iso(seen[i]!)}`);
  });

  it('a node started later joins the current time, not its own start', async (t) => {
    const [a] = await twoNodes(t);
    await moveClock(a, { advance: 'P2D' });
    const c = await startInProcess({ store: 'redis', redisPrefix: a.redisPrefix!, clock: 'manual' }, { manualStart: START });
    t.after(() => c.close());
    assert.equal(c.presently.clock.now(), START + 48 * HOUR);
  });

  it('status messages set via B expire exactly once when A moves the clock, all done when A answers', async (t) => {
    const [a, b] = await twoNodes(t);
    // A webhook receiver subscribed to the three users: each change is one notification item.
    const rx = await receiver(t);
    const items = rx.items;
    const users = [ADELE, ALEX, MEGAN];
    const sub = subscription(users, rx.url);
    await a.presently.store.putSubscription(sub);

    const expiry = { dateTime: '2026-11-28T08:30:00', timeZone: 'UTC' };
    for (const user of users) await setStatusOk(b, user, await b.userToken(user), message(`Back at 8:30 (${user.slice(0, 4)})`, expiry));
    const read = async (s: TestServer, user: string) => readPresence(s, `/v1.0/users/${user}/presence`, await s.appToken(['Presence.Read.All']));
    const before = new Map<string, PresenceJson>();
    for (const user of users) {
      const [viaA, viaB] = [await read(a, user), await read(b, user)];
      assert.deepEqual(viaA, viaB, 'both nodes read the same presence');
      assert.ok(viaA.statusMessage?.message.content.startsWith('Back at 8:30'));
      before.set(user, viaA);
    }
    await eventually(() => items.length, (n) => n === 3, 5000, 'the notifications of the three sets');
    items.length = 0;
    const transitions = () => a.presently.scheduler.transitions + b.presently.scheduler.transitions;
    const transitionsBefore = transitions();

    // Not yet due: nothing happens.
    await moveClock(a, { advance: 'PT29M' });
    assert.equal(transitions(), transitionsBefore);
    assert.equal(items.length, 0);

    await moveClock(a, { advance: 'PT15M' });
    // When A answers, the three expiries are made — once each, by whichever node committed first — and notified.
    assert.equal(transitions() - transitionsBefore, 3, 'one transition per user over both nodes');
    assert.deepEqual(items.map((i) => i.userId).sort(), [...users].sort(), 'one notification per user, sent before A answered');
    for (const user of users) {
      const [viaA, viaB] = [await read(a, user), await read(b, user)];
      assert.equal(viaA.statusMessage, null);
      assert.deepEqual(viaA, viaB);
      assert.ok(BigInt(viaA.sequenceNumber!.slice(1)) > BigInt(before.get(user)!.sequenceNumber!.slice(1)), 'sequenceNumber bumped');
      assert.equal(items.find((i) => i.userId === user)!.seq, viaA.sequenceNumber, 'the notification carries that sequenceNumber');
    }

    // Nothing more comes of it: later moves, on either node, make no second transition or notification.
    await moveClock(b, { advance: 'PT1H' });
    await moveClock(a, { advance: 'PT1H' });
    await sleep(100);
    assert.equal(transitions() - transitionsBefore, 3);
    assert.equal(items.length, 3);
    for (const user of users) assert.equal((await read(b, user)).sequenceNumber, (await read(a, user)).sequenceNumber);
  });

  it('a retry another node sends when the clock moves is done before the node that moved it answers', async (t) => {
    const [a, b] = await twoNodes(t);
    // The first POST fails: the deliverer that sent it (B's: the change is made on B) reschedules it (back-off about a
    // second) and waits for it on its timer.
    const rx = await receiver(t, (n) => (n === 0 ? 503 : 202), 100);
    await a.presently.store.putSubscription(subscription([ADELE], rx.url));
    await setStatusOk(b, ADELE, await b.userToken(ADELE), message('Retried'));
    await eventually(() => rx.posts, (n) => n === 1, 5000, 'the first POST');
    const retried = () => a.presently.notifications.log.totals.retried + b.presently.notifications.log.totals.retried;
    await eventually(retried, (n) => n === 1, 5000, 'the retry scheduled');
    assert.equal(rx.items.length, 0);
    // A moves the clock past the retry. B's timer fires on the announcement and B may claim the retry first; A's
    // answer still waits until it was sent.
    await moveClock(a, { advance: 'PT10S' });
    assert.equal(rx.items.length, 1, 'delivered when A answered');
    assert.equal(rx.items[0]!.userId, ADELE);
    assert.equal(await a.presently.store.countDeliveries(), 0);
  });

  it('a token minted on A is accepted by B (one signing key)', async (t) => {
    const [a, b] = await twoNodes(t);
    const keys = async (s: TestServer) => (await s.inject({ method: 'GET', url: '/_presently/keys' })).json() as unknown;
    assert.deepEqual(await keys(b), await keys(a));
    const token = await a.userToken(ADELE);
    const own = await readPresence(b, '/v1.0/me/presence', token);
    assert.equal(own.id, ADELE);
    const app = await a.appToken(['Presence.ReadWrite.All']);
    assert.equal((await readPresence(b, `/v1.0/users/${MEGAN}/presence`, app)).id, MEGAN);
  });
});

needsRedis('multi-node: the Redis store\'s shared clock backend', {}, () => {
  async function stores(t: TestContext, n: number): Promise<RedisStore[]> {
    const prefix = prefixFor(t);
    const opened = await Promise.all(Array.from({ length: n }, () => openRedisStore({ url: TEST_REDIS_URL, prefix })));
    t.after(() => Promise.all(opened.map((s) => s.close())));
    return opened;
  }

  it('init stores the first start only; concurrent inits agree', async (t) => {
    const [x, y] = await stores(t, 2) as [RedisStore, RedisStore];
    const [cx, cy] = [x.sharedClock(), y.sharedClock()];
    assert.equal(await cx.read(), null);
    const agreed = await Promise.all([1, 2, 3, 4, 5].map((i) => (i % 2 ? cx : cy).init(START + i)));
    assert.equal(new Set(agreed).size, 1);
    assert.equal(await cy.read(), agreed[0]);
    assert.equal(await cx.init(START - HOUR), agreed[0], 'an earlier start does not move it back');
  });

  it('advanceTo only moves forward, compare-and-set when asked, and announces every move', async (t) => {
    const [x, y] = await stores(t, 2) as [RedisStore, RedisStore];
    const [cx, cy] = [x.sharedClock(), y.sharedClock()];
    const heard: number[] = [];
    const unsubscribe = await cy.subscribe((now) => heard.push(now));
    t.after(unsubscribe);
    await cx.init(START);
    assert.deepEqual(await cx.advanceTo(START + MIN), { now: START + MIN, moved: true });
    assert.deepEqual(await cx.advanceTo(START + 30_000), { now: START + MIN, moved: false }, 'never backwards');
    assert.deepEqual(await cx.advanceTo(START + MIN), { now: START + MIN, moved: false });
    assert.deepEqual(await cy.advanceTo(START + 2 * MIN, START), { now: START + MIN, moved: false }, 'not at the expected time');
    assert.deepEqual(await cy.advanceTo(START + 2 * MIN, START + MIN), { now: START + 2 * MIN, moved: true });
    assert.equal(await cx.read(), START + 2 * MIN);
    await eventually(() => heard, (h) => h.length === 2, 200, 'announcements');
    assert.deepEqual(heard, [START + MIN, START + 2 * MIN]);
    await unsubscribe();
    await cx.advanceTo(START + 3 * MIN);
    await sleep(50);
    assert.equal(heard.length, 2, 'nothing heard after unsubscribing');
  });
});

needsRedis('multi-node: shared slow-endpoint accounting', {}, () => {
  it('a throttled endpoint, slow by POSTs of one node, gets one POST from all nodes together', async (t) => {
    const prefix = prefixFor(t);
    const [x, y] = await Promise.all([0, 1].map(() => openRedisStore({ url: TEST_REDIS_URL, prefix }))) as [RedisStore, RedisStore];
    t.after(() => Promise.all([x.close(), y.close()]));
    const url = 'http://127.0.0.1:9/hooks/slow';
    // What node X's deliverer recorded: 11 of its last 100 POSTs over 2.9 s — throttled (more than 10 %).
    for (let i = 0; i < 100; i++) await x.recordEndpointDuration(url, i >= 89 ? 3500 : 80, START - MIN, 100);
    assert.equal((await y.endpointDurations(url)).length, 100, 'Y sees the samples X recorded');

    const delivery = (n: number): NewDelivery => ({
      subscriptionId: `5ab5c000-0000-4000-8000-${String(n).padStart(12, '0')}`, tenantId: TENANT, kind: 'lifecycle', url,
      item: { n }, resourceView: null, userId: null, attempt: 0, nextAttemptAt: START, createdAt: START,
    });
    await x.enqueueDeliveries([1, 2, 3, 4].map(delivery));
    const posts: unknown[][] = [];
    const deliverer = async (store: RedisStore) => {
      const clock = manualClock(START);
      const d = new Deliverer(store, clock, {
        log: new DeliveryLog(), issuer: await DevIssuer.load(store, clock), safetyIntervalMs: 0, claimLimit: 2, maxHeld: 2,
        post: async (_url, body) => {
          posts.push((body as { value: unknown[] }).value);
          return { status: 202, durationMs: 50, body: '', contentType: null, error: null };
        },
      });
      t.after(() => d.stop(0));
      return d;
    };
    const [dx, dy] = [await deliverer(x), await deliverer(y)];
    // Each node claims two of the four; both see the endpoint throttled; only one of them gets its turn.
    await Promise.all([dx.start(), dy.start()]);
    await Promise.all([dx.settle(), dy.settle()]);
    assert.equal(posts.length, 1, `one POST over both nodes, got ${posts.length}`);
    assert.equal(posts[0]!.length, 2);
    assert.equal(await x.countDeliveries(), 2, 'the other node\'s two wait for the next turn');
    assert.ok((await y.nextDeliveryAt())! >= START + 10 * MIN, 'ten minutes later');
    const samples = await y.endpointDurations(url);
    assert.equal(samples.length, 100);
    assert.deepEqual(samples.at(-1), { at: START, ms: 50 }, 'the POST is recorded for all nodes');
  });
});
