/**
 * Every configured issuer's keys, and the background loop that loads them (docs/operations/auth.md, readiness): at
 * start, each issuer's discovery document and key set are fetched; an issuer that cannot be reached is retried with
 * back-off (1 s, 2 s … a minute) while Presently runs and answers 503 with `Retry-After` for its tokens; loaded key
 * sets are fetched again on the refresh interval. Presently is ready once every issuer's keys are loaded.
 */
import type { Clock } from '../../platform/clock/clock.ts';
import { BackgroundLoop } from '../../platform/loops/backgroundLoop.ts';
import { issuerMatches, issuerSpec } from './issuers.ts';
import { ProviderKeys, type KeyStatus, type KeyTimings } from './keys.ts';

export interface Readiness {
  ready: boolean;
  /** Why not, naming each issuer whose keys are missing; null when ready. */
  reason: string | null;
  /** Seconds until the next attempt of the soonest issuer not ready (for Retry-After). */
  retryAfterSeconds: number;
  issuers: KeyStatus[];
}

export class KeyRing {
  readonly providers: ProviderKeys[];
  private readonly loop: BackgroundLoop;

  constructor(issuers: readonly string[], clock: Clock, timings: KeyTimings, opts: { onKeysDropped: () => void; onError: (err: unknown) => void }) {
    this.providers = issuers.map((issuer) => new ProviderKeys(issuerSpec(issuer), clock, timings, {
      onKeysDropped: opts.onKeysDropped,
      onRescheduled: (at) => this.loop.wakeAt(at),
    }));
    this.loop = new BackgroundLoop({
      clock,
      pass: () => this.attemptDue(clock.now()),
      nextAt: async () => Math.min(...this.providers.map((p) => p.nextAttemptAt)),
      onError: opts.onError,
    });
  }

  /** Starts the loop; resolves after the first attempt of every issuer (each bounded by the fetch timeout). */
  start(): Promise<void> {
    return this.loop.start();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  /** The provider a token with this `iss` and `tid` comes from, or undefined. */
  match(iss: string, tid: string | undefined): ProviderKeys | undefined {
    return this.providers.find((p) => issuerMatches(p.spec, iss, tid));
  }

  readiness(): Readiness {
    const waiting = this.providers.filter((p) => !p.ready);
    return {
      ready: waiting.length === 0,
      reason: waiting.length === 0 ? null
        : `the signing keys of ${waiting.map((p) => `issuer '${p.spec.issuer}' (${p.problem ?? 'loading'})`).join('; ')} are not loaded`,
      retryAfterSeconds: Math.min(...waiting.map((p) => p.retryAfterSeconds()), 60),
      issuers: this.providers.map((p) => p.status()),
    };
  }

  private async attemptDue(now: number): Promise<void> {
    await Promise.all(this.providers.filter((p) => p.nextAttemptAt <= now).map((p) => p.attempt()));
  }
}
