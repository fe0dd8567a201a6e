/**
 * Every (de)serialisation the backends do, written once. A backend stores strings; this module decides what those
 * strings are, so two backends holding the same data hold the same JSON, and a new backend reuses these instead of
 * writing its own. Decoding trusts the data: it was written by encode, by this store.
 *
 * Round trips are exact: decode(encode(x)) deep-equals x, and encode(decode(s)) === s for any s that encode wrote
 * (JSON.parse keeps key order and JSON.stringify writes numbers the one way), which is what lets a compare-and-set
 * compare a re-encoded value with the stored string.
 */
import type { PresenceFacts, PresenceRecord, PresenceView } from '../domain/types.ts';
import { NO_WORK_LOCATION, NOT_OUT_OF_OFFICE } from '../domain/view.ts';
import type { Delivery, NewDelivery, Subscription } from '../domain/subscription.ts';
import type { EndpointSample } from './ports/endpoints.ts';

// ---- presence ----

export const encodeFacts = (facts: PresenceFacts): string => JSON.stringify(facts);
export const decodeFacts = (json: string): PresenceFacts => JSON.parse(json) as PresenceFacts;
/** A user's published view: in their record, in each change event and in rich deliveries. */
export const encodeView = (view: PresenceView): string => JSON.stringify(view);
/** Distinct views kept by decodeView, and the longest JSON it keeps (an empty presence's is 218 characters). */
export const INTERNED_VIEWS = 4_096;
const INTERNED_VIEW_CHARS = 600;
const interned = new Map<string, PresenceView>();

/**
 * Decodes a stored view. Most users share one of a few views (no status message, one of a handful of availabilities),
 * so equal JSON gives the same frozen object: a million users in a read cache then hold a few distinct views instead
 * of a million copies (about 600 bytes each), and a read of a known view skips JSON.parse. Frozen because it is
 * shared: a view is replaced, never changed. The table keeps at most INTERNED_VIEWS short views and starts afresh when
 * full (the common ones come straight back); a long view (a long status message) is parsed each time.
 */
export function decodeView(json: string): PresenceView {
  const known = interned.get(json);
  if (known) return known;
  const view = deepFreeze(shareDefaults(JSON.parse(json) as PresenceView));
  if (json.length <= INTERNED_VIEW_CHARS) {
    if (interned.size >= INTERNED_VIEWS) interned.clear();
    interned.set(json, view);
  }
  return view;
}

/** A parsed view with the parts most views have replaced by the shared objects view() uses (src/domain/view.ts). */
function shareDefaults(view: PresenceView): PresenceView {
  const { outOfOffice: o, workLocation: w } = view;
  if (o && o.isOutOfOffice === false && o.message === null) view.outOfOffice = NOT_OUT_OF_OFFICE;
  if (w && w.workLocationType === 'unspecified' && w.source === 'none' && w.placeId === null) view.workLocation = NO_WORK_LOCATION;
  return view;
}

/** Freezes what is not frozen yet, and what it holds: the parts shared with a value frozen before are skipped. */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/** A due instant as a string column or hash field: '' for none. */
export const encodeDue = (dueAt: number | null): string => (dueAt === null ? '' : String(dueAt));
export const decodeDue = (s: string | null | undefined): number | null => (s === null || s === undefined || s === '' ? null : Number(s));

/** The stored parts of a record (the sequence number and due instant are stored as they are). */
export function encodeRecord(record: PresenceRecord): { facts: string; view: string } {
  return { facts: encodeFacts(record.facts), view: encodeView(record.view) };
}

/**
 * A whole record, read to be changed: its view is parsed afresh, not interned (decodeView), because a write only
 * compares it with the new one, and the views writes replace are mostly their own (a status message's text, its
 * instant): interning them costs a lookup, a freeze and an entry each, and clears the table of the common ones.
 */
export function decodeRecord(facts: string, view: string, sequenceNumber: string, dueAt: number | null): PresenceRecord {
  return { facts: decodeFacts(facts), view: JSON.parse(view) as PresenceView, sequenceNumber, dueAt };
}

