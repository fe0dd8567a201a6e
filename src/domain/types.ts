/**
 * The facts Presently stores about a user's presence, and the view Graph shows of them.
 * Pure data: no I/O, no clock. Times are epoch milliseconds (numbers).
 */

export const AVAILABILITIES = [
  'Available', 'AvailableIdle', 'Away', 'BeRightBack', 'Busy', 'BusyIdle', 'DoNotDisturb', 'Offline', 'PresenceUnknown',
] as const;
export type Availability = (typeof AVAILABILITIES)[number];

export const ACTIVITIES = [
  'Available', 'AvailableInactive', 'Away', 'BeRightBack', 'Busy', 'DoNotDisturb', 'InACall', 'InAConferenceCall',
  'Inactive', 'InAMeeting', 'Offline', 'OffWork', 'OutOfOffice', 'PresenceUnknown', 'Presenting',
  'UrgentInterruptionsOnly',
] as const;
export type Activity = (typeof ACTIVITIES)[number];

/** A date and time in a named zone, exactly as Graph's `dateTimeTimeZone` carries it. */
export interface DateTimeTimeZone {
  /** Local wall-clock time, normalised to 7 fractional digits: `2022-10-18T17:05:33.2079781`. */
  dateTime: string;
  /** The zone name exactly as the client sent it (Windows or IANA). */
  timeZone: string;
}

export interface StatusMessageFact {
  content: string;
  contentType: 'text';
  /** The expiry as sent (normalised), or null when the message never expires. */
  expiry: DateTimeTimeZone | null;
  /** The instant the message stops showing (epoch ms, rounded up), or null for never (no expiry, or year 9999). */
  expiresAt: number | null;
  /** When the server accepted the message (epoch ms). */
  publishedAt: number;
}

/** An application's presence session (setPresence). Filled in by the sessions feature. */
export interface SessionFact {
  sessionId: string;
  availability: Availability;
  activity: Activity;
  /** Last setPresence for this session (epoch ms). */
  refreshedAt: number;
  /** When the session is gone (epoch ms). */
  expiresAt: number;
}

export interface PreferredPresenceFact {
  availability: Availability;
  activity: Activity;
  expiresAt: number;
}

export interface OutOfOfficeFact {
  status: 'disabled' | 'alwaysEnabled' | 'scheduled';
  message: string | null;
  /** For `scheduled`: the window as sent and as instants. */
  scheduledStart: DateTimeTimeZone | null;
  scheduledEnd: DateTimeTimeZone | null;
  startsAt: number | null;
  endsAt: number | null;
  /**
   * The rest of mailboxSettings (src/domain/outOfOffice.ts). Optional: records written before they existed read
   * as the defaults (`all`, `''`, `UTC`). They do not show in the presence.
   */
  externalAudience?: 'none' | 'contactsOnly' | 'all';
  externalReplyMessage?: string;
  /** mailboxSettings.timeZone, as sent (Windows or IANA name). */
  mailboxTimeZone?: string;
}

export type WorkLocationType = 'unknown' | 'office' | 'remote' | 'timeOff';

export interface WorkLocationLayer {
  workLocationType: WorkLocationType;
  placeId: string | null;
}

export interface WorkLocationFacts {
  manual: WorkLocationLayer | null;
  automatic: WorkLocationLayer | null;
  scheduled: WorkLocationLayer | null;
}

/** Everything stored about one user's presence. */
export interface PresenceFacts {
  statusMessage: StatusMessageFact | null;
  sessions: SessionFact[];
  preferred: PreferredPresenceFact | null;
  outOfOffice: OutOfOfficeFact | null;
  workLocation: WorkLocationFacts;
  /** Whether the user ever had a session: decides PresenceUnknown versus Offline. */
  everActive: boolean;
}

/**
 * `facts` with the given parts replaced (a part left `undefined` stays as it was). Every property is named, in one
 * order, so all facts share one shape: a spread (`{ ...facts, sessions }`) costs 10–40 times as much in V8 once its
 * call sites see facts of several shapes (from JSON.parse and from earlier spreads), and `{ ...x, newKey }` always
 * goes through the runtime (0.5 µs; docs/contributing/performance.md#object-spreads).
 */
export function factsWith(facts: PresenceFacts, parts: Partial<PresenceFacts>): PresenceFacts {
  return {
    statusMessage: parts.statusMessage === undefined ? facts.statusMessage : parts.statusMessage,
    sessions: parts.sessions ?? facts.sessions,
    preferred: parts.preferred === undefined ? facts.preferred : parts.preferred,
    outOfOffice: parts.outOfOffice === undefined ? facts.outOfOffice : parts.outOfOffice,
    workLocation: parts.workLocation ?? facts.workLocation,
    everActive: parts.everActive ?? facts.everActive,
  };
}

export function emptyFacts(): PresenceFacts {
  return {
    statusMessage: null,
    sessions: [],
    preferred: null,
    outOfOffice: null,
    workLocation: { manual: null, automatic: null, scheduled: null },
    everActive: false,
  };
}

/** What Graph shows of a status message at an instant (owner's projection: all fields). */
export interface StatusMessageView {
  content: string;
  contentType: 'text';
  expiry: DateTimeTimeZone | null;
  publishedAt: number;
}

/** What Graph shows of a presence at an instant, before projection to JSON. */
export interface PresenceView {
  availability: Availability;
  activity: Activity;
  statusMessage: StatusMessageView | null;
  outOfOffice: { isOutOfOffice: boolean; message: string | null };
  workLocation: { workLocationType: WorkLocationType | 'unspecified'; source: 'none' | 'manual' | 'scheduled' | 'automatic'; placeId: string | null };
}

/**
 * One user's stored presence: the facts plus what was last published from them.
 * `view` and `sequenceNumber` only change together, in the same atomic update.
 */
export interface PresenceRecord {
  facts: PresenceFacts;
  view: PresenceView;
  sequenceNumber: string;
  /** The next instant at which `view` will change by itself, or null. Kept in the store's due index. */
  dueAt: number | null;
}
