/**
 * The presence facts of a state document (./document.ts), checked as strictly as a request body: every property
 * known, of its type, named by its path when it is not. Times are epoch milliseconds, as stored. Out-of-office is
 * not here: the document carries it as Graph's mailboxSettings, read by Graph's own parser.
 */
import { ACTIVITIES, AVAILABILITIES, type PresenceFacts, type WorkLocationLayer } from '../../domain/types.ts';
import { InvalidInput } from '../../platform/json/errors.ts';
import { readArray, readBoolean, readEnum, readObject, readString, typeName, type JsonObject } from '../../platform/json/validate.ts';

const join = (path: string, key: string) => (path ? `${path}.${key}` : key);

/** The facts of a document, without out-of-office. */
export type DocumentFacts = Omit<PresenceFacts, 'outOfOffice'>;

/** An instant: a whole number of epoch milliseconds (null allowed when `nullable`). */
export function readInstant(obj: JsonObject, key: string, path: string, nullable: true): number | null;
export function readInstant(obj: JsonObject, key: string, path: string, nullable?: false): number;
export function readInstant(obj: JsonObject, key: string, path: string, nullable = false): number | null {
  const value = obj[key];
  const name = join(path, key);
  if ((value === null || value === undefined) && nullable) return null;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new InvalidInput(`Property '${name}' must be an instant in epoch milliseconds (a whole number), not ${typeName(value)}.`, name);
  }
  return value;
}

const availability = (obj: JsonObject, path: string) =>
  readEnum(readString(obj, 'availability', path, { required: true }), AVAILABILITIES, join(path, 'availability'));
const activity = (obj: JsonObject, path: string) =>
  readEnum(readString(obj, 'activity', path, { required: true }), ACTIVITIES, join(path, 'activity'));

function statusMessage(value: unknown, path: string): PresenceFacts['statusMessage'] {
  if (value === null || value === undefined) return null;
  const m = readObject(value, path, ['content', 'contentType', 'expiry', 'expiresAt', 'publishedAt']);
  const contentType = readString(m, 'contentType', path) ?? 'text';
  if (contentType !== 'text') throw new InvalidInput(`Property '${join(path, 'contentType')}' must be 'text'.`, join(path, 'contentType'));
  let expiry = null;
  if (m.expiry !== null && m.expiry !== undefined) {
    const e = readObject(m.expiry, join(path, 'expiry'), ['dateTime', 'timeZone']);
    expiry = { dateTime: readString(e, 'dateTime', join(path, 'expiry'), { required: true }), timeZone: readString(e, 'timeZone', join(path, 'expiry'), { required: true }) };
  }
  return {
    content: readString(m, 'content', path, { required: true }), contentType, expiry,
    expiresAt: readInstant(m, 'expiresAt', path, true), publishedAt: readInstant(m, 'publishedAt', path),
  };
}

function sessions(obj: JsonObject, path: string): PresenceFacts['sessions'] {
  if (obj.sessions === undefined || obj.sessions === null) return [];
  return readArray(obj, 'sessions', path).map((v, i) => {
    const p = `${join(path, 'sessions')}[${i}]`;
    const s = readObject(v, p, ['sessionId', 'availability', 'activity', 'refreshedAt', 'expiresAt']);
    return {
      sessionId: readString(s, 'sessionId', p, { required: true }), availability: availability(s, p), activity: activity(s, p),
      refreshedAt: readInstant(s, 'refreshedAt', p), expiresAt: readInstant(s, 'expiresAt', p),
    };
  });
}

function preferred(value: unknown, path: string): PresenceFacts['preferred'] {
  if (value === null || value === undefined) return null;
  const p = readObject(value, path, ['availability', 'activity', 'expiresAt']);
  return { availability: availability(p, path), activity: activity(p, path), expiresAt: readInstant(p, 'expiresAt', path) };
}

const WORK_LOCATION_TYPES = ['unknown', 'office', 'remote', 'timeOff'] as const;

function layer(value: unknown, path: string): WorkLocationLayer | null {
  if (value === null || value === undefined) return null;
  const l = readObject(value, path, ['workLocationType', 'placeId']);
  return {
    workLocationType: readEnum(readString(l, 'workLocationType', path, { required: true }), WORK_LOCATION_TYPES, join(path, 'workLocationType')),
    placeId: readString(l, 'placeId', path) ?? null,
  };
}

/** `{"statusMessage"?, "sessions"?, "preferred"?, "workLocation"?, "everActive"?}`; what is left out is empty. */
export function parseFacts(value: unknown, path: string): DocumentFacts {
  if (value === null || value === undefined) {
    return { statusMessage: null, sessions: [], preferred: null, workLocation: { manual: null, automatic: null, scheduled: null }, everActive: false };
  }
  const f = readObject(value, path, ['statusMessage', 'sessions', 'preferred', 'workLocation', 'everActive']);
  const wlPath = join(path, 'workLocation');
  const wl = f.workLocation === undefined || f.workLocation === null ? {} : readObject(f.workLocation, wlPath, ['manual', 'automatic', 'scheduled']);
  return {
    statusMessage: statusMessage(f.statusMessage, join(path, 'statusMessage')),
    sessions: sessions(f, path),
    preferred: preferred(f.preferred, join(path, 'preferred')),
    workLocation: {
      manual: layer(wl.manual, join(wlPath, 'manual')),
      automatic: layer(wl.automatic, join(wlPath, 'automatic')),
      scheduled: layer(wl.scheduled, join(wlPath, 'scheduled')),
    },
    everActive: readBoolean(f, 'everActive', path) ?? false,
  };
}
