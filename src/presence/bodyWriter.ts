/**
 * An answer's JSON written as UTF-8 bytes into one reused buffer, then copied out whole: getPresencesByUserId's body
 * of up to 650 items (about 270 KB) without a string of it.
 *
 * A body built by concatenating strings is a rope of some 2,000 parts. Fastify measures it (`Buffer.byteLength`,
 * which first copies the rope into one flat string of its own) and the socket write encodes that string again: about
 * 450 µs for 650 items, against 250–350 µs to write the same bytes here (BENCHMARKS.md, 2026-12-07 02:55). Each
 * view's rendering is kept as UTF-8 bytes and copied (./render.ts); ids and sequence numbers are ASCII and written a
 * character at a time. One writer serves one request at a time: `take` ends it.
 */

/** The first buffer's size: a 650-item answer of views without a status message fits. */
const INITIAL_BYTES = 512 * 1024;
/** A buffer grown past this for one large answer (long status messages) is let go after it, not kept for the next. */
const KEPT_BYTES = 2 * 1024 * 1024;

const utf8 = new TextEncoder();
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * `text` as UTF-8 in bytes of their own, for keeping (./render.ts): `Buffer.from` would hand out a slice of Node's
 * shared 8 KiB pool, and a kept slice of 400 bytes holds its whole pool buffer for as long as it is kept.
 */
export function ownBytes(text: string): Uint8Array {
  return utf8.encode(text);
}

export class BodyWriter {
  /** Empty until the first write: a server that never answers a list never holds the buffer. */
  private buf = Buffer.allocUnsafe(0);
  private at = 0;

  constructor(private readonly initialBytes = INITIAL_BYTES) {}

  /** A string of ASCII characters only (the caller knows: constants, GUIDs, sequence numbers). */
  ascii(text: string): void {
    this.room(text.length);
    const { buf } = this;
    let at = this.at;
    for (let i = 0; i < text.length; i++) buf[at++] = text.charCodeAt(i);
    this.at = at;
  }

  /** Bytes as they are (a rendering kept encoded: ./render.ts). */
  bytes(bytes: Uint8Array): void {
    this.room(bytes.length);
    this.buf.set(bytes, this.at);
    this.at += bytes.length;
  }

  /** Any string, as UTF-8. */
  text(text: string): void {
    // UTF-8 takes at most 3 bytes for each UTF-16 unit (4 for a surrogate pair, which is 2 units).
    this.room(text.length * 3);
    this.at += this.buf.write(text, this.at, 'utf8');
  }

  /**
   * A string or null as JSON, the bytes of `JSON.stringify(value)`: ASCII that needs no escaping is written as it is
   * read, anything else (a quote, a control character, any other script) through JSON.stringify.
   */
  json(value: string | null): void {
    if (value === null) {
      this.ascii('null');
      return;
    }
    this.room(value.length + 2);
    const { buf } = this;
    let at = this.at;
    buf[at++] = QUOTE;
    for (let i = 0; i < value.length; i++) {
      const c = value.charCodeAt(i);
      if (c < 0x20 || c === QUOTE || c === BACKSLASH || c > 0x7f) {
        this.text(JSON.stringify(value));
        return;
      }
      buf[at++] = c;
    }
    buf[at++] = QUOTE;
    this.at = at;
  }

  /** The text written since the last `take` (UTF-8 decoded); the writer starts over. */
  takeText(): string {
    const text = this.buf.toString('utf8', 0, this.at);
    this.at = 0;
    if (this.buf.length > KEPT_BYTES) this.buf = Buffer.allocUnsafe(0);
    return text;
  }

  /** The bytes written since the last `take`, in a buffer of their own; the writer starts over. */
  take(): Buffer {
    const body = Buffer.allocUnsafe(this.at);
    this.buf.copy(body, 0, 0, this.at);
    this.at = 0;
    if (this.buf.length > KEPT_BYTES) this.buf = Buffer.allocUnsafe(0);
    return body;
  }

  /** Grows the buffer (doubling, from `initialBytes`) until `more` bytes fit after what is written. */
  private room(more: number): void {
    if (this.at + more <= this.buf.length) return;
    let size = Math.max(this.initialBytes, this.buf.length * 2);
    while (this.at + more > size) size *= 2;
    const bigger = Buffer.allocUnsafe(size);
    this.buf.copy(bigger, 0, 0, this.at);
    this.buf = bigger;
  }
}
