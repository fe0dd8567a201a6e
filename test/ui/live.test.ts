/**
 * The dashboard's live board (ui/src/state/board.ts and live.ts) in Node, against a fake server: the snapshot, then
 * the stream resumed from its cursor; presence events applied in place, many within a frame drawn once; a dropped
 * stream reopened with Last-Event-ID; `resync` reads the board again and keeps what arrived meanwhile.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Board, UserCard } from '../../ui/src/api/types.ts';
import { until } from '../kit/time.ts';

const TENANT = 't1';

function card(id: string, displayName: string, availability = 'Offline'): UserCard {
  return {
    id, displayName, userPrincipalName: `${id}@contoso.example`,
    presence: {
      id, availability, activity: availability, statusMessage: null, outOfOfficeSettings: { message: null, isOutOfOffice: false },
      workLocation: { workLocationType: 'unspecified', source: 'none', placeId: null }, sequenceNumber: null,
    },
    statusMessageExpiresAt: null, outOfOffice: null, sessions: [], preferred: null,
  };
}

/** The fake server: board snapshots to answer, and each stream opened (its request headers and a way to write). */
const server = {
  boards: [] as Board[],
  boardReads: 0,
  streams: [] as Array<{ headers: Record<string, string>; write: (text: string) => void; end: () => void }>,
};

const realFetch = globalThis.fetch;
const realRaf = (globalThis as { requestAnimationFrame?: unknown }).requestAnimationFrame;

function fakeFetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
  const url = new URL(String(input), 'http://presently.test');
  if (url.pathname === '/_presently/ui/api/board') {
    const snapshot = server.boards[Math.min(server.boardReads++, server.boards.length - 1)]!;
    return Promise.resolve(Response.json(snapshot));
  }
  if (url.pathname === '/_presently/ui/api/stream') {
    const encoder = new TextEncoder();
    let controller!: ReadableStreamDefaultController<Uint8Array>;
    const body = new ReadableStream<Uint8Array>({ start: (c) => { controller = c; } });
    init?.signal?.addEventListener('abort', () => controller.error(new Error('aborted')));
    server.streams.push({
      headers: init?.headers as Record<string, string>,
      write: (text) => controller.enqueue(encoder.encode(text)),
      end: () => controller.close(),
    });
    return Promise.resolve(new Response(body, { headers: { 'content-type': 'text/event-stream' } }));
  }
  return Promise.resolve(new Response('{}', { status: 404 }));
}

const event = (id: number, type: string, data: unknown) => `id: ${id}\nevent: ${type}\ndata: ${JSON.stringify(data)}\n\n`;
const presence = (id: number, c: UserCard) => event(id, 'presence', { tenantId: TENANT, userId: c.id, card: c, entry: {} });

describe('dashboard: the live board against a fake server', () => {
  let boardModule: typeof import('../../ui/src/state/board.ts');
  let live: typeof import('../../ui/src/state/live.ts');

  before(async () => {
    globalThis.fetch = fakeFetch as typeof fetch;
    (globalThis as { requestAnimationFrame?: unknown }).requestAnimationFrame = (cb: () => void) => setTimeout(cb, 16);
    boardModule = await import('../../ui/src/state/board.ts');
    live = await import('../../ui/src/state/live.ts');
  });
  after(() => {
    live?.unfollow();
    globalThis.fetch = realFetch;
    (globalThis as { requestAnimationFrame?: unknown }).requestAnimationFrame = realRaf;
  });

  const names = () => boardModule.board.get().users.map((u) => `${u.displayName}:${u.presence.availability}`);

  it('reads the snapshot, then follows the stream from its cursor', async () => {
    server.boards.push({ tenantId: TENANT, now: '2026-11-28T08:00:00Z', cursor: 10, users: [card('b', 'Bea'), card('a', 'Ann')], total: 2 });
    await boardModule.showTenant(TENANT);
    assert.deepEqual(names(), ['Ann:Offline', 'Bea:Offline'], 'sorted by name');
    await until(() => server.streams.length === 1, 2000, 'the stream opened');
    assert.equal(server.streams[0]!.headers['last-event-id'], '10');
    await until(() => live.streamStatus.get() === 'live', 2000, 'live');
  });

  it('applies presence events in place; a user changed many times within a frame is drawn once, with the newest card', async () => {
    let sets = 0;
    const off = boardModule.board.subscribe(() => sets++);
    const stream = server.streams[0]!;
    let text = '';
    for (let i = 0; i < 100; i++) text += presence(11 + i, card('a', 'Ann', i % 2 ? 'Busy' : 'Available'));
    stream.write(text + presence(111, card('c', 'Cy', 'Away')));
    await until(() => names().length === 3, 2000, 'the events applied');
    off();
    assert.deepEqual(names(), ['Ann:Busy', 'Bea:Offline', 'Cy:Away'], 'a new user is inserted in name order');
    assert.equal(sets, 1, 'one board update for 101 events in one frame');
    assert.equal(boardModule.board.get().cursor, 111);
  });

  it('reopens a dropped stream with the last event id it received', async () => {
    server.streams[0]!.end();
    await until(() => server.streams.length === 2, 5000, 'reconnected');
    assert.equal(server.streams[1]!.headers['last-event-id'], '111');
  });

  it('on resync reads the board again; an event newer than the new snapshot that arrived meanwhile is kept', async () => {
    server.boards.push({ tenantId: TENANT, now: '2026-11-28T08:05:00Z', cursor: 500, users: [card('a', 'Ann', 'DoNotDisturb'), card('b', 'Bea')], total: 2 });
    const stream = server.streams[1]!;
    stream.write(event(499, 'resync', {}) + presence(450, card('b', 'Bea', 'Busy')) + presence(501, card('b', 'Bea', 'Available')));
    await until(() => server.boardReads === 2 && names().join() === 'Ann:DoNotDisturb,Bea:Available', 3000, 'the board read again, with the newer event on top');
    assert.equal(boardModule.board.get().cursor, 501);
  });

  it('a capped board (the tenant has more users than it holds) keeps to its users: others\' changes are not added', async () => {
    server.boards.push({ tenantId: TENANT, now: '2026-11-28T08:06:00Z', cursor: 600, users: [card('a', 'Ann'), card('b', 'Bea')], total: 9000 });
    const stream = server.streams[1]!;
    stream.write(event(601, 'resync', {}));
    await until(() => server.boardReads === 3 && boardModule.board.get().cursor === 600, 3000, 'the capped board read');
    assert.equal(boardModule.board.get().capped, true);
    assert.equal(boardModule.board.get().total, 9000);
    stream.write(presence(602, card('z', 'Zed', 'Busy')) + presence(603, card('a', 'Ann', 'Away')));
    await until(() => names().join() === 'Ann:Away,Bea:Offline', 2000, 'Ann changed in place');
    assert.equal(boardModule.board.get().cursor, 603);
  });
});
