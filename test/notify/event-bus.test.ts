/**
 * The event bus every feature reports through (src/platform/events.ts): listeners run in order, one broken listener
 * is reported and never reaches the emitter (a committed write is never failed by a reaction to it), and
 * `emitAndWait` waits for the reactions.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EventBus } from '../../src/platform/events.ts';
import { startReceiver } from '../kit/receiver.ts';
import { ADELE, ALEX, TENANT, startInProcess } from '../kit/server.ts';
import { bearer, postJson } from '../kit/graph.ts';
import { forEachBackend } from '../kit/backends.ts';

interface Events {
  ping: { n: number };
  other: { s: string };
}

describe('event bus', () => {
  it('calls every listener of the event, in subscription order, before emit returns; others are not called', () => {
    const bus = new EventBus<Events>();
    const seen: string[] = [];
    bus.on('ping', ({ n }) => seen.push(`a${n}`));
    bus.on('ping', ({ n }) => seen.push(`b${n}`));
    bus.on('other', () => seen.push('other'));
    bus.emit('ping', { n: 1 });
    assert.deepEqual(seen, ['a1', 'b1']);
  });

  it('a listener that throws or rejects is reported, and the emitter and the other listeners go on', async () => {
    const errors: [string, string][] = [];
    const bus = new EventBus<Events>((err, event) => errors.push([event, (err as Error).message]));
    const seen: number[] = [];
    bus.on('ping', () => { throw new Error('sync'); });
    bus.on('ping', async () => { throw new Error('async'); });
    bus.on('ping', ({ n }) => seen.push(n));
    assert.doesNotThrow(() => bus.emit('ping', { n: 7 }));
    assert.deepEqual(seen, [7]);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(errors, [['ping', 'sync'], ['ping', 'async']]);
    await bus.emitAndWait('ping', { n: 8 });
    assert.deepEqual(seen, [7, 8]);
    assert.equal(errors.length, 4);
  });

  it('emitAndWait resolves after each listener\'s work, one after the other', async () => {
    const bus = new EventBus<Events>();
    const log: string[] = [];
    bus.on('other', async ({ s }) => {
      await new Promise((resolve) => setImmediate(resolve));
      log.push(`slow ${s}`);
    });
    bus.on('other', ({ s }) => log.push(`fast ${s}`));
    await bus.emitAndWait('other', { s: 'x' });
    assert.deepEqual(log, ['slow x', 'fast x']);
  });

  it('unsubscribing stops the calls', () => {
    const bus = new EventBus<Events>();
    let calls = 0;
    const off = bus.on('ping', () => calls++);
    bus.emit('ping', { n: 1 });
    off();
    bus.emit('ping', { n: 2 });
    assert.equal(calls, 1);
  });
});

forEachBackend(['memory', 'redis'], (backend) => {
  describe('the subscriptions feature reports its changes on the bus (the lifecycle loop looks again)', () => {
    it('create, PATCH, reauthorize and delete each emit subscriptionChanged', async () => {
      const rx = await startReceiver();
      const s = await startInProcess({ store: backend, clock: 'manual' }, { manualStart: Date.parse('2026-11-28T08:00:00Z') });
      try {
        const seen: string[] = [];
        s.presently.events.on('subscriptionChanged', ({ change, tenantId }) => seen.push(`${change} ${tenantId}`));
        const token = await s.userToken(ADELE);
        const expiry = (min: number) => new Date(s.presently.clock.now() + min * 60_000).toISOString();
        const created = await postJson(s, '/v1.0/subscriptions', token, {
          changeType: 'updated', notificationUrl: `${rx.url}/hooks`, resource: `/communications/presences/${ALEX}`,
          expirationDateTime: expiry(50), clientState: 'bus',
        });
        assert.equal(created.statusCode, 201, created.body);
        const id = (created.json() as { id: string }).id;
        const patched = await s.inject({
          method: 'PATCH', url: `/v1.0/subscriptions/${id}`, headers: { ...bearer(token), 'content-type': 'application/json' },
          payload: JSON.stringify({ expirationDateTime: expiry(55) }),
        });
        assert.equal(patched.statusCode, 200, patched.body);
        assert.equal((await postJson(s, `/v1.0/subscriptions/${id}/reauthorize`, token, {})).statusCode, 204);
        assert.equal((await s.inject({ method: 'DELETE', url: `/v1.0/subscriptions/${id}`, headers: bearer(token) })).statusCode, 204);
        assert.deepEqual(seen, ['created', 'updated', 'reauthorized', 'deleted'].map((c) => `${c} ${TENANT}`));
      } finally {
        await s.close();
        await rx.close();
      }
    });
  });
});
