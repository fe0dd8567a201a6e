/**
 * The presence as Graph's JSON, for its owner or for a watcher (privacy rule, seed Example 3: a watcher sees only
 * the status message's text, not its expiry or publication time).
 */
import { formatUtc } from './timezones.ts';
import type { PresenceView } from './types.ts';

export type Audience = 'owner' | 'watcher';

export interface GraphPresence {
  id: string;
  availability: string;
  activity: string;
  statusMessage: null | {
    message: { content: string; contentType: string };
    expiryDateTime?: { dateTime: string; timeZone: string };
    publishedDateTime?: string;
  };
  outOfOfficeSettings: { message: string | null; isOutOfOffice: boolean };
  workLocation: { workLocationType: string; source: string; placeId: string | null };
  sequenceNumber: string | null;
}

export function toGraphPresence(id: string, v: PresenceView, sequenceNumber: string | null, audience: Audience): GraphPresence {
  let statusMessage: GraphPresence['statusMessage'] = null;
  if (v.statusMessage) {
    const m = v.statusMessage;
    statusMessage = { message: { content: m.content, contentType: m.contentType } };
    if (audience === 'owner') {
      if (m.expiry) statusMessage.expiryDateTime = { dateTime: m.expiry.dateTime, timeZone: m.expiry.timeZone };
      statusMessage.publishedDateTime = formatUtc(m.publishedAt);
    }
  }
  return {
    id,
    availability: v.availability,
    activity: v.activity,
    statusMessage,
    outOfOfficeSettings: { message: v.outOfOffice.message, isOutOfOffice: v.outOfOffice.isOutOfOffice },
    workLocation: { ...v.workLocation },
    sequenceNumber,
  };
}

/** What the US Government clouds return of a presence (docs/api/national-clouds.md). */
export const LIMITED_PROPERTIES = ['id', 'availability', 'activity', 'statusMessage'] as const;

/** The presence JSON in a cloud's shape: the full one, or (US Government clouds) only LIMITED_PROPERTIES. */
export function presenceForCloud(
  id: string, v: PresenceView, sequenceNumber: string | null, audience: Audience, limitedShape: boolean,
): Partial<GraphPresence> {
  const entity = toGraphPresence(id, v, sequenceNumber, audience);
  if (!limitedShape) return entity;
  const out: Partial<GraphPresence> = {};
  for (const name of LIMITED_PROPERTIES) (out as Record<string, unknown>)[name] = entity[name];
  return out;
}
