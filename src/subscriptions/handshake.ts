/**
 * The validation handshake (docs/notifications/handshake.md): before a subscription is created (or its notificationUrl changed),
 * Presently POSTs to the endpoint with `?validationToken=<token>` appended (`&` when the URL already has a query),
 * `Content-Type: text/plain; charset=utf-8`. The endpoint must answer within the timeout (Graph: 10 s) with `200`, a
 * `text/plain` content type and the URL-decoded token as its body. The body must be the token exactly; a single
 * trailing newline (`\n` or `\r\n`) is tolerated [P: d-handshake-trailing-newline], since many frameworks' "write a line" helpers add one.
 */
import { randomUUID } from 'node:crypto';
import { GraphError } from '../http/errors.ts';
import { postText, type WebhookOutcome } from '../notifications/webhookClient.ts';

/** Graph's limit. */
export const HANDSHAKE_TIMEOUT_MS = 10_000;

export type PostText = (url: string, text: string, timeoutMs: number) => Promise<WebhookOutcome>;

export type HandshakeResult =
  | { ok: true; durationMs: number }
  | { ok: false; reason: 'timeout' | 'network' | 'status' | 'contentType' | 'body'; detail: string; durationMs: number };

export interface HandshakeOptions {
  timeoutMs: number;
  /** The HTTP call; defaults to webhookClient.postText. */
  post?: PostText;
  /** The token to send; defaults to a fresh one. */
  token?: string;
}

/**
 * A fresh, unguessable token, shaped like Graph's: it contains spaces and a colon, so an endpoint that echoes the
 * raw query string instead of the decoded value fails here as it would against Graph.
 */
export function newValidationToken(): string {
  return `Validation: Testing client application reachability for subscription Request-Id: ${randomUUID()}`;
}

/** The URL with `validationToken=<encoded token>` added to its query (before any fragment). */
export function handshakeUrl(notificationUrl: string, token: string): string {
  const hash = notificationUrl.indexOf('#');
  const base = hash === -1 ? notificationUrl : notificationUrl.slice(0, hash);
  const query = base.indexOf('?');
  const sep = query === -1 ? '?' : query === base.length - 1 || base.endsWith('&') ? '' : '&';
  return `${base}${sep}validationToken=${encodeURIComponent(token)}`;
}

function isTextPlain(contentType: string | null): boolean {
  return contentType !== null && contentType.split(';')[0]!.trim().toLowerCase() === 'text/plain';
}

function echoes(body: string, token: string): boolean {
  return body === token || body === `${token}\n` || body === `${token}\r\n`;
}

/** Runs the handshake against one URL. Never throws. */
export async function validateEndpoint(url: string, opts: HandshakeOptions): Promise<HandshakeResult> {
  const token = opts.token ?? newValidationToken();
  const outcome = await (opts.post ?? postText)(handshakeUrl(url, token), token, opts.timeoutMs);
  const durationMs = Math.round(outcome.durationMs);
  if (outcome.status === 0) {
    return outcome.error === 'timeout'
      ? { ok: false, reason: 'timeout', detail: `no answer within ${opts.timeoutMs} ms`, durationMs }
      : { ok: false, reason: 'network', detail: outcome.error ?? 'no response', durationMs };
  }
  if (outcome.status !== 200) return { ok: false, reason: 'status', detail: `answered ${outcome.status}, not 200`, durationMs };
  if (!isTextPlain(outcome.contentType)) {
    return { ok: false, reason: 'contentType', detail: `answered Content-Type ${outcome.contentType ?? '(none)'}, not text/plain`, durationMs };
  }
  if (!echoes(outcome.body, token)) {
    return { ok: false, reason: 'body', detail: 'the body was not the decoded validationToken', durationMs };
  }
  return { ok: true, durationMs };
}

export const VALIDATION_FAILED =
  'Subscription validation request failed. Notification endpoint must respond with 200 OK to validation request.';
export const VALIDATION_TIMED_OUT = 'Subscription validation request timed out.';
export const LIFECYCLE_VALIDATION_FAILED =
  'Subscription validation request failed. Lifecycle notification endpoint must respond with 200 OK to validation request.';
export const LIFECYCLE_VALIDATION_TIMED_OUT = 'Subscription validation request to the lifecycle notification endpoint timed out.';

/** The 400 `ValidationError` a failed handshake answers. */
export function handshakeError(result: Extract<HandshakeResult, { ok: false }>, which: 'notificationUrl' | 'lifecycleNotificationUrl'): GraphError {
  const timedOut = result.reason === 'timeout';
  const message = which === 'notificationUrl'
    ? (timedOut ? VALIDATION_TIMED_OUT : VALIDATION_FAILED)
    : (timedOut ? LIFECYCLE_VALIDATION_TIMED_OUT : LIFECYCLE_VALIDATION_FAILED);
  return new GraphError(400, 'ValidationError', message);
}
