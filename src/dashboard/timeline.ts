/**
 * The timeline [P: d-timeline]: each user's latest committed presence changes, with what changed and why, kept in
 * this process's memory for the dashboard (docs/operations/dashboard.md#the-timeline). Bounded: the latest
 * `perUser` entries of each user, at most `users` users (the user changed least recently is forgotten first). Lost on
 * restart; with several nodes on Redis each node holds the changes it committed.
 *
 * Recording costs a few comparisons and two map operations per change: no store read, no JSON.
 */
import { formatSequence, parseSequence, type Transition } from '../domain/record.ts';
import { formatUtc } from '../domain/timezones.ts';
import { TenantUserMap } from '../platform/tenantUserMap.ts';
import type { PresenceRecord } from '../domain/types.ts';
import type { ChangeCause } from '../presence/events.ts';
import {
  CHANGED_PARTS, TIMED_REASONS, changedParts, changedPartsOf, maskOf, timedReasons, timedReasonsOf,
  type ChangedPart, type TimedReason,
} from './changes.ts';

/** Why, as the timeline says it. */
export type EntryCause =
  | { kind: 'api'; action: string; appId: string | null; userId: string | null }
  | { kind: 'timed'; reasons: readonly TimedReason[] }
  | { kind: 'admin'; action: string };

/**
 * One entry as kept. `sequenceNumber` and `at` stay numbers until shown: a `C…` string of 21 characters costs about
 * 100 bytes more per entry, and a full timeline holds millions.
 */
export interface Recorded {
  sequenceNumber: number;
  at: number;
  availability: string;
  activity: string;
  statusMessage: string | null;
  changed: readonly ChangedPart[];
  cause: EntryCause;
}

/** One entry as the API shows it (docs/operations/dashboard.md). */
export type TimelineEntry = Omit<Recorded, 'at' | 'sequenceNumber'> & { sequenceNumber: string; at: string };

export function entryJson(r: Recorded): TimelineEntry {
  return { ...r, sequenceNumber: formatSequence(r.sequenceNumber), at: formatUtc(r.at) };
}

/** A user created through the admin API or a seed (their first entry). */
export const USER_CREATED: EntryCause = Object.freeze({ kind: 'admin', action: 'userCreated' });

/** The entry of a committed change: `previous` is the record the transition was computed from. */
export function entryOf(previous: PresenceRecord, transition: Transition, cause: ChangeCause): Recorded {
  const { record, at } = transition;
  return {
    sequenceNumber: parseSequence(record.sequenceNumber),
    at,
    availability: record.view.availability,
    activity: record.view.activity,
    statusMessage: record.view.statusMessage?.content ?? null,
    changed: changedParts(previous.view, record.view),
    cause: cause.kind === 'timed' ? { kind: 'timed', reasons: timedReasons(previous, record, at) } : cause,
  };
}

/** The first entry of a new user. */
export function createdEntry(record: PresenceRecord, at: number): Recorded {
  return {
    sequenceNumber: parseSequence(record.sequenceNumber), at, availability: record.view.availability, activity: record.view.activity,
    statusMessage: record.view.statusMessage?.content ?? null, changed: [], cause: USER_CREATED,
  };
}

export interface TimelineLimits {
  /** Entries kept per user (the oldest go first). */
  perUser: number;
  /** Users tracked (the one changed least recently goes first). */
  users: number;
  /** Entries in all (then too the users changed least recently go first): about 45 bytes each, and 150 a user. */
  entries: number;
}

/**
 * At most about 20 MB with short status messages (docs/operations/dashboard.md#the-timeline, `npm run -s
 * bench:timeline`): 200,000 entries, e.g. 2,000 users with a full timeline (7 MB) or 50,000 with four changes each (19 MB).
 */
export const TIMELINE_LIMITS: TimelineLimits = { perUser: 100, users: 50_000, entries: 200_000 };

/**
 * Strings a timeline entry names over and over (availabilities, activities, actions), each kept once, by number. All
 * come from the code's own lists, never from a request, so there are a few dozen at most.
 */
class Names {
  private readonly numbers = new Map<string, number>();
  private readonly names: string[] = [];

  numberOf(name: string): number {
    let n = this.numbers.get(name);
    if (n === undefined) {
      n = this.names.push(name) - 1;
      this.numbers.set(name, n);
    }
    return n;
  }

