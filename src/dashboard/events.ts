/**
 * One event of the dashboard's stream (docs/operations/dashboard.md#the-stream). Its data is built, and turned into
 * the SSE frame, only when a connection first sends it; the frame is then shared by every connection. An event
 * nobody is connected to see is never serialised, and one published while nobody looks keeps no data at all (a
 * position only, which cannot be replayed: ./hub.ts).
 */

export type StreamType = 'presence' | 'delivery' | 'subscription' | 'clock' | 'resync';

export class StreamEvent {
  private text: string | null = null;

  constructor(
    /** The stream position: one more than the event before it on this node. */
    readonly id: number,
    readonly type: StreamType,
    /** The tenant or tenants it concerns; null: every tenant (the clock). */
    private readonly tenants: string | readonly string[] | null,
    /** A presence event's user: a held connection keeps only the newest event of each (./connection.ts). */
    readonly userId: string | null,
    private data: (() => unknown) | null,
  ) {}

  /** False for a position only (published with no data): a replay that needs it is a resync instead. */
  get replayable(): boolean {
    return this.text !== null || this.data !== null;
  }

  concerns(tenantId: string): boolean {
    const t = this.tenants;
    return t === null || t === tenantId || (typeof t !== 'string' && t.includes(tenantId));
  }

  /** `id:`, `event:` and one `data:` line (JSON has no raw line breaks). */
  frame(): string {
    if (this.text === null) {
      this.text = `id: ${this.id}\nevent: ${this.type}\ndata: ${JSON.stringify(this.data?.() ?? {})}\n\n`;
      this.data = null;
    }
    return this.text;
  }
}
