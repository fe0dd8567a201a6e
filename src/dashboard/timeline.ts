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
import { changedParts, timedReasons, type ChangedPart, type TimedReason } from './changes.ts';

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
  /** Entries in all (then too the users changed least recently go first): about 130 bytes each. */
  entries: number;
}

/** At most about 26 MB: 200,000 entries, e.g. 2,000 users with a full timeline or 50,000 with four changes each. */
export const TIMELINE_LIMITS: TimelineLimits = { perUser: 100, users: 50_000, entries: 200_000 };

/**
 * One user's entries: a ring of at most `perUser`, the oldest at `first` once it is full (an array's `shift` moved
 * every entry, a few % of a write's time with full timelines, issue 13).
 */
class Line {
  readonly ring: Recorded[] = [];
  first = 0;

  latest(): Recorded | undefined {
    const { ring, first } = this;
    return ring[(first + ring.length - 1) % ring.length];
  }

  /** Adds `entry`; true if the oldest went to make room. */
  add(entry: Recorded, perUser: number): boolean {
    if (this.ring.length < perUser) {
      this.ring.push(entry);
      return false;
    }
    this.ring[this.first] = entry;
    this.first = (this.first + 1) % this.ring.length;
    return true;
  }

  newestFirst(): Recorded[] {
    const out: Recorded[] = [];
    for (let i = this.ring.length - 1; i >= 0; i--) out.push(this.ring[(this.first + i) % this.ring.length]!);
    return out;
  }
}

export class Timeline {
  /** Each user's line, the user changed least recently first. */
  private readonly lines = new TenantUserMap<Line>();
  /** Entries held, over all users. */
  private total = 0;

  constructor(private readonly limits: TimelineLimits = TIMELINE_LIMITS) {}

  record(tenantId: string, userId: string, entry: Recorded): void {
    let line = this.lines.touch(tenantId, userId);
    if (!line) {
      if (this.lines.size >= this.limits.users) this.forgetOldest(() => this.lines.size >= this.limits.users);
      this.lines.set(tenantId, userId, (line = new Line()));
    }
    // The same message as the entry before: keep one copy of the text (each record read from the store has its own).
    const last = line.latest();
    if (last && last.statusMessage !== null && last.statusMessage === entry.statusMessage) entry.statusMessage = last.statusMessage;
    if (!line.add(entry, this.limits.perUser)) this.total++;
    if (this.total > this.limits.entries) this.forgetOldest(() => this.total > this.limits.entries && this.lines.size > 1);
  }

  /**
   * Forgets the users changed least recently while `more()`: only as many as the limit needs (dropping the oldest costs
   * a few pointer writes, src/platform/recency.ts; when it walked a Map's deleted slots it went a 1/64 batch at a time).
   */
  private forgetOldest(more: () => boolean): void {
    this.lines.dropOldest(more, (line) => (this.total -= line.ring.length));
  }

  /** The user's entries, newest first. */
  entries(tenantId: string, userId: string): Recorded[] {
    return this.lines.get(tenantId, userId)?.newestFirst() ?? [];
  }

  forget(tenantId: string, userId: string): void {
    this.total -= this.lines.delete(tenantId, userId)?.ring.length ?? 0;
  }

  /** How many users and entries are held (tests, docs). */
  get size(): { users: number; entries: number } {
    return { users: this.lines.size, entries: this.total };
  }
}
