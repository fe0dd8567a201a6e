/**
 * `npm run bench -- --users 1000,1000000 --side-by-side [--rounds N]`: the scale comparison in ONE run. A server of
 * each size is started and given its users first; then every scenario is measured on the bare server and on each
 * size back to back (the order turned round at every other measurement), `--rounds` times. The scale run
 * (bench/scale.ts) runs the sizes minutes apart, and on a shared virtual machine the machine's own speed drifts by
 * more than the 10 % the target allows between them (BENCHMARKS.md, 2026-12-07 19:10, section 7); here each
 * comparison is between two loads seconds apart, and the rounds show how far the comparison itself varies.
 *
 * The verdict (issue 13: a million users within 10 % of a thousand in throughput, p99 within 2×) is judged on the
 * median over the rounds of the largest size's req/s ÷ the smallest's, and of their p99s' ratio.
 */
import { fmt, median, p99Ratio, table } from './load.ts';

/** What this needs of a scenario's result (bench/run.ts ScenarioResult). */
export interface SideBySideResult {
  name: string;
  title: string;
  runs: Array<{ label: string; m: { rps: number; p99: number } }>;
  problems: string[];
}

/** Throughput of the largest size within this share of the smallest's, p99 within this factor (issue 13). */
export const SCALE_RPS_MIN = 0.9;
export const SCALE_P99_MAX = 2;

/** The label of the server with `users` users in a side-by-side run. */
export const sizeLabel = (users: number) => `${fmt.int(users)} users`;

export interface SideBySideVerdict {
  name: string;
  title: string;
  /** Per round: the largest size's req/s ÷ the smallest's, and p99 ÷ p99 (./load.ts p99Ratio). */
  rounds: Array<{ rps: number; p99: number }>;
  rpsMedian: number;
  p99Median: number;
  result: 'PASS' | 'MISS' | 'ERROR';
}

/** The verdict of each scenario, the largest size (`last`) against the smallest (`first`), in scenario order. */
export function sideBySideVerdicts(results: SideBySideResult[], first: string, last: string): SideBySideVerdict[] {
  const names = [...new Set(results.map((r) => r.name))];
  return names.map((name) => {
    const mine = results.filter((r) => r.name === name);
    const rounds = mine.flatMap((r) => {
      const a = r.runs.find((x) => x.label === first)?.m;
      const b = r.runs.find((x) => x.label === last)?.m;
      return a && b && a.rps > 0 ? [{ rps: b.rps / a.rps, p99: p99Ratio(a.p99, b.p99) }] : [];
    });
    const failed = mine.some((r) => r.problems.length > 0) || rounds.length === 0;
    const rpsMedian = rounds.length ? median(rounds.map((x) => x.rps)) : 0;
    const p99Median = rounds.length ? median(rounds.map((x) => x.p99)) : 0;
    const result = failed ? 'ERROR' : rpsMedian >= SCALE_RPS_MIN && p99Median <= SCALE_P99_MAX ? 'PASS' : 'MISS';
    return { name, title: mine[0]!.title, rounds, rpsMedian, p99Median, result };
  });
}

/** The verdicts as a table: a column per round, then the medians and the result. */
export function sideBySideTable(verdicts: SideBySideVerdict[], first: string, last: string): string {
  const roundCount = Math.max(0, ...verdicts.map((v) => v.rounds.length));
  const header = ['scenario', ...Array.from({ length: roundCount }, (_, i) => `round ${i + 1}`), 'median', 'target', 'result'];
  const pct = (r: number) => fmt.pct((r - 1) * 100);
  const rows = verdicts.map((v) => [
    v.title,
    ...Array.from({ length: roundCount }, (_, i) => (v.rounds[i] ? `${pct(v.rounds[i]!.rps)}, p99 ×${v.rounds[i]!.p99.toFixed(1)}` : '-')),
    v.rounds.length ? `${pct(v.rpsMedian)}, p99 ×${v.p99Median.toFixed(1)}` : '-',
    `≥ ${pct(SCALE_RPS_MIN)}, ≤ ×${SCALE_P99_MAX}`,
    v.result,
  ]);
  return `${last} against ${first}, req/s change and p99 ratio, loads seconds apart:\n${table([header, ...rows], new Set())}`;
}
