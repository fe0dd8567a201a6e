/**
 * The floors under Presently at a million users: what the machine charges for the same work on a thousand users and
 * on a million, with Presently's own code taken out (BENCHMARKS.md, "The floors"). Two of issue 13's targets,
 * getPresencesByUserId and the writes within 10 % at a million users, are measured against these.
 *
 *   npm run bench:floors                          # both parts at 1,000 and 1,000,000 (~3 min, most of it filling SQLite)
 *   npm run bench:floors -- --users 1000,100000 --only memory
 *   npm run bench:floors -- --only log            # an append-only journal against writes in place (~2 min)
 *   npm run bench:floors -- --only heap           # the read cache's memory and full collections (~1 min)
 *   npm run bench:floors -- --only journal        # records in memory, a journal and snapshots (~30 s)
 *   npm run bench:floors -- --only list           # a 650-id list from every user's item kept rendered (~15 s)
 *
 * - memory: lookups of random user ids in batches of 650, as a getPresencesByUserId makes them, in a JavaScript Map of N string
 *   keys to small objects (the read cache's shape: src/presence/snapshotCache.ts), and in an open-addressed table of
 *   the ids' 128 bits in a typed array (what a cache without objects would cost). Nanoseconds per id.
 * - disk: random updates of the presence table (the real schema, rows as a new user's) in groups of 28, the group
 *   size a million users' write load makes, on a file in the system's temporary folder; the time of the statements,
 *   of the commits (the WAL append) and of the checkpoints (copying the WAL back, with its two fsyncs), per update.
 *   Then "first message": the same for updates that give each user their first status message (each user once, at
 *   most `--seconds`), which make rows longer and so split pages, as the bench's setStatusMessage load does to the
 *   users it has just created.
 * - heap (only when asked for): the read cache holding N users, what it adds to the heap, the ArrayBuffers and RSS, and
 *   how long a full collection takes with it alive (./heapFloor.ts).
 * - log (only when asked for): random users given a status message, three ways on one file: in place (read the row,
 *   update it), appended to a journal table, and that journal folded into the presence table later in big sorted
 *   transactions. Says whether a log-structured store would write for less at a million users (BENCHMARKS.md).
 * - journal (only when asked for): the store that log pointed to, every record in memory as bytes, each write appended
 *   to a journal file, and the state written out as a snapshot when the journal is as large (./journalFloor.ts).
 * - list (only when asked for): a 650-id getPresencesByUserId answered with the least work any in-memory design could
 *   do, every user's item kept rendered: what a million users cost a list whatever the code (./listFloor.ts).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { newRecord, transition } from '../src/domain/record.ts';
import { setStatusMessage } from '../src/domain/statusMessage.ts';
import { heapFloor } from './heapFloor.ts';
import { journalFloor } from './journalFloor.ts';
import { listFloor } from './listFloor.ts';
import { SnapshotCache } from '../src/presence/snapshotCache.ts';
import { encodeRecord } from '../src/store/codec.ts';
import { migrate } from '../src/store/sqlite/migrations.ts';

const BATCH = 650;
const GROUP = 28;
/** SQLite's default: a checkpoint once the WAL holds 1,000 pages. */
const CHECKPOINT_PAGES = 1_000;
/** The log part's fold: journal rows applied to the presence table in one transaction. */
const FOLD = 10_000;
const TENANT = '0b7d3a44-5c1e-4f6a-9d2b-8e4f1a2c3d5e';

const { values } = parseArgs({
  options: {
    users: { type: 'string', default: '1000,1000000' },
    only: { type: 'string' },
    seconds: { type: 'string', default: '10' }, // the disk part's updates, per size
  },
});
const sizes = values.users.split(',').map(Number);
const parts = values.only ? values.only.split(',') : ['memory', 'disk'];
const seconds = Number(values.seconds);

