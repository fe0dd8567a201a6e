/**
 * What a committed change changed, and why a timed one happened, from the record before and after it: pure functions
 * of the two records and the change's instant, so the timeline costs no store read (docs/operations/dashboard.md).
 *
 * A timed transition happens at an instant `at` on or after the record's due instant (`previous.dueAt`, the first
 * instant after the previous transition at which the view could differ: src/domain/view.ts nextChange). So what fell
 * due in it is every timed fact whose instant lies in [previous.dueAt, at]: with the manual clock moved by an hour,
 * that may be several (a message expired and a session faded).
 */
import { FADE_AWAY_MS, FADE_INACTIVE_MS } from '../domain/view.ts';
import type { PresenceFacts, PresenceRecord, PresenceView } from '../domain/types.ts';

export const CHANGED_PARTS = ['availability', 'activity', 'statusMessage', 'outOfOffice', 'workLocation'] as const;
export type ChangedPart = (typeof CHANGED_PARTS)[number];

export const TIMED_REASONS = [
  'sessionExpired', 'sessionFaded', 'statusMessageExpired', 'preferredExpired', 'outOfOfficeStarted', 'outOfOfficeEnded',
  'workLocationChanged',
] as const;
export type TimedReason = (typeof TIMED_REASONS)[number];

/**
 * Lists of names by bit mask, made once each: a timeline of 100 entries for each of 50,000 users holds references to
 * these few arrays, not an array per entry.
 */
function interned<T extends string>(names: readonly T[]): (mask: number) => readonly T[] {
  const lists = new Map<number, readonly T[]>();
  return (mask) => {
    let list = lists.get(mask);
    if (!list) {
      list = Object.freeze(names.filter((_, i) => (mask & (1 << i)) !== 0));
      lists.set(mask, list);
    }
    return list;
  };
}

/** The changed parts a mask of CHANGED_PARTS names (the timeline keeps masks: ./timeline.ts). */
export const changedPartsOf = interned(CHANGED_PARTS);
/** The timed reasons a mask of TIMED_REASONS names. */
export const timedReasonsOf = interned(TIMED_REASONS);
const bit = <T extends string>(names: readonly T[], name: T) => 1 << names.indexOf(name);

/** The mask of `list`, some of `names`. */
export function maskOf<T extends string>(names: readonly T[], list: readonly T[]): number {
  let mask = 0;
  for (const name of list) mask |= bit(names, name);
  return mask;
}

function sameStatusMessage(a: PresenceView['statusMessage'], b: PresenceView['statusMessage']): boolean {
  if (a === null || b === null) return a === b;
  return a.content === b.content && a.publishedAt === b.publishedAt && a.expiry?.dateTime === b.expiry?.dateTime
    && a.expiry?.timeZone === b.expiry?.timeZone;
}

/** The parts of the presence that differ between two views, in CHANGED_PARTS order. */
export function changedParts(before: PresenceView, after: PresenceView): readonly ChangedPart[] {
  let mask = 0;
  if (before.availability !== after.availability) mask |= bit(CHANGED_PARTS, 'availability');
  if (before.activity !== after.activity) mask |= bit(CHANGED_PARTS, 'activity');
  if (!sameStatusMessage(before.statusMessage, after.statusMessage)) mask |= bit(CHANGED_PARTS, 'statusMessage');
  if (before.outOfOffice.isOutOfOffice !== after.outOfOffice.isOutOfOffice || before.outOfOffice.message !== after.outOfOffice.message) {
    mask |= bit(CHANGED_PARTS, 'outOfOffice');
  }
  const x = before.workLocation;
  const y = after.workLocation;
  if (x.workLocationType !== y.workLocationType || x.source !== y.source || x.placeId !== y.placeId) mask |= bit(CHANGED_PARTS, 'workLocation');
  return changedPartsOf(mask);
}

/** The timed facts of `facts` whose instants fell in [from, to], as a mask of TIMED_REASONS. */
function dueMask(facts: PresenceFacts, from: number, to: number): number {
  const within = (t: number | null | undefined) => t !== null && t !== undefined && t >= from && t <= to;
  let mask = 0;
  if (within(facts.statusMessage?.expiresAt)) mask |= bit(TIMED_REASONS, 'statusMessageExpired');
  for (const s of facts.sessions) {
    if (within(s.expiresAt)) mask |= bit(TIMED_REASONS, 'sessionExpired');
    else if (s.availability === 'Available' && (within(s.refreshedAt + FADE_INACTIVE_MS) || within(s.refreshedAt + FADE_AWAY_MS))) {
      mask |= bit(TIMED_REASONS, 'sessionFaded');
    }
  }
  if (within(facts.preferred?.expiresAt)) mask |= bit(TIMED_REASONS, 'preferredExpired');
  const oof = facts.outOfOffice;
  if (oof?.status === 'scheduled') {
    if (within(oof.startsAt)) mask |= bit(TIMED_REASONS, 'outOfOfficeStarted');
    if (within(oof.endsAt)) mask |= bit(TIMED_REASONS, 'outOfOfficeEnded');
  }
  return mask;
}

/** Why a timed transition from `previous` to `next` at `at` happened, in TIMED_REASONS order. */
export function timedReasons(previous: PresenceRecord, next: PresenceRecord, at: number): readonly TimedReason[] {
  let mask = dueMask(previous.facts, previous.dueAt ?? -Infinity, at);
  const x = previous.view.workLocation;
  const y = next.view.workLocation;
  if (x.workLocationType !== y.workLocationType || x.source !== y.source || x.placeId !== y.placeId) {
    mask |= bit(TIMED_REASONS, 'workLocationChanged');
  }
  return timedReasonsOf(mask);
}
