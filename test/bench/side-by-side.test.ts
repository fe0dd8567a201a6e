/**
 * The side-by-side scale comparison (bench/sideBySide.ts, `npm run bench -- --users 1000,1000000 --side-by-side`):
 * each scenario's largest size against its smallest, per round and as the rounds' median, judged against issue 13's
 * targets (req/s within 10 %, p99 within 2×).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sideBySideTable, sideBySideVerdicts, sizeLabel, type SideBySideResult } from '../../bench/sideBySide.ts';

const [small, large] = [sizeLabel(1_000), sizeLabel(1_000_000)];

function result(name: string, smallRps: number, largeRps: number, smallP99 = 4, largeP99 = 5, problems: string[] = []): SideBySideResult {
  return {
    name, title: name, problems,
    runs: [{ label: small, m: { rps: smallRps, p99: smallP99 } }, { label: large, m: { rps: largeRps, p99: largeP99 } }],
  };
}

describe('the side-by-side verdict', () => {
  it('judges the median of the rounds, so one round the machine disturbed does not decide it', () => {
    const [v] = sideBySideVerdicts([result('get-own', 100, 95), result('get-own', 100, 60), result('get-own', 100, 93)], small, large);
    assert.deepEqual(v!.rounds.map((r) => r.rps), [0.95, 0.6, 0.93]);
    assert.equal(v!.rpsMedian, 0.93);
    assert.equal(v!.result, 'PASS');
  });

  it('misses when the median falls more than 10 % or the p99 more than doubles', () => {
    const slower = sideBySideVerdicts([result('a', 100, 89), result('a', 100, 85)], small, large)[0]!;
    assert.equal(slower.result, 'MISS');
    const later = sideBySideVerdicts([result('b', 100, 100, 4, 9), result('b', 100, 100, 4, 10)], small, large)[0]!;
    assert.equal(later.p99Median, 2.375);
    assert.equal(later.result, 'MISS');
  });

  it('counts a p99 under a millisecond as one, autocannon\'s step', () => {
    const v = sideBySideVerdicts([result('c', 100, 100, 0, 2)], small, large)[0]!;
    assert.equal(v.p99Median, 2);
    assert.equal(v.result, 'PASS');
  });

  it('is an error when a load of the scenario had a problem', () => {
    const v = sideBySideVerdicts([result('d', 100, 100), result('d', 100, 100, 4, 4, ['non-2xx answers'])], small, large)[0]!;
    assert.equal(v.result, 'ERROR');
  });

  it('prints a column per round, the median and the verdict', () => {
    const text = sideBySideTable(sideBySideVerdicts([result('get-own', 100, 95), result('get-own', 100, 79)], small, large), small, large);
    assert.match(text, /^1,000,000 users against 1,000 users/);
    const row = text.split('\n').find((l) => l.startsWith('get-own'))!;
    assert.match(row, /-5%, p99 ×1\.3 +-21%, p99 ×1\.3 +-13%, p99 ×1\.3 +≥ -10%, ≤ ×2 +MISS/);
  });
});
