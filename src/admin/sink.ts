/**
 * The built-in webhook sink (notifications.md §4) [P]: named in-memory mailboxes that record what Presently (or
 * anyone) POSTs to `/_presently/sink/{name}`, so a test can read back the notifications that were sent.
 *
 * Bounded: at most `maxRecords` records and `maxBytes` of bodies per sink (the oldest go first), and at most
 * `maxSinks` sinks (the one written least recently goes first). Nothing is persisted.
 */

export interface SinkRecord {
  /** When it arrived, by the server clock: `2026-11-28T08:00:00.0000000Z`. */
  receivedDateTime: string;
  method: string;
  /** The request path and query. */
  url: string;
  /** The headers of interest (lower-case names), when present. */
  headers: Record<string, string>;
  /** The JSON body, parsed; the text when it is not JSON; null when empty. */
  body: unknown;
}

export interface SinkLimits {
  maxRecords: number;
  maxBytes: number;
  maxSinks: number;
}

export const DEFAULT_SINK_LIMITS: SinkLimits = { maxRecords: 1000, maxBytes: 8 * 1024 * 1024, maxSinks: 64 };

/** Headers a test may want to assert on; others (cookies, authorization…) are not kept. */
export const SINK_HEADERS = [
  'content-type', 'content-length', 'user-agent', 'client-request-id', 'request-id', 'traceparent', 'x-presently-attempt',
];

/** Sink names: letters, digits, `.`, `_`, `~`, `-`; 1–100 characters. Compared case-insensitively. */
export const SINK_NAME = /^[A-Za-z0-9._~-]{1,100}$/;

interface Sink {
  records: Array<{ record: SinkRecord; bytes: number }>;
  bytes: number;
}

export class SinkStore {
  private readonly sinks = new Map<string, Sink>();

  constructor(private readonly limits: SinkLimits = DEFAULT_SINK_LIMITS) {}

  /** Appends a record; `bytes` is the size of the body as received. */
  record(name: string, record: SinkRecord, bytes: number): void {
    const key = name.toLowerCase();
    let sink = this.sinks.get(key);
    if (sink) {
      this.sinks.delete(key); // most recently written last
    } else {
      sink = { records: [], bytes: 0 };
      while (this.sinks.size >= this.limits.maxSinks) {
        const oldest = this.sinks.keys().next();
        if (oldest.done) break;
        this.sinks.delete(oldest.value);
      }
    }
    this.sinks.set(key, sink);
    sink.records.push({ record, bytes });
    sink.bytes += bytes;
    while (sink.records.length > 1 && (sink.records.length > this.limits.maxRecords || sink.bytes > this.limits.maxBytes)) {
      sink.bytes -= sink.records.shift()!.bytes;
    }
  }

  /** The sink's records, oldest first ([] for a sink that never received anything). */
  list(name: string): SinkRecord[] {
    return (this.sinks.get(name.toLowerCase())?.records ?? []).map((r) => r.record);
  }

  /** Forgets the sink's records. Returns how many there were. */
  clear(name: string): number {
    const key = name.toLowerCase();
    const n = this.sinks.get(key)?.records.length ?? 0;
    this.sinks.delete(key);
    return n;
  }
}

/** The kept headers of a request. */
export function pickHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of SINK_HEADERS) {
    const value = headers[name];
    if (value !== undefined) out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

/**
 * The body as a test wants to see it: parsed JSON when it is JSON (by content type, or with none) and parses, else
 * the text; null when empty.
 */
export function decodeBody(raw: Buffer | string | undefined, contentType: string | undefined): unknown {
  if (raw === undefined) return null;
  const text = typeof raw === 'string' ? raw : raw.toString('utf8');
  if (text === '') return null;
  if (contentType !== undefined && !/json/i.test(contentType)) return text;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
