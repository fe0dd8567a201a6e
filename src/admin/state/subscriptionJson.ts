/**
 * A subscription in a state document (./document.ts): the stored subscription, field for field, times in epoch
 * milliseconds. Checked as strictly as a request body; that its tenant and users exist is checked by the document.
 */
import type { Subscription } from '../../domain/subscription.ts';
import { InvalidInput } from '../../platform/json/errors.ts';
import { isGuid, readArray, readBoolean, readEnum, readObject, readString, type JsonObject } from '../../platform/json/validate.ts';
import { TLS_VERSIONS } from '../../subscriptions/requests.ts';
import { readInstant } from './facts.ts';

const FIELDS = [
  'id', 'tenantId', 'applicationId', 'creatorId', 'changeType', 'resource', 'userIds', 'notificationUrl', 'lifecycleNotificationUrl',
  'expiresAt', 'clientState', 'includeResourceData', 'encryptionCertificate', 'encryptionCertificateId', 'latestSupportedTlsVersion',
  'reauthorizationNotifiedAt', 'createdAt',
] as const;

const MAX_USERS = 650;

function guid(obj: JsonObject, key: string, path: string): string {
  const value = readString(obj, key, path, { required: true });
  if (!isGuid(value)) throw new InvalidInput(`Property '${path}.${key}' must be a GUID, not '${value.slice(0, 64)}'.`, `${path}.${key}`);
  return value.toLowerCase();
}

function url(obj: JsonObject, key: string, path: string, required: boolean): string | null {
  const value = readString(obj, key, path, { required }) ?? null;
  if (value !== null && !/^https?:\/\/[^/]+/i.test(value)) {
    throw new InvalidInput(`Property '${path}.${key}' must be an http(s) URL, not '${value.slice(0, 100)}'.`, `${path}.${key}`);
  }
  return value;
}

function userIds(obj: JsonObject, path: string): string[] {
  const ids = readArray(obj, 'userIds', path);
  if (ids.length === 0 || ids.length > MAX_USERS) {
    throw new InvalidInput(`Property '${path}.userIds' must list 1 to ${MAX_USERS} users, not ${ids.length}.`, `${path}.userIds`);
  }
  return ids.map((id, i) => {
    if (!isGuid(id)) throw new InvalidInput(`Property '${path}.userIds[${i}]' must be a GUID.`, `${path}.userIds[${i}]`);
    return (id as string).toLowerCase();
  });
}

export function parseSubscription(value: unknown, path: string): Subscription {
  const s = readObject(value, path, FIELDS);
  const changeType = readString(s, 'changeType', path) ?? 'updated';
  if (changeType !== 'updated') throw new InvalidInput(`Property '${path}.changeType' must be 'updated'.`, `${path}.changeType`);
  const tls = readString(s, 'latestSupportedTlsVersion', path) ?? 'v1_2';
  return {
    id: guid(s, 'id', path),
    tenantId: guid(s, 'tenantId', path),
    applicationId: guid(s, 'applicationId', path),
    creatorId: readString(s, 'creatorId', path) ?? '',
    changeType,
    resource: readString(s, 'resource', path, { required: true }),
    userIds: userIds(s, path),
    notificationUrl: url(s, 'notificationUrl', path, true)!,
    lifecycleNotificationUrl: url(s, 'lifecycleNotificationUrl', path, false),
    expiresAt: readInstant(s, 'expiresAt', path),
    clientState: readString(s, 'clientState', path) ?? null,
    includeResourceData: readBoolean(s, 'includeResourceData', path) ?? false,
    encryptionCertificate: readString(s, 'encryptionCertificate', path) ?? null,
    encryptionCertificateId: readString(s, 'encryptionCertificateId', path) ?? null,
    latestSupportedTlsVersion: readEnum(tls, TLS_VERSIONS, `${path}.latestSupportedTlsVersion`),
    reauthorizationNotifiedAt: readInstant(s, 'reauthorizationNotifiedAt', path, true),
    createdAt: readInstant(s, 'createdAt', path),
  };
}
