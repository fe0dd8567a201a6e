/**
 * The endpoint health port on Redis, shared by every node: each POST's duration is appended to the endpoint's list
 * and the list trimmed to the latest `keep` in one script, so all nodes judge an endpoint by the same last samples,
 * whichever node recorded them; a throttled endpoint's turn is taken with a script (set the end of the turn unless
 * the current turn has not ended). The keys hash on their own names (the URL's SHA-1), so endpoints spread over the
 * cluster; both expire after ENDPOINT_TTL_MS of real time without a POST — storage clean-up only: the deliverer
 * forgets samples by the server clock's time.
 */
import { createHash } from 'node:crypto';
import { decodeSample, encodeSample } from '../codec.ts';
import type { EndpointHealthPort, EndpointSample } from '../ports/endpoints.ts';
import type { RedisContext } from './context.ts';
import { RECORD_ENDPOINT_DURATION, TAKE_ENDPOINT_TURN } from './scripts.ts';

/** A webhook endpoint's keys expire after this long (real time) without a POST: clean-up only. */
const ENDPOINT_TTL_MS = 24 * 60 * 60_000;

export class RedisEndpointHealth implements EndpointHealthPort {
  constructor(private readonly ctx: RedisContext) {}

  private key(url: string, suffix: 'd' | 't'): string {
    return `${this.ctx.prefix}ep:${createHash('sha1').update(url).digest('hex')}:${suffix}`;
  }

  async recordEndpointDuration(url: string, durationMs: number, at: number, keep: number): Promise<EndpointSample[]> {
    const kept = await this.ctx.run(RECORD_ENDPOINT_DURATION, [this.key(url, 'd')], [
      encodeSample({ at, ms: durationMs }), keep, ENDPOINT_TTL_MS,
    ]) as string[];
    return kept.map(decodeSample);
  }

  async endpointDurations(url: string): Promise<EndpointSample[]> {
    return (await this.ctx.client.lrange(this.key(url, 'd'), 0, -1)).map(decodeSample);
  }

  async takeEndpointTurn(url: string, now: number, until: number): Promise<{ taken: boolean; until: number }> {
    const [taken, end] = await this.ctx.run(TAKE_ENDPOINT_TURN, [this.key(url, 't')], [now, until, ENDPOINT_TTL_MS]) as [number, string];
    return { taken: taken === 1, until: Number(end) };
  }
}
