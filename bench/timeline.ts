/**
 * The dashboard timeline's memory (docs/operations/dashboard.md#the-timeline): heap used, after a collection, by a
 * timeline filled the way a server fills it, for the shapes the limits allow. Each change sets a status message of
 * the user's own and comes with a cause object of its own, as each request makes one.
 *
 *   npm run -s bench:timeline
 */
import { Timeline, entryOf } from '../src/dashboard/timeline.ts';
import { newRecord, transition } from '../src/domain/record.ts';
import { setStatusMessage } from '../src/domain/statusMessage.ts';

const APP = '22553876-f5ab-4529-bffb-cfe50aa89f87';
const SHAPES = [
  { users: 50_000, changes: 1, alternate: false },
  { users: 50_000, changes: 2, alternate: false },
  { users: 50_000, changes: 4, alternate: false },
  { users: 50_000, changes: 4, alternate: true },
  { users: 2_000, changes: 100, alternate: false },
  { users: 2_000, changes: 100, alternate: true },
];

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc (npm run -s bench:timeline does)');
const collect = () => {
  for (let i = 0; i < 4; i++) gc();
};

/** MB of heap a timeline of `users` users with `changes` changes each holds; `alternate`: two calls in turn. */
function heldMb(users: number, changes: number, alternate: boolean): { mb: number; entries: number } {
  const ids = Array.from({ length: users }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);
  const start = Date.now();
  const record = newRecord(start);
  collect();
  const before = process.memoryUsage().heapUsed;
  const timeline = new Timeline();
  for (let k = 0; k < changes; k++) {
    for (let u = 0; u < users; u++) {
      const at = start + k * 1000 + u;
      const message = { content: `status ${u}`, contentType: 'text' as const, expiry: null, expiresAt: null };
      const t = transition(record, setStatusMessage(record.facts, { kind: 'set', message }, at), at);
      // A fresh cause with fresh strings, as a request's token and route make them.
      const cause = JSON.parse(JSON.stringify({
        kind: 'api', action: alternate && k % 2 === 1 ? 'setPresence' : 'setStatusMessage', appId: APP, userId: ids[u],
      })) as { kind: 'api'; action: string; appId: string; userId: string };
      timeline.record('tenant', ids[u]!, entryOf(record, t, cause));
    }
  }
  collect();
  const mb = (process.memoryUsage().heapUsed - before) / 1e6;
  return { mb, entries: timeline.size.entries };
}

/** The bound docs/operations/dashboard.md#the-timeline promises with short status messages. */
const BOUND_MB = 20;

console.log(`timeline memory, Node ${process.version}: heap used after a collection\n`);
console.log('users'.padStart(8) + 'changes each'.padStart(14) + 'calls'.padStart(16) + 'entries'.padStart(10) + 'MB'.padStart(8));
let most = 0;
for (const { users, changes, alternate } of SHAPES) {
  const { mb, entries } = heldMb(users, changes, alternate);
  most = Math.max(most, mb);
  console.log(String(users).padStart(8) + String(changes).padStart(14) + (alternate ? 'two in turn' : 'the same').padStart(16)
    + String(entries).padStart(10) + mb.toFixed(1).padStart(8));
}
console.log(`\nthe most: ${most.toFixed(1)} MB   target ≤ ${BOUND_MB} MB (the documented bound)   ${most <= BOUND_MB ? 'PASS' : 'MISS'}`);
