/** Shared builders for the domain tests (not a test file itself). */
import type {
  Activity, Availability, OutOfOfficeFact, PreferredPresenceFact, PresenceFacts, SessionFact,
} from '../../src/domain/types.ts';
import { emptyFacts } from '../../src/domain/types.ts';

export const MIN = 60_000;
export const HOUR = 60 * MIN;

/** Epoch ms of an ISO instant (the built-in Date parser: independent of Temporal). */
export const at = (iso: string): number => {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw new Error(`bad test instant ${iso}`);
  return ms;
};

export const T0 = at('2026-06-01T09:00:00.000Z');

export function facts(patch: Partial<PresenceFacts> = {}): PresenceFacts {
  return { ...emptyFacts(), ...patch };
}

export function session(
  availability: Availability,
  activity: Activity,
  refreshedAt: number,
  lifetimeMs = HOUR,
  sessionId = `app-${availability}-${activity}-${refreshedAt}`,
): SessionFact {
  return { sessionId, availability, activity, refreshedAt, expiresAt: refreshedAt + lifetimeMs };
}

export function preferred(availability: Availability, activity: Activity, expiresAt: number): PreferredPresenceFact {
  return { availability, activity, expiresAt };
}

export function oofAlways(message: string | null = 'Away until Monday'): OutOfOfficeFact {
  return { status: 'alwaysEnabled', message, scheduledStart: null, scheduledEnd: null, startsAt: null, endsAt: null };
}

export function oofScheduled(startsAt: number, endsAt: number, message: string | null = 'On leave'): OutOfOfficeFact {
  return {
    status: 'scheduled',
    message,
    scheduledStart: { dateTime: new Date(startsAt).toISOString().slice(0, 19) + '.0000000', timeZone: 'UTC' },
    scheduledEnd: { dateTime: new Date(endsAt).toISOString().slice(0, 19) + '.0000000', timeZone: 'UTC' },
    startsAt,
    endsAt,
  };
}

/** The seed's Example 1 request body, byte for byte. */
export const SEED_EXAMPLE_1 = {
  statusMessage: {
    message: { content: "Hey I'm currently in a meeting.", contentType: 'text' },
    expiryDateTime: { dateTime: '2022-10-18T17:05:33.2079781', timeZone: 'Pacific Standard Time' },
  },
};

/** The seed's Example 2 request body. */
export const SEED_EXAMPLE_2 = {
  statusMessage: { message: { content: 'Hey I am available now', contentType: 'text' } },
};

/** The seed's Example 3 response body (a watcher reading the presence after Example 2). */
export const SEED_EXAMPLE_3 = {
  id: 'fa8bf3dc-eca7-46b7-bad1-db199b62afc3',
  availability: 'Available',
  activity: 'Available',
  outOfOfficeSettings: { message: null, isOutOfOffice: false },
  statusMessage: { message: { content: 'Hey I am available now', contentType: 'text' } },
};

/** Builds a setStatusMessage body with a message and an optional expiry. */
export function body(content: unknown, expiry?: { dateTime: unknown; timeZone: unknown }): unknown {
  const statusMessage: Record<string, unknown> = { message: { content, contentType: 'text' } };
  if (expiry) statusMessage.expiryDateTime = expiry;
  return { statusMessage };
}
