/**
 * Endpoint health: Graph's slow-endpoint rule, and what one node knows of an endpoint.
 *
 * Each URL keeps the durations of its last 100 POSTs; when more than 10 % took over 2.9 s it is throttled (one POST
 * per 10 minutes, failed items wait at least 10 minutes); at 15 % its items are dropped. Durations are real network
 * time; samples older than an hour are forgotten, so an endpoint recovers [P]. The samples and the throttled
 * endpoint's turn are kept in the store (`recordEndpointDuration`, `takeEndpointTurn`), so every node sharing it
 * judges an endpoint by the same last 100 POSTs, whichever node made them, and a throttled endpoint gets one POST
 * per 10 minutes from all nodes together; the rule itself is here (`endpointState`). Each node caches an endpoint's
 * samples: refreshed by every POST it records and, on a shared store, whenever it claims items for the endpoint.
 */
import type { EndpointSample, Store } from '../store/types.ts';

export const SLOW_MS = 2900;
export const HEALTH_WINDOW = 100;
export const THROTTLE_WAIT_MS = 10 * 60_000;
export const SAMPLE_MAX_AGE_MS = 60 * 60_000;

export type EndpointState = 'ok' | 'throttled' | 'dropping';

/** Why a dropping endpoint's items are dropped (the deliveries log). */
export const SLOW_ENDPOINT_ERROR = 'endpoint too slow: 15 % or more of its last 100 deliveries took over 2.9 s';

/**
 * Graph's slow-endpoint rule over the durations (ms) of an endpoint's last 100 deliveries (only the last 100 of
 * `durations` count; fewer count as that many of 100): more than 10 % over 2.9 s is `throttled`, 15 % or more is
 * `dropping`.
 */
export function endpointState(durations: readonly number[]): EndpointState {
  const from = Math.max(0, durations.length - HEALTH_WINDOW);
  let slow = 0;
  for (let i = from; i < durations.length; i++) if (durations[i]! > SLOW_MS) slow++;
  if (slow * 100 >= 15 * HEALTH_WINDOW) return 'dropping';
  if (slow * 100 > 10 * HEALTH_WINDOW) return 'throttled';
  return 'ok';
}

/** One endpoint's health as this node knows it: the store's samples, and when its next throttled turn is. */
export class EndpointHealth {
  /** Throttled: no POST before this clock instant (this node's view; the turn itself is taken in the store). */
  nextAllowedAt = 0;
  /** The store's samples of the endpoint, as last read or recorded here, oldest first. */
  private samples: EndpointSample[] = [];
  /** Whether `samples` has been read from the store since this object was made. */
  loaded = false;

  constructor(
    readonly url: string,
    private readonly store: Store,
  ) {}

  /** Reads the samples from the store (other nodes record there too). */
  async refresh(): Promise<void> {
    this.set(await this.store.endpointDurations(this.url));
  }

  /** Records a POST's duration in the store; when the store fails, the sample is kept here so this node sees it. */
  async record(ms: number, now: number, onError: (err: unknown) => void): Promise<void> {
    try {
      this.set(await this.store.recordEndpointDuration(this.url, ms, now, HEALTH_WINDOW));
    } catch (err) {
      this.samples = [...this.samples, { at: now, ms }].slice(-HEALTH_WINDOW);
      onError(err);
    }
  }

  /**
   * Takes the throttled endpoint's turn (until `until`) in the store. Not taken: another node had it meanwhile, and
   * `until` is when that one ends (this node waits for it too).
   */
  async takeTurn(now: number, until: number): Promise<{ taken: boolean; until: number }> {
    const turn = await this.store.takeEndpointTurn(this.url, now, until);
    if (!turn.taken) this.nextAllowedAt = Math.max(this.nextAllowedAt, turn.until);
    return turn;
  }

  /** The rule over the last 100 samples, less those older than an hour (by the server clock). */
  state(now: number): EndpointState {
    return endpointState(this.samples.filter((s) => now - s.at <= SAMPLE_MAX_AGE_MS).map((s) => s.ms));
  }

  /** Average POST duration, for estimating how fast the endpoint drains. */
  averageMs(): number {
    if (this.samples.length === 0) return 100;
    return this.samples.reduce((a, s) => a + s.ms, 0) / this.samples.length;
  }

  private set(samples: EndpointSample[]): void {
    this.samples = samples.slice(-HEALTH_WINDOW);
    this.loaded = true;
  }
}
