/**
 * Out of office through Graph's mailboxSettings (docs/api/out-of-office.md): the `automaticRepliesSetting` shape, PATCH
 * validation and merge, and the command on facts. The presence shows it through view.ts (`isOutOfOffice`, the
 * OutOfOffice activity rule); `internalReplyMessage` is the presence's `outOfOfficeSettings.message`.
 *
 * [P] decisions:
 * - Never set: status `disabled`, externalAudience `all`, empty messages, no schedule (`null` start and end),
 *   timeZone `UTC`.
 * - The schedule is kept (and returned) whatever the status; it only takes effect while the status is `scheduled`.
 * - Whenever both ends are set, the end must be after the start; `scheduled` needs both (sent or stored).
 *   A window already over is accepted (it simply never shows).
 * - An empty `internalReplyMessage` shows as `message: null` in the presence.
 */
import { InvalidInput } from '../platform/json/errors.ts';
import { ceilToMillis, parseDateTimeTimeZone, resolveZone } from './timezones.ts';
import { factsWith, type DateTimeTimeZone, type OutOfOfficeFact, type PresenceFacts } from './types.ts';
import { readEnum, readObject, readString, type JsonObject } from '../platform/json/validate.ts';

export const OOF_STATUSES = ['disabled', 'alwaysEnabled', 'scheduled'] as const;
export type OofStatus = (typeof OOF_STATUSES)[number];
export const EXTERNAL_AUDIENCES = ['none', 'contactsOnly', 'all'] as const;
export type ExternalAudience = (typeof EXTERNAL_AUDIENCES)[number];

export const DEFAULT_MAILBOX_TIME_ZONE = 'UTC';
export const DEFAULT_EXTERNAL_AUDIENCE: ExternalAudience = 'all';

/** Graph's `automaticRepliesSetting`, as returned. */
export interface AutomaticRepliesSetting {
  status: OofStatus;
  externalAudience: ExternalAudience;
  scheduledStartDateTime: DateTimeTimeZone | null;
  scheduledEndDateTime: DateTimeTimeZone | null;
  internalReplyMessage: string;
  externalReplyMessage: string;
}

/** The part of Graph's `mailboxSettings` Presently models. */
export interface MailboxSettings {
  automaticRepliesSetting: AutomaticRepliesSetting;
  timeZone: string;
}

/** A schedule end as sent (normalised) with its instant. */
export interface ScheduledInput {
  value: DateTimeTimeZone;
  at: number;
}

/** A validated `automaticRepliesSetting` PATCH: only what was sent. `null` schedule ends clear them. */
export interface AutomaticRepliesPatch {
  /** The property path of the setting in the request body ('' when the body is the setting itself). */
  path: string;
  status?: OofStatus;
  externalAudience?: ExternalAudience;
  scheduledStart?: ScheduledInput | null;
  scheduledEnd?: ScheduledInput | null;
  internalReplyMessage?: string;
  externalReplyMessage?: string;
}

export interface MailboxSettingsPatch {
  automaticRepliesSetting?: AutomaticRepliesPatch;
  timeZone?: string;
}

const REPLIES_PROPERTIES = [
  'status', 'externalAudience', 'scheduledStartDateTime', 'scheduledEndDateTime', 'internalReplyMessage', 'externalReplyMessage',
] as const;
const MAILBOX_PROPERTIES = ['automaticRepliesSetting', 'timeZone'] as const;
/** mailboxSettings properties Graph has and Presently does not model: named as such in the 400. */
const UNMODELLED_MAILBOX_PROPERTIES = [
  'archiveFolder', 'dateFormat', 'delegateMeetingMessageDeliveryOptions', 'language', 'timeFormat', 'userPurpose', 'workingHours',
];

const join = (path: string, key: string) => (path ? `${path}.${key}` : key);

/** The settings a user has, with the defaults for what was never set. */
export function mailboxSettingsOf(fact: OutOfOfficeFact | null): MailboxSettings {
  return {
    automaticRepliesSetting: {
      status: fact?.status ?? 'disabled',
      externalAudience: fact?.externalAudience ?? DEFAULT_EXTERNAL_AUDIENCE,
      scheduledStartDateTime: fact?.scheduledStart ? { ...fact.scheduledStart } : null,
      scheduledEndDateTime: fact?.scheduledEnd ? { ...fact.scheduledEnd } : null,
      internalReplyMessage: fact?.message ?? '',
      externalReplyMessage: fact?.externalReplyMessage ?? '',
    },
    timeZone: fact?.mailboxTimeZone ?? DEFAULT_MAILBOX_TIME_ZONE,
  };
}

function requireBody(body: unknown): unknown {
  if (body === undefined) throw new InvalidInput('The request body is empty: send a JSON object.');
  return body;
}

/** `PATCH …/mailboxSettings` body: `{"automaticRepliesSetting"?: {...}, "timeZone"?: "..."}`. */
export function parseMailboxSettingsPatch(body: unknown): MailboxSettingsPatch {
  const value = requireBody(body);
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const key of Object.keys(value)) {
      // Names match case-insensitively, as every property name of a request body.
      const name = UNMODELLED_MAILBOX_PROPERTIES.find((p) => p.toLowerCase() === key.toLowerCase());
      if (name !== undefined) {
        throw new InvalidInput(`The property '${name}' of mailboxSettings is not supported by Presently; only 'automaticRepliesSetting' and 'timeZone' are.`, name);
      }
    }
  }
  const root = readObject(value, '', MAILBOX_PROPERTIES);
  const patch: MailboxSettingsPatch = {};
  if (root.automaticRepliesSetting !== undefined) {
    patch.automaticRepliesSetting = parseRepliesObject(root.automaticRepliesSetting, 'automaticRepliesSetting');
  }
  if (root.timeZone !== undefined) {
    const timeZone = readNonNullString(root, 'timeZone', '');
    if (!resolveZone(timeZone)) {
      throw new InvalidInput(
        `Property 'timeZone' has an unknown time zone '${timeZone.slice(0, 64)}': use a Windows name such as 'Pacific Standard Time' or an IANA name such as 'America/Los_Angeles'.`,
        'timeZone',
      );
    }
    patch.timeZone = timeZone;
  }
  return patch;
}

