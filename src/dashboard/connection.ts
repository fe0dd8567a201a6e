/**
 * One open event stream and its back-pressure (docs/operations/dashboard.md#back-pressure). While the socket takes
 * what is written (`write()` returns true) every event goes out as it comes. Once it does not, nothing more is
 * written until 'drain': meanwhile the connection keeps only the newest presence event of each user (a card is the
 * user's whole state, so a newer one replaces an older) and up to `heldOthers` other events. When even that overflows,
 * it drops everything it held and, on 'drain', sends `resync` instead (the app reads the board again). So a slow or
 * stalled reader holds at most the socket's buffer and these bounded references, and is never waited for.
 */
import type { StreamEvent } from './events.ts';

/** The part of an HTTP/1 or HTTP/2 response a stream writes to. */
export interface EventSink {
  write(chunk: string): boolean;
  once(event: 'drain', listener: () => void): unknown;
  end(): unknown;
  destroy(): unknown;
  readonly writableLength: number;
}

export interface HoldLimits {
  /** Users whose newest card is kept while the socket is full. */
  heldCards: number;
  /** Other events (deliveries, subscriptions, clock) kept while the socket is full. */
  heldOthers: number;
}

export const HOLD_LIMITS: HoldLimits = { heldCards: 10_000, heldOthers: 1000 };

/** What a connection holds, for tests and the docs' claims. */
export interface ConnectionStats {
  tenantId: string;
  /** Waiting for 'drain'. */
  held: boolean;
  heldCards: number;
  heldOthers: number;
  /** Bytes written and not yet taken by the socket. */
  bufferedBytes: number;
  /** Cards replaced by a newer one of the same user while held. */
  coalesced: number;
  /** Times everything held was dropped for a resync. */
  overflows: number;
}

export class StreamConnection {
  private held = false;
  private overflowed = false;
  private closed = false;
  private readonly cards = new Map<string, StreamEvent>();
  private others: StreamEvent[] = [];
  private coalesced = 0;
  private overflows = 0;

  constructor(
    private readonly out: EventSink,
    readonly tenantId: string,
    /** The stream's position now: the id a resync sent in place of dropped events carries. */
    private readonly position: () => number,
    private readonly limits: HoldLimits = HOLD_LIMITS,
  ) {}

  /** Sends the event if it concerns this stream's tenant: now, or once the socket drains. */
  offer(event: StreamEvent): void {
    if (this.closed || !event.concerns(this.tenantId)) return;
    if (this.held) this.hold(event);
    else this.send(event.frame());
  }

  /** Tells the app to read the board again (its cursor is older than what the stream holds). */
  resync(): void {
    if (this.held) this.overflow();
    else this.send(resyncFrame(this.position()));
  }

  /** A comment line that keeps proxies and the idle timeout from closing a quiet stream. */
  ping(): void {
    if (!this.closed && !this.held) this.send(': ping\n\n');
  }

  /** Ends the stream; a socket that is not taking what it was sent is destroyed rather than waited for. */
  end(): void {
    if (this.closed) return;
    const stuck = this.held || this.out.writableLength > 0;
    this.forget();
    this.out.end();
    if (stuck) this.out.destroy();
  }

  /** The peer went away: drop what is held. */
  forget(): void {
    this.closed = true;
    this.cards.clear();
    this.others = [];
  }

  stats(): ConnectionStats {
    return {
      tenantId: this.tenantId, held: this.held, heldCards: this.cards.size, heldOthers: this.others.length,
      bufferedBytes: this.out.writableLength, coalesced: this.coalesced, overflows: this.overflows,
    };
  }

  private send(text: string): void {
    if (this.out.write(text)) return;
    this.held = true;
    this.out.once('drain', () => this.drained());
  }

  private hold(event: StreamEvent): void {
    if (this.overflowed) return;
    if (event.type === 'presence' && event.userId !== null) {
      if (this.cards.delete(event.userId)) this.coalesced++;
      this.cards.set(event.userId, event);
    } else {
      this.others.push(event);
    }
    if (this.cards.size > this.limits.heldCards || this.others.length > this.limits.heldOthers) this.overflow();
  }

  private overflow(): void {
    this.overflowed = true;
    this.overflows++;
    this.cards.clear();
    this.others = [];
  }

  /** The socket took its buffer: send what was held, in stream order (or the resync that replaces it). */
  private drained(): void {
    this.held = false;
    if (this.closed) return;
    if (this.overflowed) {
      this.overflowed = false;
      this.send(resyncFrame(this.position()));
      return;
    }
    const queue = [...this.cards.values(), ...this.others].sort((a, b) => a.id - b.id);
    this.cards.clear();
    this.others = [];
    // Once the socket is full again, the rest is held again (by the same rules).
    for (const event of queue) this.offer(event);
  }
}

/** A resync in place of events this stream does not have: its id is the stream's position, so a resume starts there. */
export function resyncFrame(position: number): string {
  return `id: ${position}\nevent: resync\ndata: {}\n\n`;
}
