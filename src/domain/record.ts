/**
 * The one way a presence record changes: new facts at an instant. Computes the new view, bumps sequenceNumber
 * only when the view changed, and finds the next due instant. Writes and timed transitions both come through here.
 */
import { emptyFacts, type PresenceFacts, type PresenceRecord, type PresenceView } from './types.ts';
import { nextChange, prune, view } from './view.ts';

/** `C` + 20 digits; sorts lexicographically in the order of changes. */
const SEQ_DIGITS = 20;

export function formatSequence(n: number): string {
  // Numbers of 16 digits (microseconds from 2001 to 2286) without padStart, in two halves of 8 digits: V8 writes a
  // number below 2^31 as an integer, and one above as a double (its shortest round trip, twice as slow). The read cache
  // formats one per user it answers (src/presence/snapshotCache.ts): a 650-id list at a million users spent 70 µs here.
  if (n >= 1e15 && n < 1e16) {
    const high = Math.floor(n / 1e8);
    return `C0000${high}${String(n - high * 1e8 + 1e8).slice(1)}`;
  }
  return `C${String(n).padStart(SEQ_DIGITS, '0')}`;
}

const SEQUENCE = /^C\d{20}$/;

/** The number of a sequence number formatSequence made (formatSequence of it gives `s` back), else NaN. */
export function sequenceValue(s: string): number {
  if (!SEQUENCE.test(s)) return NaN;
  const n = Number(s.slice(1));
  return Number.isSafeInteger(n) ? n : NaN;
}

export function parseSequence(s: string): number {
  const n = Number(s.slice(1));
  return Number.isSafeInteger(n) ? n : 0;
}

/**
 * The next sequence number: larger than the previous one, and at least the current time in microseconds, so that
 * numbers keep increasing even if a record is deleted and created again.
 */
export function nextSequence(previous: string | null, now: number): string {
  const prev = previous ? parseSequence(previous) : 0;
  return formatSequence(Math.max(prev + 1, Math.floor(now) * 1000));
}

/**
 * The record of a new user. `previousSequence` is the last sequenceNumber of an earlier user with the same id (one
 * deleted and created again), so that the numbers keep increasing.
 */
export function newRecord(now: number, previousSequence: string | null = null): PresenceRecord {
  const facts = emptyFacts();
  return { facts, view: view(facts, now), sequenceNumber: nextSequence(previousSequence, now), dueAt: nextChange(facts, now) };
}

export function sameView(a: PresenceView, b: PresenceView): boolean {
  if (a.availability !== b.availability || a.activity !== b.activity) return false;
  if (a.outOfOffice.isOutOfOffice !== b.outOfOffice.isOutOfOffice || a.outOfOffice.message !== b.outOfOffice.message) return false;
  if (a.workLocation.workLocationType !== b.workLocation.workLocationType || a.workLocation.source !== b.workLocation.source
    || a.workLocation.placeId !== b.workLocation.placeId) return false;
  const x = a.statusMessage;
  const y = b.statusMessage;
  if (x === null || y === null) return x === y;
  return x.content === y.content && x.contentType === y.contentType && x.publishedAt === y.publishedAt
    && x.expiry?.dateTime === y.expiry?.dateTime && x.expiry?.timeZone === y.expiry?.timeZone;
}

export interface Transition {
  record: PresenceRecord;
  /** True when the visible presence changed (and sequenceNumber was bumped). */
  changed: boolean;
  /** The instant (epoch ms) the transition was computed at: when the change, if any, happened. */
  at: number;
}

/** Applies new facts at `now` to a record (or to a fresh one). */
export function transition(record: PresenceRecord | null, facts: PresenceFacts, now: number): Transition {
  const base = record ?? newRecord(now);
  const kept = prune(facts, now);
  const v = view(kept, now);
  const changed = !sameView(base.view, v);
  return {
    record: {
      facts: kept,
      view: v,
      sequenceNumber: changed ? nextSequence(base.sequenceNumber, now) : base.sequenceNumber,
      dueAt: nextChange(kept, now),
    },
    changed,
    at: now,
  };
}

/** Brings a record up to `now` without a command: the timed-transition path. */
export function advance(record: PresenceRecord, now: number): Transition {
  return transition(record, record.facts, now);
}
