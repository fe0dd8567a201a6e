/**
 * `npm run bench:floors -- --only list`: a 650-id getPresencesByUserId answered by the least work any in-memory design
 * could do, at N users: what the machine itself charges a list at a million users over one at a thousand.
 *
 * Every user's whole list item (`{"id":…,…,"sequenceNumber":…}`, a view of their own with a status message, as a
 * user's after a setStatusMessage) is kept rendered as UTF-8 in one arena, the most memory the answer could be given;
 * users are found by their GUIDs' 128 bits in an open-addressed typed table (src/presence/guidTable.ts's shape, no
 * object per user). A list then reads each id from a fresh string (as JSON.parse of a request body makes them), finds
 * the user and copies their item's bytes into the answer; nothing is rendered, nothing allocated per item. Timed
 * three ways:
 *
 * - the lookups alone: each id read and its user found, nothing copied (what any design must do);
 * - one by one: each id read, looked up and copied before the next;
 * - in passes: every id read, then every table slot touched, then every user found, then every item copied, so the
 *   cache misses of the 650 ids overlap instead of waiting for each other (src/presence/snapshotCache.ts's getGuids,
 *   docs/contributing/performance.md, "Memory read at random is read in passes").
 *
 * Reports µs per list (the median of 7 rounds of 100 lists, a first round to warm the code up not counted), the MB
 * the items take, and how long building the table took. Presently's own list at 1,000 users is compared with the
 * difference between the sizes in BENCHMARKS.md: what a million users adds here, no design can take away.
 */
import { hashOf, NOT_A_GUID, readGuid } from '../src/platform/json/guid.ts';

export interface ListFloor { lookupUs: number; oneByOneUs: number; passesUs: number; itemsMb: number; buildS: number }

const BATCH = 650;
const LISTS = 100;

/** `id(i)`: the i-th user's id (lower case). */
export function listFloor(n: number, id: (i: number) => string): ListFloor {
  const began = performance.now();
  const slots = 2 ** Math.ceil(Math.log2(n * 1.5));
  const mask = slots - 1;
  const keys = new Uint32Array(slots * 4);
  const users = new Int32Array(slots).fill(-1);
  const starts = new Float64Array(n + 1);
  const ids: string[] = [];
  let arena = Buffer.allocUnsafe(64 * 1024 * 1024);
  let end = 0;
  const words = new Uint32Array(4);
  for (let i = 0; i < n; i++) {
    const userId = id(i);
    ids.push(userId);
    if (readGuid(userId, words, 0) === NOT_A_GUID) throw new Error(`not a GUID: ${userId}`);
    let slot = hashOf(0, words, 0) & mask;
    while (users[slot] !== -1) slot = (slot + 1) & mask;
    keys.set(words, slot * 4);
    users[slot] = i;
    const item = itemOf(userId, i);
    if (end + item.length * 3 > arena.length) {
      const bigger = Buffer.allocUnsafe(arena.length * 2);
      arena.copy(bigger, 0, 0, end);
      arena = bigger;
    }
    starts[i] = end;
    end += arena.write(item, end, 'utf8');
  }
  starts[n] = end;
  const buildS = (performance.now() - began) / 1000;

  const out = Buffer.allocUnsafe(2 * 1024 * 1024);
  const listWords = new Uint32Array(BATCH * 4);
  const found = new Int32Array(BATCH);
  let sink = 0;

  /** The slot of the GUID at `listWords[at .. at + 3]`, from `slot` on (-1: not there). */
  const probe = (at: number, from: number): number => {
    for (let slot = from; ; slot = (slot + 1) & mask) {
      const u = users[slot]!;
      if (u === -1) return -1;
      const k = slot * 4;
      if (keys[k] === listWords[at] && keys[k + 1] === listWords[at + 1] && keys[k + 2] === listWords[at + 2]
        && keys[k + 3] === listWords[at + 3]) return u;
    }
  };
  /** The answer's body from `found`: `[item,item,…]`. */
  const write = (count: number): number => {
    let at = 0;
    out[at++] = 0x5b;
    for (let j = 0; j < count; j++) {
      if (j > 0) out[at++] = 0x2c;
      const u = found[j]!;
      at += arena.copy(out, at, starts[u]!, starts[u + 1]!);
    }
    out[at++] = 0x5d;
    return at;
  };
  const lookupOnly = (batch: string[]): number => {
    let sum = 0;
    for (let j = 0; j < batch.length; j++) {
      readGuid(batch[j]!, listWords, j * 4);
      sum += probe(j * 4, hashOf(0, listWords, j * 4) & mask);
    }
    return sum;
  };
  const oneByOne = (batch: string[]): number => {
    for (let j = 0; j < batch.length; j++) {
      readGuid(batch[j]!, listWords, j * 4);
      found[j] = probe(j * 4, hashOf(0, listWords, j * 4) & mask);
    }
    return write(batch.length);
  };
  const inPasses = (batch: string[]): number => {
    for (let j = 0; j < batch.length; j++) readGuid(batch[j]!, listWords, j * 4);
    for (let j = 0; j < batch.length; j++) {
      const slot = hashOf(0, listWords, j * 4) & mask;
      found[j] = slot;
      sink += users[slot]!;
    }
    for (let j = 0; j < batch.length; j++) {
      found[j] = probe(j * 4, found[j]!);
      sink += arena[starts[found[j]!]!]!;
    }
    return write(batch.length);
  };

  const time = (list: (batch: string[]) => number): number => {
    const rounds: number[] = [];
    for (let round = 0; round < 8; round++) {
      const batches = Array.from({ length: LISTS }, () => freshBatch(ids, n));
      const start = process.hrtime.bigint();
      for (const batch of batches) sink += list(batch);
      if (round > 0) rounds.push(Number(process.hrtime.bigint() - start) / 1000 / LISTS);
    }
    return rounds.sort((a, b) => a - b)[rounds.length >> 1]!;
  };
  const lookupUs = time(lookupOnly);
  const oneByOneUs = time(oneByOne);
  const passesUs = time(inPasses);
  if (sink === -1) console.log('');
  return { lookupUs, oneByOneUs, passesUs, itemsMb: end / 1e6, buildS };
}

/** 650 ids of random users as fresh strings, as JSON.parse of a request body makes them. */
function freshBatch(ids: readonly string[], n: number): string[] {
  return JSON.parse(JSON.stringify(Array.from({ length: BATCH }, () => ids[Math.floor(Math.random() * n)]!))) as string[];
}

/** The i-th user's whole list item as a watcher sees it: a view of their own, with a status message. */
function itemOf(id: string, i: number): string {
  return JSON.stringify({
    id, availability: 'Busy', activity: 'InACall',
    statusMessage: { message: { content: `Back at three, ask for user ${i} in the meantime`, contentType: 'text' } },
    outOfOfficeSettings: { message: null, isOutOfOffice: false },
    workLocation: { workLocationType: 'unspecified', source: 'none', placeId: null },
    sequenceNumber: `C${String(1e15 + i).padStart(20, '0')}`,
  });
}
