/**
 * Keeps one of Node's own `process.nextTick` objects alive for the life of the process, so that V8 never drops their
 * shape: without it, a long-running server's nextTick went through V8's runtime for every call, at 300–900 ns instead
 * of about 100 [P: d-keep-tick-shape].
 *
 * Node 20 makes each queued tick as `{ [async_id_symbol]: …, [trigger_async_id_symbol]: …, callback, args }`. Its
 * shape (V8's hidden class, a chain of maps from the empty object's) lives only while some tick object does: a full
 * collection that finds the queue empty, which is most of them, frees the chain, and the next tick makes a new one.
 * nextTick's inline caches remember the chains they saw; after the fourth they give up (megamorphic) and every tick's
 * properties are defined by a lookup in the runtime from then on. A server that has run a few full collections (a
 * million users created, or minutes of load) spent 9 % of its main thread in nextTick's object literal, and GET
 * /me/presence ran a fifth slower than in a fresh process (BENCHMARKS.md, 2026-12-07 19:10).
 *
 * One tick object kept reachable keeps its chain, so every later tick finds the same maps and the caches stay
 * monomorphic. It is caught through the public async_hooks API: an `init` hook sees the tick object nextTick makes
 * (its `resource`); the hook is enabled for that one call only. test/platform/tick-shape.test.ts checks that a tick
 * made after full collections has the kept one's shape.
 */
import { createHook } from 'node:async_hooks';

/** The tick object kept, once caught. */
let kept: object | undefined;

/** Catches one nextTick object and keeps it (once per process; later calls do nothing). True once one is kept. */
export function keepTickShape(): boolean {
  if (kept !== undefined) return true;
  const hook = createHook({
    init(_asyncId, type, _triggerAsyncId, resource) {
      if (type === 'TickObject' && kept === undefined) kept = resource;
    },
  });
  hook.enable();
  try {
    // nextTick calls the init hooks before it returns.
    process.nextTick(noop);
  } finally {
    hook.disable();
  }
  return kept !== undefined;
}

/** The tick object kept (undefined before keepTickShape): for the tests. */
export function keptTick(): object | undefined {
  return kept;
}

function noop(): void {}
