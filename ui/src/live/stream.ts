/**
 * One connection to the dashboard's event stream, kept open: read with fetch and a ReadableStream (EventSource cannot
 * send the admin key), parsed by SseParser, and reopened when it drops — after an exponential back-off, resuming
 * from the last event id it saw (`Last-Event-ID`), so a reconnect misses nothing the server still holds. A stream
 * silent for longer than three pings is taken as dead and reopened.
 */
import { SseParser, type SseEvent } from './sse.ts';

export type StreamStatus = 'connecting' | 'live' | 'reconnecting' | 'stopped' | 'unauthorised';

export interface StreamOptions {
  /** The stream's URL (without the resume position). */
  url: string;
  /** Headers of each request (the admin key), read at every (re)connect. */
  headers: () => Record<string, string>;
  /** The position to resume after on the first connect (the board snapshot's cursor), if any. */
  after: number | null;
  onEvent: (event: SseEvent) => void;
  onStatus: (status: StreamStatus) => void;
}

export const BACKOFF_BASE_MS = 500;
export const BACKOFF_CAP_MS = 30_000;
/** The server pings every 15 s: this long without a byte means the connection is gone. */
export const SILENCE_LIMIT_MS = 45_000;

/** The wait before reconnect number `attempt` (from 0): 0.5 s, 1 s, 2 s … capped at 30 s, ±20 % jitter. */
export function backoffMs(attempt: number, random: () => number = Math.random, base = BACKOFF_BASE_MS): number {
  const exp = Math.min(BACKOFF_CAP_MS, base * 2 ** Math.min(attempt, 16));
  return Math.round(exp * (0.8 + 0.4 * random()));
}

export class LiveStream {
  private lastId: string | null;
  private controller: AbortController | null = null;
  private stopped = false;
  private attempt = 0;
  private retryBaseMs = BACKOFF_BASE_MS;

  constructor(private readonly opts: StreamOptions) {
    this.lastId = opts.after === null ? null : String(opts.after);
  }

  /** The id of the last event received (where a reconnect resumes). */
  get lastEventId(): string | null {
    return this.lastId;
  }

  start(): void {
    void this.run();
  }

  stop(): void {
    this.stopped = true;
    this.controller?.abort();
    this.opts.onStatus('stopped');
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      this.opts.onStatus(this.attempt === 0 ? 'connecting' : 'reconnecting');
      const outcome = await this.connectOnce().catch(() => 'dropped' as const);
      if (this.stopped) return;
      if (outcome === 'unauthorised') {
        this.stopped = true;
        this.opts.onStatus('unauthorised');
        return;
      }
      this.opts.onStatus('reconnecting');
      await new Promise((resolve) => setTimeout(resolve, backoffMs(this.attempt++, Math.random, this.retryBaseMs)));
    }
  }

  /** One connection, read to its end: how it ended. */
  private async connectOnce(): Promise<'ended' | 'dropped' | 'unauthorised'> {
    const controller = new AbortController();
    this.controller = controller;
    const headers: Record<string, string> = { accept: 'text/event-stream', ...this.opts.headers() };
    if (this.lastId !== null) headers['last-event-id'] = this.lastId;
    const res = await fetch(this.opts.url, { headers, cache: 'no-store', signal: controller.signal });
    if (res.status === 401) return 'unauthorised';
    if (!res.ok || !res.body) return 'dropped';
    this.opts.onStatus('live');
    const parser = new SseParser(this.lastId);
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let watchdog = setTimeout(() => controller.abort(), SILENCE_LIMIT_MS);
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return 'ended';
        clearTimeout(watchdog);
        watchdog = setTimeout(() => controller.abort(), SILENCE_LIMIT_MS);
        this.attempt = 0;
        for (const event of parser.push(value)) this.deliver(event);
        if (parser.retryMs !== null) this.retryBaseMs = Math.max(100, parser.retryMs);
      }
    } finally {
      clearTimeout(watchdog);
    }
  }

  private deliver(event: SseEvent): void {
    this.lastId = event.id;
    if (!this.stopped) this.opts.onEvent(event);
  }
}
