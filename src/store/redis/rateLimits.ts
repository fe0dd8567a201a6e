/**
 * The rate-limit port on Redis, shared by every node: one hash per key (`<prefix>rl:<key>`: `e`, when the window
 * ends, and one `#<name>` field per counter), checked and counted by one script, so concurrent requests on any nodes
 * count exactly once each and never past a limit. The key hashes on its own name, so keys spread over a cluster. It
 * expires KEY_TTL_WINDOWS window lengths (real time) after its window opened: storage clean-up only, the window's end
 * is judged by the server clock's `now`.
 */
import type { RateLimitPort } from '../ports/rateLimits.ts';
import type { RedisContext } from './context.ts';
import { TAKE_RATE } from './scripts.ts';

/** A window's key outlives its window this many times over (real time), so clocks apart by less lose nothing. */
const KEY_TTL_WINDOWS = 2;

export class RedisRateLimits implements RateLimitPort {
  constructor(private readonly ctx: RedisContext) {}

  async takeRate(key: string, limits: Readonly<Record<string, number>>, now: number, windowMs: number): Promise<number> {
    const counters = Object.entries(limits).flatMap(([name, limit]) => [`#${name}`, limit]);
    const wait = await this.ctx.run(TAKE_RATE, [`${this.ctx.prefix}rl:${key}`], [
      Math.floor(now), Math.floor(windowMs), Math.ceil(windowMs * KEY_TTL_WINDOWS), ...counters,
    ]);
    return Number(wait);
  }
}
