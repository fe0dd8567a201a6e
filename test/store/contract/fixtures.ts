/** Data and helpers shared by the port suites of the store contract. */
import assert from 'node:assert/strict';
import { newRecord, transition, type Transition } from '../../../src/domain/record.ts';
import { setStatusMessage } from '../../../src/domain/statusMessage.ts';
import { emptyFacts, type PresenceFacts, type PresenceRecord } from '../../../src/domain/types.ts';
import type { Delivery, NewDelivery, Subscription } from '../../../src/domain/subscription.ts';
import type { PresenceKey, PresenceSnapshot, User } from '../../../src/store/types.ts';

export const T1 = '2b5f4ac6-0f43-4b31-8a3c-2d8b8e4f5c01';
export const T2 = '7d1e0c9a-5b7f-4e2b-9a61-3f0b6c2d8e42';
export const APP = '22553876-f5ab-4529-bffb-cfe50aa89f87';
export const NOW = Date.UTC(2026, 10, 28, 8, 0, 0);
export const MIN = 60_000;
export const HOUR = 60 * MIN;

/** A lower-case GUID-shaped user id, distinct for each n. */
export function uid(n: number): string {
  return `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
}

export function user(n: number, tenantId = T1): User {
  return { tenantId, id: uid(n), displayName: `User ${n}`, userPrincipalName: `User${n}@Contoso.example` };
}

/** Graph's local dateTime for a UTC instant: `2026-11-28T09:00:00.0000000`. */
export function utcDateTime(at: number): string {
  return `${new Date(at).toISOString().slice(0, 19)}.0000000`;
}

/** setStatusMessage at `now`, through the real domain path; `expiresAt` null means the message never expires. */
export function withStatus(record: PresenceRecord, content: string, now: number, expiresAt: number | null): Transition {
  const facts = setStatusMessage(record.facts, {
    kind: 'set',
    message: {
      content,
      contentType: 'text',
      expiry: expiresAt === null ? null : { dateTime: utcDateTime(expiresAt), timeZone: 'UTC' },
      expiresAt,
    },
  }, now);
  return transition(record, facts, now);
}

export function clearStatus(record: PresenceRecord, now: number): Transition {
  return transition(record, setStatusMessage(record.facts, { kind: 'clear' }, now), now);
}

/** A record due at `dueAt` (its status message expires then), or never due when `dueAt` is null. */
export function recordDueAt(dueAt: number | null): PresenceRecord {
  const { record } = withStatus(newRecord(NOW), 'Back soon', NOW, dueAt);
  assert.equal(record.dueAt, dueAt);
  return record;
}

/** A record using every kind of fact, with text that JSON and string handling can get wrong. */
export function richRecord(): PresenceRecord {
  const facts: PresenceFacts = {
    ...emptyFacts(),
    statusMessage: {
      content: 'En réunion 📅 — "quotes", back\\slash <pinnednote></pinnednote>',
      contentType: 'text',
      expiry: { dateTime: '2026-11-28T17:00:00.0000000', timeZone: 'W. Europe Standard Time' },
      expiresAt: NOW + 8 * HOUR,
      publishedAt: NOW - MIN,
    },
    sessions: [
      { sessionId: APP, availability: 'Busy', activity: 'InACall', refreshedAt: NOW - MIN, expiresAt: NOW + HOUR },
      { sessionId: uid(999), availability: 'Available', activity: 'Available', refreshedAt: NOW, expiresAt: NOW + 2 * HOUR },
    ],
    preferred: { availability: 'DoNotDisturb', activity: 'DoNotDisturb', expiresAt: NOW + 3 * HOUR },
    outOfOffice: {
      status: 'scheduled',
      message: 'On leave',
      scheduledStart: { dateTime: '2026-12-01T00:00:00.0000000', timeZone: 'UTC' },
      scheduledEnd: { dateTime: '2026-12-08T00:00:00.0000000', timeZone: 'UTC' },
      startsAt: Date.UTC(2026, 11, 1),
      endsAt: Date.UTC(2026, 11, 8),
    },
    workLocation: { manual: { workLocationType: 'office', placeId: 'building-1' }, automatic: null, scheduled: { workLocationType: 'remote', placeId: null } },
    everActive: true,
  };
  return transition(newRecord(NOW - HOUR), facts, NOW).record;
}

export function snapshotOf(record: PresenceRecord): PresenceSnapshot {
  return { view: record.view, sequenceNumber: record.sequenceNumber, dueAt: record.dueAt };
}

export function key(u: User): PresenceKey {
  return { tenantId: u.tenantId, userId: u.id };
}

export const byId = <T extends { id: string }>(xs: readonly T[]): T[] => [...xs].sort((a, b) => a.id.localeCompare(b.id));
export const ids = (xs: readonly { id: string }[]): string[] => xs.map((x) => x.id);

/** A lower-case GUID-shaped subscription id, distinct for each n. */
export function sid(n: number): string {
  return `5ab5c000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
}

/** Subscription n, watching `userIds` (uid(1) by default), with every optional part unset. */
export function subscription(n: number, userIds: string[] = [uid(1)], over: Partial<Subscription> = {}): Subscription {
  return {
    id: sid(n),
    tenantId: T1,
    applicationId: APP,
    creatorId: uid(500),
    changeType: 'updated',
    resource: userIds.length === 1
      ? `/communications/presences/${userIds[0]}`
      : `/communications/presences?$filter=id in (${userIds.map((id) => `'${id}'`).join(',')})`,
    userIds,
    notificationUrl: `https://app.example/hooks/${n}`,
    lifecycleNotificationUrl: null,
    expiresAt: NOW + HOUR,
    clientState: null,
    includeResourceData: false,
    encryptionCertificate: null,
    encryptionCertificateId: null,
    latestSupportedTlsVersion: 'v1_2',
    reauthorizationNotifiedAt: null,
    createdAt: NOW,
    ...over,
  };
}

/** A subscription with every optional part set, with text that JSON can get wrong. */
export function richSubscription(n: number): Subscription {
  return subscription(n, [uid(1), uid(2), uid(3)], {
    lifecycleNotificationUrl: 'https://app.example/hooks/lifecycle?x=1&y="2"',
    clientState: 'sécret — "state" \\ 📅',
    includeResourceData: true,
    encryptionCertificate: 'MIIC+zCCAeOgAwIBAgIJAL/base64==',
    encryptionCertificateId: 'my-cert-1',
    latestSupportedTlsVersion: 'v1_3',
    reauthorizationNotifiedAt: NOW + 50 * MIN,
    createdAt: NOW - MIN,
  });
}

/** A change notification for subscription n about uid(1), due at NOW. */
export function delivery(n: number, over: Partial<NewDelivery> = {}): NewDelivery {
  return {
    subscriptionId: sid(n),
    tenantId: T1,
    kind: 'change',
    url: `https://app.example/hooks/${n}`,
    item: {
      subscriptionId: sid(n),
      changeType: 'updated',
      resource: `communications/presences/${uid(1)}`,
      resourceData: { '@odata.type': '#microsoft.graph.presence', id: uid(1), sequenceNumber: 'C00000000000000000042' },
      clientState: null,
      tenantId: T1,
    },
    resourceView: null,
    userId: uid(1),
    attempt: 0,
    nextAttemptAt: NOW,
    createdAt: NOW,
    ...over,
  };
}

/** What was enqueued, as a claimed delivery looks without its store-assigned id. */
export function withoutId(d: Delivery): NewDelivery {
  const { id: _id, ...rest } = d;
  return rest;
}