/** `PATCH …/mailboxSettings/automaticRepliesSetting` body: the setting itself. */
export function parseAutomaticRepliesPatch(body: unknown): AutomaticRepliesPatch {
  return parseRepliesObject(requireBody(body), '');
}

function parseRepliesObject(value: unknown, path: string): AutomaticRepliesPatch {
  const obj = readObject(value, path, REPLIES_PROPERTIES);
  const patch: AutomaticRepliesPatch = { path };
  if (obj.status !== undefined) {
    patch.status = readEnum(readNonNullString(obj, 'status', path), OOF_STATUSES, join(path, 'status'));
  }
  if (obj.externalAudience !== undefined) {
    patch.externalAudience = readEnum(readNonNullString(obj, 'externalAudience', path), EXTERNAL_AUDIENCES, join(path, 'externalAudience'));
  }
  for (const key of ['internalReplyMessage', 'externalReplyMessage'] as const) {
    const text = readString(obj, key, path);
    if (text !== undefined) patch[key] = text ?? ''; // null clears
  }
  const start = readSchedule(obj, 'scheduledStartDateTime', path);
  if (start !== undefined) patch.scheduledStart = start;
  const end = readSchedule(obj, 'scheduledEndDateTime', path);
  if (end !== undefined) patch.scheduledEnd = end;
  return patch;
}

function readNonNullString(obj: JsonObject, key: string, path: string): string {
  if (obj[key] === null) throw new InvalidInput(`Property '${join(path, key)}' must not be null.`, join(path, key));
  return readString(obj, key, path, { required: true });
}

function readSchedule(obj: JsonObject, key: string, path: string): ScheduledInput | null | undefined {
  const raw = obj[key];
  if (raw === undefined || raw === null) return raw;
  const name = join(path, key);
  const e = readObject(raw, name, ['dateTime', 'timeZone']);
  const dateTime = readString(e, 'dateTime', name, { required: true });
  const timeZone = readString(e, 'timeZone', name, { required: true });
  const parsed = parseDateTimeTimeZone({ dateTime, timeZone }, name);
  return { value: { dateTime: parsed.normalized, timeZone }, at: ceilToMillis(parsed.epochNanoseconds) };
}

/**
 * The stored fact after a PATCH, merged as PATCH does. Throws InvalidInput when the merged schedule is incomplete
 * for `scheduled` or ends before it starts (naming the property sent, else the one missing).
 */
export function mergeOutOfOffice(current: OutOfOfficeFact | null, patch: MailboxSettingsPatch): OutOfOfficeFact {
  const base = mailboxSettingsOf(current).automaticRepliesSetting;
  const r = patch.automaticRepliesSetting;
  const status = r?.status ?? base.status;
  const start = r?.scheduledStart !== undefined ? r.scheduledStart
    : current?.scheduledStart && current.startsAt !== null ? { value: current.scheduledStart, at: current.startsAt } : null;
  const end = r?.scheduledEnd !== undefined ? r.scheduledEnd
    : current?.scheduledEnd && current.endsAt !== null ? { value: current.scheduledEnd, at: current.endsAt } : null;
  const path = r?.path ?? 'automaticRepliesSetting';
  const startName = join(path, 'scheduledStartDateTime');
  const endName = join(path, 'scheduledEndDateTime');
  if (status === 'scheduled') {
    for (const [value, name] of [[start, startName], [end, endName]] as const) {
      if (!value) {
        throw new InvalidInput(`Property '${name}' is required when the status is 'scheduled' (send it, or have it set already).`, name);
      }
    }
  }
  if (start && end && end.at <= start.at) {
    const name = r?.scheduledEnd !== undefined || r?.scheduledStart === undefined ? endName : startName;
    throw new InvalidInput(
      `Property '${name}' is invalid: the scheduled end (${end.value.dateTime} ${end.value.timeZone}) must be after the scheduled start (${start.value.dateTime} ${start.value.timeZone}).`,
      name,
    );
  }
  const internal = r?.internalReplyMessage ?? base.internalReplyMessage;
  return {
    status,
    message: internal === '' ? null : internal,
    scheduledStart: start ? start.value : null,
    scheduledEnd: end ? end.value : null,
    startsAt: start ? start.at : null,
    endsAt: end ? end.at : null,
    externalAudience: r?.externalAudience ?? base.externalAudience,
    externalReplyMessage: r?.externalReplyMessage ?? base.externalReplyMessage,
    mailboxTimeZone: patch.timeZone ?? current?.mailboxTimeZone ?? DEFAULT_MAILBOX_TIME_ZONE,
  };
}

/** The command: applies a validated PATCH to the facts. Pure. */
export function patchMailboxSettings(facts: PresenceFacts, patch: MailboxSettingsPatch): PresenceFacts {
  return factsWith(facts, { outOfOffice: mergeOutOfOffice(facts.outOfOffice, patch) });
}
