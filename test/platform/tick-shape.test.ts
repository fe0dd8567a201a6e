/**
 * keepTickShape (src/platform/tickShape.ts): nextTick's objects keep one shape through full collections, so that
 * nextTick's inline caches stay on it [P: d-keep-tick-shape]. Run in a process of its own, with V8's test functions
 * (`%HaveSameMap`) and `gc()`, as `presently serve` runs it: first thing, before the server is built.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const MODULE = fileURLToPath(new URL('../../src/platform/tickShape.ts', import.meta.url));

/** Runs `body` as an ES module in a child node with tsx, natives syntax and gc(); returns its stdout, trimmed. */
function child(body: string): string {
  const args = ['--allow-natives-syntax', '--expose-gc', '--import', 'tsx', '--input-type=module', '-e', body];
  return execFileSync(process.execPath, args, { encoding: 'utf8' }).trim();
}

/** A script's start: the module, a way to catch the next tick object, and queue drains with full collections between. */
const PRELUDE = `
import { createHook } from 'node:async_hooks';
const { keepTickShape, keptTick } = await import(${JSON.stringify(MODULE)});
const sameMap = new Function('a', 'b', 'return %HaveSameMap(a, b)');
function nextTickObject() {
  let tick;
  const hook = createHook({ init(_id, type, _trigger, resource) { if (type === 'TickObject') tick ??= resource; } });
  hook.enable();
  process.nextTick(() => {});
  hook.disable();
  return tick;
}
// Ticks with and without arguments, then nothing queued when the collector runs: what frees an unkept shape.
async function collectWithNoTickQueued(rounds) {
  for (let r = 0; r < rounds; r++) {
    await new Promise((done) => {
      let n = 0;
      const step = (i) => (++n < 500 ? process.nextTick(step, i) : setImmediate(done));
      step(0);
    });
    globalThis.gc();
  }
}
`;

describe('keepTickShape', () => {
  it('keeps a tick object of its own, once: a second call keeps the first', () => {
    const out = child(`${PRELUDE}
      const first = keepTickShape();
      const tick = keptTick();
      const second = keepTickShape();
      console.log(JSON.stringify({
        first, second, same: keptTick() === tick,
        symbols: Object.getOwnPropertySymbols(tick).map(String),
        keys: Object.keys(tick),
      }));`);
    assert.deepEqual(JSON.parse(out), {
      first: true, second: true, same: true,
      symbols: ['Symbol(async_id_symbol)', 'Symbol(trigger_async_id_symbol)'], keys: ['callback', 'args'],
    });
  });

  it('a tick made after ten full collections with nothing queued has the kept tick\'s shape', () => {
    const out = child(`${PRELUDE}
      keepTickShape();
      const before = sameMap(keptTick(), nextTickObject());
      await collectWithNoTickQueued(10);
      const after = sameMap(keptTick(), nextTickObject());
      console.log(JSON.stringify({ before, after }));`);
    assert.deepEqual(JSON.parse(out), { before: true, after: true });
  });
});
