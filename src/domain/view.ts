/**
 * view(facts, now): what Graph shows at `now`. nextChange(facts, now): the next instant the view may differ.
 * Both pure; every read and every timed transition goes through them.
 */
import { factsWith, type Activity, type Availability, type PresenceFacts, type PresenceView, type SessionFact } from './types.ts';

export const FADE_INACTIVE_MS = 5 * 60_000;
export const FADE_AWAY_MS = 10 * 60_000;

const STRENGTH: Record<string, number> = { DoNotDisturb: 5, Busy: 4, Available: 3, Away: 2, BeRightBack: 1 };
const OOF_KEEPS_ACTIVITY: ReadonlySet<Activity> = new Set(['InACall', 'InAConferenceCall', 'InAMeeting', 'Presenting']);

/** A session's pair at `now`, or null when it has expired. Available sessions fade when not refreshed. */
export function sessionAt(s: SessionFact, now: number): { availability: Availability; activity: Activity } | null {
  if (now >= s.expiresAt) return null;
  if (s.availability === 'Available') {
    const idle = now - s.refreshedAt;
    if (idle >= FADE_AWAY_MS) return { availability: 'Away', activity: 'Away' };
    if (idle >= FADE_INACTIVE_MS) return { availability: 'Available', activity: 'AvailableInactive' };
  }
  return { availability: s.availability, activity: s.activity };
}

function aggregate(facts: PresenceFacts, now: number): { availability: Availability; activity: Activity } {
  let best: { availability: Availability; activity: Activity } | null = null;
  let bestRefreshed = -Infinity;
  for (const s of facts.sessions) {
    const pair = sessionAt(s, now);
    if (!pair) continue;
    const strength = STRENGTH[pair.availability] ?? 0;
    const bestStrength = best ? (STRENGTH[best.availability] ?? 0) : -1;
    if (strength > bestStrength || (strength === bestStrength && s.refreshedAt > bestRefreshed)) {
      best = pair;
      bestRefreshed = s.refreshedAt;
    }
  }
  if (!best) {
    return facts.everActive
      ? { availability: 'Offline', activity: 'Offline' }
      : { availability: 'PresenceUnknown', activity: 'PresenceUnknown' };
  }
  const p = facts.preferred;
  if (p && now < p.expiresAt) return { availability: p.availability, activity: p.activity };
  return best;
}

export function isOutOfOffice(facts: PresenceFacts, now: number): boolean {
  const o = facts.outOfOffice;
  if (!o) return false;
  if (o.status === 'alwaysEnabled') return true;
  if (o.status === 'scheduled') {
    return o.startsAt !== null && o.endsAt !== null && now >= o.startsAt && now < o.endsAt;
  }
  return false;
}

export function view(facts: PresenceFacts, now: number): PresenceView {
  const pair = aggregate(facts, now);
  const oof = isOutOfOffice(facts, now);
  const activity = oof && !OOF_KEEPS_ACTIVITY.has(pair.activity) ? 'OutOfOffice' : pair.activity;
  const sm = facts.statusMessage;
  const statusMessage = sm && (sm.expiresAt === null || now < sm.expiresAt)
    ? { content: sm.content, contentType: sm.contentType, expiry: sm.expiry, publishedAt: sm.publishedAt }
    : null;
  const wl = facts.workLocation;
  const layer = wl.manual ? { l: wl.manual, source: 'manual' as const }
    : wl.automatic ? { l: wl.automatic, source: 'automatic' as const }
      : wl.scheduled ? { l: wl.scheduled, source: 'scheduled' as const } : null;
  return {
    availability: pair.availability,
    activity,
    statusMessage,
    outOfOffice: oof ? { isOutOfOffice: true, message: facts.outOfOffice?.message ?? null } : NOT_OUT_OF_OFFICE,
    workLocation: layer
      ? { workLocationType: layer.l.workLocationType, source: layer.source, placeId: layer.l.placeId }
      : NO_WORK_LOCATION,
  };
}

/**
 * The parts almost every view has, one frozen object each for all views: a user with a status message of their own
 * has a view of their own, and these two were 88 of its ~300 bytes in the read cache (BENCHMARKS.md, 2026-12-06).
 * A view is replaced, never changed, so sharing them is safe (src/store/codec.ts decodeView shares them too).
 */
export const NOT_OUT_OF_OFFICE: PresenceView['outOfOffice'] = Object.freeze({ isOutOfOffice: false, message: null });
export const NO_WORK_LOCATION: PresenceView['workLocation'] = Object.freeze({ workLocationType: 'unspecified', source: 'none', placeId: null });

/** The earliest instant after `now` at which view(facts, ·) may differ from view(facts, now), or null. */
export function nextChange(facts: PresenceFacts, now: number): number | null {
  let next = Infinity;
  const consider = (t: number | null | undefined) => {
    if (t !== null && t !== undefined && t > now && t < next) next = t;
  };
  consider(facts.statusMessage?.expiresAt);
  for (const s of facts.sessions) {
    consider(s.expiresAt);
    if (s.availability === 'Available') {
      consider(s.refreshedAt + FADE_INACTIVE_MS);
      consider(s.refreshedAt + FADE_AWAY_MS);
    }
  }
  consider(facts.preferred?.expiresAt);
  if (facts.outOfOffice?.status === 'scheduled') {
    consider(facts.outOfOffice.startsAt);
    consider(facts.outOfOffice.endsAt);
  }
  return next === Infinity ? null : next;
}

/** Facts with everything that can never show again removed (expired messages, sessions, preferences). */
export function prune(facts: PresenceFacts, now: number): PresenceFacts {
  const sm = facts.statusMessage;
  const sessions = facts.sessions.filter((s) => now < s.expiresAt);
  return factsWith(facts, {
    statusMessage: sm && sm.expiresAt !== null && now >= sm.expiresAt ? null : sm,
    sessions,
    preferred: facts.preferred && now < facts.preferred.expiresAt ? facts.preferred : null,
  });
}
