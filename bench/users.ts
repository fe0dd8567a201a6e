/**
 * The bench's users: any number of them (`--users`, a million included), made through the admin API's bulk route in
 * requests of 10,000, and addressed by the loads all over their range without keeping a list of them.
 *
 * - User i's id is computed from i (and the run's seed): its last group is i, its first ones a hash of i, so ids
 *   fall all over the store's key order however users are picked.
 * - A load addresses users in a *rotation*: its request n goes to the user at position (start + n) mod count, where
 *   `start` is drawn from the load's tag (so a warm-up and its measurement, or two servers' loads, begin at different
 *   places) and positions map to users by a fixed permutation that scatters consecutive positions over the whole range.
 *   Each user is thus addressed once per round of `count` requests, and with more users than connections no two
 *   requests in flight address the same user: a write load's checks can say exactly what every user must hold.
 */
import { call, mapLimit } from './http.ts';

/** The admin bulk route's maximum per request (src/directory/directory.ts MAX_BULK_USERS). */
const BULK_REQUEST = 10_000;
/** Bulk requests in flight: the next body is built while the server writes the last. */
const BULK_IN_FLIGHT = 2;

export interface BenchUsers {
  count: number;
  /** The id of user i (0 ≤ i < count). */
  id(i: number): string;
  /** The user at `position` of the rotation (0 ≤ position < count). */
  at(position: number): number;
  /** Where a load with this tag starts its rotation. */
  start(tag: string): number;
}

/** 32-bit integer hash (a murmur3 finaliser), for ids and starting points. */
function mix(x: number): number {
  let h = x >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

function stringHash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return mix(h);
}

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

/** Two hex digits per byte value: ids are made by the million, so no toString/padStart per id. */
const HEX = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'));
const hex8 = (x: number) => HEX[x >>> 24]! + HEX[(x >>> 16) & 255]! + HEX[(x >>> 8) & 255]! + HEX[x & 255]!;

/** `count` users whose ids depend on `seed` (a run's users differ from another run's). */
export function benchUsers(count: number, seed: number): BenchUsers {
  if (count > 2 ** 26) throw new Error('--users: at most 2^26 (67,108,864)');
  // The permutation p → (step × p) mod count, step coprime with count and near count × 0.618 (consecutive positions
  // land far apart); step × p stays below 2^52, so it is exact.
  let step = Math.max(1, Math.round(count * 0.6180339887));
  while (gcd(step, count) !== 1) step++;
  let lastTag = '';
  let lastStart = 0;
  return {
    count,
    id(i) {
      const a = mix(i ^ seed);
      const b = mix(a ^ 0x9e3779b9);
      const c = hex8(b);
      return `${hex8(a)}-${c.slice(0, 4)}-4${c.slice(5)}-8${hex8(mix(b)).slice(5)}-0000${hex8(i)}`;
    },
    at: (position) => (step * position) % count,
    start(tag) {
      // Asked for every request of a load: the last tag's answer is kept.
      if (tag !== lastTag) [lastTag, lastStart] = [tag, stringHash(`${seed}:${tag}`) % count];
      return lastStart;
    },
  };
}

export function upnOf(i: number, stamp: string): string {
  return `bench${i}-${stamp}@contoso.example`;
}

/**
 * Creates the users through `POST /_presently/tenants/{tid}/users/bulk`, 10,000 a request; resolves when all exist.
 * Each must be new (the store is fresh).
 */
export async function createUsers(url: string, tenantId: string, users: BenchUsers, stamp: string): Promise<void> {
  const requests = Math.ceil(users.count / BULK_REQUEST);
  await mapLimit(Array.from({ length: requests }, (_, r) => r), BULK_IN_FLIGHT, async (r) => {
    const from = r * BULK_REQUEST;
    const to = Math.min(users.count, from + BULK_REQUEST);
    const value = [];
    for (let i = from; i < to; i++) value.push({ id: users.id(i), displayName: `Bench ${i}`, userPrincipalName: upnOf(i, stamp) });
    const res = await call(url, 'POST', `/_presently/tenants/${tenantId}/users/bulk`, { body: { value } });
    const created = (res.json as { created?: number }).created;
    if (created !== to - from) throw new Error(`bulk creation of users ${from}–${to - 1}: ${String(created)} created, ${to - from} expected`);
  });
}

/**
 * At most `max` distinct numbers of [0, n), spread evenly over it (all of them when n ≤ max): which positions or
 * users a check reads back when there are too many to read them all.
 */
export function spread(n: number, max: number): number[] {
  if (n <= max) return Array.from({ length: n }, (_, i) => i);
  return Array.from({ length: max }, (_, i) => Math.floor((i * n) / max));
}
