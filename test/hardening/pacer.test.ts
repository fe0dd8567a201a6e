/**
 * Background work (fan-out chunks, claims, POST preparations) goes in slices paced so that requests go first: one
 * slice per turn of the event loop, never two in one, and while requests come in, a rest between slices. Turns and
 * rests are counted, not timed.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Pacer } from '../../src/platform/loops/pacer.ts';

/** Counts turns of the event loop (check phases) until stopped. */
function turnCounter() {
  let turns = 0;
  let on = true;
  const tick = () => {
    turns++;
    if (on) setImmediate(tick);
  };
  setImmediate(tick);
  return { get turns() { return turns; }, stop: () => { on = false; } };
}

describe('pacer', () => {
  it('gives one slice per turn of the event loop, however many wait at once', async () => {
    const pacer = new Pacer();
    const loop = turnCounter();
    const at: number[] = [];
    await Promise.all(Array.from({ length: 20 }, () => pacer.turn().then(() => { at.push(loop.turns); })));
    loop.stop();
    assert.equal(at.length, 20);
    for (let i = 1; i < at.length; i++) assert.ok(at[i]! > at[i - 1]!, `slices ${i - 1} and ${i} ran in the same turn: ${at.join(',')}`);
    assert.equal(pacer.rests, 0, 'no request came: no rest');
  });

  it('rests between slices while requests come in, and stops resting once they stop', async () => {
    const pacer = new Pacer({ quietMs: 60_000, minRestMs: 1, maxRestMs: 1, minSliceMs: 0 });
    pacer.noteRequest();
    for (let i = 0; i < 5; i++) await pacer.turn();
    assert.equal(pacer.rests, 5);
    const quiet = new Pacer({ quietMs: 0, minSliceMs: 0 });
    quiet.noteRequest();
    for (let i = 0; i < 5; i++) await quiet.turn();
    assert.equal(quiet.rests, 0);
  });

  it('while work is behind, a slice rests as long as itself, not three times as long; then three times again', async () => {
    const pacer = new Pacer({ quietMs: 60_000, minRestMs: 0, maxRestMs: 10_000, minSliceMs: 0 });
    pacer.noteRequest();
    /** A turn whose slice keeps the loop busy for a few ms, so that its rest is above the timer's resolution. */
    const busyTurn = async () => {
      await pacer.turn();
      const until = performance.now() + 3;
      while (performance.now() < until);
    };
    await busyTurn();
    await busyTurn();
    const normal = pacer.lastRest;
    assert.ok(normal.sliceMs >= 3 && Math.abs(normal.restMs - normal.sliceMs * 3) < 1e-9, JSON.stringify(normal));
    pacer.behind();
    await busyTurn();
    await busyTurn();
    const behind = pacer.lastRest;
    assert.ok(behind.sliceMs >= 3 && Math.abs(behind.restMs - behind.sliceMs) < 1e-9, JSON.stringify(behind));
  });
});
