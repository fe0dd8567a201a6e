/**
 * The stream hub's ring (docs/operations/dashboard.md#resuming): a resume replays what it missed while someone was
 * looking; events published while nobody looked are positions only, so a resume across them is a resync, and their
 * data (the change's record, a deliveries entry) is not kept.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { EventSink } from '../../src/dashboard/connection.ts';
import { StreamHub } from '../../src/dashboard/hub.ts';

class Socket extends EventEmitter implements EventSink {
  written: string[] = [];
  writableLength = 0;
  destroyed = false;
  write(chunk: string): boolean {
    this.written.push(chunk);
    return true;
  }
  end(): void {}
  destroy(): void {
    this.destroyed = true;
  }
}

/** The events a resume from `after` gets: their ids and types, the `: connected` line left out. */
function resume(hub: StreamHub, after: number): Array<{ id: number; event: string; data: string }> {
  const socket = new Socket();
  const { closed } = hub.connect(socket, 't', after);
  closed();
  return socket.written.filter((f) => f.startsWith('id:')).map((f) => {
    const [, id, event, data] = /^id: (\d+)\nevent: (\w+)\ndata: (.*)\n\n$/s.exec(f)!;
    return { id: Number(id), event: event!, data: data! };
  });
}

describe('stream hub: what a resume replays', () => {
  const KEEP = 60_000;
  const setup = () => {
    const clock = { now: 1_000 };
    const hub = new StreamHub({ firstId: 1, keepMs: KEEP, realNow: () => clock.now });
    const built: number[] = [];
    const publish = (n: number) => hub.publish('presence', 't', `u${n}`, () => {
      built.push(n);
      return { n };
    });
    return { clock, hub, built, publish };
  };

  it('nobody has looked: events are positions only, a resume across them is a resync, and no data is ever built', () => {
    const { hub, built, publish } = setup();
    for (let n = 1; n <= 3; n++) publish(n);
    assert.deepEqual(resume(hub, 1), [{ id: 3, event: 'resync', data: '{}' }]);
    assert.deepEqual(built, []);
    assert.equal(hub.latest()!.replayable, false);
  });

  it('after a board read, the events since its cursor are replayed, for a minute of real time', () => {
    const { clock, hub, publish } = setup();
    publish(1);
    const cursor = hub.position;
    hub.looked();
    publish(2);
    publish(3);
    assert.deepEqual(resume(hub, cursor).map((e) => [e.id, e.data]), [[2, '{"n":2}'], [3, '{"n":3}']]);
    // resume() closed its stream: the minute starts again from there.
    clock.now += KEEP + 1;
    publish(4);
    assert.deepEqual(resume(hub, cursor), [{ id: 4, event: 'resync', data: '{}' }], 'event 4 came when nobody looked');
  });

  it('while a stream is open every event keeps its data; a reconnect within the minute gets what it missed', () => {
    const { clock, hub, publish } = setup();
    const socket = new Socket();
    const { closed } = hub.connect(socket, 't', null);
    clock.now += 10 * KEEP;
    publish(1);
    closed();
    clock.now += KEEP - 1;
    publish(2);
    assert.deepEqual(resume(hub, 0).map((e) => e.id), [1, 2]);
    assert.equal(socket.written.filter((f) => f.startsWith('id: 1\n')).length, 1, 'the open stream got event 1 live');
  });
});
