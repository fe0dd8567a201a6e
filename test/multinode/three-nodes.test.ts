/**
 * Scale-out on Redis (issue 5): three real `presently serve` processes on one Redis key prefix must behave, to a
 * client, exactly like one node — reads see the latest write at once on every node; concurrent writes to one user
 * through all three nodes keep `sequenceNumber` strictly increasing and lose no update, and every bump is notified;
 * a timed transition is made (and notified) once, whichever nodes' timers fire; and `kill -9` of a node under write
 * load loses no acknowledged write while the survivors take over its timers and its pending deliveries.
 *
 * Redis is PRESENTLY_TEST_REDIS_URL, else redis://127.0.0.1:6379. Each group of nodes gets a key prefix of its own,
 * deleted afterwards. When Redis cannot be reached, the suite is skipped, saying so.
 *
 * Some checks count what the store did independently of the notifications: the outbox of a user's shard is a Redis
 * stream, and its `entries-added` (XINFO STREAM) counts every change event ever appended to it, dispatched (deleted)
 * or not — so, while only one user of that shard is written, its growth is the number of sequenceNumber bumps.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { after, before, it } from 'node:test';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { parseSequence } from '../../src/domain/record.ts';
import { SESSION_PAIRS } from '../../src/domain/sessions.ts';
import { shardOf } from '../../src/store/redis/redisStore.ts';
import { TEST_REDIS_URL, deleteRedisPrefix, newRedisPrefix } from '../kit/redis.ts';
import { needsRedis } from '../kit/backends.ts';
import { startReceiver } from '../kit/receiver.ts';
import { eventually, sleep } from '../kit/time.ts';
import { ADELE, ALEX, APP, MEGAN, TENANT, startProcess, tempDir, type ServerProcess } from '../kit/server.ts';
import { richChange, richKeys } from '../kit/rich.ts';

const RICH = await richKeys();

const LEE = '5f7c2a10-3b9e-4d1a-8e2f-6a4b9c1d2e30';
const NESTOR = 'c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e5f';
const MIN = 60_000;

// ---- three nodes on one prefix ----

interface Nodes {
  prefix: string;
  nodes: ServerProcess[];
  /** Kills every node still running, deletes the prefix's keys and the data folders (idempotent). */
  close(): Promise<void>;
}

async function threeNodes(extra: string[] = []): Promise<Nodes> {
  const prefix = newRedisPrefix();
  const dirs = [tempDir(), tempDir(), tempDir()];
  // Started together, on an empty prefix: they race on seeding the demo tenant, the signing key and (manual) the clock.
  const started = await Promise.allSettled(dirs.map((dir) => startProcess([
    '--store', 'redis', '--redis-url', TEST_REDIS_URL, '--redis-prefix', prefix, '--data', dir, '--log-level', 'warn',
    // Several subscriptions of one user and app: this file tests the nodes, not Graph's one-per-user rule.
    '--max-subscriptions-per-user', '100', ...extra,
  ])));
  const nodes = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await Promise.all(nodes.map((n) => (n.child.exitCode === null && n.child.signalCode === null ? n.kill9() : undefined)));
    await deleteRedisPrefix(prefix);
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  };
  const failed = started.find((s) => s.status === 'rejected');
  if (failed) {
    await close();
    throw failed.reason;
  }
  return { prefix, nodes, close };
}

// ---- HTTP ----

interface Res {
  status: number;
  text: string;
}

async function call(base: string, method: string, path: string, token?: string, body?: unknown): Promise<Res> {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${base}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: res.status, text: await res.text() };
}

async function mint(base: string, body: object = {}): Promise<string> {
  const res = await call(base, 'POST', '/_presently/tokens', undefined, body);
  assert.equal(res.status, 200, res.text);
  return (JSON.parse(res.text) as { access_token: string }).access_token;
}

interface Presence {
  id: string;
  availability: string;
  activity: string;
  statusMessage: null | { message: { content: string } };
  sequenceNumber: string;
}

async function read(base: string, user: string, token: string): Promise<Presence> {
  const res = await call(base, 'GET', `/v1.0/users/${user}/presence`, token);
  assert.equal(res.status, 200, `GET presence of ${user} on ${base}: ${res.text}`);
  // Without @odata.context, which names the node's own URL: everything else must be the same on every node.
  const { '@odata.context': _context, ...presence } = JSON.parse(res.text) as Presence & { '@odata.context'?: string };
  return presence;
}

const seqNum = (s: string) => parseSequence(s);

