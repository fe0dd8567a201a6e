/**
 * The stream hub (docs/operations/dashboard.md#the-stream): every event this node publishes gets the next stream
 * position, goes into a ring of the latest `capacity` events (what a reconnecting app is replayed from) and is offered
 * to each open connection (./connection.ts: back-pressure per connection). Publishing with nobody connected stores
 * one small object in the ring and serialises nothing.
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
  limits?: HoldLimits;
}

export const HUB_CAPACITY = 10_000;
export const PING_MS = 15_000;

export class StreamHub {
  private readonly ring: (StreamEvent | undefined)[];
  private readonly capacity: number;
  /** The position of the latest event. */
  private last: number;
  private held = 0;
  private readonly connections = new Set<StreamConnection>();
  private pinger: ReturnType<typeof setInterval> | null = null;
  private closed = false;

  constructor(private readonly opts: HubOptions) {
    this.capacity = opts.capacity ?? HUB_CAPACITY;
    this.ring = new Array<StreamEvent | undefined>(this.capacity);
    this.last = opts.firstId - 1;
  }

  /** The position of the latest event (a board read now is consistent with it). */
  get position(): number {
    return this.last;
  }

  /** `data` is called when (and only if) a connection first sends the event. */
  publish(type: StreamType, tenants: string | readonly string[] | null, userId: string | null, data: () => unknown): void {
    const event = new StreamEvent(++this.last, type, tenants, userId, data);
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
        if (this.connections.size === 0) this.stopPinging();
      },
    };
  }

  private replay(connection: StreamConnection, after: number): void {
    const oldest = this.last - this.held + 1;
    if (after > this.last || after < oldest - 1) {
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
