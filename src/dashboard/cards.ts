/**
 * The JSON shapes of the dashboard's API (docs/operations/dashboard.md): a user's card (the presence as its owner
 * sees it, with the facts behind it: expiries, sessions, preferred presence, out-of-office window), a subscription as
 * the notifications view lists it, and a deliveries-log entry as this auth mode may show it.
 */
import { withoutNetworkDetail } from '../admin/deliveries.ts';
import { toGraphPresence, type GraphPresence } from '../domain/projection.ts';
import type { Subscription } from '../domain/subscription.ts';
import { formatUtc } from '../domain/timezones.ts';
import type { PresenceRecord } from '../domain/types.ts';
import { sessionAt } from '../domain/view.ts';
import type { DeliveryLogEntry } from '../notifications/deliveryLog.ts';
import { needsReauthorizationNotice } from '../notifications/lifecycle.ts';
import type { User } from '../store/types.ts';

export type Named = Pick<User, 'id' | 'displayName' | 'userPrincipalName'>;

export interface UserCard {
  id: string;
  displayName: string;
  userPrincipalName: string;
  presence: GraphPresence;
  statusMessageExpiresAt: string | null;
  outOfOffice: { isOutOfOffice: boolean; message: string | null; startsAt: string | null; endsAt: string | null } | null;
  sessions: Array<{ appId: string; sessionId: string; availability: string; activity: string; expiresAt: string | null }>;
  preferred: { availability: string; activity: string; expiresAt: string | null } | null;
}

const utc = (ms: number | null | undefined): string | null => (ms === null || ms === undefined ? null : formatUtc(ms));

/** The card of a user whose record is exact at `now` (its due instant not passed). */
export function cardOf(user: Named, record: PresenceRecord, now: number): UserCard {
  const { facts, view } = record;
  const oof = facts.outOfOffice;
  const sessions: UserCard['sessions'] = [];
  for (const s of facts.sessions) {
    // The pair the session shows now (an Available session fades when not refreshed: src/domain/view.ts).
    const pair = sessionAt(s, now);
    if (pair) sessions.push({ appId: s.sessionId, sessionId: s.sessionId, ...pair, expiresAt: utc(s.expiresAt) });
  }
  const preferred = facts.preferred && now < facts.preferred.expiresAt ? facts.preferred : null;
  return {
    id: user.id,
    displayName: user.displayName,
    userPrincipalName: user.userPrincipalName,
    presence: toGraphPresence(user.id, view, record.sequenceNumber, 'owner'),
    statusMessageExpiresAt: view.statusMessage ? utc(facts.statusMessage?.expiresAt) : null,
    outOfOffice: !oof || oof.status === 'disabled' ? null : {
      isOutOfOffice: view.outOfOffice.isOutOfOffice,
      message: oof.message || null,
      startsAt: oof.status === 'scheduled' ? utc(oof.startsAt) : null,
      endsAt: oof.status === 'scheduled' ? utc(oof.endsAt) : null,
    },
    sessions,
    preferred: preferred && { availability: preferred.availability, activity: preferred.activity, expiresAt: utc(preferred.expiresAt) },
  };
}

/** How many watched user ids a subscription lists (`userCount` says how many there are). */
const LISTED_USERS = 50;

export type SubscriptionState = 'active' | 'expired' | 'reauthorizationRequired';

/** Expired (not yet removed by the lifecycle loop), warned for this lifetime, or neither. */
export function subscriptionState(sub: Subscription, now: number): SubscriptionState {
  if (sub.expiresAt <= now) return 'expired';
  return sub.lifecycleNotificationUrl && !needsReauthorizationNotice(sub) ? 'reauthorizationRequired' : 'active';
}

export function subscriptionCard(sub: Subscription, now: number) {
  return {
    id: sub.id,
    resource: sub.resource,
    changeType: sub.changeType,
    notificationUrl: sub.notificationUrl,
    lifecycleNotificationUrl: sub.lifecycleNotificationUrl,
    expirationDateTime: formatUtc(sub.expiresAt),
    state: subscriptionState(sub, now),
    appId: sub.applicationId,
    creatorId: sub.creatorId,
    includeResourceData: sub.includeResourceData,
    userIds: sub.userIds.slice(0, LISTED_USERS),
    userCount: sub.userIds.length,
  };
}

/** A deliveries-log entry as the dashboard shows it: outside dev mode, without network detail (as /_presently/deliveries). */
export function deliveryJson(entry: DeliveryLogEntry, devMode: boolean): DeliveryLogEntry {
  return devMode ? entry : withoutNetworkDetail(entry);
}