/** An instant as Graph's UTC dateTimeTimeZone. */
const utc = (at: number) => ({ dateTime: new Date(at).toISOString().slice(0, 23), timeZone: 'UTC' });

const messageBody = (content: string, expiresAt?: number) => ({
  statusMessage: { message: { content, contentType: 'text' }, ...(expiresAt !== undefined ? { expiryDateTime: utc(expiresAt) } : {}) },
});

async function setMessage(base: string, user: string, token: string, content: string, expiresAt?: number): Promise<void> {
  const res = await call(base, 'POST', `/v1.0/users/${user}/presence/setStatusMessage`, token, messageBody(content, expiresAt));
  assert.equal(res.status, 200, `setStatusMessage via ${base}: ${res.text}`);
}

/** A user of the demo tenant created through `base`'s admin API. */
async function createUser(base: string, name: string): Promise<string> {
  const id = randomUUID();
  const res = await call(base, 'POST', `/_presently/tenants/${TENANT}/users`, undefined, {
    id, displayName: name, userPrincipalName: `${name.replace(/\W/g, '')}-${id.slice(0, 8)}@contoso.example`,
  });
  assert.equal(res.status, 201, res.text);
  return id;
}

/** The shared clock's time as `base` sees it (a manual clock). */
async function clockNow(base: string): Promise<number> {
  const res = await call(base, 'GET', '/_presently/clock');
  assert.equal(res.status, 200, res.text);
  return Date.parse((JSON.parse(res.text) as { now: string }).now.replace(/(\.\d{3})\d*/, '$1'));
}

// ---- webhook receivers ----

type Mode = 'ok' | 'fail' | 'hang';

interface Item {
  userId: string;
  seq: string;
  /** When it was answered 2xx (Date.now()). */
  at: number;
}

interface Receiver {
  url: string;
  /** Change items of the POSTs answered 2xx, in the order answered. */
  readonly items: Item[];
  /** Lifecycle items of the POSTs answered 2xx. */
  readonly lifecycle: Record<string, unknown>[];
  /** Every notification POST received (any answer), with when it arrived. */
  readonly posts: { at: number }[];
  /** How the next POSTs are answered: 202, 503, or never (held open until the receiver closes or the sender dies). */
  answer: Mode;
}

/** The kit's receiver at /hooks, answering each notification POST as `answer` says when it arrives. */
async function receiver(cleanup: (fn: () => Promise<void>) => void): Promise<Receiver> {
  const status = { ok: 202, fail: 503, hang: 'hang' } as const;
  const rx = await startReceiver({ path: '/hooks', answer: () => status[view.answer] });
  cleanup(rx.close);
  const answered = () => rx.posts.filter((p) => p.status === 202).sort((x, y) => x.answeredAt! - y.answeredAt!)
    .flatMap((p) => (JSON.parse(p.body) as { value: Record<string, unknown>[] }).value.map((item) => ({ item, at: p.answeredAt! })));
  const view: Receiver = {
    url: rx.url,
    get items() {
      // The subscriptions are rich: the decrypted presence tells one change from another.
      return answered().flatMap(({ item, at }) => {
        const change = richChange(item, RICH.key);
        return change ? [{ ...change, at }] : [];
      });
    },
    get lifecycle() {
      return answered().filter(({ item }) => item.resourceData === undefined).map(({ item }) => item);
    },
    posts: rx.posts,
    answer: 'ok',
  };
  return view;
}

/** Creates a change subscription through `base` (delegated token); resolves to its id. */
async function subscribe(base: string, token: string, users: string[], url: string, expiresAt: number, lifecycleUrl?: string): Promise<string> {
  const res = await call(base, 'POST', '/v1.0/subscriptions', token, {
    changeType: 'updated',
    notificationUrl: url,
    ...(lifecycleUrl ? { lifecycleNotificationUrl: lifecycleUrl } : {}),
    resource: users.length === 1 ? `/communications/presences/${users[0]}` : `/communications/presences?$filter=id in ('${users.join("','")}')`,
    expirationDateTime: new Date(expiresAt).toISOString(),
    clientState: 'three-nodes',
    ...RICH.subscription,
  });
  assert.equal(res.status, 201, `subscribe via ${base}: ${res.text}`);
  return (JSON.parse(res.text) as { id: string }).id;
}

/** Distinct sequenceNumbers notified for `user`, optionally only those after `after`. */
function notifiedSeqs(rx: Receiver, user: string, after?: string): Set<string> {
  return new Set(rx.items.filter((i) => i.userId === user && (after === undefined || seqNum(i.seq) > seqNum(after))).map((i) => i.seq));
}

