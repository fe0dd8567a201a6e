/**
 * The built-in webhook sink (docs/notifications/testing.md) [P: d-sink]: named in-memory mailboxes that record what Presently (or
 * anyone) POSTs to `/_presently/sink/{name}`, so a test can read back the notifications that were sent.
 *
 * Bounded by what it really holds: at most `maxRecords` records and `maxBytes` per sink (the oldest go first), at most
 * `maxSinks` sinks and `maxTotalBytes` in all (the sinks written least recently go first). A record counts as its
 * JSON text, metadata and body together. Nothing is persisted.
 */
import { nestedDeeperThan } from '../platform/json/depth.ts';

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
  /** Per sink: bytes of its records as kept (the record as JSON, body included). */
  maxBytes: number;
  maxSinks: number;
  /** All sinks together, bytes as kept. */
  maxTotalBytes: number;
}

export const DEFAULT_SINK_LIMITS: SinkLimits = {
  maxRecords: 1000, maxBytes: 8 * 1024 * 1024, maxSinks: 64, maxTotalBytes: 64 * 1024 * 1024,
};

/** Headers a test may want to assert on; others (cookies, authorization…) are not kept. */
export const SINK_HEADERS = [
  'content-type', 'content-length', 'user-agent', 'client-request-id', 'request-id', 'traceparent', 'x-presently-attempt',
];

/** Sink names: letters, digits, `.`, `_`, `~`, `-`; 1–100 characters. Compared case-insensitively. */
export const SINK_NAME = /^[A-Za-z0-9._~-]{1,100}$/;

/** What a record says besides its body. */
export type SinkRecordMeta = Omit<SinkRecord, 'body'>;

/**
 * Each record is kept as its JSON text in a Buffer, so what a sink holds is exactly what it counts: a parsed body
 * would take many times the bytes that arrived (a 1 MiB `[{},{},…]` is ~20 MiB of objects).
 */
interface Sink {
  records: Buffer[];
  bytes: number;
}

export class SinkStore {
  private readonly sinks = new Map<string, Sink>();
  private total = 0;
  private readonly limits: SinkLimits;

  constructor(limits: Partial<SinkLimits> = {}) {
    this.limits = { ...DEFAULT_SINK_LIMITS, ...limits };
  }

  /** Appends a record of a request with this body (raw, as received) and content type. */
  record(name: string, meta: SinkRecordMeta, raw: Buffer | string | undefined, contentType: string | undefined): void {
    const key = name.toLowerCase();
    const sink = this.sinks.get(key) ?? { records: [], bytes: 0 };
    this.sinks.delete(key); // most recently written last
    while (this.sinks.size >= this.limits.maxSinks) this.forgetOldestSink();
    this.sinks.set(key, sink);
    const encoded = encodeRecord(meta, raw, contentType);
    sink.records.push(encoded);
    this.grow(sink, encoded.length);
    while (sink.records.length > 1 && (sink.records.length > this.limits.maxRecords || sink.bytes > this.limits.maxBytes)) {
      this.grow(sink, -sink.records.shift()!.length);
    }
    // Over the total: the sinks written least recently go first, never the one just written.
    while (this.total > this.limits.maxTotalBytes && this.sinks.size > 1) this.forgetOldestSink();
  }

  /** The sink's records, oldest first ([] for a sink that never received anything). */
  list(name: string): SinkRecord[] {
    return (this.sinks.get(name.toLowerCase())?.records ?? []).map((r) => JSON.parse(r.toString('utf8')) as SinkRecord);
  }

  /** Every sink (names lower-cased), written most recently first: how many records it holds, and its newest `limit`, newest first. */
  summaries(limit: number): Array<{ name: string; count: number; records: SinkRecord[] }> {
    return [...this.sinks].reverse().map(([name, sink]) => ({
      name,
      count: sink.records.length,
      records: sink.records.slice(-limit).reverse().map((r) => JSON.parse(r.toString('utf8')) as SinkRecord),
    }));
  }

  /** `{"value":[records, oldest first]}` as JSON text, built from the kept records without parsing them. */
  listJson(name: string): Buffer {
    const records = this.sinks.get(name.toLowerCase())?.records ?? [];
    const parts: Buffer[] = [Buffer.from('{"value":[')];
    records.forEach((r, i) => parts.push(...(i === 0 ? [r] : [COMMA, r])));
    parts.push(Buffer.from(']}'));
    return Buffer.concat(parts);
  }

  /** Forgets the sink's records. Returns how many there were. */
  clear(name: string): number {
    const key = name.toLowerCase();
    const sink = this.sinks.get(key);
    if (!sink) return 0;
    this.total -= sink.bytes;
    this.sinks.delete(key);
    return sink.records.length;
  }

  /** Bytes held by all sinks together. */
  get heldBytes(): number {
    return this.total;
  }

  private grow(sink: Sink, bytes: number): void {
    sink.bytes += bytes;
    this.total += bytes;
  }

  private forgetOldestSink(): void {
    const oldest = this.sinks.keys().next();
    if (!oldest.done) this.clear(oldest.value);
  }
}

const COMMA = Buffer.from(',');

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
 * The record as JSON text. The body as a test wants to see it: the JSON itself when it is JSON (by content type, or
 * with none), parses and nests at most MAX_JSON_DEPTH levels (so reading it back never recurses deeply), else the
 * text as a JSON string; null when empty.
 */
function encodeRecord(meta: SinkRecordMeta, raw: Buffer | string | undefined, contentType: string | undefined): Buffer {
  const head = JSON.stringify(meta);
  return Buffer.from(`${head.slice(0, -1)},"body":${bodyJson(raw, contentType)}}`, 'utf8');
}

function bodyJson(raw: Buffer | string | undefined, contentType: string | undefined): string {
  if (raw === undefined) return 'null';
  const text = typeof raw === 'string' ? raw : raw.toString('utf8');
  if (text === '') return 'null';
  if (contentType !== undefined && !/json/i.test(contentType)) return JSON.stringify(text);
  if (nestedDeeperThan(text)) return JSON.stringify(text);
  try {
    JSON.parse(text); // validates only: the text itself is kept
    return text;
  } catch {
    return JSON.stringify(text);
  }
}
