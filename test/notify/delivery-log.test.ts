/**
 * The deliveries log (src/notifications/deliveryLog.ts, docs/notifications/testing.md): what it reads back is what
 * was recorded, every list an array however many ids it holds (the ring keeps one id as it is), and the filter by
 * subscription finds an entry whether it names one subscription or several.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Delivery } from '../../src/domain/subscription.ts';
import { DeliveryLog } from '../../src/notifications/deliveryLog.ts';

const TENANT = '2b5f4ac6-0f43-4b31-8a3c-2d8b8e4f5c01';
const URL = 'https://app.example/hooks';

function delivery(sub: string, userId: string | null, kind: Delivery['kind'] = 'change'): Delivery {
  return {
    id: `${sub}/${userId}`, subscriptionId: sub, tenantId: TENANT, kind, url: URL, item: {}, resourceView: null, userId,
    attempt: 0, nextAttemptAt: 0, createdAt: 0,
  };
}

describe('deliveries log', () => {
  it('reads back each POST and drop with its lists as arrays: none, one id, several', () => {
    const log = new DeliveryLog();
    log.recordPost({ time: 't1', url: URL, items: [delivery('s1', 'u1')], status: 202, error: null, latencyMs: 3.4, delivered: true });
    log.recordPost({
      time: 't2', url: URL, items: [delivery('s1', 'u1'), delivery('s2', 'u2'), delivery('s2', 'u1')], status: 500, error: null,
      latencyMs: 7, delivered: false, dropped: 0, reason: 'expired', nextAttemptAt: 't3',
    });
    log.recordDrop('t4', URL, [delivery('s3', null, 'lifecycle')], 'subscriptionGone', 'gone');
    assert.deepEqual(log.entries(), [
      { time: 't1', subscriptionIds: ['s1'], url: URL, kind: 'change', items: 1, status: 202, error: null, latencyMs: 3, attempt: 1,
        tenantIds: [TENANT], userIds: ['u1'], outcome: 'delivered', dropped: 0, nextAttemptAt: null },
      { time: 't2', subscriptionIds: ['s1', 's2'], url: URL, kind: 'change', items: 3, status: 500, error: 'HTTP 500', latencyMs: 7,
        attempt: 1, tenantIds: [TENANT], userIds: ['u1', 'u2'], outcome: 'retry', dropped: 0, nextAttemptAt: 't3' },
      { time: 't4', subscriptionIds: ['s3'], url: URL, kind: 'lifecycle', items: 1, status: 0, error: 'gone', latencyMs: 0, attempt: 0,
        outcome: 'dropped', dropped: 1, tenantIds: [TENANT], userIds: [], nextAttemptAt: null },
    ]);
    assert.deepEqual(log.entries({ subscriptionId: 's2' }).map((e) => e.time), ['t2'], 'one of several');
    assert.deepEqual(log.entries({ subscriptionId: 's1' }).map((e) => e.time), ['t1', 't2'], 'alone, and one of several');
    assert.deepEqual(log.entries({ subscriptionId: 's' }), [], 'a prefix of an id is not the id');
  });

  it('what a reader gets is its own: changing it changes nothing kept', () => {
    const log = new DeliveryLog();
    log.recordPost({ time: 't', url: URL, items: [delivery('s1', 'u1'), delivery('s1', 'u2')], status: 202, error: null, latencyMs: 1, delivered: true });
    log.entries()[0]!.userIds.push('u9');
    assert.deepEqual(log.entries()[0]!.userIds, ['u1', 'u2']);
  });
});
