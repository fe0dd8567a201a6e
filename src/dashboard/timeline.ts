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
  /** Entries in all (then too the users changed least recently go first): 125–250 bytes each, a user's first about 300. */
  entries: number;
}

/**
 * At most about 50 MB with short status messages (docs/operations/dashboard.md#the-timeline): 200,000 entries, e.g.
 * 2,000 users with a full timeline (24–35 MB) or 50,000 with four changes each (40–48 MB).
 */
export const TIMELINE_LIMITS: TimelineLimits = { perUser: 100, users: 50_000, entries: 200_000 };

/**
 * One user's entries. Most users hold one or two, so a lone entry is kept as it is (an array's first push reserves 17
 * slots: 150 bytes a user); from the second on, a ring of at most `perUser`, the oldest at `first` once it is full (an
 * array's `shift` moved every entry, a few % of a write's time with full timelines, issue 13).
 */
class Line {
  private held: Recorded | Recorded[];
  private first = 0;

  constructor(entry: Recorded) {
    this.held = entry;
  }

  get length(): number {
    return Array.isArray(this.held) ? this.held.length : 1;
  }

  latest(): Recorded {
    const { held, first } = this;
    return Array.isArray(held) ? held[(first + held.length - 1) % held.length]! : held;
  }

  /** Adds `entry`; true if the oldest went to make room. */
  add(entry: Recorded, perUser: number): boolean {
    const { held } = this;
    if (!Array.isArray(held)) {
      if (perUser > 1) this.held = [held, entry];
      else this.held = entry;
      return perUser <= 1;
    }
    if (held.length < perUser) {
      held.push(entry);
      return false;
    }
    held[this.first] = entry;
    this.first = (this.first + 1) % held.length;
    return true;
  }

  newestFirst(): Recorded[] {
    const { held, first } = this;
    if (!Array.isArray(held)) return [held];
    const out: Recorded[] = [];
    for (let i = held.length - 1; i >= 0; i--) out.push(held[(first + i) % held.length]!);
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
    const line = this.lines.touch(tenantId, userId);
    if (!line) {
      if (this.lines.size >= this.limits.users) this.forgetOldest(() => this.lines.size >= this.limits.users);
      this.lines.set(tenantId, userId, new Line(entry));
      this.total++;
    } else {
      // What the entry before said again is kept once: the message's text (each record read from the store has its
      // own) and the cause (each request makes its own).
      const last = line.latest();
      if (last.statusMessage !== null && last.statusMessage === entry.statusMessage) entry.statusMessage = last.statusMessage;
      if (sameCause(last.cause, entry.cause)) entry.cause = last.cause;
      if (!line.add(entry, this.limits.perUser)) this.total++;
    }
    if (this.total > this.limits.entries) this.forgetOldest(() => this.total > this.limits.entries && this.lines.size > 1);
  }

  /**
   * Forgets the users changed least recently while `more()`: only as many as the limit needs (dropping the oldest costs
   * a few pointer writes, src/platform/recency.ts; when it walked a Map's deleted slots it went a 1/64 batch at a time).
   */
  private forgetOldest(more: () => boolean): void {
    this.lines.dropOldest(more, (line) => (this.total -= line.length));
  }

  /** The user's entries, newest first. */
  entries(tenantId: string, userId: string): Recorded[] {
    return this.lines.get(tenantId, userId)?.newestFirst() ?? [];
  }

  forget(tenantId: string, userId: string): void {
    this.total -= this.lines.delete(tenantId, userId)?.length ?? 0;
  }

  /** How many users and entries are held (tests, docs). */
  get size(): { users: number; entries: number } {
    return { users: this.lines.size, entries: this.total };
  }
}

/** Whether two causes say the same: the same call by the same app and user, the same timed reasons, the same admin action. */
function sameCause(a: EntryCause, b: EntryCause): boolean {
  if (a === b) return true;
  if (a.kind === 'api') return b.kind === 'api' && a.action === b.action && a.appId === b.appId && a.userId === b.userId;
  if (a.kind === 'timed') return b.kind === 'timed' && a.reasons === b.reasons;
  return b.kind === 'admin' && a.action === b.action;
}