/** The i-th user's id: a GUID from a hash of i, so ids fall all over the key order, as the bench's do. */
function userId(i: number): string {
  const h = crypto.createHash('md5').update(String(i)).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** Fresh strings for a batch of ids, as JSON.parse of a request body makes them (not the map's own key strings). */
function freshBatch(n: number): string[] {
  return JSON.parse(JSON.stringify(Array.from({ length: BATCH }, () => userId(Math.floor(Math.random() * n))))) as string[];
}

/**
 * ns per id: the median of 7 rounds, each looking up 300 batches of 650 random ids made (untimed) just before it, so
 * every id is a fresh string whose hash is computed on its first lookup, as a request's are.
 */
function timeLookups(n: number, lookup: (id: string) => number): number {
  let sink = 0;
  const rounds: number[] = [];
  for (let round = 0; round < 8; round++) {
    const batches = Array.from({ length: 300 }, () => freshBatch(n));
    const start = process.hrtime.bigint();
    for (const batch of batches) for (const id of batch) sink += lookup(id);
    // The first round warms the code up and is not counted.
    if (round > 0) rounds.push(Number(process.hrtime.bigint() - start) / (batches.length * BATCH));
  }
  if (sink === -1) console.log('');
  return rounds.sort((a, b) => a - b)[rounds.length >> 1]!;
}

interface Snap { view: object; sequenceNumber: string; dueAt: number | null }
interface Entry { snap: Snap; used: boolean }

function memoryFloor(n: number): { map: number; table: number; tableOfObjects: number; cache: number } {
  const view = Object.freeze({ availability: 'Available' });
  const map = new Map<string, Entry>();
  for (let i = 0; i < n; i++) map.set(userId(i), { snap: { view, sequenceNumber: `C${String(1e15 + i).padStart(20, '0')}`, dueAt: null }, used: false });
  const mapNs = timeLookups(n, (id) => {
    const e = map.get(id)!;
    if (!e.used) e.used = true;
    return e.snap.sequenceNumber.length + (e.snap.dueAt ?? 0);
  });
  map.clear();
  const table = new GuidTable(n);
  for (let i = 0; i < n; i++) table.set(userId(i), 1e15 + i);
  const tableNs = timeLookups(n, (id) => table.get(id));
  // The same table's slots holding the snapshot objects themselves (their sequence numbers as strings).
  const snaps: Snap[] = [];
  for (let i = 0; i < n; i++) snaps[table.slotOf(userId(i))] = { view, sequenceNumber: `C${String(1e15 + i).padStart(20, '0')}`, dueAt: null };
  const objectsNs = timeLookups(n, (id) => {
    const snap = snaps[table.slotOf(id)]!;
    return snap.sequenceNumber.length + (snap.dueAt ?? 0);
  });
  // Presently's read cache itself (src/presence/snapshotCache.ts).
  const cache = new SnapshotCache(n);
  for (let i = 0; i < n; i++) cache.set(TENANT, userId(i), { view: view as never, sequenceNumber: `C${String(1e15 + i).padStart(20, '0')}`, dueAt: null });
  const cacheNs = timeLookups(n, (id) => {
    const snap = cache.get(TENANT, id)!;
    return snap.sequenceNumber.length + (snap.dueAt ?? 0);
  });
  return { map: mapNs, table: tableNs, tableOfObjects: objectsNs, cache: cacheNs };
}

/** Open addressing with linear probing over the ids' four 32-bit words and a sequence number: no object per user. */
class GuidTable {
  private readonly mask: number;
  private readonly keys: Uint32Array;
  private readonly seqs: Float64Array;
  private readonly words = new Uint32Array(4);

  constructor(n: number) {
    const slots = 2 ** Math.ceil(Math.log2(n * 1.5));
    this.mask = slots - 1;
    this.keys = new Uint32Array(slots * 4);
    this.seqs = new Float64Array(slots);
  }

  set(id: string, seq: number): void {
    const slot = this.find(id);
    this.keys.set(this.words, slot * 4);
    this.seqs[slot] = seq;
  }

  get(id: string): number {
    return this.seqs[this.find(id)]!;
  }

  slotOf(id: string): number {
    return this.find(id);
  }

  private find(id: string): number {
    const w = this.words;
    w.fill(0);
    // The hex digits at 0–7, 9–12 and 14–17, 19–22 and 24–35 ('-' at 8, 13, 18, 23).
    w[0] = hex8(id, 0);
    w[1] = (hex8(id, 9) & 0xffff0000) | (hex8(id, 14) >>> 16);
    w[2] = (hex8(id, 19) & 0xffff0000) | (hex8(id, 24) >>> 16);
    w[3] = hex8(id, 28);
    for (let slot = w[0]! & this.mask; ; slot = (slot + 1) & this.mask) {
      const k = slot * 4;
      const keys = this.keys;
      if ((keys[k] === w[0] && keys[k + 1] === w[1] && keys[k + 2] === w[2] && keys[k + 3] === w[3])
        || (keys[k] === 0 && keys[k + 1] === 0 && keys[k + 2] === 0 && keys[k + 3] === 0)) return slot;
    }
  }
}

const HEX = new Uint8Array(128);
for (let c = 0; c < 16; c++) HEX['0123456789abcdef'.charCodeAt(c)] = c;
/** The 8 hex digits at `at` as a 32-bit number ('-' counts as 0: callers take the halves they need). */
function hex8(s: string, at: number): number {
  let v = 0;
  for (let i = at; i < at + 8; i++) v = (v << 4) | HEX[s.charCodeAt(i)]!;
  return v >>> 0;
}

interface DiskTimes { statements: number; commit: number; checkpoint: number; updates: number }

/** A user's stored row as a SQLite update writes it. */
interface Row { facts: string; view: string; seq: string }

/**
 * Writes in groups of GROUP, each in one IMMEDIATE transaction, until `seconds` pass or `max` writes are made; `write(k)`
 * makes the k-th. Times the statements, the commits and the checkpoints (µs per write).
 */
function timeGroups(db: Database.Database, walPages: () => number, seconds: number, max: number, write: (k: number) => void): DiskTimes {
  const begin = db.prepare('BEGIN IMMEDIATE');
  const commit = db.prepare('COMMIT');
  let statements = 0;
  let commits = 0;
  let checkpoints = 0;
  let updates = 0;
  const until = performance.now() + seconds * 1000;
  while (performance.now() < until && updates < max) {
    const a = performance.now();
    begin.run();
    for (let j = 0; j < GROUP && updates < max; j++, updates++) write(updates);
    const b = performance.now();
    commit.run();
    const c = performance.now();
    statements += b - a;
    commits += c - b;
    if (walPages() >= CHECKPOINT_PAGES) checkpoints += timeCheckpoint(db);
  }
  const us = (ms: number) => (1000 * ms) / updates;
  return { statements: us(statements), commit: us(commits), checkpoint: us(checkpoints), updates };
}

function timeCheckpoint(db: Database.Database): number {
  const start = performance.now();
  db.pragma('wal_checkpoint(PASSIVE)');
  return performance.now() - start;
}

/** Random-order updates of the presence table as updatePresence makes them: read the row, then write it. */
function timeUpdates(db: Database.Database, walPages: () => number, seconds: number, max: number, pick: (k: number) => string, row: (k: number) => Row): DiskTimes {
  const get = db.prepare('SELECT facts, view, seq, due_at FROM presence WHERE tenant_id = ? AND user_id = ?');
  const update = db.prepare('UPDATE presence SET facts = ?, view = ?, seq = ? WHERE tenant_id = ? AND user_id = ?');
  return timeGroups(db, walPages, seconds, max, (k) => {
    const id = pick(k);
    const r = row(k);
    get.get(TENANT, id);
    update.run(r.facts, r.view, r.seq, TENANT, id);
  });
}

/** A presence table of `n` new users' rows in a fresh file, checkpointed; checkpoints are then left to the caller. */
function filledDatabase(n: number) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'presently-floors-'));
  const db = new Database(path.join(dir, 'presently.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('cache_size = -65536'); // the server's (src/store/sqlite/sqliteStore.ts)
  migrate(db);
  // Only the presence table is filled: its rows' users are not needed to time its updates.
  db.pragma('foreign_keys = OFF');
  const now = Date.now();
  const initial = newRecord(now);
  const { facts, view } = encodeRecord(initial);
  const insert = db.prepare('INSERT INTO presence (tenant_id, user_id, facts, view, seq, due_at) VALUES (?, ?, ?, ?, ?, NULL)');
  const fill = db.transaction((from: number, to: number) => {
    for (let i = from; i < to; i++) insert.run(TENANT, userId(i), facts, view, initial.sequenceNumber);
  });
  const t0 = performance.now();
  for (let i = 0; i < n; i += 10_000) fill.immediate(i, Math.min(n, i + 10_000));
  db.pragma('wal_checkpoint(TRUNCATE)');
  const fillS = (performance.now() - t0) / 1000;
  // The checkpoints are made by the timing loops, each timed, instead of inside the commit that crosses CHECKPOINT_PAGES.
  db.pragma('wal_autocheckpoint = 0');
  const walPages = () => (fs.statSync(path.join(dir, 'presently.db-wal')).size - 32) / (4096 + 24);
  // Each user once, in an order spread over the key range.
  let step = Math.round(n * 0.618) | 1;
  while (gcd(step, n) !== 1) step += 2;
  /** A first status message, as the bench's setStatusMessage load gives a freshly created user (its row ~240 bytes longer). */
  const firstMessage = (k: number): Row => {
    const input = { kind: 'set' as const, message: { content: `bench-${k}`, contentType: 'text' as const, expiry: null, expiresAt: null } };
    const { record } = transition(initial, setStatusMessage(initial.facts, input, now), now);
    return { ...encodeRecord(record), seq: record.sequenceNumber };
  };
  /** Closes the database (which checkpoints and removes the WAL) and deletes it; returns its files' size before that. */
  const close = (): number => {
    db.close();
    const size = fs.readdirSync(dir).reduce((sum, f) => sum + fs.statSync(path.join(dir, f)).size, 0);
    fs.rmSync(dir, { recursive: true, force: true });
    return size;
  };
  return { db, walPages, fill: fillS, facts, view, spread: (k: number) => userId((k * step) % n), firstMessage, close };
}

/** `same`: updates that keep a row's size; `growth`: each user's first status message, which makes its row longer. */
function diskFloor(n: number): { fill: number; same: DiskTimes; growth: DiskTimes; file: number } {
  const f = filledDatabase(n);
  let parts: Omit<ReturnType<typeof diskFloor>, 'file'>;
  try {
    parts = diskParts(n, f);
  } catch (err) {
    f.close();
    throw err;
  }
  return { ...parts, file: f.close() };
}

function diskParts(n: number, f: ReturnType<typeof filledDatabase>): { fill: number; same: DiskTimes; growth: DiskTimes } {
  const random = () => userId(Math.floor(Math.random() * n));
  const same = timeUpdates(f.db, f.walPages, seconds, Infinity, random, (k) => ({
    facts: f.facts.replace('"everActive":false', `"everActive":${k % 2 === 0}`), view: f.view, seq: `C${k}`,
  }));
  // Each user once, in an order spread over the key range: a first status message, a page split now and then.
  const growth = timeUpdates(f.db, f.walPages, seconds, n, f.spread, f.firstMessage);
  return { fill: f.fill, same, growth };
}

/**
 * The log-structured alternative: `inPlace` is today's write (read the row, update it) to random users, each row given
 * a status message (at a million users nearly every write is a user's first); `append` writes as many rows into an
 * append-only journal table (its pages filled one after another); `fold` then applies the journal to the presence
 * table FOLD rows at a time in the table's key order, in one transaction each, and checkpoints. µs per write.
 */
function logFloor(n: number): { inPlace: DiskTimes; append: DiskTimes; fold: DiskTimes } {
  const f = filledDatabase(n);
  try {
    const { db } = f;
    db.exec('CREATE TABLE journal (id INTEGER PRIMARY KEY, tenant_id TEXT NOT NULL, user_id TEXT NOT NULL, facts TEXT NOT NULL, view TEXT NOT NULL, seq TEXT NOT NULL)');
    const random = () => userId(Math.floor(Math.random() * n));
    const inPlace = timeUpdates(db, f.walPages, seconds, Infinity, random, f.firstMessage);
    const append = db.prepare('INSERT INTO journal (tenant_id, user_id, facts, view, seq) VALUES (?, ?, ?, ?, ?)');
    const appended = timeGroups(db, f.walPages, seconds, inPlace.updates, (k) => {
      const r = f.firstMessage(k);
      append.run(TENANT, random(), r.facts, r.view, r.seq);
    });
    if (f.walPages() > 0) appended.checkpoint += (1000 * timeCheckpoint(db)) / appended.updates;
    const chunk = db.prepare('SELECT tenant_id, user_id, facts, view, seq FROM journal WHERE id > ? AND id <= ? ORDER BY tenant_id, user_id, id').raw();
    const update = db.prepare('UPDATE presence SET facts = ?, view = ?, seq = ? WHERE tenant_id = ? AND user_id = ?');
    const forget = db.prepare('DELETE FROM journal WHERE id <= ?');
    const fold = db.transaction((after: number, upTo: number) => {
      for (const [tenant, user, facts, view, seq] of chunk.all(after, upTo) as string[][]) update.run(facts!, view!, seq!, tenant!, user!);
      forget.run(upTo);
    });
    const folded: DiskTimes = { statements: 0, commit: 0, checkpoint: 0, updates: appended.updates };
    for (let after = 0; after < appended.updates; after += FOLD) {
      const start = performance.now();
      fold.immediate(after, Math.min(appended.updates, after + FOLD));
      folded.statements += performance.now() - start; // the commit is inside the transaction function's time
      folded.checkpoint += timeCheckpoint(db);
    }
    folded.statements = (1000 * folded.statements) / folded.updates;
    folded.checkpoint = (1000 * folded.checkpoint) / folded.updates;
    return { inPlace, append: appended, fold: folded };
  } finally {
    f.close();
  }
}

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

const fmt = (x: number, digits = 1) => x.toFixed(digits);
console.log(`floors: ${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}, Node ${process.version}`);
if (parts.includes('memory')) {
  console.log('\nmemory: 650 random ids looked up, ns per id');
  console.log('users'.padStart(10) + 'Map of objects'.padStart(16) + 'typed table'.padStart(14) + 'typed keys, objects'.padStart(21) + 'read cache'.padStart(12));
  for (const n of sizes) {
    const r = memoryFloor(n);
    console.log(n.toLocaleString('en-US').padStart(10) + fmt(r.map).padStart(16) + fmt(r.table).padStart(14) + fmt(r.tableOfObjects).padStart(21) + fmt(r.cache).padStart(12));
  }
}
if (parts.includes('disk')) {
  console.log(`\ndisk: random updates in groups of ${GROUP}, µs per update (checkpoint every ${CHECKPOINT_PAGES} WAL pages); `
    + 'same size: rows keep their size; first message: each user\'s first status message, rows growing');
  console.log('users'.padStart(10) + 'updates'.padStart(15) + 'statements'.padStart(12) + 'commit'.padStart(9) + 'checkpoint'.padStart(12)
    + 'total'.padStart(8) + 'file MB'.padStart(9) + 'fill s'.padStart(8));
  const line = (users: string, kind: string, t: DiskTimes, tail: string) => console.log(users.padStart(10) + kind.padStart(15)
    + fmt(t.statements).padStart(12) + fmt(t.commit).padStart(9) + fmt(t.checkpoint).padStart(12)
    + fmt(t.statements + t.commit + t.checkpoint).padStart(8) + tail);
  for (const n of sizes) {
    const r = diskFloor(n);
    line(n.toLocaleString('en-US'), 'same size', r.same, fmt(r.file / 1e6, 0).padStart(9) + fmt(r.fill).padStart(8));
    line('', 'first message', r.growth, '');
  }
}
if (parts.includes('heap')) {
  console.log('\nheap: the read cache holding N users, each with a sequence number of their own; MB added, and a full collection');
  console.log('users'.padStart(10) + 'views'.padStart(16) + 'JS heap'.padStart(10) + 'buffers'.padStart(10) + 'RSS'.padStart(8) + 'full GC ms'.padStart(12));
  for (const n of sizes) {
    for (const own of [false, true]) {
      const r = heapFloor(n, userId, own);
      console.log((own ? '' : n.toLocaleString('en-US')).padStart(10) + (own ? 'one each' : 'one shared').padStart(16) + fmt(r.heapMb).padStart(10)
        + fmt(r.buffersMb).padStart(10) + fmt(r.rssMb).padStart(8) + fmt(r.fullGcMs).padStart(12));
    }
  }
}
if (parts.includes('log')) {
  console.log(`\nlog: status messages of random users written in place, or appended to a journal and folded in later ${FOLD.toLocaleString('en-US')} `
    + 'at a time in key order; µs per write (the fold\'s commit is in its statements)');
  console.log('users'.padStart(10) + 'write'.padStart(15) + 'writes'.padStart(9) + 'statements'.padStart(12) + 'commit'.padStart(9)
    + 'checkpoint'.padStart(12) + 'total'.padStart(8));
  const line = (users: string, kind: string, t: DiskTimes) => console.log(users.padStart(10) + kind.padStart(15)
    + t.updates.toLocaleString('en-US').padStart(9) + fmt(t.statements).padStart(12) + fmt(t.commit).padStart(9)
    + fmt(t.checkpoint).padStart(12) + fmt(t.statements + t.commit + t.checkpoint).padStart(8));
  for (const n of sizes) {
    const r = logFloor(n);
    line(n.toLocaleString('en-US'), 'in place', r.inPlace);
    line('', 'append', r.append);
    line('', 'fold', r.fold);
    line('', 'append + fold', { statements: r.append.statements + r.fold.statements, commit: r.append.commit,
      checkpoint: r.append.checkpoint + r.fold.checkpoint, updates: r.append.updates });
  }
}
if (parts.includes('journal')) {
  console.log(`\njournal: status messages of random users, every record in memory, a journal write per ${GROUP}, a snapshot when the `
    + 'journal is as large as the state (charged to the writes between two); µs per write');
  console.log('users'.padStart(10) + 'writes'.padStart(11) + 'parse'.padStart(8) + 'apply'.padStart(8) + 'append'.padStart(8) + 'snapshot'.padStart(10)
    + 'total'.padStart(8) + 'state MB'.padStart(10) + 'snapshot ms'.padStart(13) + 'fill s'.padStart(8) + 'start s'.padStart(9));
  const now = Date.now();
  const initial = newRecord(now);
  const row = (r: ReturnType<typeof newRecord>) => ({ ...encodeRecord(r), seq: r.sequenceNumber });
  const message = (k: number) => {
    const input = { kind: 'set' as const, message: { content: `bench-${k}`, contentType: 'text' as const, expiry: null, expiresAt: null } };
    return row(transition(initial, setStatusMessage(initial.facts, input, now), now).record);
  };
  for (const n of sizes) {
    const r = journalFloor(n, seconds, GROUP, row(initial), () => Math.floor(Math.random() * n), message);
    console.log(n.toLocaleString('en-US').padStart(10) + r.writes.toLocaleString('en-US').padStart(11) + fmt(r.parse).padStart(8)
      + fmt(r.apply).padStart(8) + fmt(r.append).padStart(8) + fmt(r.snapshot).padStart(10) + fmt(r.parse + r.apply + r.append + r.snapshot).padStart(8)
      + fmt(r.stateMb, 0).padStart(10) + fmt(r.snapshotMs, 0).padStart(13) + fmt(r.fillS).padStart(8) + fmt(r.startS).padStart(9));
  }
}
if (parts.includes('list')) {
  console.log(`\nlist: ${BATCH} random ids answered from every user's item kept rendered (the least work a list can do); µs per list, `
    + 'and what each size adds to the first');
  console.log('users'.padStart(10) + 'lookups'.padStart(9) + 'added'.padStart(8) + 'one by one'.padStart(12) + 'added'.padStart(8)
    + 'in passes'.padStart(11) + 'added'.padStart(8) + 'items MB'.padStart(10) + 'build s'.padStart(9));
  let first: ReturnType<typeof listFloor> | null = null;
  for (const n of sizes) {
    const r = listFloor(n, userId);
    first ??= r;
    console.log(n.toLocaleString('en-US').padStart(10) + fmt(r.lookupUs).padStart(9) + fmt(r.lookupUs - first.lookupUs).padStart(8)
      + fmt(r.oneByOneUs).padStart(12) + fmt(r.oneByOneUs - first.oneByOneUs).padStart(8)
      + fmt(r.passesUs).padStart(11) + fmt(r.passesUs - first.passesUs).padStart(8) + fmt(r.itemsMb).padStart(10) + fmt(r.buildS).padStart(9));
  }
}
