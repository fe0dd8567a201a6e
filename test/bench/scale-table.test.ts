/**
 * The scale run's table (bench/scale.ts): its last column compares the largest size with the smallest, as issue 13's
 * targets do (throughput within 10 %, p99 within 2×), both in raw req/s and in the ratio to the bare server measured
 * beside each size, which takes out the machine's drift between runs made minutes apart (BENCHMARKS.md, "A million
 * users: the scale run").
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { scaleTable } from '../../bench/scale.ts';

type Run = Parameters<typeof scaleTable>[0][number];

function run(users: number, rps: number, bareRps: number, p99: number, bareCpu = 95): Run {
  return {
    options: { users, store: 'sqlite' },
    servers: [{ label: 'presently', store: 'sqlite', setupMs: 1_500, afterSetupRssMb: 90, afterLoadRssMb: 110, peakRssMb: 120, storeAfterSetupBytes: 2 ** 20, storeAfterLoadBytes: 2 ** 21, durability: null }],
    scenarios: [{
      name: 'get-own', title: 'GET /me/presence', result: 'PASS', bare: { rps: bareRps, serverCpu: bareCpu },
      runs: [{ label: 'presently', ratio: rps / bareRps, m: { rps, p50: 1, p99 } }],
    }],
    problems: [],
  };
}

describe('the scale table', () => {
  it('compares the largest size with the smallest in req/s, in the ratio to the bare server, and in p99', () => {
    // A million users ran when the machine was slower: req/s fell by 20 %, the bare server's by 20 % too.
    const table = scaleTable([run(1_000, 50_000, 80_000, 2), run(1_000_000, 40_000, 64_000, 5)]);
    const row = table.split('\n').find((l) => l.startsWith('GET /me/presence'))!;
    assert.match(row, /50,000 \(0\.63\)/);
    assert.match(row, /40,000 \(0\.63\)/);
    assert.match(row, /-20% req\/s \(ratio 0%\), p99 ×2\.5/);
  });

  it('leaves the ratio out where the bare server was held back by the load generator at either size', () => {
    // The bare server at 45 % of a core: its req/s is the load generator's, which sends other requests at a million.
    const table = scaleTable([run(1_000, 986, 2_759, 83, 45), run(1_000_000, 820, 6_046, 97, 95)]);
    const row = table.split('\n').find((l) => l.startsWith('GET /me/presence'))!;
    assert.match(row, /-17% req\/s \(bare client-bound\), p99 ×1\.2/);
  });

  it('has no comparison column with one size', () => {
    const table = scaleTable([run(1_000, 50_000, 80_000, 2)]);
    assert.doesNotMatch(table, /req\/s \(ratio/);
  });
});
