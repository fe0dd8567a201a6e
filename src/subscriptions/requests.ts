/**
 * The request rules of presence subscriptions (docs/notifications/subscriptions.md, docs/notifications/url-policy.md): what a create (POST) or update (PATCH) body
 * may say, read into the subscription's fields. Every refusal names the property at fault.
 *
 * Presently's own choices [P]:
 * - an `encryptionCertificate` is validated whenever it is sent, not only with `includeResourceData: true`;
 * - `expirationDateTime` must carry a zone (`Z` or an offset): an instant, not a wall-clock time;
 * - PATCH may change an existing `lifecycleNotificationUrl` (validated by handshake) but not add or remove one.
 */
import { Temporal } from 'temporal-polyfill';
import type { Subscription } from '../domain/subscription.ts';
import { parseEncryptionCertificate } from '../notifications/encryption.ts';
import { readBody, type AbsentBody } from '../platform/json/body.ts';
import { InvalidInput } from '../platform/json/errors.ts';
import { isGuid, readBoolean, readString, type JsonObject } from '../platform/json/validate.ts';

export const MAX_RESOURCE_IDS = 650;
export const MAX_CLIENT_STATE = 128;
export const MAX_CERTIFICATE_ID = 128;
/** Graph's presence subscriptions: at most an hour; an expiry sooner than 45 minutes is raised to 45 minutes. */
export const MAX_LIFETIME_MS = 60 * 60_000;
export const MIN_LIFETIME_MS = 45 * 60_000;
export const TLS_VERSIONS = ['v1_0', 'v1_1', 'v1_2', 'v1_3'] as const;
export const DEFAULT_TLS_VERSION = 'v1_2';
export const NOTIFICATION_CONTENT_TYPE = 'application/json';

/** Every property of Graph's subscription type. */
const SUBSCRIPTION_PROPERTIES = [
  'id', 'resource', 'applicationId', 'changeType', 'clientState', 'notificationUrl', 'notificationQueryOptions',
  'lifecycleNotificationUrl', 'expirationDateTime', 'creatorId', 'includeResourceData', 'latestSupportedTlsVersion',
  'encryptionCertificate', 'encryptionCertificateId', 'notificationUrlAppId', 'notificationContentType',
] as const;
const READ_ONLY = ['id', 'applicationId', 'creatorId'];
/** Graph properties presence subscriptions do not support; accepted only when null. */
const UNSUPPORTED = ['notificationQueryOptions', 'notificationUrlAppId'];
const UPDATABLE = ['expirationDateTime', 'notificationUrl', 'lifecycleNotificationUrl'];

/** What a valid create body asks for: the subscription's client-given fields. */
export type CreateInput = Pick<Subscription,
  'changeType' | 'resource' | 'userIds' | 'notificationUrl' | 'lifecycleNotificationUrl' | 'expiresAt' | 'clientState'
  | 'includeResourceData' | 'encryptionCertificate' | 'encryptionCertificateId' | 'latestSupportedTlsVersion'>;

export interface UpdateInput {
  expiresAt?: number;
  notificationUrl?: string;
  lifecycleNotificationUrl?: string;
}

const RESOURCE_FORMS = "'/communications/presences/{id}' or \"/communications/presences?$filter=id in ('{id}','{id}')\"";

function badResource(raw: string, why?: string): InvalidInput {
  return new InvalidInput(
    `Property 'resource' must be ${RESOURCE_FORMS}${why ? `: ${why}` : ''}; got '${raw.slice(0, 200)}'.`,
    'resource',
  );
}

/**
 * The users a resource watches, lower-case and without duplicates, in request order. Accepts, case-insensitively
 * and with a leading slash optional, `communications/presences/{id}` and
 * `communications/presences?$filter=id in ('{id}', …)` (1 to 650 single-quoted GUIDs; spaces around tokens are
 * ignored; the query may be percent-encoded).
 */
