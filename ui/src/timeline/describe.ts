/**
 * Why a presence changed, in words: "Status message expired", "setPresence by app 2255…", "setStatusMessage by
 * Adele Vance (app 2255…)", "Out-of-office window opened". And what changed: "availability", "status message".
 */
import { shortId } from '../lib/format.ts';

/** A cause as the server sends it (src/dashboard/timeline.ts), read loosely: a reason added later still reads. */
export type Cause =
  | { kind: 'api'; action: string; appId: string | null; userId: string | null }
  | { kind: 'timed'; reasons: readonly string[] }
  | { kind: 'admin'; action: string };

const REASONS: Record<string, string> = {
  sessionExpired: 'A presence session expired',
  sessionFaded: 'A presence session faded (no setPresence for 5 minutes)',
  statusMessageExpired: 'Status message expired',
  preferredExpired: 'Preferred presence lapsed',
  outOfOfficeStarted: 'Out-of-office window opened',
  outOfOfficeEnded: 'Out-of-office window closed',
  workLocationChanged: 'Scheduled work location changed',
};

const ADMIN: Record<string, string> = {
  reset: 'State reset to the seed (admin API)',
  import: 'State imported (admin API)',
  userCreated: 'User created',
  userDeleted: 'User deleted',
};

/** "someThingHappened" → "Some thing happened". */
export function sentenceCase(name: string): string {
  const spaced = name.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase();
  return spaced.charAt(0).toUpperCase() + spaced.slice(1);
}

/** A cause as a sentence; `nameOf` gives a user's display name when known. */
export function describeCause(cause: Cause, nameOf: (userId: string) => string | undefined = () => undefined): string {
  switch (cause.kind) {
    case 'api': {
      const app = cause.appId ? `app ${shortId(cause.appId)}` : null;
      const user = cause.userId ? (nameOf(cause.userId) ?? `user ${shortId(cause.userId)}`) : null;
      if (user && app) return `${cause.action} by ${user} (${app})`;
      if (user || app) return `${cause.action} by ${user ?? app}`;
      return cause.action;
    }
    case 'timed':
      return cause.reasons.length ? cause.reasons.map((r) => REASONS[r] ?? sentenceCase(r)).join('; ') : 'A timed change';
    case 'admin':
      return ADMIN[cause.action] ?? `${sentenceCase(cause.action)} (admin API)`;
    default:
      return 'Unknown cause';
  }
}

const FIELDS: Record<string, string> = {
  availability: 'availability',
  activity: 'activity',
  statusMessage: 'status message',
  outOfOffice: 'out of office',
  outOfOfficeSettings: 'out of office',
  workLocation: 'work location',
};

/** The names of changed properties, as words. */
export function describeChanged(changed: readonly string[]): string[] {
  return [...new Set(changed.map((c) => FIELDS[c] ?? sentenceCase(c).toLowerCase()))];
}
