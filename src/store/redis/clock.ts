/**
 * The shared clock port on Redis. With `--clock manual`, the time lives in `<prefix>clock`
 * (src/platform/clock/shared.ts): set if absent at start, so the nodes agree on one start; moved only forward by a
 * script that also publishes the new time on the channel `<prefix>clock`, so each node's local copy follows. Pub/sub
 * needs a connection of its own: `subscribe` opens one (closed by the returned function, or by closeAll).
 */
import type { SharedClockBackend } from '../../platform/clock/shared.ts';
import type { Client, RedisContext } from './context.ts';
import { CLOCK_ADVANCE, CLOCK_INIT } from './scripts.ts';

export async function quit(client: Client): Promise<void> {
  try {
    await client.quit();
  } catch {
    client.disconnect();
  }
}

export class RedisSharedClock implements SharedClockBackend {
  /** Pub/sub connections opened by subscribe, closed with the store. */
  private readonly subscribers = new Set<Client>();
  private closed = false;
  private readonly key: string;

  constructor(private readonly ctx: RedisContext) {
    this.key = `${ctx.prefix}clock`;
  }

  async read(): Promise<number | null> {
    const v = await this.ctx.client.get(this.key);
    return v === null ? null : Number(v);
  }

  async init(start: number): Promise<number> {
    return Number(await this.ctx.run(CLOCK_INIT, [this.key], [start]));
  }

  async advanceTo(to: number, from?: number): Promise<{ now: number; moved: boolean }> {
    const [moved, now] = await this.ctx.run(CLOCK_ADVANCE, [this.key], [to, from === undefined ? '' : from, this.key]) as [number, string];
    return { moved: moved === 1, now: now === '' ? to : Number(now) };
  }

  async subscribe(onChange: (now: number) => void): Promise<() => Promise<void>> {
    if (this.closed) throw new Error('the Redis store is closed');
    const channel = this.key;
    const sub = this.ctx.client.duplicate();
    sub.on('error', () => {});
    sub.on('message', (ch: string, message: string) => {
      const now = Number(message);
      if (ch === channel && Number.isFinite(now)) onChange(now);
    });
    this.subscribers.add(sub);
    try {
      // The copy is lazy like the original, and refuses commands until connected (no offline queue): connect first.
      await sub.connect();
      await sub.subscribe(channel);
    } catch (err) {
      this.subscribers.delete(sub);
      sub.disconnect();
      throw err;
    }
    return async () => {
      if (!this.subscribers.delete(sub)) return;
      await quit(sub);
    };
  }

  /** Closes every subscription (the store is closing). */
  async closeAll(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([...this.subscribers].map((sub) => quit(sub)));
    this.subscribers.clear();
  }
}