export function parseResource(raw: string): string[] {
  let text = raw.trim();
  if (text.startsWith('/')) text = text.slice(1);
  const q = text.indexOf('?');
  const path = q === -1 ? text : text.slice(0, q);
  let query = q === -1 ? null : text.slice(q + 1);
  const segments = path.split('/');
  if (segments.length < 2 || segments[0]!.toLowerCase() !== 'communications' || segments[1]!.toLowerCase() !== 'presences') {
    throw badResource(raw, 'presence subscriptions watch communications/presences');
  }
  if (segments.length === 3) {
    if (query !== null) throw badResource(raw, 'a single presence takes no query options');
    return [guidOf(segments[2]!.trim(), raw)];
  }
  if (segments.length !== 2) throw badResource(raw);
  if (query === null || query.trim() === '') throw badResource(raw, 'name the users with $filter=id in (…)');

  if (query.includes('%')) {
    try {
      query = decodeURIComponent(query);
    } catch {
      throw badResource(raw, 'its query has an invalid percent-encoded sequence');
    }
  }
  const eq = query.indexOf('=');
  const option = (eq === -1 ? query : query.slice(0, eq)).trim();
  if (option.toLowerCase() !== '$filter') {
    throw badResource(raw, `'${option.slice(0, 40)}' is not supported; only $filter is`);
  }
  // '+' is a form-encoded space; no valid filter contains one.
  const expr = query.slice(eq + 1).replace(/\+/g, ' ');
  const m = /^\s*id\s+in\s*\((.*)\)\s*$/is.exec(expr);
  if (!m) throw badResource(raw, "the filter must be id in ('{id}', …)");
  const items = m[1]!.split(',').map((s) => s.trim());
  if (items.length === 1 && items[0] === '') throw badResource(raw, 'the id list is empty');
  if (items.length > MAX_RESOURCE_IDS) {
    throw new InvalidInput(`Property 'resource' names ${items.length} ids; the limit is ${MAX_RESOURCE_IDS}.`, 'resource');
  }
  const seen = new Set<string>();
  const ids: string[] = [];
  for (const item of items) {
    const quoted = /^'([^']*)'$/.exec(item);
    if (!quoted) {
      throw badResource(raw, /^"[^"]*"$/.test(item)
        ? `ids are quoted with single quotes, not double quotes (${item.slice(0, 60)})`
        : `each id is a GUID in single quotes (${item.slice(0, 60) || 'an empty item'})`);
    }
    const id = guidOf(quoted[1]!.trim(), raw);
    if (!seen.has(id)) {
      seen.add(id);
      ids.push(id);
    }
  }
  return ids;
}

function guidOf(value: string, raw: string): string {
  if (!isGuid(value)) {
    throw new InvalidInput(
      `Property 'resource' names '${value.slice(0, 64)}', which is not a user id (a GUID); got '${raw.slice(0, 200)}'.`,
      'resource',
    );
  }
  return value.toLowerCase();
}

/**
 * `expirationDateTime`: an ISO 8601 instant. In the past (or now) or more than 60 minutes ahead is a 400; less than
 * 45 minutes ahead is raised to 45 minutes. Returns epoch ms.
 */
export function parseExpiration(value: string, now: number): number {
  let at: number;
  try {
    at = Temporal.Instant.from(value.trim()).epochMilliseconds;
  } catch {
    throw new InvalidInput(
      `Property 'expirationDateTime' must be an ISO 8601 date and time with a zone, such as 2026-11-28T08:00:00.0000000Z; got '${value.slice(0, 64)}'.`,
      'expirationDateTime',
    );
  }
  if (at <= now) {
    throw new InvalidInput(
      `Property 'expirationDateTime' (${value.slice(0, 64)}) is not in the future: a subscription must expire within the next 60 minutes.`,
      'expirationDateTime',
    );
  }
  if (at - now > MAX_LIFETIME_MS) {
    throw new InvalidInput(
      `Subscription expiration can only be 60 minutes in the future: property 'expirationDateTime' (${value.slice(0, 64)}) is later than that.`,
      'expirationDateTime',
    );
  }
  return Math.max(at, now + MIN_LIFETIME_MS);
}

/** The body as an object whose keys are all properties of Graph's subscription type (or `@` annotations). */
function readSubscriptionBody(body: unknown, whenAbsent: AbsentBody): JsonObject {
  return readBody(body, { allowed: SUBSCRIPTION_PROPERTIES, type: 'microsoft.graph.subscription', whenAbsent });
}

function rejectImmutable(obj: JsonObject, allowed: readonly string[], verb: string): void {
  for (const key of Object.keys(obj)) {
    if (key.includes('@') || allowed.includes(key)) continue;
    if (READ_ONLY.includes(key)) throw new InvalidInput(`Property '${key}' is read-only: it is set by the server.`, key);
    if (UNSUPPORTED.includes(key)) {
      if (obj[key] === null) continue;
      throw new InvalidInput(`Property '${key}' is not supported for presence subscriptions.`, key);
    }
    throw new InvalidInput(`Property '${key}' cannot be ${verb}; only ${UPDATABLE.slice(0, 2).join(' and ')} can be changed.`, key);
  }
}

function readUrl(obj: JsonObject, key: string, required: boolean): string | null {
  const value = readString(obj, key, '', { required });
  if (value === undefined || value === null) return null;
  if (value.trim() === '') throw new InvalidInput(`Property '${key}' must not be empty.`, key);
  return value.trim();
}

function readLimited(obj: JsonObject, key: string, max: number): string | null {
  const value = readString(obj, key, '');
  if (value === undefined || value === null) return null;
  if (value.length > max) throw new InvalidInput(`Property '${key}' is ${value.length} characters long; the limit is ${max}.`, key);
  return value;
}

