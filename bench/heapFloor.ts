/**
 * `npm run bench:floors -- --only heap`: what the read cache (src/presence/snapshotCache.ts) holding N users costs the
 * process's memory and its garbage collector. Each user has a sequence number of their own, as after a write each
 * (users created together share their first), and a quarter have something due; either all share one view (no status
 * message: most users), or each has a status message, so a view of their own, decoded as the store's reads decode it
 * (src/store/codec.ts decodeView). Reports the growth of the JavaScript
 * heap, of the ArrayBuffers (the cache's typed arrays) and of RSS, and how long a full collection takes with the cache
 * alive: the median of five, in ms. A full collection marks every live object, so a cache made of objects makes every
 * one of them longer (decision d-typed-read-cache in docs/decisions.md).
 */
import v8 from 'node:v8';
import vm from 'node:vm';
import { formatSequence, newRecord } from '../src/domain/record.ts';
import { SnapshotCache } from '../src/presence/snapshotCache.ts';
import { decodeView, encodeView } from '../src/store/codec.ts';
import type { PresenceView } from '../src/domain/types.ts';

export interface HeapFloor { heapMb: number; buffersMb: number; rssMb: number; fullGcMs: number }

/** `id(i)`: the i-th user's id; `ownViews`: each user a status message of their own. */
export function heapFloor(n: number, id: (i: number) => string, ownViews: boolean): HeapFloor {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  gc();
  const before = process.memoryUsage();
  const shared = newRecord(Date.now()).view;
  const messageJson = encodeView({
    ...shared,
    statusMessage: { content: 'In a meeting until 3', contentType: 'text', expiry: { dateTime: '2030-01-01T10:00:00.0000000', timeZone: 'UTC' }, publishedAt: 1.79e12 },
  } as PresenceView);
  const tenant = '0b7d3a44-5c1e-4f6a-9d2b-8e4f1a2c3d5e';
  const cache = new SnapshotCache(n);
  for (let i = 0; i < n; i++) {
    const view = ownViews ? decodeView(messageJson.replace('until 3', `until 3 (${i})`)) : shared;
    cache.set(tenant, id(i), { view, sequenceNumber: formatSequence(1_765_000_000_000_000 + i * 3), dueAt: i % 4 ? null : 1.8e12 + i });
  }
  gc();
  gc();
  const after = process.memoryUsage();
  const times: number[] = [];
  for (let r = 0; r < 5; r++) {
    const start = performance.now();
    gc();
    times.push(performance.now() - start);
  }
  if (cache.size !== n) throw new Error(`the cache holds ${cache.size} users, not ${n}`);
  const mb = (bytes: number) => bytes / 1e6;
  return {
    heapMb: mb(after.heapUsed - before.heapUsed), buffersMb: mb(after.arrayBuffers - before.arrayBuffers),
    rssMb: mb(after.rss - before.rss), fullGcMs: times.sort((a, b) => a - b)[2]!,
  };
}
