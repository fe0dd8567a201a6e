/**
 * Presence sessions and the preferred presence (docs/api/sessions.md): body validation and the commands on facts.
 */
import { parseDuration } from './duration.ts';
import { InvalidInput, NotFound } from '../platform/json/errors.ts';
import { ACTIVITIES, AVAILABILITIES, factsWith, type Activity, type Availability, type PresenceFacts } from './types.ts';
import { isGuid, readEnum, readObject, readString, type JsonObject } from '../platform/json/validate.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** The pairs an application may set for its session. */
export const SESSION_PAIRS: ReadonlyArray<readonly [Availability, Activity]> = [
  ['Available', 'Available'], ['Busy', 'InACall'], ['Busy', 'InAConferenceCall'], ['Away', 'Away'], ['DoNotDisturb', 'Presenting'],
];

/** The pairs a user may prefer. */
export const PREFERRED_PAIRS: ReadonlyArray<readonly [Availability, Activity]> = [
  ['Available', 'Available'], ['Busy', 'Busy'], ['DoNotDisturb', 'DoNotDisturb'], ['BeRightBack', 'BeRightBack'],
  ['Away', 'Away'], ['Offline', 'OffWork'],
];

export const SESSION_DEFAULT_MS = 5 * MINUTE;
export const SESSION_MIN_MS = 5 * MINUTE;
export const SESSION_MAX_MS = 4 * HOUR;
/** [P: d-preferred-duration-range] A preferred presence lasts from 5 minutes to 7 days (the longest default). */
export const PREFERRED_MIN_MS = 5 * MINUTE;
export const PREFERRED_MAX_MS = 7 * DAY;

export interface SetPresenceInput {
  sessionId: string;
  availability: Availability;
  activity: Activity;
  durationMs: number;
}

export interface PreferredInput {
  availability: Availability;
  activity: Activity;
  durationMs: number;
}

function readPair(
  body: JsonObject,
  allowed: ReadonlyArray<readonly [Availability, Activity]>,
): [Availability, Activity] {
  const availability = readEnum(readString(body, 'availability', '', { required: true }), AVAILABILITIES, 'availability');
  const activity = readEnum(readString(body, 'activity', '', { required: true }), ACTIVITIES, 'activity');
  if (!allowed.some(([a, b]) => a === availability && b === activity)) {
    throw new InvalidInput(
      `The combination of availability '${availability}' and activity '${activity}' is not supported. Supported: ${allowed.map(([a, b]) => `${a}/${b}`).join(', ')}.`,
      'activity',
    );
  }
  return [availability, activity];
}

function readDuration(body: JsonObject, min: number, max: number, fallback: number): number {
  const text = readString(body, 'expirationDuration', '');
  if (text === null || text === undefined) return fallback;
  const ms = parseDuration(text, 'expirationDuration');
  if (ms < min || ms > max) throw new InvalidInput('The provided [ExpirationDuration] is out of range.', 'expirationDuration', 'InvalidArgument');
  return ms;
}

/** The sessionId of setPresence/clearPresence must be the calling application's id. */
function readSessionId(body: JsonObject, callerAppId: string): string {
  const sessionId = readString(body, 'sessionId', '', { required: true });
  if (!isGuid(sessionId) || sessionId.toLowerCase() !== callerAppId.toLowerCase()) {
    throw new InvalidInput(
      `Property 'sessionId' must be the calling application's id ('${callerAppId}'), not '${sessionId.slice(0, 64)}'.`,
      'sessionId',
    );
  }
  return sessionId.toLowerCase();
}

export function parseSetPresence(body: unknown, callerAppId: string): SetPresenceInput {
  const root = readObject(body, '', ['sessionId', 'availability', 'activity', 'expirationDuration']);
  const sessionId = readSessionId(root, callerAppId);
  const [availability, activity] = readPair(root, SESSION_PAIRS);
  const durationMs = readDuration(root, SESSION_MIN_MS, SESSION_MAX_MS, SESSION_DEFAULT_MS);
  return { sessionId, availability, activity, durationMs };
}

export function parseClearPresence(body: unknown, callerAppId: string): string {
  const root = readObject(body, '', ['sessionId']);
  return readSessionId(root, callerAppId);
}

export function parseSetPreferred(body: unknown): PreferredInput {
  const root = readObject(body, '', ['availability', 'activity', 'expirationDuration']);
  const [availability, activity] = readPair(root, PREFERRED_PAIRS);
  const fallback = availability === 'Busy' || availability === 'DoNotDisturb' ? DAY : 7 * DAY;
  const durationMs = readDuration(root, PREFERRED_MIN_MS, PREFERRED_MAX_MS, fallback);
  return { availability, activity, durationMs };
}

export function setPresence(facts: PresenceFacts, input: SetPresenceInput, now: number): PresenceFacts {
  const session = {
    sessionId: input.sessionId, availability: input.availability, activity: input.activity,
    refreshedAt: now, expiresAt: now + input.durationMs,
  };
  return factsWith(facts, { sessions: [...facts.sessions.filter((s) => s.sessionId !== input.sessionId), session], everActive: true });
}

/** Removes the session; NotFound when it does not exist (or has already expired). */
export function clearPresence(facts: PresenceFacts, sessionId: string, now: number): PresenceFacts {
  if (!facts.sessions.some((s) => s.sessionId === sessionId && now < s.expiresAt)) {
    throw new NotFound(`The presence session '${sessionId}' does not exist.`);
  }
  return factsWith(facts, { sessions: facts.sessions.filter((s) => s.sessionId !== sessionId) });
}

export function setPreferred(facts: PresenceFacts, input: PreferredInput, now: number): PresenceFacts {
  return factsWith(facts, { preferred: { availability: input.availability, activity: input.activity, expiresAt: now + input.durationMs } });
}

export function clearPreferred(facts: PresenceFacts): PresenceFacts {
  return factsWith(facts, { preferred: null });
}
