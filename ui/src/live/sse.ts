/**
 * A parser of the `text/event-stream` format (the HTML standard's rules): fed the decoded text as it arrives, in
 * chunks cut anywhere, it returns the complete events. `id` is the last id seen (it carries over to later events
 * without one); comment lines (`: ping`) are skipped; an event without data is not dispatched.
 */
export interface SseEvent {
  type: string;
  data: string;
  /** The last event id seen, or null before any. */
  id: string | null;
}

export class SseParser {
  private buffer = '';
  private type = '';
  private data: string[] = [];
  private lastId: string | null = null;
  /** A chunk that ended with `\r`: a `\n` at the start of the next one belongs to the same line end. */
  private pendingCr = false;
  /** Milliseconds the server asked to wait before reconnecting (`retry:`), if it did. */
  retryMs: number | null = null;

  constructor(lastEventId: string | null = null) {
    this.lastId = lastEventId;
  }

  get lastEventId(): string | null {
    return this.lastId;
  }

  push(chunk: string): SseEvent[] {
    if (this.pendingCr && chunk.startsWith('\n')) chunk = chunk.slice(1);
    this.pendingCr = chunk.endsWith('\r');
    this.buffer += chunk;
    const events: SseEvent[] = [];
    const lines = this.buffer.split(/\r\n|\r|\n/);
    this.buffer = lines.pop() ?? '';
    for (const line of lines) {
      const event = this.line(line);
      if (event) events.push(event);
    }
    return events;
  }

  private line(line: string): SseEvent | null {
    if (line === '') return this.dispatch();
    if (line.startsWith(':')) return null;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') this.type = value;
    else if (field === 'data') this.data.push(value);
    else if (field === 'id' && !value.includes('\0')) this.lastId = value;
    else if (field === 'retry' && /^\d+$/.test(value)) this.retryMs = Number(value);
    return null;
  }

  private dispatch(): SseEvent | null {
    const event = this.data.length ? { type: this.type || 'message', data: this.data.join('\n'), id: this.lastId } : null;
    this.type = '';
    this.data = [];
    return event;
  }
}