  nameOf(n: number): string {
    return this.names[n]!;
  }
}

const NONE = -1;
const KIND_API = 0;
const KIND_TIMED = 1;
const KIND_ADMIN = 2;
const FIRST_CAPACITY = 1024;

/**
 * The entries, as columns [P: d-timeline]: entry i is the i-th slot of each array, and no entry is an object of its
 * own. An object per entry (with its cause, its list of changed parts and its two boxed numbers) made the timeline a
 * third of the objects of a 100,000-user server's heap, each visited by every major collection (BENCHMARKS.md, the
 * 100,000-user soak's stalls). The columns grow by doubling, but not past what the limits let be held at once
 * (`most`), and a slot freed by an entry that went is used again first.
 *
 * A user's entries are linked from the newest (`older`) and from the oldest (`newer`); the newest also carries the
 * line's oldest entry and its length (`oldestOf`, `lengthOf`), so a user costs one number in the map of lines.
 */
class Columns {
  constructor(private readonly most: number) {}

  capacity = 0;
  used = 0;
  sequenceNumber = new Float64Array(0);
  at = new Float64Array(0);
  availability = new Uint16Array(0);
  activity = new Uint16Array(0);
  changed = new Uint8Array(0);
  causeKind = new Uint8Array(0);
  /** The API or admin action's name (Names), or the timed reasons' mask. */
  causeDetail = new Uint16Array(0);
  older = new Int32Array(0);
  newer = new Int32Array(0);
  oldestOf = new Int32Array(0);
  lengthOf = new Int32Array(0);
  /** The strings an entry holds: the message's text and the API caller's ids (shared with the entry before when equal). */
  statusMessage: Array<string | null> = [];
  appId: Array<string | null> = [];
  userId: Array<string | null> = [];
  private free: number[] = [];

  /** A slot for a new entry. */
  take(): number {
    const reused = this.free.pop();
    if (reused !== undefined) return reused;
    if (this.used === this.capacity) {
      const doubled = Math.max(FIRST_CAPACITY, this.capacity * 2);
      this.grow(this.capacity < this.most ? Math.min(doubled, this.most) : doubled);
    }
    return this.used++;
  }

  /** Frees entry i's slot and lets go of the strings it held. */
  release(i: number): void {
    this.statusMessage[i] = this.appId[i] = this.userId[i] = null;
    this.free.push(i);
  }

  private grow(capacity: number): void {
    const grown = <A extends Float64Array | Uint16Array | Uint8Array | Int32Array>(a: A, make: new (n: number) => A): A => {
      const b = new make(capacity);
      b.set(a);
      return b;
    };
    this.sequenceNumber = grown(this.sequenceNumber, Float64Array);
    this.at = grown(this.at, Float64Array);
    this.availability = grown(this.availability, Uint16Array);
    this.activity = grown(this.activity, Uint16Array);
    this.changed = grown(this.changed, Uint8Array);
    this.causeKind = grown(this.causeKind, Uint8Array);
    this.causeDetail = grown(this.causeDetail, Uint16Array);
    this.older = grown(this.older, Int32Array);
    this.newer = grown(this.newer, Int32Array);
    this.oldestOf = grown(this.oldestOf, Int32Array);
    this.lengthOf = grown(this.lengthOf, Int32Array);
    this.capacity = capacity;
  }
}

export class Timeline {
  /** Each user's newest entry, the user changed least recently first. */
  private readonly lines = new TenantUserMap<number>();
  private readonly columns: Columns;
  private readonly names = new Names();
  /** Entries held, over all users. */
  private total = 0;

  constructor(private readonly limits: TimelineLimits = TIMELINE_LIMITS) {
    // A change is added before the limits make room for it: one more than `entries`.
    this.columns = new Columns(limits.entries + 1);
  }

