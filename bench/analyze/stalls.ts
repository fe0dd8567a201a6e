/**
 * What a stall of the server is made of, from a CPU profile (`--cpu-prof`, e.g. through the soak's `--node-args`):
 * every stretch of at least MIN ms without an idle sample (the event loop never waited for I/O), with the functions
 * its samples were in. `(garbage collector)` is the collector's work on the main thread, the incremental marking
 * steps included, which `--trace-gc`'s pause figure leaves out (BENCHMARKS.md, the soak).
 *
 *   npm run -s bench:stalls -- PROFILE.cpuprofile [MIN]      MIN: milliseconds, default 100
 */
import { readFileSync } from 'node:fs';

interface ProfileNode { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }
interface Profile { nodes: ProfileNode[]; startTime: number; samples: number[]; timeDeltas: number[] }

export interface Stretch { startS: number; ms: number; top: Array<{ name: string; share: number }> }

/** A node's function, as `name file:line` (lines from 1). */
function nameOf(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const file = url.split('/').slice(-2).join('/');
  return file === '' ? functionName || '(root)' : `${functionName || '(anonymous)'} ${file}:${lineNumber + 1}`;
}

/** The busy stretches of at least `minMs`, each with the `topN` functions its samples were in most. */
export function busyStretches(profile: Profile, minMs: number, topN = 5): Stretch[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const times: number[] = [];
  let t = profile.startTime;
  for (const delta of profile.timeDeltas) times.push((t += delta));
  const idle = (i: number) => byId.get(profile.samples[i]!)!.callFrame.functionName === '(idle)';
  const out: Stretch[] = [];
  let start = -1;
  for (let i = 0; i < profile.samples.length; i++) {
    if (!idle(i)) {
      if (start < 0) start = i;
      continue;
    }
    if (start >= 0 && times[i]! - times[start]! >= minMs * 1000) out.push(stretch(start, i));
    start = -1;
  }
  return out;

  function stretch(from: number, to: number): Stretch {
    const counts = new Map<string, number>();
    for (let i = from; i < to; i++) {
      const name = nameOf(byId.get(profile.samples[i]!)!);
      counts.set(name, (counts.get(name) ?? 0) + 1);
    }
    const top = [...counts].sort((a, b) => b[1] - a[1]).slice(0, topN).map(([name, n]) => ({ name, share: n / (to - from) }));
    return { startS: (times[from]! - profile.startTime) / 1e6, ms: (times[to]! - times[from]!) / 1000, top };
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  // Piped into `head`: stop quietly when the reader has gone.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => process.exit(err.code === 'EPIPE' ? 0 : 1));
  const [file, min] = process.argv.slice(2);
  if (!file) {
    console.error('usage: npm run -s bench:stalls -- PROFILE.cpuprofile [MIN_MS]');
    process.exit(2);
  }
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const stretches = busyStretches(profile, Number(min ?? 100));
  console.log(`${stretches.length} stretches of ${min ?? 100} ms or more without an idle sample`);
  for (const s of stretches) {
    console.log(`${s.startS.toFixed(2)} s, ${s.ms.toFixed(0)} ms: ${s.top.map((x) => `${(100 * x.share).toFixed(0)} % ${x.name}`).join(' | ')}`);
  }
}
