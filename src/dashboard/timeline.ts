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

/** How many to forget at once at a limit: 1/64 of it (one at a time for small limits, as the tests use). */
const batch = (limit: number) => Math.floor(limit / 64);

export class Timeline {
  /** `tenant/user` → entries, oldest first; the map's order is the order of the users' latest changes. */
  private readonly byUser = new Map<string, Recorded[]>();
  /** Entries held, over all users. */
  private total = 0;

  constructor(private readonly limits: TimelineLimits = TIMELINE_LIMITS) {}

  record(tenantId: string, userId: string, entry: Recorded): void {
    const key = `${tenantId}/${userId}`;
    let entries = this.byUser.get(key);
    if (entries) {
      this.byUser.delete(key);
    } else {
      entries = [];
      if (this.byUser.size >= this.limits.users) this.forgetOldest(() => this.byUser.size >= this.limits.users - batch(this.limits.users));
    }
    this.byUser.set(key, entries);
    // The same message as the entry before: keep one copy of the text (each record read from the store has its own).
    const last = entries[entries.length - 1];
    if (last && last.statusMessage !== null && last.statusMessage === entry.statusMessage) entry.statusMessage = last.statusMessage;
    entries.push(entry);
    this.total++;
    if (entries.length > this.limits.perUser) {
      entries.shift();
      this.total--;
    }
    if (this.total > this.limits.entries) {
      const goal = this.limits.entries - batch(this.limits.entries) + 1;
      this.forgetOldest(() => this.total >= goal && this.byUser.size > 1);
    }
  }

  /**
   * Forgets the users changed least recently while `more()`, walking the map's order with ONE iterator: a Map keeps
   * deleted slots until it is rebuilt, and a fresh iterator walks over them, so forgetting one user per record at the
   * limit cost a walk over every earlier deletion (24 µs a change at 50,000 users, issue 13); a batch at a time costs
   * one walk per batch.
   */
  private forgetOldest(more: () => boolean): void {
    const oldest = this.byUser.entries();
    while (more()) {
      const next = oldest.next();
      if (next.done) return;
      const [key, entries] = next.value;
      this.byUser.delete(key);
      this.total -= entries.length;
    }
  }

  /** The user's entries, newest first. */
  entries(tenantId: string, userId: string): Recorded[] {
    return [...(this.byUser.get(`${tenantId}/${userId}`) ?? [])].reverse();
  }

  forget(tenantId: string, userId: string): void {
    const key = `${tenantId}/${userId}`;
    this.total -= this.byUser.get(key)?.length ?? 0;
    this.byUser.delete(key);
  }

  /** How many users and entries are held (tests, docs). */
  get size(): { users: number; entries: number } {
    return { users: this.byUser.size, entries: this.total };
  }
}
