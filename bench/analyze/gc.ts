/**
 * The collections in a `--trace-gc` log (the server's stdout, e.g. the soak's `--server-log`): scavenges in all, and
 * each mark-compact with its final pause, the marking steps the main thread took before it (`+ N ms in M steps`:
 * not part of the pause figure, but time the event loop did not have) and the heap it left (BENCHMARKS.md, the soak).
 *
 *   npm run -s bench:gc -- SERVER_STDOUT [FROM_S]      FROM_S: leave out what came before (the seeding), default 0
 */
import { readFileSync } from 'node:fs';

export interface MarkCompact { atS: number; beforeMb: number; afterMb: number; pauseMs: number; stepsMs: number; wallMs: number }
export interface GcSummary { scavenges: number; scavengePauseMs: number; longestScavengeMs: number; markCompacts: MarkCompact[] }

const LINE = /\]\s+(\d+) ms: (Scavenge|Mark-Compact)\s.*?([\d.]+) \([\d.]+\) -> ([\d.]+) \([\d.]+\) MB, (?:pooled: [\d.]+ MB, )?([\d.]+) \/ [\d.]+ ms(.*)$/;
const STEPS = /\(\+ ([\d.]+) ms in \d+ steps.*?walltime since start of marking (\d+) ms/;

export function summarize(log: string, fromS = 0): GcSummary {
  const summary: GcSummary = { scavenges: 0, scavengePauseMs: 0, longestScavengeMs: 0, markCompacts: [] };
  for (const line of log.split('\n')) {
    const m = LINE.exec(line);
    if (!m || Number(m[1]) < fromS * 1000) continue;
    const pauseMs = Number(m[5]);
    if (m[2] === 'Scavenge') {
      summary.scavenges++;
      summary.scavengePauseMs += pauseMs;
      summary.longestScavengeMs = Math.max(summary.longestScavengeMs, pauseMs);
      continue;
    }
    const steps = STEPS.exec(m[6]!);
    summary.markCompacts.push({
      atS: Number(m[1]) / 1000, beforeMb: Number(m[3]), afterMb: Number(m[4]), pauseMs,
      stepsMs: steps ? Number(steps[1]) : 0, wallMs: steps ? Number(steps[2]) : 0,
    });
  }
  return summary;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  // Piped into `head`: stop quietly when the reader has gone.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => process.exit(err.code === 'EPIPE' ? 0 : 1));
  const [file, from] = process.argv.slice(2);
  if (!file) {
    console.error('usage: npm run -s bench:gc -- SERVER_STDOUT [FROM_S]');
    process.exit(2);
  }
  const s = summarize(readFileSync(file, 'utf8'), Number(from ?? 0));
  console.log(`${s.scavenges} scavenges, ${(s.scavengePauseMs / 1000).toFixed(1)} s of pauses in all, the longest ${s.longestScavengeMs.toFixed(1)} ms`);
  console.log(`${s.markCompacts.length} mark-compacts:`);
  for (const mc of s.markCompacts) {
    console.log(`${mc.atS.toFixed(2)} s: ${mc.beforeMb} -> ${mc.afterMb} MB, final pause ${mc.pauseMs.toFixed(1)} ms, ` +
      `marking steps on the main thread ${mc.stepsMs.toFixed(1)} ms over ${mc.wallMs} ms`);
  }
}
