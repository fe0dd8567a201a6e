/**
 * The dashboard's event stream over real sockets (docs/operations/dashboard.md#the-stream): an event after a write,
 * resuming with Last-Event-ID replays exactly what was missed, a cursor the server no longer holds (or from an earlier
 * run) gets a resync, a reader that stops reading while 20,000 changes are made holds a bounded amount and slows
 * nobody, and closing the server with streams open does not wait for them.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:http2';
import { setImmediate as turn } from 'node:timers/promises';
import type { UserCard } from '../../src/dashboard/cards.ts';
import type { TimelineEntry } from '../../src/dashboard/timeline.ts';
import type { ChangeCause } from '../../src/presence/events.ts';
import { setStatusMessage } from '../../src/domain/statusMessage.ts';
import { ADELE, ALEX, APP, TENANT, startInProcess, type TestServer } from '../kit/server.ts';
import { createUser, message, moveClock, postJson, setStatusOk } from '../kit/graph.ts';
import { openStream, type Frame, type SseClient } from '../kit/sse.ts';

const START = Date.parse('2026-11-28T08:00:00Z');
const STREAM = `/_presently/ui/api/stream?tenant=${TENANT}`;

interface PresenceData { tenantId: string; userId: string; card: UserCard; entry: TimelineEntry }

const presenceFrames = (frames: Frame[]) => frames.filter((f) => f.event === 'presence').map((f) => f as Frame & { data: PresenceData });
const statusOf = (f: Frame & { data: PresenceData }) => f.data.card.presence.statusMessage?.message.content;

describe('dashboard stream', () => {
  let s: TestServer;
  let base: string;
  const open: SseClient[] = [];
  const connect = async (path = STREAM, headers: Record<string, string> = {}) => {
    const client = await openStream(base, path, headers);
    open.push(client);
    return client;
  };
  before(async () => {
    s = await startInProcess({ clock: 'manual' }, { manualStart: START });
    base = await s.listen();
  });
  after(async () => {
    for (const client of open) client.close();
    await s?.close();
  });

  it('answers text/event-stream, and a change made through the Graph API arrives as a presence event', async () => {
    const client = await connect();
    assert.equal(client.status, 200);
    assert.match(String(client.headers['content-type']), /^text\/event-stream/);
    await setStatusOk(s, ADELE, await s.userToken(ADELE), message('Live'));
    await client.waitFor((f) => presenceFrames(f).some((p) => statusOf(p) === 'Live'), 5000, 'the presence event');
    const [event] = presenceFrames(client.frames);
    assert.equal(event!.data.tenantId, TENANT);
    assert.equal(event!.data.userId, ADELE);
    assert.equal(event!.data.card.displayName, 'Adele Vance');
    assert.deepEqual(event!.data.entry.cause, { kind: 'api', action: 'setStatusMessage', appId: APP, userId: ADELE });
    assert.ok(Number.isSafeInteger(event!.id), String(event!.id));
    client.close();
  });

  it('a reconnect with Last-Event-ID gets exactly the events it missed, in order, then the live ones', async () => {
    const first = await connect();
    const token = await s.userToken(ALEX);
    await setStatusOk(s, ALEX, token, message('seen'));
    await first.waitFor((f) => presenceFrames(f).some((p) => statusOf(p) === 'seen'), 5000, 'the first event');
    const last = first.frames.at(-1)!.id!;
    first.close();
    for (const text of ['missed 1', 'missed 2', 'missed 3']) await setStatusOk(s, ALEX, token, message(text));

    const resumed = await connect(STREAM, { 'last-event-id': String(last) });
    await resumed.waitFor((f) => f.length >= 3, 5000, 'the replay');
    assert.deepEqual(resumed.frames.map((f) => f.id), [last + 1, last + 2, last + 3]);
    assert.deepEqual(presenceFrames(resumed.frames).map(statusOf), ['missed 1', 'missed 2', 'missed 3']);
    await setStatusOk(s, ALEX, token, message('live again'));
    await resumed.waitFor((f) => f.length === 4, 5000, 'the live event after the replay');
    assert.equal(resumed.frames[3]!.id, last + 4);

    const byQuery = await connect(`${STREAM}&after=${last + 2}`);
    await byQuery.waitFor((f) => f.length >= 2, 5000, 'the replay after ?after=');
    assert.deepEqual(byQuery.frames.map((f) => f.id), [last + 3, last + 4]);
  });

  it('a subscription, its deliveries and a move of the manual clock are events too', async () => {
    const client = await connect();
    const token = await s.userToken(ADELE);
    const now = Date.parse((await moveClock(s, { advance: 'PT0S' })).now);
    const created = await postJson(s, '/v1.0/subscriptions', token, {
      changeType: 'updated', notificationUrl: `${base}/_presently/sink/dashboard`, resource: `/communications/presences/${ALEX}`,
      expirationDateTime: new Date(now + 30 * 60_000).toISOString(),
    });
    assert.equal(created.statusCode, 201, created.body);
    const { id } = created.json() as { id: string };
    await setStatusOk(s, ALEX, await s.userToken(ALEX), message('notified'));
    await moveClock(s, { advance: 'PT1M' });
    await client.waitFor((f) => f.some((x) => x.event === 'clock'), 5000, 'the clock event');
    await client.waitFor((f) => f.some((x) => x.event === 'delivery'), 5000, 'the delivery event');
    const sub = client.frames.find((f) => f.event === 'subscription')!.data as { id: string; state: string; userIds: string[] };
    assert.deepEqual([sub.id, sub.state, sub.userIds], [id, 'active', [ALEX]]);
    const delivery = client.frames.find((f) => f.event === 'delivery')!.data as { subscriptionIds: string[]; userIds: string[]; outcome: string };
    assert.deepEqual([delivery.subscriptionIds, delivery.userIds, delivery.outcome], [[id], [ALEX], 'delivered']);
    const clock = client.frames.filter((f) => f.event === 'clock').at(-1)!.data;
    assert.deepEqual(clock, { now: new Date(now + 60_000).toISOString().replace(/\.(\d{3})Z$/, '.$10000Z'), mode: 'manual' });
    const deleted = await s.inject({ method: 'DELETE', url: `/v1.0/subscriptions/${id}`, headers: { authorization: `Bearer ${token}` } });
    assert.equal(deleted.statusCode, 204, deleted.body);
    await client.waitFor((f) => f.some((x) => x.event === 'subscription' && (x.data as { deleted?: boolean }).deleted === true), 5000, 'the deletion');
    client.close();
  });

  it('a cursor older than what the server holds, or from an earlier run, gets a resync', async () => {
    const board = (await s.inject({ method: 'GET', url: `/_presently/ui/api/board?tenant=${TENANT}` })).json() as { cursor: number };
    for (const cursor of [board.cursor - 20_000, board.cursor + 1_000]) {
      const client = await connect(STREAM, { 'last-event-id': String(cursor) });
      await client.waitFor((f) => f.length >= 1, 5000, `the resync for ${cursor}`);
      assert.deepEqual(client.frames.map((f) => [f.event, f.data]), [['resync', {}]]);
      assert.equal(client.frames[0]!.id, board.cursor, 'the resync carries the current position');
    }
  });

  it('a reader that stops reading while 20,000 changes are made holds a bounded amount and delays no one', async () => {
    const users: string[] = [];
    for (let i = 0; i < 200; i++) users.push(await createUser(s, TENANT, { userPrincipalName: `slow${i}@contoso.example`, displayName: `Slow ${i}` }));
    const stalled = await connect();
    stalled.pause();
    const reader = await connect();
    const cause: ChangeCause = { kind: 'api', action: 'setStatusMessage', appId: APP, userId: null };
    const stats = () => s.presently.dashboard.hub.stats();
    let mostBuffered = 0;
    let mostHeld = 0;
    for (let n = 0; n < 20_000; n++) {
      const input = { kind: 'set' as const, message: { content: `change ${n}`, contentType: 'text' as const, expiry: null, expiresAt: null } };
      await s.presently.presence.apply(TENANT, users[n % users.length]!, (facts, now) => setStatusMessage(facts, input, now), cause);
      if (n % 500 === 499) {
        await turn();
        // Another client's request is answered while the stalled reader holds its stream.
        assert.equal((await fetch(`${base}/_presently/ui/api/board?tenant=${TENANT}`)).status, 200);
        for (const c of stats()) {
          mostBuffered = Math.max(mostBuffered, c.bufferedBytes);
          mostHeld = Math.max(mostHeld, c.heldCards + c.heldOthers);
        }
      }
    }
    const held = stats().find((c) => c.held)!;
    assert.ok(held, `a connection is held: ${JSON.stringify(stats())}`);
    assert.ok(held.coalesced > 0, 'cards were coalesced while held');
    assert.ok(mostHeld <= users.length + 10, `at most the newest card per user is held (${mostHeld})`);
    assert.ok(mostBuffered < 256 * 1024, `the socket's buffer stays small (${mostBuffered} bytes)`);

    // The reader that kept reading ends with every user's last change.
    const lastOf = (frames: Frame[]) => new Map(presenceFrames(frames).map((p) => [p.data.userId, statusOf(p)]));
    const final = new Map(users.map((u, i) => [u, `change ${20_000 - users.length + i}`]));
    const upToDate = (frames: Frame[]) => users.every((u) => lastOf(frames).get(u) === final.get(u));
    await reader.waitFor(upToDate, 20_000, 'the reading client has every last change');
    // The stalled one, once it reads again, gets the newest card of each user (or a resync), not every change.
    stalled.resume();
    await stalled.waitFor((f) => upToDate(f) || f.some((x) => x.event === 'resync'), 20_000, 'the stalled client catches up');
    assert.ok(presenceFrames(stalled.frames).length < 20_000, `${presenceFrames(stalled.frames).length} presence events`);
  });
});

describe('closing the server with streams open', () => {
  it('does not wait for them: a reading and a stalled stream are ended', { timeout: 30_000 }, async () => {
    const s = await startInProcess();
    const base = await s.listen();
    const reading = await openStream(base, STREAM);
    const stalled = await openStream(base, STREAM);
    stalled.pause();
    await setStatusOk(s, ADELE, await s.userToken(ADELE), message('x'.repeat(200)));
    await s.close();
    await reading.waitFor(() => reading.ended, 5000, 'the reading stream ended');
    stalled.close();
  });

  it('over HTTP/2 too: the stream\'s session is closed with it, so no idle session holds the server open', { timeout: 30_000 }, async () => {
    const s = await startInProcess({ https: true });
    const session = connect(await s.listen(), { rejectUnauthorized: false });
    const stream = session.request({ ':path': STREAM });
    const status = await new Promise<unknown>((resolve) => stream.on('response', (h) => resolve(h[':status'])));
    assert.equal(status, 200);
    const sessionClosed = new Promise((resolve) => session.on('close', resolve));
    await s.close();
    await sessionClosed;
  });
});
