/**
 * One stream's back-pressure (docs/operations/dashboard.md#back-pressure), with a socket that takes only what the
 * test lets it: nothing is written while it is full, the newest card of each user and a bounded number of other
 * events are kept, in stream order on drain; an overflow becomes one resync.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { StreamConnection, type EventSink } from '../../src/dashboard/connection.ts';
import { StreamEvent, type StreamType } from '../../src/dashboard/events.ts';

/** A socket that is full once `room` writes have been made since the last drain. */
class FakeSocket extends EventEmitter implements EventSink {
  written: string[] = [];
  writableLength = 0;
  ended = false;
  destroyed = false;
  constructor(public room: number) {
    super();
  }
  write(chunk: string): boolean {
    this.written.push(chunk);
    this.writableLength += chunk.length;
    return --this.room > 0;
  }
  drain(room: number): void {
    this.room = room;
    this.writableLength = 0;
    this.emit('drain');
  }
  end(): void { this.ended = true; }
  destroy(): void { this.destroyed = true; }
}

let nextId = 1;
const event = (type: StreamType, userId: string | null, data: unknown = {}, tenant = 't') =>
  new StreamEvent(nextId++, type, tenant, userId, () => data);
const ids = (frames: string[]) => frames.map((f) => Number(/^id: (\d+)/.exec(f)?.[1]));

describe('stream connection back-pressure', () => {
  it('writes while the socket takes it; then keeps the newest card per user and sends them in order on drain', () => {
    const socket = new FakeSocket(1);
    const c = new StreamConnection(socket, 't', () => nextId - 1);
    const first = event('presence', 'a');
    c.offer(first);
    assert.deepEqual(ids(socket.written), [first.id], 'written, and now the socket is full');
    const a2 = event('presence', 'a', { n: 2 });
    const b1 = event('presence', 'b');
    const d = event('delivery', null);
    const a3 = event('presence', 'a', { n: 3 });
    for (const e of [a2, b1, d, a3]) c.offer(e);
    c.offer(event('presence', 'x', {}, 'other-tenant'));
    assert.equal(socket.written.length, 1, 'nothing written while full');
    assert.deepEqual({ ...c.stats(), bufferedBytes: 0 }, {
      tenantId: 't', held: true, heldCards: 2, heldOthers: 1, bufferedBytes: 0, coalesced: 1, overflows: 0,
    });
    socket.drain(100);
    assert.deepEqual(ids(socket.written.slice(1)), [b1.id, d.id, a3.id], 'b, the delivery, then only the newest of a');
    assert.match(socket.written[3]!, /"n":3/);
  });

  it('an overflow drops what was kept and sends one resync, with the current position, on drain', () => {
    const socket = new FakeSocket(1);
    const c = new StreamConnection(socket, 't', () => nextId - 1, { heldCards: 3, heldOthers: 2 });
    c.offer(event('clock', null));
    for (const user of ['a', 'b', 'c', 'd']) c.offer(event('presence', user));
    assert.equal(c.stats().overflows, 1);
    assert.equal(c.stats().heldCards, 0);
    c.offer(event('presence', 'e'));
    socket.drain(100);
    assert.deepEqual(socket.written.slice(1), [`id: ${nextId - 1}\nevent: resync\ndata: {}\n\n`]);
    const after = event('presence', 'f');
    c.offer(after);
    assert.deepEqual(ids(socket.written.slice(2)), [after.id], 'live again after the resync');
  });

  it('ending a stuck stream destroys its socket instead of waiting for it', () => {
    const socket = new FakeSocket(1);
    const c = new StreamConnection(socket, 't', () => 0);
    c.offer(event('presence', 'a'));
    c.end();
    assert.ok(socket.ended && socket.destroyed);
    c.offer(event('presence', 'b'));
    assert.equal(socket.written.length, 1, 'nothing written after the end');
  });
});
