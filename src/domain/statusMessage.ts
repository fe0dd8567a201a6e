/**
 * setStatusMessage: body validation and the command on facts. Rules: docs/api/status-message.md.
 */
import { InvalidInput } from '../platform/json/errors.ts';
import { ceilToMillis, parseDateTimeTimeZone } from './timezones.ts';
import { factsWith, type PresenceFacts, type StatusMessageFact } from './types.ts';
import { readObject, readString } from '../platform/json/validate.ts';

export const DEFAULT_MAX_STATUS_LENGTH = 280;
export const PINNED_NOTE_MARKER = '<pinnednote></pinnednote>';

/** What a valid setStatusMessage body asks for; `publishedAt` is stamped when the command runs. */
export type StatusMessageInput =
  | { kind: 'clear' }
  | { kind: 'set'; message: Omit<StatusMessageFact, 'publishedAt'> };

/** Code points of the content, not counting the Teams pinned-note marker. */
export function visibleLength(content: string): number {
  let n = 0;
  for (const _ of content.split(PINNED_NOTE_MARKER).join('')) n++;
  return n;
}

export function parseSetStatusMessage(body: unknown, maxLength = DEFAULT_MAX_STATUS_LENGTH): StatusMessageInput {
  const root = readObject(body, '', ['statusMessage']);
  if (!('statusMessage' in root)) throw new InvalidInput("Property 'statusMessage' is required.", 'statusMessage');
  if (root.statusMessage === null) return { kind: 'clear' };
  const sm = readObject(root.statusMessage, 'statusMessage', ['message', 'expiryDateTime', 'publishedDateTime']);
  // publishedDateTime is the server's to set: its value is ignored, but it must still be a string if present.
  readString(sm, 'publishedDateTime', 'statusMessage');
  if (sm.message === undefined) throw new InvalidInput("Property 'statusMessage.message' is required.", 'statusMessage.message');
  // The expiry is validated even when the message clears: a bad property is a 400 whatever else the body says.
  let expiry: StatusMessageFact['expiry'] = null;
  let expiresAt: number | null = null;
  if (sm.expiryDateTime !== undefined && sm.expiryDateTime !== null) {
    const e = readObject(sm.expiryDateTime, 'statusMessage.expiryDateTime', ['dateTime', 'timeZone']);
    const dateTime = readString(e, 'dateTime', 'statusMessage.expiryDateTime', { required: true });
    const timeZone = readString(e, 'timeZone', 'statusMessage.expiryDateTime', { required: true });
    const parsed = parseDateTimeTimeZone({ dateTime, timeZone }, 'statusMessage.expiryDateTime');
    expiry = { dateTime: parsed.normalized, timeZone };
    // Year 9999 is Teams' "never expires": kept as sent, never fires.
    expiresAt = parsed.year >= 9999 ? null : ceilToMillis(parsed.epochNanoseconds);
  }
  if (sm.message === null) return { kind: 'clear' };
  const message = readObject(sm.message, 'statusMessage.message', ['content', 'contentType']);
  const content = readString(message, 'content', 'statusMessage.message');
  const contentType = readString(message, 'contentType', 'statusMessage.message') ?? 'text';
  if (contentType.toLowerCase() !== 'text') {
    throw new InvalidInput(
      `Property 'statusMessage.message.contentType' is '${contentType.slice(0, 32)}', but a status message supports only 'text'.`,
      'statusMessage.message.contentType',
    );
  }
  if (content === null || content === undefined || content === '') return { kind: 'clear' };
  const length = visibleLength(content);
  if (length > maxLength) {
    throw new InvalidInput(
      `Property 'statusMessage.message.content' is ${length} characters long; the limit is ${maxLength}.`,
      'statusMessage.message.content',
    );
  }
  return { kind: 'set', message: { content, contentType: 'text', expiry, expiresAt } };
}

export function setStatusMessage(facts: PresenceFacts, input: StatusMessageInput, now: number): PresenceFacts {
  if (input.kind === 'clear') return factsWith(facts, { statusMessage: null });
  const { content, contentType, expiry, expiresAt } = input.message;
  return factsWith(facts, { statusMessage: { content, contentType, expiry, expiresAt, publishedAt: now } });
}