  record(tenantId: string, userId: string, entry: Recorded): void {
    const c = this.columns;
    const newest = this.lines.get(tenantId, userId);
    if (newest === undefined && this.lines.size >= this.limits.users) {
      this.forgetOldest(() => this.lines.size >= this.limits.users);
    }
    const i = c.take();
    this.write(i, entry, newest ?? NONE);
    if (newest === undefined) {
      c.older[i] = c.newer[i] = NONE;
      c.oldestOf[i] = i;
      c.lengthOf[i] = 1;
    } else {
      let oldest = c.oldestOf[newest]!;
      let length = c.lengthOf[newest]!;
      c.older[i] = newest;
      c.newer[newest] = i;
      c.newer[i] = NONE;
      if (length >= this.limits.perUser) {
        // Full: the oldest goes to make room (with one entry a user, that is the one before).
        const next = c.newer[oldest]!;
        c.older[next] = NONE;
        c.release(oldest);
        oldest = next;
        length--;
        this.total--;
      }
      c.oldestOf[i] = oldest;
      c.lengthOf[i] = length + 1;
    }
    this.lines.set(tenantId, userId, i);
    this.total++;
    if (this.total > this.limits.entries) this.forgetOldest(() => this.total > this.limits.entries && this.lines.size > 1);
  }

  /**
   * Copies `entry` into slot i. What the entry before (`previous`) said already is kept once: the message's text (each
   * record read from the store has its own string) and the caller's ids.
   */
  private write(i: number, entry: Recorded, previous: number): void {
    const c = this.columns;
    c.sequenceNumber[i] = entry.sequenceNumber;
    c.at[i] = entry.at;
    c.availability[i] = this.names.numberOf(entry.availability);
    c.activity[i] = this.names.numberOf(entry.activity);
    c.changed[i] = maskOf(CHANGED_PARTS, entry.changed);
    const same = previous !== NONE;
    c.statusMessage[i] = same && c.statusMessage[previous] === entry.statusMessage ? c.statusMessage[previous]! : entry.statusMessage;
    const { cause } = entry;
    if (cause.kind === 'timed') {
      c.causeKind[i] = KIND_TIMED;
      c.causeDetail[i] = maskOf(TIMED_REASONS, cause.reasons);
      c.appId[i] = c.userId[i] = null;
      return;
    }
    c.causeKind[i] = cause.kind === 'api' ? KIND_API : KIND_ADMIN;
    c.causeDetail[i] = this.names.numberOf(cause.action);
    const appId = cause.kind === 'api' ? cause.appId : null;
    const caller = cause.kind === 'api' ? cause.userId : null;
    c.appId[i] = same && c.appId[previous] === appId ? c.appId[previous]! : appId;
    c.userId[i] = same && c.userId[previous] === caller ? c.userId[previous]! : caller;
  }

  /** Entry i as the API shows it, before formatting (entryJson). */
  private read(i: number): Recorded {
    const c = this.columns;
    const kind = c.causeKind[i]!;
    const detail = c.causeDetail[i]!;
    const cause: EntryCause = kind === KIND_TIMED ? { kind: 'timed', reasons: timedReasonsOf(detail) }
      : kind === KIND_API ? { kind: 'api', action: this.names.nameOf(detail), appId: c.appId[i]!, userId: c.userId[i]! }
        : { kind: 'admin', action: this.names.nameOf(detail) };
    return {
      sequenceNumber: c.sequenceNumber[i]!, at: c.at[i]!, availability: this.names.nameOf(c.availability[i]!),
      activity: this.names.nameOf(c.activity[i]!), statusMessage: c.statusMessage[i]!, changed: changedPartsOf(c.changed[i]!), cause,
    };
  }

  /**
   * Forgets the users changed least recently while `more()`: only as many as the limit needs (dropping the oldest costs
   * a few pointer writes, src/platform/recency.ts; when it walked a Map's deleted slots it went a 1/64 batch at a time).
   */
  private forgetOldest(more: () => boolean): void {
    this.lines.dropOldest(more, (newest) => this.releaseLine(newest));
  }

  /** Frees the slots of the line whose newest entry is `newest`. */
  private releaseLine(newest: number): void {
    const c = this.columns;
    this.total -= c.lengthOf[newest]!;
    for (let i = newest; i !== NONE;) {
      const older = c.older[i]!;
      c.release(i);
      i = older;
    }
  }

  /** The user's entries, newest first. */
  entries(tenantId: string, userId: string): Recorded[] {
    const out: Recorded[] = [];
    for (let i = this.lines.get(tenantId, userId) ?? NONE; i !== NONE; i = this.columns.older[i]!) out.push(this.read(i));
    return out;
  }

  forget(tenantId: string, userId: string): void {
    const newest = this.lines.delete(tenantId, userId);
    if (newest !== undefined) this.releaseLine(newest);
  }

  /** How many users and entries are held (tests, docs). */
  get size(): { users: number; entries: number } {
    return { users: this.lines.size, entries: this.total };
  }
}
