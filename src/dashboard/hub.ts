/**
 * The stream hub (docs/operations/dashboard.md#the-stream): every event this node publishes gets the next stream
 * position, goes into a ring of the latest `capacity` events (what a reconnecting app is replayed from) and is offered
 * to each open connection (./connection.ts: back-pressure per connection). Publishing serialises nothing until a
 * connection sends the event.
 *
 * While nobody looks (no stream open, and none closed nor a board read in the last `keepMs`), an event goes into the
 * ring as its position only, without the closure that would build its data: that closure holds the change's record
 * and timeline entry, or a deliveries-log entry, and 10,000 of them kept a 100,000-user server's heap 10–15 MB and a
 * few hundred thousand objects larger for no one (issue 13). A resume across such positions is a resync, as one from
 * too far back is; a page that reads the board and then connects, or reconnects within `keepMs`, is replayed as before.
 *
 * Positions start, on each run of the node, above those of any earlier run (the composition root passes the wall
 * clock in microseconds), so a cursor from before a restart is "too old" and answered with a resync, never with the
 * new run's unrelated events.
 */
import { clearInterval, setInterval } from 'node:timers';
import { HOLD_LIMITS, StreamConnection, type ConnectionStats, type EventSink, type HoldLimits } from './connection.ts';
import { StreamEvent, type StreamType } from './events.ts';

export interface HubOptions {
  /** The position of this run's first event. */
  firstId: number;
  /** Events kept for resuming. */
  capacity?: number;
  /** Real milliseconds between pings (a comment line) on each open stream. */
  pingMs?: number;
  /** Real milliseconds events keep their data for a replay after the last stream closed or board was read. */
  keepMs?: number;
  /** Real time in milliseconds (tests pass their own). */
  realNow?: () => number;
  limits?: HoldLimits;
}

export const HUB_CAPACITY = 10_000;
export const PING_MS = 15_000;
export const KEEP_MS = 60_000;

export class StreamHub {
  private readonly ring: (StreamEvent | undefined)[];
  private readonly capacity: number;
  /** The position of the latest event. */
  private last: number;
  private held = 0;
  private readonly connections = new Set<StreamConnection>();
  private pinger: ReturnType<typeof setInterval> | null = null;
  private closed = false;
  /** Until when (real time, `realNow`) events keep their data with no stream open; -Infinity: nobody has looked yet. */
  private keepUntil = -Infinity;

  private readonly realNow: () => number;

  constructor(private readonly opts: HubOptions) {
    this.realNow = opts.realNow ?? (() => performance.now());
    this.capacity = opts.capacity ?? HUB_CAPACITY;
    this.ring = new Array<StreamEvent | undefined>(this.capacity);
    this.last = opts.firstId - 1;
  }

  /** The position of the latest event (a board read now is consistent with it). */
  get position(): number {
    return this.last;
  }

  /** Someone is looking (a board read: a stream from its cursor is about to follow): keep events replayable. */
  looked(): void {
    this.keepUntil = this.realNow() + (this.opts.keepMs ?? KEEP_MS);
  }

  /** `data` is called when (and only if) a connection first sends the event. */
  publish(type: StreamType, tenants: string | readonly string[] | null, userId: string | null, data: () => unknown): void {
    const keep = this.connections.size > 0 || this.realNow() < this.keepUntil;
    const event = new StreamEvent(++this.last, type, tenants, userId, keep ? data : null);
    this.ring[this.last % this.capacity] = event;
    if (this.held < this.capacity) this.held++;
    for (const connection of this.connections) connection.offer(event);
  }

  /** The latest event, if any (a resync right after a resync says nothing new). */
  latest(): StreamEvent | undefined {
    return this.held === 0 ? undefined : this.ring[this.last % this.capacity];
  }

  /**
   * Opens a stream of the tenant's events on `out`. With `after` (the app's last position), first replays what
   * came after it, or sends a resync when that is no longer held (or is not from this run). Call `closed` when the
   * peer goes away. Closing the server ends every stream (HTTP/2 sessions are closed by src/http/app.ts).
   */
  connect(
    out: EventSink, tenantId: string, after: number | null,
  ): { connection: StreamConnection; closed: () => void } {
    const connection = new StreamConnection(out, tenantId, () => this.last, this.opts.limits ?? HOLD_LIMITS);
    out.write(': connected\n\n');
    if (this.closed) {
      connection.end();
      return { connection, closed: () => {} };
    }
    this.connections.add(connection);
    this.startPinging();
    if (after !== null) this.replay(connection, after);
    return {
      connection,
      closed: () => {
        connection.forget();
        this.connections.delete(connection);
        if (this.connections.size === 0) {
          this.stopPinging();
          this.looked();
        }
      },
    };
  }

  private replay(connection: StreamConnection, after: number): void {
    const oldest = this.last - this.held + 1;
    let whole = after <= this.last && after >= oldest - 1;
    for (let id = after + 1; whole && id <= this.last; id++) whole = this.ring[id % this.capacity]!.replayable;
    if (!whole) {
      connection.resync();
      return;
    }
    for (let id = after + 1; id <= this.last; id++) connection.offer(this.ring[id % this.capacity]!);
  }

  stats(): ConnectionStats[] {
    return [...this.connections].map((c) => c.stats());
  }

  /** Ends every stream (the server is closing) and refuses new ones. */
  close(): void {
    this.closed = true;
    this.stopPinging();
    for (const connection of this.connections) connection.end();
    this.connections.clear();
  }

  private startPinging(): void {
    if (this.pinger) return;
    this.pinger = setInterval(() => {
      for (const connection of this.connections) connection.ping();
    }, this.opts.pingMs ?? PING_MS);
    this.pinger.unref();
  }

  private stopPinging(): void {
    if (this.pinger) clearInterval(this.pinger);
    this.pinger = null;
  }
}