// ---- the store's own count of change events (see the header) ----

async function outboxCounter(prefix: string): Promise<{ added(user: string): Promise<number>; close(): Promise<void> }> {
  const redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 });
  return {
    async added(user) {
      const k = shardOf(`${TENANT}/${user}`);
      const key = `${prefix}{${prefix}s${k}}:out`;
      if ((await redis.exists(key)) === 0) return 0;
      const info = await redis.xinfo('STREAM', key) as unknown[];
      const i = info.indexOf('entries-added');
      assert.ok(i >= 0, 'XINFO STREAM has entries-added (Redis 7 or later)');
      return Number(info[i + 1]);
    },
    async close() {
      redis.disconnect();
    },
  };
}

/** A fresh user id whose shard no other user of `others` is in (so the shard's outbox counts this user alone). */
function loneShardUser(others: string[]): string {
  const taken = new Set(others.map((u) => shardOf(`${TENANT}/${u}`)));
  for (;;) {
    const id = randomUUID();
    if (!taken.has(shardOf(`${TENANT}/${id}`))) return id;
  }
}

// ---- the tests ----

needsRedis('three nodes on one Redis: reads, writes and notifications', { timeout: 120_000 }, () => {
  let cluster: Nodes;
  const cleanups: (() => Promise<void>)[] = [];
  before(async () => {
    cluster = await threeNodes();
  });
  after(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => {});
    await cluster?.close();
  });

  it('a token minted on node 1 works on 2 and 3; a write is read at once everywhere; a subscription on 2 hears a write on 3', async () => {
    const [n1, n2, n3] = cluster.nodes.map((n) => n.url) as [string, string, string];
    const adele = await mint(n1, { userId: ADELE });
    const app = await mint(n1);
    for (const base of [n2, n3]) {
      const me = await call(base, 'GET', '/v1.0/me/presence', adele);
      assert.equal(me.status, 200, `node ${base}: ${me.text}`);
      assert.equal((JSON.parse(me.text) as Presence).id, ADELE);
    }
    const keys = await Promise.all([n1, n2, n3].map(async (b) => (await call(b, 'GET', '/_presently/keys')).text));
    assert.equal(new Set(keys).size, 1, 'one signing key');

    const before = await read(n1, ADELE, app);
    const res = await call(n1, 'POST', '/v1.0/me/presence/setStatusMessage', adele, messageBody('written on node 1'));
    assert.equal(res.status, 200, res.text);
    const [r1, r2, r3] = [await read(n1, ADELE, app), await read(n2, ADELE, app), await read(n3, ADELE, app)];
    assert.equal(r2.statusMessage?.message.content, 'written on node 1', 'node 2, the very next request');
    assert.equal(r3.statusMessage?.message.content, 'written on node 1', 'node 3, the very next request');
    assert.equal(r2.sequenceNumber, r1.sequenceNumber);
    assert.equal(r3.sequenceNumber, r1.sequenceNumber);
    assert.ok(seqNum(r1.sequenceNumber) > seqNum(before.sequenceNumber));
    assert.deepEqual(r2, r1);
    assert.deepEqual(r3, r1);

    const rx = await receiver((c) => cleanups.push(c));
    const alex = await mint(n2, { userId: ALEX });
    await subscribe(n2, alex, [ADELE], rx.url, Date.now() + 55 * MIN);
    await setMessage(n3, ADELE, app, 'written on node 3');
    const seq = (await read(n1, ADELE, app)).sequenceNumber;
    await eventually(() => notifiedSeqs(rx, ADELE).has(seq), Boolean, 5000, 'the notification of the write on node 3');
    await sleep(300);
    assert.deepEqual([...notifiedSeqs(rx, ADELE)], [seq], 'one change, one sequenceNumber notified');
    assert.equal(rx.items.length, 1, `delivered once: ${JSON.stringify(rx.items)}`);
  });

  it('property: concurrent writes to one user through random nodes keep sequenceNumber increasing, lose no update, and every bump is notified', async () => {
    const bases = cluster.nodes.map((n) => n.url);
    const app = await mint(bases[0]!);
    const user = loneShardUser([ADELE, ALEX, MEGAN, LEE, NESTOR]);
    const created = await call(bases[0]!, 'POST', `/_presently/tenants/${TENANT}/users`, undefined, {
      id: user, displayName: 'Property User', userPrincipalName: `prop-${user.slice(0, 8)}@contoso.example`,
    });
    assert.equal(created.status, 201, created.text);
    const rx = await receiver((c) => cleanups.push(c));
    await subscribe(bases[1]!, await mint(bases[1]!, { userId: MEGAN }), [user], rx.url, Date.now() + 55 * MIN);
    const outbox = await outboxCounter(cluster.prefix);
    cleanups.push(() => outbox.close());

    interface Write {
      node: number;
      kind: 'message' | 'presence';
      pair: number;
      delay: number;
      content: string;
      sentAt: number;
      ackedAt: number | null;
      status: number;
    }
    const stats = { runs: 0, writes: 0, bumps: 0, duplicates: 0, maxNotifyMs: 0 };
    const op = fc.record({
      node: fc.integer({ min: 0, max: 2 }),
      kind: fc.constantFrom<'message' | 'presence'>('message', 'presence'),
      pair: fc.integer({ min: 0, max: SESSION_PAIRS.length - 1 }),
      delay: fc.integer({ min: 0, max: 4 }),
    });
    const started = performance.now();
    await fc.assert(fc.asyncProperty(fc.array(op, { minLength: 30, maxLength: 30 }), async (ops) => {
      const run = ++stats.runs;
      const before = await read(bases[0]!, user, app);
      const added0 = await outbox.added(user);
      let tick = 0;
      const writes: Write[] = ops.map((o, i) => ({ ...o, content: `run ${run} #${i} ${randomUUID()}`, sentAt: -1, ackedAt: null, status: 0 }));

      // Readers: one per node, each polling its node one request after another for the whole run.
      const observed: string[][] = [[], [], []];
      let writing = true;
      const readers = bases.map(async (base, k) => {
        while (writing) observed[k]!.push((await read(base, user, app)).sequenceNumber);
      });
      // Every write in flight together, each through its node.
      await Promise.all(writes.map(async (w) => {
        await sleep(w.delay);
        const [availability, activity] = SESSION_PAIRS[w.pair]!;
        const path = `/v1.0/users/${user}/presence/${w.kind === 'message' ? 'setStatusMessage' : 'setPresence'}`;
        const body = w.kind === 'message'
          ? messageBody(w.content)
          : { sessionId: APP, availability, activity, expirationDuration: 'PT1H' };
        w.sentAt = tick++;
        const res = await call(bases[w.node]!, 'POST', path, app, body);
        w.status = res.status;
        if (res.status === 200) w.ackedAt = tick++;
        else w.content += ` → ${res.status} ${res.text}`;
      }));
      writing = false;
      await Promise.all(readers);
      const quiet = Date.now();
      stats.writes += writes.length;

      assert.deepEqual(writes.filter((w) => w.status !== 200).map((w) => w.content), [], 'every write acknowledged 200');
      const finals = await Promise.all(bases.map((b) => read(b, user, app)));
      assert.deepEqual(finals[1], finals[0], 'nodes 1 and 2 read the same');
      assert.deepEqual(finals[2], finals[0], 'nodes 1 and 3 read the same');
      const final = finals[0]!;
      assert.ok(seqNum(final.sequenceNumber) > seqNum(before.sequenceNumber), 'the sequenceNumber moved on');
      for (const [k, seqs] of observed.entries()) {
        for (let i = 1; i < seqs.length; i++) {
          assert.ok(seqNum(seqs[i]!) >= seqNum(seqs[i - 1]!), `node ${k + 1}'s reads went back from ${seqs[i - 1]} to ${seqs[i]}`);
        }
      }

      // No lost update. A write X sent after W was acknowledged was committed after W: then W cannot be what is left.
      // So what is left must be a write of its kind with no such X (of the kind: the two commands change different
      // parts of the record), or — no write of that kind in this run — what was there before.
      const lastOk = (kind: Write['kind'], matches: (w: Write) => boolean) => {
        const mine = writes.filter((w) => w.kind === kind);
        if (mine.length === 0) return null;
        const latestSent = Math.max(...mine.map((w) => w.sentAt));
        return mine.some((w) => matches(w) && !(w.ackedAt! < latestSent));
      };
      const msgOk = lastOk('message', (w) => w.content === final.statusMessage?.message.content);
      if (msgOk === null) assert.deepEqual(final.statusMessage, before.statusMessage);
      else assert.ok(msgOk, `run ${run}: the status message '${final.statusMessage?.message.content}' is not one a last write could leave`);
      const pairOk = lastOk('presence', (w) => SESSION_PAIRS[w.pair]![0] === final.availability && SESSION_PAIRS[w.pair]![1] === final.activity);
      if (pairOk === null) assert.deepEqual([final.availability, final.activity], [before.availability, before.activity]);
      else assert.ok(pairOk, `run ${run}: ${final.availability}/${final.activity} is not what a last setPresence could leave`);

      // Each committed change is one outbox event with its own sequenceNumber: every status message write is one (its
      // publishedDateTime alone changes the view), a setPresence is one when it changes availability or activity.
      const bumps = (await outbox.added(user)) - added0;
      const messages = writes.filter((w) => w.kind === 'message').length;
      assert.ok(bumps >= messages && bumps <= writes.length, `run ${run}: ${bumps} change events for ${messages} status messages of ${writes.length} writes`);
      stats.bumps += bumps;

      // Every bump notified, each with its own sequenceNumber (at least once; duplicates counted).
      const notified = await eventually(() => notifiedSeqs(rx, user, before.sequenceNumber), (s) => s.size >= bumps, 10_000,
        `run ${run}: distinct sequenceNumbers notified (expected ${bumps})`);
      stats.maxNotifyMs = Math.max(stats.maxNotifyMs, Date.now() - quiet);
      assert.equal(notified.size, bumps, `run ${run}: one distinct sequenceNumber per change event`);
      assert.ok([...notified].every((s) => seqNum(s) <= seqNum(final.sequenceNumber)), 'nothing notified beyond the last change');
      assert.ok(notified.has(final.sequenceNumber), 'the last change is notified');
      for (const s of observed.flat()) {
        if (seqNum(s) > seqNum(before.sequenceNumber)) assert.ok(notified.has(s), `run ${run}: ${s} was read but never notified`);
      }
      stats.duplicates += rx.items.filter((i) => i.userId === user && notified.has(i.seq)).length - notified.size;
    }), { numRuns: 20, endOnFailure: true });
    process.stderr.write(`# property: ${stats.runs} runs, ${stats.writes} writes, ${stats.bumps} bumps, ${stats.duplicates} duplicate notifications, `
      + `last notification at most ${stats.maxNotifyMs} ms after the writes, ${Math.round(performance.now() - started)} ms\n`);
  });
});

