/**
 * The JSON of the dashboard's API (/_presently/ui/api/…: docs/operations/dashboard.md). Times are ISO-8601 UTC
 * strings with `Z`; `now` is the server's clock (the manual one too). The shapes are the server's own types
 * (src/dashboard/), imported as types only — nothing of src/ is bundled — so a change on one side that the other
 * does not follow fails `npm run typecheck`.
 */
import type { Board as ServerBoard } from '../../../src/dashboard/board.ts';
import type { UserCard as ServerUserCard, subscriptionCard } from '../../../src/dashboard/cards.ts';
import type { EntryCause, TimelineEntry as ServerTimelineEntry } from '../../../src/dashboard/timeline.ts';
import type { GraphPresence as ServerGraphPresence } from '../../../src/domain/projection.ts';
import type { DeliveryLogEntry } from '../../../src/notifications/deliveryLog.ts';

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

/** GET /_presently/ui/api/session (open: it says whether the page must ask for the admin key). */
export interface Session {
  authMode: AuthMode;
  needsKey: boolean;
  /** 'off' outside dev mode without --admin-key: no key opens the data API then. */
  adminApi: 'on' | 'off';
  version: string;
  tenants: TenantSummary[];
  defaultTenantId: string | null;
  /** null when the caller may not see it (outside dev mode without the admin key). */
  clock: ClockState | null;
}

export type GraphPresence = ServerGraphPresence;
export type UserCard = ServerUserCard;
export type PresenceSession = UserCard['sessions'][number];
export type Board = ServerBoard;
export type Cause = EntryCause;
export type TimelineEntry = ServerTimelineEntry;
export type Subscription = ReturnType<typeof subscriptionCard>;
/** A deliveries-log entry: with the tenants and users its items were about, and when a retry is due. */
export type Delivery = DeliveryLogEntry;

export interface SinkRecord {
  receivedAt: string;
  url?: string;
  headers?: Record<string, string>;
  body: unknown;
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
  subscription: Subscription | { id: string; deleted: true };
  clock: ClockState;
  resync: Record<string, never>;
}

export type StreamEventType = keyof StreamEvents;
