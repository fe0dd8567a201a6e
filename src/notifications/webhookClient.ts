/**
 * The HTTP client Presently uses to call webhook receivers: the validation handshake and notification POSTs.
 * Node's fetch (undici) with keep-alive connection pooling; every call has a hard timeout and never throws: the
 * outcome says what happened, for the caller's retry logic and the deliveries log.
 */

export interface WebhookOutcome {
  /** HTTP status, or 0 when no response arrived (connection refused, timeout, TLS failure…). */
  status: number;
  /** Milliseconds from the start of the request to the end of the response body (or to the failure). */
  durationMs: number;
  /** The response body as text (truncated to 64 KiB), '' when none. */
  body: string;
  contentType: string | null;
  /** Why no usable response arrived: 'timeout', or the network error's message. */
  error: string | null;
}

const MAX_BODY = 64 * 1024;

async function send(url: string, init: RequestInit, timeoutMs: number): Promise<WebhookOutcome> {
  const started = performance.now();
  const signal = AbortSignal.timeout(timeoutMs);
  try {
    const res = await fetch(url, { ...init, signal, redirect: 'manual' });
    const text = await res.text();
    return {
      status: res.status,
      durationMs: performance.now() - started,
      body: text.length > MAX_BODY ? text.slice(0, MAX_BODY) : text,
      contentType: res.headers.get('content-type'),
      error: null,
    };
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string } };
    const timedOut = signal.aborted || e.name === 'TimeoutError' || e.name === 'AbortError';
    return {
      status: 0,
      durationMs: performance.now() - started,
      body: '',
      contentType: null,
      error: timedOut ? 'timeout' : (e.cause?.code ?? e.cause?.message ?? e.message),
    };
  }
}

/** POSTs JSON (a notification batch). */
export function postJson(url: string, body: unknown, timeoutMs: number): Promise<WebhookOutcome> {
  return send(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  }, timeoutMs);
}

/** POSTs plain text (the validation handshake). */
export function postText(url: string, text: string, timeoutMs: number): Promise<WebhookOutcome> {
  return send(url, {
    method: 'POST',
    headers: { 'content-type': 'text/plain; charset=utf-8' },
    body: text,
  }, timeoutMs);
}
