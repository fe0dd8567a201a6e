/**
 * `presently_heap_live_bytes` on /metrics (docs/operations/admin-api.md#metrics): the V8 heap in use right after the
 * latest major collection, the young generation left out. That is what the server's live objects need. The heap in
 * use at any other moment adds the garbage made since the last collection, which swings by tens of MB under load, so
 * a leak shows here first (the soak judges memory by it: BENCHMARKS.md, the soak).
 *
 * Read in the `gc` performance entry's callback, which runs just after the collection: by then the young generation
 * has taken new objects but promoted hardly any, which is why it is left out.
 */
import { PerformanceObserver, constants } from 'node:perf_hooks';
import v8 from 'node:v8';
import { Gauge, type Registry } from 'prom-client';

const YOUNG = new Set(['new_space', 'new_large_object_space']);

/** The bytes the heap's old spaces hold now (right after a major collection: what survived it). */
function oldSpacesUsed(): number {
  let used = 0;
  for (const space of v8.getHeapSpaceStatistics()) if (!YOUNG.has(space.space_name)) used += space.space_used_size;
  return used;
}

/** Registers the gauge; it reads 0 until the first major collection. Returns a function that stops observing. */
export function installLiveHeapGauge(registry: Registry): () => void {
  let live = 0;
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const kind = (entry as { detail?: { kind?: number } }).detail?.kind;
      if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) live = oldSpacesUsed();
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  new Gauge({
    name: 'presently_heap_live_bytes',
    help: 'V8 heap in use after the latest major collection, young generation excluded: what live objects need',
    registers: [registry],
    collect() {
      this.set(live);
    },
  });
  return () => observer.disconnect();
}
