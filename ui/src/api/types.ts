/**
 * The JSON of the dashboard's API (/_presently/ui/api/…), as DASHBOARD-API's contract gives it. Times are ISO-8601
 * UTC strings with `Z`; `now` is the server's clock (the manual one too). The shapes the server already declares
 * (Graph's presence, a deliveries-log entry) are its own types, imported as types only: nothing of src/ is bundled.
 */
import type { GraphPresence } from '../../../src/domain/projection.ts';
import type { DeliveryLogEntry } from '../../../src/notifications/deliveryLog.ts';

export type { GraphPresence };

export type AuthMode = 'dev' | 'oidc';
export type ClockMode = 'manual' | 'system';

export interface ClockState {
  mode: ClockMode;
  now: string;
}

export interface TenantSummary {
  id: string;
  displayName: string;
}

export interface Session {
  authMode: AuthMode;
  needsKey: boolean;
  version: string;
  tenants: TenantSummary[];
  defaultTenantId: string | null;
  /** null when the caller may not see it (outside dev mode without the admin key). */
  clock: ClockState | null;
}

export interface PresenceSession {
  appId: string;
  sessionId: string;
  availability: string;
  activity: string;
  expiresAt: string | null;
}

export interface UserCard {
  id: string;
  displayName: string;
  userPrincipalName: string;
  presence: GraphPresence;
  statusMessageExpiresAt: string | null;
  outOfOffice: { isOutOfOffice: boolean; message: string | null; startsAt: string | null; endsAt: string | null } | null;
  sessions: PresenceSession[];
  preferred: { availability: string; activity: string; expiresAt: string | null } | null;
}

export interface Board {
  tenantId: string;
  now: string;
  cursor: number;
  users: UserCard[];
}

export type TimedReason =
  | 'sessionExpired' | 'sessionFaded' | 'statusMessageExpired' | 'preferredExpired'
  | 'outOfOfficeStarted' | 'outOfOfficeEnded' | 'workLocationChanged';

export type Cause =
  | { kind: 'api'; action: string; appId: string | null; userId: string | null }
  | { kind: 'timed'; reasons: string[] }
  | { kind: 'admin'; action: string };

export interface TimelineEntry {
  sequenceNumber: string | null;
  at: string;
  availability: string;
  activity: string;
  statusMessage: string | null;
  changed: string[];
  cause: Cause;
}

export interface Subscription {
  id: string;
  resource: string;
  changeType: string;
  notificationUrl: string;
  lifecycleNotificationUrl: string | null;
  expirationDateTime: string;
  state: string;
  appId: string;
  userIds: string[];
  userCount: number;
}

/** A deliveries-log entry with the users its items were about and when the next attempt is due (a retry). */
export interface Delivery extends DeliveryLogEntry {
  userIds: string[];
  nextAttemptAt: string | null;
}

export interface SinkRecord {
  receivedAt?: string;
  receivedDateTime?: string;
  body?: unknown;
  [key: string]: unknown;
}

export interface Sink {
  name: string;
  count: number;
  items: SinkRecord[];
}

export interface Notifications {
  subscriptions: Subscription[];
  deliveries: Delivery[];
  sinks: Sink[];
}

/** What the stream sends, by event type. */
export interface StreamEvents {
  presence: { tenantId: string; userId: string; card: UserCard; entry: TimelineEntry };
  delivery: Delivery;
  subscription: (Subscription & { deleted?: false }) | { id: string; deleted: true };
  clock: ClockState;
  resync: Record<string, never>;
}

export type StreamEventType = keyof StreamEvents;