needsRedis('three nodes on one Redis: the shared manual clock', { timeout: 60_000 }, () => {
  it('a timed transition makes one sequenceNumber bump and one notification; a reauthorizationRequired goes out once', async (t) => {
    const cluster = await threeNodes(['--clock', 'manual']);
    t.after(() => cluster.close());
    const cleanups: (() => Promise<void>)[] = [];
    t.after(async () => {
      for (const c of cleanups.reverse()) await c().catch(() => {});
    });
    const [n1, n2, n3] = cluster.nodes.map((n) => n.url) as [string, string, string];
    const now0 = await clockNow(n1);
    assert.equal(await clockNow(n2), now0, 'one clock');
    assert.equal(await clockNow(n3), now0, 'one clock');
    const app = await mint(n1);
    const outbox = await outboxCounter(cluster.prefix);
    cleanups.push(() => outbox.close());

    await setMessage(n1, ADELE, app, 'back in ten minutes', now0 + 10 * MIN);
    const set = await read(n1, ADELE, app);
    const rx = await receiver((c) => cleanups.push(c));
    const life = await receiver((c) => cleanups.push(c));
    // Expires 50 minutes from now0: its reauthorizationRequired is due at now0 + 40 minutes.
    await subscribe(n2, await mint(n2, { userId: ALEX }), [ADELE], rx.url, now0 + 50 * MIN, life.url);
    for (const base of [n2, n3]) assert.deepEqual(await read(base, ADELE, app), set);
    await sleep(200);
    const items0 = rx.items.length;
    const added0 = await outbox.added(ADELE);

    const moved = await call(n3, 'POST', '/_presently/clock', undefined, { advance: 'PT11M' });
    assert.equal(moved.status, 200, moved.text);
    // When node 3 answers, the transition is made and notified, whichever node made it.
    const after = await Promise.all([n1, n2, n3].map((b) => read(b, ADELE, app)));
    assert.equal(after[0]!.statusMessage, null);
    assert.deepEqual(after[1], after[0]);
    assert.deepEqual(after[2], after[0]);
    assert.ok(seqNum(after[0]!.sequenceNumber) > seqNum(set.sequenceNumber));
    assert.deepEqual(rx.items.slice(items0).map((i) => i.seq), [after[0]!.sequenceNumber], 'one notification, sent before node 3 answered');
    await sleep(1500);
    assert.equal(rx.items.length, items0 + 1, 'no second notification');
    assert.equal((await outbox.added(ADELE)) - added0, 1, 'one change event: one sequenceNumber bump');
    for (const base of [n1, n2, n3]) assert.equal((await read(base, ADELE, app)).sequenceNumber, after[0]!.sequenceNumber);

    // now0 + 41 minutes: every node's lifecycle loop may see the subscription due for its warning; one notice goes out.
    const warned = await call(n1, 'POST', '/_presently/clock', undefined, { advance: 'PT30M' });
    assert.equal(warned.status, 200, warned.text);
    await eventually(() => life.lifecycle.length, (n) => n >= 1, 3000, 'the reauthorizationRequired notice');
    // Another move on another node: nothing new (the lifetime's notice is recorded in the store).
    assert.equal((await call(n2, 'POST', '/_presently/clock', undefined, { advance: 'PT1M' })).status, 200);
    await sleep(1500);
    assert.equal(life.lifecycle.length, 1, `exactly one notice: ${JSON.stringify(life.lifecycle)}`);
    assert.equal(life.lifecycle[0]!.lifecycleEvent, 'reauthorizationRequired');
  });
});