/** The body of `POST /subscriptions`. */
export function parseCreate(body: unknown, now: number): CreateInput {
  const obj = readSubscriptionBody(body, 'invalid');
  rejectImmutable(obj, SUBSCRIPTION_PROPERTIES.filter((k) => !READ_ONLY.includes(k) && !UNSUPPORTED.includes(k)), 'set');

  const changeType = readString(obj, 'changeType', '', { required: true });
  if (changeType.trim().toLowerCase() !== 'updated') {
    throw new InvalidInput(`Property 'changeType' must be 'updated' for presence subscriptions, not '${changeType.slice(0, 64)}'.`, 'changeType');
  }

  const notificationUrl = readUrl(obj, 'notificationUrl', true)!;
  const lifecycleNotificationUrl = readUrl(obj, 'lifecycleNotificationUrl', false);

  const resource = readString(obj, 'resource', '', { required: true });
  const userIds = parseResource(resource);

  const expiresAt = parseExpiration(readString(obj, 'expirationDateTime', '', { required: true }), now);
  const clientState = readLimited(obj, 'clientState', MAX_CLIENT_STATE);

  const encryption = readEncryption(obj, now);
  const latestSupportedTlsVersion = readTlsVersion(obj);
  readContentType(obj);

  return {
    changeType: 'updated',
    resource,
    userIds,
    notificationUrl,
    lifecycleNotificationUrl,
    expiresAt,
    clientState,
    ...encryption,
    latestSupportedTlsVersion,
  };
}

/** `includeResourceData` and the certificate it needs; a certificate sent is validated whatever the flag [P]. */
function readEncryption(obj: JsonObject, now: number): Pick<CreateInput, 'includeResourceData' | 'encryptionCertificate' | 'encryptionCertificateId'> {
  const includeResourceData = readBoolean(obj, 'includeResourceData', '') ?? false;
  const encryptionCertificate = readString(obj, 'encryptionCertificate', '') ?? null;
  const encryptionCertificateId = readLimited(obj, 'encryptionCertificateId', MAX_CERTIFICATE_ID);
  if (includeResourceData) {
    if (encryptionCertificate === null || encryptionCertificate.trim() === '') {
      throw new InvalidInput("Property 'encryptionCertificate' is required when 'includeResourceData' is true.", 'encryptionCertificate');
    }
    if (encryptionCertificateId === null || encryptionCertificateId === '') {
      throw new InvalidInput("Property 'encryptionCertificateId' is required when 'includeResourceData' is true.", 'encryptionCertificateId');
    }
  }
  if (encryptionCertificate !== null) parseEncryptionCertificate(encryptionCertificate, now, 'encryptionCertificate');
  return { includeResourceData, encryptionCertificate, encryptionCertificateId };
}

function readTlsVersion(obj: JsonObject): CreateInput['latestSupportedTlsVersion'] {
  const tls = readString(obj, 'latestSupportedTlsVersion', '');
  return tls === undefined || tls === null ? DEFAULT_TLS_VERSION : readEnumExact(tls, TLS_VERSIONS, 'latestSupportedTlsVersion');
}

/** `notificationContentType`, when sent, must be the only one presence notifications have. */
function readContentType(obj: JsonObject): void {
  const contentType = readString(obj, 'notificationContentType', '');
  if (contentType !== undefined && contentType !== null && contentType.trim().toLowerCase() !== NOTIFICATION_CONTENT_TYPE) {
    throw new InvalidInput(
      `Property 'notificationContentType' must be '${NOTIFICATION_CONTENT_TYPE}', not '${contentType.slice(0, 64)}'.`,
      'notificationContentType',
    );
  }
}

function readEnumExact<T extends string>(value: string, values: readonly T[], name: string): T {
  const found = values.find((v) => v.toLowerCase() === value.trim().toLowerCase());
  if (!found) throw new InvalidInput(`Property '${name}' has an invalid value '${value.slice(0, 64)}'. Allowed values: ${values.join(', ')}.`, name);
  return found;
}

/** The body of `PATCH /subscriptions/{id}`. */
export function parseUpdate(body: unknown, now: number, current: Subscription): UpdateInput {
  const obj = readSubscriptionBody(body, 'empty-object');
  rejectImmutable(obj, UPDATABLE, 'changed');
  const out: UpdateInput = {};
  if (obj.expirationDateTime !== undefined) {
    out.expiresAt = parseExpiration(readString(obj, 'expirationDateTime', '', { required: true }), now);
  }
  if (obj.notificationUrl !== undefined) out.notificationUrl = readUrl(obj, 'notificationUrl', true)!;
  if (obj.lifecycleNotificationUrl !== undefined) {
    if (current.lifecycleNotificationUrl === null) {
      throw new InvalidInput(
        "Property 'lifecycleNotificationUrl' can only be added when a subscription is created; create a new subscription to receive lifecycle notifications.",
        'lifecycleNotificationUrl',
      );
    }
    const url = obj.lifecycleNotificationUrl === null ? null : readUrl(obj, 'lifecycleNotificationUrl', false);
    if (url === null) {
      throw new InvalidInput("Property 'lifecycleNotificationUrl' cannot be removed from a subscription.", 'lifecycleNotificationUrl');
    }
    out.lifecycleNotificationUrl = url;
  }
  return out;
}