/**
 * decodeRecord for a store's write path, remembering the facts and view it parsed last: users created together share
 * one record (the same text) until each writes, so after a directory is created in bulk every user's first write
 * would parse that same text again (at a million users nearly every record a write starts from is parsed, none being
 * among the recent ones). A record it answers may share its facts and view objects with the one before: nothing
 * changes a record it is handed (commands are pure; `npm test` freezes them: ./recentRecords.ts).
 */
export class RecordDecoder {
  private factsText = '';
  private viewText = '';
  private last: Pick<PresenceRecord, 'facts' | 'view'> | null = null;

  decode(facts: string, view: string, sequenceNumber: string, dueAt: number | null): PresenceRecord {
    if (this.last === null || facts !== this.factsText || view !== this.viewText) {
      this.last = { facts: decodeFacts(facts), view: JSON.parse(view) as PresenceView };
      this.factsText = facts;
      this.viewText = view;
    }
    return { facts: this.last.facts, view: this.last.view, sequenceNumber, dueAt };
  }
}

// ---- subscriptions ----

/** A whole subscription as one string (a key-value backend). */
export const encodeSubscription = (s: Subscription): string => JSON.stringify(s);
export const decodeSubscription = (json: string): Subscription => JSON.parse(json) as Subscription;

/** The fields a table backend keeps in columns of their own (indexed); the rest goes to one JSON column. */
export type SubscriptionColumns = Pick<Subscription, 'id' | 'tenantId' | 'applicationId' | 'creatorId' | 'expiresAt'>;

export function splitSubscription(s: Subscription): { columns: SubscriptionColumns; data: string } {
  const { id, tenantId, applicationId, creatorId, expiresAt, ...data } = s;
  return { columns: { id, tenantId, applicationId, creatorId, expiresAt }, data: JSON.stringify(data) };
}

export function joinSubscription(columns: SubscriptionColumns, data: string): Subscription {
  return { ...(JSON.parse(data) as Omit<Subscription, keyof SubscriptionColumns>), ...columns };
}

// ---- deliveries ----

/** A notification item (without encryptedContent). */
export const encodeItem = (item: Record<string, unknown>): string => JSON.stringify(item);
export const decodeItem = (json: string): Record<string, unknown> => JSON.parse(json) as Record<string, unknown>;
export const encodeResourceView = (view: PresenceView | null): string | null => (view === null ? null : encodeView(view));
export const decodeResourceView = (json: string | null): PresenceView | null => (json === null ? null : decodeView(json));

/** The fields of a delivery that never change, as one string; attempt and nextAttemptAt are kept beside it. */
export type DeliveryFixed = Omit<NewDelivery, 'attempt' | 'nextAttemptAt'>;

export function encodeDeliveryFixed(d: NewDelivery): string {
  const fixed: DeliveryFixed = {
    subscriptionId: d.subscriptionId, tenantId: d.tenantId, kind: d.kind, url: d.url, item: d.item,
    resourceView: d.resourceView, userId: d.userId, createdAt: d.createdAt,
  };
  return JSON.stringify(fixed);
}

export function decodeDeliveryFixed(id: string, json: string, nextAttemptAt: number, attempt: number): Delivery {
  const f = JSON.parse(json) as DeliveryFixed;
  return {
    id, subscriptionId: f.subscriptionId, tenantId: f.tenantId, kind: f.kind, url: f.url, item: f.item,
    resourceView: f.resourceView, userId: f.userId, attempt, nextAttemptAt, createdAt: f.createdAt,
  };
}

// ---- lists and samples ----

/** A list of ids or numbers as one JSON array: one bound parameter, however many (SQL `json_each`). */
export const encodeList = (items: readonly (string | number)[]): string => JSON.stringify(items);

/** An endpoint sample as `<at> <ms>`. */
export const encodeSample = (s: EndpointSample): string => `${s.at} ${s.ms}`;

export function decodeSample(entry: string): EndpointSample {
  const i = entry.indexOf(' ');
  return { at: Number(entry.slice(0, i)), ms: Number(entry.slice(i + 1)) };
}