needsRedis('three nodes on one Redis: kill -9 of a node under write load', { timeout: 90_000 }, () => {
  interface Write {
    user: string;
    content: string;
    /** Logical time the request was first sent. */
    sentAt: number;
    /** Logical time its 200 arrived (after a fail-over, the retry's), or null. */
    ackedAt: number | null;
    retried: boolean;
  }

  const USERS = [ADELE, ALEX, MEGAN, LEE, NESTOR];
  const WRITERS = 8;
  const KILL_AT = 300;
  const AFTER_KILL = 100;
  /** The nodes' delivery lease (--delivery-lease). */
  const LEASE_MS = 8000;
  /**
   * The nodes' webhook POST timeout (--webhook-timeout), raised from 3 s for a margin: node 2 must die while its
   * POST is still held. A POST that times out is rescheduled, not leased, and a survivor may then send it before the
   * lease would have ended.
   */
  const POST_TIMEOUT_MS = 6000;

  it('loses no acknowledged write; the survivors make its timers happen and deliver its pending notifications', async (t) => {
    // The delivery lease is shortened from 30 s to LEASE_MS so that waiting it out takes seconds, not half a minute.
    const cluster = await threeNodes(['--delivery-lease', String(LEASE_MS), '--webhook-timeout', String(POST_TIMEOUT_MS)]);
    t.after(() => cluster.close());
    const cleanups: (() => Promise<void>)[] = [];
    t.after(async () => {
      for (const c of cleanups.reverse()) await c().catch(() => {});
    });
    const bases = cluster.nodes.map((n) => n.url);
    const [n1, n2, n3] = bases as [string, string, string];
    const victim = cluster.nodes[1]!;
    const app = await mint(n1);

    // The victim's work, set up through it: three users whose status messages expire 3.5 s from now (timers), one
    // user whose change notification is being POSTed by it when it dies (a leased delivery), one whose notification
    // failed once and waits for its retry (rescheduled, not leased). A receiver of its own for each.
    const timed = [await createUser(n1, 'Timer One'), await createUser(n1, 'Timer Two'), await createUser(n1, 'Timer Three')];
    const leasedUser = await createUser(n1, 'Leased Lee');
    const retryUser = await createUser(n1, 'Retry Rae');
    const rxTimers = await receiver((c) => cleanups.push(c));
    const rxLeased = await receiver((c) => cleanups.push(c));
    const rxRetry = await receiver((c) => cleanups.push(c));
    const creator = await mint(n2, { userId: ALEX });
    await subscribe(n2, creator, timed, rxTimers.url, Date.now() + 55 * MIN);
    await subscribe(n2, creator, [leasedUser], rxLeased.url, Date.now() + 55 * MIN);
    await subscribe(n2, creator, [retryUser], rxRetry.url, Date.now() + 55 * MIN);

    const expiresAt = Date.now() + 3500;
    for (const u of timed) await setMessage(n2, u, app, `expires at ${new Date(expiresAt).toISOString()}`, expiresAt);
    const baseline = new Map<string, string>();
    for (const u of timed) baseline.set(u, (await read(n1, u, app)).sequenceNumber);
    await eventually(() => timed.every((u) => notifiedSeqs(rxTimers, u).has(baseline.get(u)!)), Boolean, 3000, 'the timers\' set notifications');

    rxRetry.answer = 'fail';
    await setMessage(n2, retryUser, app, 'notified after a retry');
    await eventually(() => rxRetry.posts.length, (n) => n >= 1, 3000, 'the first (failing) POST of the retry user');
    rxLeased.answer = 'hang';
    // Any node may dispatch a change and claim its delivery (the others find it when they next look). Nodes 1 and 3
    // are stopped until node 2's POST arrives, so the POST held open is node 2's: a survivor's would time out and be
    // retried long before the lease this test waits out.
    const others = [cluster.nodes[0]!, cluster.nodes[2]!];
    for (const n of others) n.child.kill('SIGSTOP');
    // Node 2 claims the delivery (its lease starts) after this write, so the lease cannot end before LEASE_MS from here.
    const leasedWriteAt = Date.now();
    let hung: { at: number; closedAt?: number };
    try {
      await setMessage(n2, leasedUser, app, 'notified after the lease');
      hung = (await eventually(() => rxLeased.posts, (p) => p.length >= 1, 3000, 'the POST held open'))[0]!;
    } finally {
      for (const n of others) n.child.kill('SIGCONT');
    }

    // The load: WRITERS writers spread over the three nodes; after KILL_AT acks (or 2 s after node 2 began the held
    // POST, whichever comes first) node 2 is killed; writes to it that
    // fail on the connection go to another node, as a load balancer would send them; AFTER_KILL more acks.
    const writes: Write[] = [];
    const unexpected: string[] = [];
    let tick = 0;
    let acks = 0;
    let acksAfterKill = 0;
    const alive = [true, true, true];
    let killing: Promise<void> | null = null;
    let killedAt = 0;
    /** A live node other than k (picked by n). */
    const otherThan = (k: number, n: number) => {
      const live = [0, 1, 2].filter((i) => i !== k && alive[i]);
      return live[n % live.length]!;
    };
    let acksAtKill = 0;
    const kill = () => {
      if (killing) return;
      alive[1] = false;
      killedAt = Date.now();
      acksAtKill = acks;
      killing = victim.kill9();
    };
    // Node 2 must die while its POST is held open (before its timeout): on a slow machine, before KILL_AT acks.
    const deadline = setTimeout(kill, Math.max(0, hung.at + 2000 - Date.now()));
    t.after(() => clearTimeout(deadline));
    const writer = async (w: number) => {
      for (let i = 0; acksAfterKill < AFTER_KILL; i++) {
        const user = USERS[(w * 3 + i) % USERS.length]!;
        const rec: Write = { user, content: `writer ${w} #${i} ${randomUUID()}`, sentAt: tick++, ackedAt: null, retried: false };
        writes.push(rec);
        let node = (w + i) % 3;
        if (!alive[node]) node = otherThan(node, i);
        for (;;) {
          try {
            const res = await call(bases[node]!, 'POST', `/v1.0/users/${user}/presence/setStatusMessage`, app, messageBody(rec.content));
            if (res.status !== 200) unexpected.push(`${res.status} ${res.text} for ${rec.content}`);
            else {
              rec.ackedAt = tick++;
              acks++;
              if (killing) acksAfterKill++;
              if (acks >= KILL_AT) kill();
            }
          } catch (err) {
            // Only node 2 may refuse: fail over (the write may or may not have been committed there).
            if (node === 1 && !alive[1]) {
              rec.retried = true;
              node = otherThan(1, i);
              continue;
            }
            unexpected.push(`network error on node ${node + 1} for ${rec.content}: ${(err as Error).message}`);
          }
          break;
        }
        if (unexpected.length > 0) return;
      }
    };
    const loadStarted = Date.now();
    await Promise.all(Array.from({ length: WRITERS }, (_, w) => writer(w)));
    await killing;
    rxLeased.answer = 'ok';
    rxRetry.answer = 'ok';
    assert.deepEqual(unexpected, [], 'every write answered 200, by a live node');
    clearTimeout(deadline);
    assert.ok(killedAt > 0 && acksAfterKill >= AFTER_KILL, `${acks} acks, ${acksAfterKill} after the kill`);
    assert.ok(acksAtKill >= 100, `only ${acksAtKill} acks before the kill`);
    process.stderr.write(`# kill -9: ${acks} acks (${acksAtKill} before the kill), ${writes.filter((w) => w.retried).length} failed over; `
      + `killed ${killedAt - loadStarted} ms into the load, ${killedAt - hung.at} ms after the held POST began, ${expiresAt - killedAt} ms before the expiries\n`);
    assert.ok(killedAt < expiresAt - 200, 'node 2 died before its timers were due (else this proves less)');
    // A later kill would find the held POST already timed out and rescheduled. The POST began after the write, so a
    // kill less than its timeout after the write is a kill while it was held.
    assert.ok(killedAt - leasedWriteAt < POST_TIMEOUT_MS - 200,
      `node 2 died while its POST was held open (killed ${killedAt - leasedWriteAt} ms after the write; else this proves less)`);
    // And the held connection is node 2's: it closed when node 2 died, not before.
    await eventually(() => hung.closedAt, (at) => at !== undefined, 3000, 'the held POST\'s connection to close');
    assert.ok(hung.closedAt! >= killedAt, `the held POST's connection closed ${killedAt - hung.closedAt!} ms before the kill: not node 2's`);

    // No acknowledged write lost: what each user has is a write no acknowledged write was sent after the ack of.
    for (const user of USERS) {
      const [r1, r3] = [await read(n1, user, app), await read(n3, user, app)];
      assert.deepEqual(r3, r1, `nodes 1 and 3 agree on ${user}`);
      const stored = r1.statusMessage?.message.content ?? null;
      const mine = writes.filter((w) => w.user === user);
      const found = mine.find((w) => w.content === stored);
      assert.ok(found, `user ${user}: '${stored}' is not a write of this test`);
      const latestAckedSent = Math.max(...mine.filter((w) => w.ackedAt !== null).map((w) => w.sentAt));
      assert.ok(!(found.ackedAt !== null && found.ackedAt < latestAckedSent),
        `user ${user}: '${stored}' (acked at ${found.ackedAt}) was overwritten by a write sent at ${latestAckedSent}`);
    }

    // (a) The timers node 2 armed happen on the survivors: each expiry is notified — no read of those users asked for
    // it — within a second or so of its instant (the survivors' due-index poll is 1 s), once.
    const expired = await eventually(() => timed.map((u) => [...notifiedSeqs(rxTimers, u, baseline.get(u))]), (v) => v.every((s) => s.length >= 1),
      expiresAt + 4000 - Date.now(), 'the expiries node 2 had scheduled, notified');
    const expiryLag = Math.max(...timed.map((u) => rxTimers.items.find((i) => i.userId === u && seqNum(i.seq) > seqNum(baseline.get(u)!))!.at)) - expiresAt;
    for (const [i, u] of timed.entries()) {
      const r = await read(n3, u, app);
      assert.equal(r.statusMessage, null);
      assert.deepEqual(expired[i], [r.sequenceNumber], `user ${u}: one bump, notified with its sequenceNumber`);
    }

    // (b) The delivery node 2 had rescheduled (no lease) is sent by a survivor once it is due. On a loaded machine node
    // 2 may have been re-sending it at the kill; then its lease is what hands it over, hence the longer wait.
    const retried = (await eventually(() => rxRetry.items.filter((i) => i.userId === retryUser), (v) => v.length >= 1, LEASE_MS + 10_000,
      'the retry node 2 had scheduled'))[0]!;
    // (c) The delivery node 2 was sending when it died stays leased to it for the lease (LEASE_MS of clock time from
    // its claim), then a survivor sends it. That wait is the one long part of this file.
    const leased = (await eventually(() => rxLeased.items.filter((i) => i.userId === leasedUser), (v) => v.length >= 1, LEASE_MS + 15_000,
      'the delivery leased to node 2'))[0]!;
    process.stderr.write(`# kill -9 take-over: expiries notified ${expiryLag} ms after their instant; rescheduled delivery sent ${retried.at - killedAt} ms `
      + `after the kill; leased delivery ${leased.at - hung.at} ms after node 2 began its POST\n`);
    // The survivors waited for the lease: not sent before LEASE_MS after the write whose delivery node 2 claimed. (Not
    // measured from node 2's POST: on a loaded machine its POST can begin seconds after its claim, 4 s in one CI run.)
    assert.ok(leased.at >= leasedWriteAt + LEASE_MS - 50,
      `the lease was honoured: nobody sent it while node 2 held it (sent ${leased.at - leasedWriteAt} ms after the write, ${leased.at - hung.at} ms after node 2's POST began)`);

    await sleep(1000);
    for (const [i, u] of timed.entries()) assert.equal(notifiedSeqs(rxTimers, u, baseline.get(u)).size, expired[i]!.length, 'no further bump');
    assert.equal(new Set(rxRetry.items.map((i) => i.seq)).size, 1);
    assert.equal(new Set(rxLeased.items.map((i) => i.seq)).size, 1);
  });
});
