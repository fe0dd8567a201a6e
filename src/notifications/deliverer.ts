/**
 * The deliverer (notifications.md §2, §3): sends the queued deliveries to their endpoints, at least once.
 *
 * - Claims due deliveries from the store with a lease (`claimDeliveries`), holds them in memory per endpoint (URL),
 *   and POSTs them in batches of up to `batchSize` items: `{"value": [...]}`, plus `validationTokens` (one per app
 *   and tenant) when an item is rich. Rich items are encrypted at each send with a fresh key.
 * - A `2xx` within `timeoutMs` (3 s) completes the items; anything else reschedules each item with exponential
 *   back-off and jitter (1 s, 2 s, 4 s … capped at 10 min, ±50 %) on the server Clock, until `maxAgeMs` (4 h) after
 *   it was created; then it is dropped and counted.
 * - Isolation: at most `perEndpoint` POSTs in flight per URL and `maxInFlight` overall, so a slow or dead endpoint
 *   holds only its own items. With the system clock an endpoint holds in memory only what it can drain in about
 *   20 s at its measured pace (at least `holdPerEndpoint`); claimed items beyond that are left to their lease, and
 *   come back when it lapses — so one endpoint's backlog can neither fill memory nor hold up the claim order.
 * - Slow endpoints (Graph's rule): each URL keeps the durations of its last 100 POSTs; when more than 10 % took over
 *   2.9 s it is throttled (one POST per 10 minutes, failed items wait at least 10 minutes); at 15 % its items are
 *   dropped. Durations are real network time; samples older than an hour are forgotten, so an endpoint recovers
 *   [P]. The samples and the throttled endpoint's turn are kept in the store (`recordEndpointDuration`,
 *   `takeEndpointTurn`), so every node sharing it judges an endpoint by the same last 100 POSTs, whichever node made
 *   them, and a throttled endpoint gets one POST per 10 minutes from all nodes together; the rule itself stays here
 *   (`endpointState`). Each node caches an endpoint's samples: refreshed by every POST it records and, on a shared
 *   store, whenever it claims items for the endpoint.
 * - Wakes: right after a dispatch (`wake`), at the store's next due instant (`clock.at`), after each POST, and on
 *   a real-time safety timer. With the manual clock, `settle` runs everything due and waits for the POSTs — on a
 *   shared store also for those of the due items another node claimed first (bounded: see `settle`).
 */
import { clearInterval, setInterval, setTimeout } from 'node:timers';
import type { DevIssuer } from '../auth/devIssuer.ts';
import type { Clock } from '../platform/clock/clock.ts';
import { presenceForCloud } from '../domain/projection.ts';
import { formatUtc } from '../domain/timezones.ts';
import type { DeliveryReschedule, EndpointSample, Store } from '../store/types.ts';
import { Alarm } from '../platform/loops/alarm.ts';
import { SingleFlight } from '../platform/loops/singleFlight.ts';
import { yieldToIo } from '../platform/loops/yieldToIo.ts';
import type { DeliveryLog, DropReason } from './deliveryLog.ts';
import { encryptContent, parseEncryptionCertificate } from './encryption.ts';
import type { Delivery, Subscription } from '../domain/subscription.ts';
import { validationToken } from './validationTokens.ts';
import { postJson, type WebhookOutcome } from './webhookClient.ts';

export type PostJson = (url: string, body: unknown, timeoutMs: number) => Promise<WebhookOutcome>;

export interface DelivererOptions {
  log: DeliveryLog;
  /** Signs validationTokens for rich notifications. */
  issuer: DevIssuer;
  /** US Government clouds: encrypted resource data has the same limited shape as a GET. */
  limitedShape?: boolean;
  post?: PostJson;
  /** Jitter source, [0, 1). */
  random?: () => number;
  batchSize?: number;
  perEndpoint?: number;
  maxInFlight?: number;
  claimLimit?: number;
  leaseMs?: number;
  timeoutMs?: number;
  maxAgeMs?: number;
  /**
   * Items one endpoint may hold in memory at least; more if it drains them within `holdDrainMs` at its measured
   * pace (system clock only: the manual clock holds everything due, so `settle` attempts all of it).
   */
  holdPerEndpoint?: number;
  holdDrainMs?: number;
  /** Items held in memory over all endpoints before claiming pauses. */
  maxHeld?: number;
  /** Real-time safety net, milliseconds (0: none). */
  safetyIntervalMs?: number;
  /**
   * At start, end every lease in the store: true only when the store is this process's alone (SQLite), where a lease
   * can only be one a killed run of this process left behind. On a shared store leases belong to live nodes too.
   */
  reclaimLeasesAtStart?: boolean;
  onError?: (err: unknown) => void;
}

// ---- policy: pure functions ----

export const SLOW_MS = 2900;
export const HEALTH_WINDOW = 100;
export const THROTTLE_WAIT_MS = 10 * 60_000;
export const SAMPLE_MAX_AGE_MS = 60 * 60_000;
export const BACKOFF_BASE_MS = 1000;
export const BACKOFF_CAP_MS = 10 * 60_000;
export const MAX_AGE_MS = 4 * 60 * 60_000;

export type EndpointState = 'ok' | 'throttled' | 'dropping';

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

/**
 * The wait before attempt `attempt + 1` after `attempt` failed tries (attempt ≥ 1): 1 s, 2 s, 4 s … capped at
 * 10 minutes, times a jitter factor in [0.5, 1.5).
 */
export function backoffDelay(attempt: number, random: () => number = Math.random): number {
  const exp = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** Math.max(0, Math.min(30, attempt - 1)));
  return Math.floor(exp * (0.5 + random()));
}

/**
 * When a failed item is tried next, or null to drop it: never later than `maxAge` after it was created, and dropped
 * once that has passed.
 */
export function nextAttempt(
  d: Pick<Delivery, 'attempt' | 'createdAt'>, failedAttempt: number, now: number,
  opts: { random?: () => number; minWaitMs?: number; maxAgeMs?: number } = {},
): number | null {
  const deadline = d.createdAt + (opts.maxAgeMs ?? MAX_AGE_MS);
  if (now >= deadline) return null;
  const wait = Math.max(backoffDelay(failedAttempt, opts.random), opts.minWaitMs ?? 0);
  return Math.min(now + wait, deadline);
}

// ---- the deliverer ----

class Endpoint {
  /** Held (claimed, not yet sent) items. Lifecycle items go first and are never batched with change items. */
  readonly lifecycle: Delivery[] = [];
  readonly change: Delivery[] = [];
  inFlight = 0;
  /** Throttled: no POST before this clock instant (this node's view; the turn itself is taken in the store). */
  nextAllowedAt = 0;
  /** The store's samples of the endpoint, as last read or recorded here. */
  private samples: EndpointSample[] = [];
  /** Whether `samples` has been read from the store since this object was made. */
  loaded = false;

  constructor(readonly url: string) {}

  get heldCount(): number {
    return this.lifecycle.length + this.change.length;
  }

  hold(d: Delivery): void {
    (d.kind === 'lifecycle' ? this.lifecycle : this.change).push(d);
  }

  /** Up to `max` held items of one kind, lifecycle first. */
  take(max: number): Delivery[] {
    return (this.lifecycle.length > 0 ? this.lifecycle : this.change).splice(0, max);
  }

  takeAll(): Delivery[] {
    return [...this.lifecycle.splice(0), ...this.change.splice(0)];
  }

  /** The samples the store keeps (its latest HEALTH_WINDOW), oldest first. */
  setSamples(samples: EndpointSample[]): void {
    this.samples = samples.slice(-HEALTH_WINDOW);
    this.loaded = true;
  }

  /** When the store could not record a sample: kept here, so this node still sees it. */
  addSample(sample: EndpointSample): void {
    this.samples = [...this.samples, sample].slice(-HEALTH_WINDOW);
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

  /** True when forgetting it loses nothing: no work (its samples and turn are in the store). */
  idle(): boolean {
    return this.heldCount === 0 && this.inFlight === 0;
  }
}

export class Deliverer {
  private readonly post: PostJson;
  private readonly random: () => number;
  private readonly batchSize: number;
  private readonly perEndpoint: number;
  private readonly maxInFlight: number;
  private readonly claimLimit: number;
  private readonly leaseMs: number;
  private readonly timeoutMs: number;
  private readonly maxAgeMs: number;
  private readonly holdPerEndpoint: number;
  private readonly holdDrainMs: number;
  private readonly maxHeld: number;
  /** settle on a shared store: how long (real time) it waits at most for the due items other nodes hold. */
  private readonly settleWaitMs: number;

  private readonly endpoints = new Map<string, Endpoint>();
  /** Ids of the deliveries held or in flight here (a re-claim after a lease lapse is ignored). */
  private readonly held = new Set<string>();
  private inFlight = 0;
  /** Sends and store writes started outside the pump; `settle` and `stop` wait for them. */
  private readonly tasks = new Set<Promise<void>>();
  private readonly flight = new SingleFlight(() => this.claimAndSend(), {
    onError: (err) => this.opts.onError?.(err),
    after: () => this.rearm(),
    stopped: () => this.stopped,
  });
  private stopped = true;
  private readonly alarm: Alarm;
  private interval: ReturnType<typeof setInterval> | null = null;
  /** Fresh claims since the counter was last reset (settle's progress check). */
  private claims = 0;
  private readonly tokens = new Map<string, { token: string; at: number }>();

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly opts: DelivererOptions,
  ) {
    this.alarm = new Alarm(clock, () => void this.pump());
    this.post = opts.post ?? postJson;
    this.random = opts.random ?? Math.random;
    this.batchSize = opts.batchSize ?? 100;
    this.perEndpoint = opts.perEndpoint ?? 2;
    this.maxInFlight = opts.maxInFlight ?? 64;
    this.claimLimit = opts.claimLimit ?? 1000;
    this.leaseMs = opts.leaseMs ?? 30_000;
    this.timeoutMs = opts.timeoutMs ?? 3000;
    this.maxAgeMs = opts.maxAgeMs ?? MAX_AGE_MS;
    this.holdPerEndpoint = opts.holdPerEndpoint ?? (clock.mode === 'manual' ? Infinity : 500);
    this.holdDrainMs = opts.holdDrainMs ?? 20_000;
    this.maxHeld = opts.maxHeld ?? 50_000;
    this.settleWaitMs = 2 * this.timeoutMs + 1000;
  }

  /** Starts delivering: what was pending in the store (before a restart, say) goes out now. */
  async start(): Promise<void> {
    // What a killed run was sending goes out now, rather than when its lease runs out.
    if (this.opts.reclaimLeasesAtStart) await this.store.releaseDeliveryLeases?.();
    this.stopped = false;
    this.alarm.open();
    const every = this.opts.safetyIntervalMs ?? 5000;
    if (every > 0) {
      this.interval = setInterval(() => void this.pump(), every);
      this.interval.unref();
    }
    await this.pump();
  }

  /**
   * Stops claiming, waits (at most `graceMs`) for the POSTs in flight, and hands the items it held but did not
   * send back to the store, due now, so the next start sends them at once.
   */
  async stop(graceMs = 5000): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.interval) clearInterval(this.interval);
    this.interval = null;
    this.alarm.close();
    await this.flight.idle();
    const unsent = [...this.endpoints.values()].flatMap((ep) => ep.takeAll());
    await this.release(unsent, this.clock.now()).catch((err: unknown) => this.opts.onError?.(err));
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      this.idle(),
      new Promise<void>((resolve) => { timer = setTimeout(resolve, graceMs); }),
    ]);
    clearTimeout(timer);
  }

  /** Deliveries were enqueued: send them now. */
  wake(): void {
    if (!this.stopped) void this.pump();
  }

  /**
   * Sends everything due by the clock's now and waits until each has been attempted (and what that attempt made
   * due, if anything, too). For the manual clock.
   */
  async settle(): Promise<void> {
    if (this.stopped) return;
    let waitUntil: number | null = null;
    for (let round = 0; round < 10_000; round++) {
      this.claims = 0;
      await this.pump();
      await this.idle();
      if (this.claims !== 0 || this.held.size !== 0) continue;
      if (this.store.exclusive) return;
      // A shared store: another node may have claimed some of the due items (its timers fired too) and still be
      // sending them. Wait for their leases to be completed or released, then look again — for at most a POST's
      // timeout and a margin (real time), so a node that died holding a lease does not hold the clock up for good.
      waitUntil ??= performance.now() + this.settleWaitMs;
      if (performance.now() >= waitUntil) return;
      if (await this.store.countLeasedDeliveries(this.clock.now()) === 0) return;
      await new Promise<void>((resolve) => setTimeout(resolve, 10));
    }
  }

  /** Held and in-flight items (tests). */
  get holding(): number {
    return this.held.size;
  }

  private async idle(): Promise<void> {
    while (this.tasks.size > 0 || this.flight.busy) {
      await Promise.all([...this.tasks, this.flight.idle()]);
    }
  }

  private track(p: Promise<void>): void {
    const t = p.catch((err: unknown) => this.opts.onError?.(err)).finally(() => this.tasks.delete(t));
    this.tasks.add(t);
  }

  /** Claims what is due and starts the POSTs it can. Single-flight: a call during a run makes the run go again. */
  private pump(): Promise<void> {
    return this.flight.run();
  }

  private async claimAndSend(): Promise<void> {
    for (;;) {
      if (this.stopped || this.held.size >= this.maxHeld) break;
      const now = this.clock.now();
      const claimed = await this.store.claimDeliveries(now, this.claimLimit, this.leaseMs);
      await this.loadSamples(claimed.filter((d) => !this.held.has(d.id)).map((d) => d.url));
      const caps = new Map<Endpoint, number>();
      for (const d of claimed) {
        // A held item whose lease lapsed comes back: the claim renewed its lease; we still have it.
        if (this.held.has(d.id)) continue;
        this.claims++;
        const ep = this.endpoint(d.url);
        let cap = caps.get(ep);
        if (cap === undefined) caps.set(ep, (cap = this.holdCap(ep)));
        // Beyond what it can drain soon: leave it leased; it comes back when the lease lapses.
        if (ep.heldCount >= cap) continue;
        this.held.add(d.id);
        ep.hold(d);
      }
      this.startSends();
      if (claimed.length < this.claimLimit) break;
      // More is due: let requests and sockets in between claims.
      await yieldToIo();
    }
    this.startSends();
  }

  /** How many items an endpoint may hold: what it drains in `holdDrainMs` at its measured pace, at least the floor. */
  private holdCap(ep: Endpoint): number {
    if (this.holdPerEndpoint === Infinity) return Infinity;
    const perMs = (this.perEndpoint * this.batchSize) / Math.max(ep.averageMs(), 1);
    return Math.max(this.holdPerEndpoint, Math.floor(perMs * this.holdDrainMs));
  }

  /**
   * Reads the samples of the endpoints about to get items: those never read since this node last forgot them, and on
   * a shared store all of them (other nodes record there too). A failed read keeps what this node knows.
   */
  private async loadSamples(urls: string[]): Promise<void> {
    const stale = [...new Set(urls)].map((url) => this.endpoint(url)).filter((ep) => !ep.loaded || !this.store.exclusive);
    await Promise.all(stale.map(async (ep) => {
      try {
        ep.setSamples(await this.store.endpointDurations(ep.url));
      } catch (err) {
        this.opts.onError?.(err);
      }
    }));
  }

  private endpoint(url: string): Endpoint {
    let ep = this.endpoints.get(url);
    if (!ep) this.endpoints.set(url, (ep = new Endpoint(url)));
    return ep;
  }

  /** Starts POSTs while the limits allow, round-robin over the endpoints. */
  private startSends(): void {
    if (this.stopped) return;
    const now = this.clock.now();
    let progressed = true;
    while (progressed && this.inFlight < this.maxInFlight) {
      progressed = false;
      for (const ep of [...this.endpoints.values()]) {
        if (this.inFlight >= this.maxInFlight) break;
        if (ep.heldCount === 0) {
          if (ep.idle()) this.endpoints.delete(ep.url);
          continue;
        }
        if (ep.inFlight >= this.perEndpoint) continue;
        const state = ep.state(now);
        if (state === 'dropping') {
          const items = ep.takeAll();
          this.track(this.drop(ep.url, items, 'slowEndpoint',
            'endpoint too slow: 15 % or more of its last 100 deliveries took over 2.9 s'));
          continue;
        }
        if (state === 'throttled') {
          // It turned throttled while a POST of its own is in flight: that POST's end decides its next turn (taken at
          // once), so its items stay held until then. Released now, they would be due again before the turn is known,
          // and be claimed and released over and over.
          if (ep.inFlight > 0 && ep.nextAllowedAt <= now) continue;
          if (ep.inFlight === 0 && now >= ep.nextAllowedAt) {
            ep.nextAllowedAt = now + THROTTLE_WAIT_MS;
            // Only if no other node had the endpoint's turn meanwhile: send() takes it in the store first.
            this.launch(ep, ep.take(this.batchSize), ep.nextAllowedAt);
            progressed = true;
          }
          // The rest wait for the endpoint's next turn, in the store (one call for all of them).
          const rest = ep.takeAll();
          if (rest.length > 0) this.track(this.release(rest, Math.max(ep.nextAllowedAt, now + 1000)));
          continue;
        }
        this.launch(ep, ep.take(this.batchSize));
        progressed = true;
      }
    }
  }

  /** Starts a POST of `batch`; `turnUntil`: the endpoint is throttled, and the POST needs its turn until then. */
  private launch(ep: Endpoint, batch: Delivery[], turnUntil?: number): void {
    if (batch.length === 0) return;
    ep.inFlight++;
    this.inFlight++;
    this.track(this.send(ep, batch, turnUntil).finally(() => {
      ep.inFlight--;
      this.inFlight--;
      for (const d of batch) this.held.delete(d.id);
      if (!this.stopped) {
        this.startSends();
        void this.pump();
      }
    }));
  }

  /** Back to the store for a later try, attempt count unchanged (not an attempt). */
  private async release(items: Delivery[], at: number): Promise<void> {
    for (const d of items) this.held.delete(d.id);
    await this.store.rescheduleDeliveries(items.map((d) => ({ id: d.id, nextAttemptAt: at, attempt: d.attempt })));
  }

  private async drop(url: string, items: Delivery[], reason: DropReason, error: string): Promise<void> {
    if (items.length === 0) return;
    for (const d of items) this.held.delete(d.id);
    await this.store.completeDeliveries(items.map((d) => d.id));
    this.opts.log.totals.dropped[reason] += items.length;
    this.opts.log.add({
      time: formatUtc(this.clock.now()), subscriptionIds: unique(items.map((d) => d.subscriptionId)), url,
      kind: items[0]!.kind, items: items.length, status: 0, error, latencyMs: 0,
      attempt: Math.max(...items.map((d) => d.attempt)), outcome: 'dropped', dropped: items.length,
    });
  }

  private async send(ep: Endpoint, batch: Delivery[], turnUntil?: number): Promise<void> {
    const started = this.clock.now();
    if (turnUntil !== undefined) {
      const turn = await this.store.takeEndpointTurn(ep.url, started, turnUntil);
      if (!turn.taken) {
        // Another node has the throttled endpoint's turn: the batch waits for the next one (not an attempt).
        ep.nextAllowedAt = Math.max(ep.nextAllowedAt, turn.until);
        await this.release(batch, Math.max(turn.until, started + 1000));
        return;
      }
    }
    const subs = new Map<string, Subscription | null>();
    for (const d of batch) {
      if (d.kind === 'change' && !subs.has(d.subscriptionId)) subs.set(d.subscriptionId, await this.store.getSubscription(d.subscriptionId));
    }
    const items: Record<string, unknown>[] = [];
    const sending: Delivery[] = [];
    const gone: Delivery[] = [];
    const unencryptable: Delivery[] = [];
    let encryptionError = '';
    const apps = new Map<string, { appId: string; tenantId: string }>();
    for (const d of batch) {
      if (d.kind === 'lifecycle') {
        // Sent even when the subscription is gone: access revocation notifies and then deletes it.
        items.push(d.item);
        sending.push(d);
        continue;
      }
      const sub = subs.get(d.subscriptionId);
      if (!sub || sub.expiresAt <= started) {
        gone.push(d);
        continue;
      }
      const item: Record<string, unknown> = { ...d.item, subscriptionExpirationDateTime: formatUtc(sub.expiresAt) };
      if (sub.includeResourceData && d.resourceView && d.userId) {
        try {
          const cert = parseEncryptionCertificate(sub.encryptionCertificate ?? '', started);
          const seq = (d.item.resourceData as { sequenceNumber?: string } | undefined)?.sequenceNumber ?? null;
          item.encryptedContent = encryptContent(presenceForCloud(d.userId, d.resourceView, seq, 'watcher', this.opts.limitedShape ?? false), cert, sub.encryptionCertificateId ?? '');
        } catch (err) {
          encryptionError = (err as Error).message;
          unencryptable.push(d);
          continue;
        }
        apps.set(`${sub.applicationId}|${sub.tenantId}`, { appId: sub.applicationId, tenantId: sub.tenantId });
      }
      items.push(item);
      sending.push(d);
    }
    await this.drop(ep.url, gone, 'subscriptionGone', 'subscription expired or deleted');
    await this.drop(ep.url, unencryptable, 'encryption', `cannot encrypt: ${encryptionError}`);
    if (sending.length === 0) return;

    const body: { value: Record<string, unknown>[]; validationTokens?: string[] } = { value: items };
    let outcome: WebhookOutcome;
    let posted = false;
    try {
      if (apps.size > 0) body.validationTokens = await Promise.all([...apps.values()].map((a) => this.token(a.appId, a.tenantId, started)));
      posted = true;
      outcome = await this.post(ep.url, body, this.timeoutMs);
    } catch (err) {
      outcome = { status: 0, durationMs: 0, body: '', contentType: null, error: `not sent: ${(err as Error).message}` };
    }
    const now = this.clock.now();
    if (posted) {
      try {
        ep.setSamples(await this.store.recordEndpointDuration(ep.url, outcome.durationMs, now, HEALTH_WINDOW));
      } catch (err) {
        ep.addSample({ at: now, ms: outcome.durationMs });
        this.opts.onError?.(err);
      }
    }
    const ok = outcome.status >= 200 && outcome.status < 300 && outcome.durationMs <= this.timeoutMs;
    const attempt = Math.max(...sending.map((d) => d.attempt)) + 1;
    const totals = this.opts.log.totals;
    totals.posts++;
    const entry = {
      time: formatUtc(now), subscriptionIds: unique(sending.map((d) => d.subscriptionId)), url: ep.url,
      kind: sending[0]!.kind, items: sending.length, status: outcome.status,
      error: outcome.error ?? (ok ? null : `HTTP ${outcome.status}`), latencyMs: Math.round(outcome.durationMs), attempt,
    };
    if (ok) {
      await this.store.completeDeliveries(sending.map((d) => d.id));
      totals.delivered += sending.length;
      this.opts.log.add({ ...entry, outcome: 'delivered', dropped: 0 });
      return;
    }
    totals.failedPosts++;
    const state = ep.state(now);
    const dropped: Delivery[] = [];
    const retries: DeliveryReschedule[] = [];
    // One jitter draw per POST: the items of a batch stay together, in order, for their next try.
    const jitter = this.random();
    for (const d of sending) {
      const at = state === 'dropping' ? null : nextAttempt(d, d.attempt + 1, now, {
        random: () => jitter, maxAgeMs: this.maxAgeMs, minWaitMs: state === 'throttled' ? THROTTLE_WAIT_MS : 0,
      });
      if (at === null) dropped.push(d);
      else retries.push({ id: d.id, nextAttemptAt: at, attempt: d.attempt + 1 });
    }
    await this.store.rescheduleDeliveries(retries);
    if (dropped.length > 0) await this.store.completeDeliveries(dropped.map((d) => d.id));
    totals.retried += sending.length - dropped.length;
    totals.dropped[state === 'dropping' ? 'slowEndpoint' : 'expired'] += dropped.length;
    this.opts.log.add({ ...entry, outcome: dropped.length === sending.length ? 'dropped' : 'retry', dropped: dropped.length });
  }

  /** A validation token for (app, tenant), reused for 10 minutes of its hour. */
  private async token(appId: string, tenantId: string, now: number): Promise<string> {
    const key = `${appId}|${tenantId}`;
    const cached = this.tokens.get(key);
    if (cached && now >= cached.at && now - cached.at < 10 * 60_000) return cached.token;
    const token = await validationToken(this.opts.issuer, { appId, tenantId, now });
    if (this.tokens.size > 10_000) this.tokens.clear();
    this.tokens.set(key, { token, at: now });
    return token;
  }

  private async rearm(): Promise<void> {
    // Holding all it may: the POSTs in flight pump again as they finish (arming for a due instant would spin).
    if (this.stopped || this.held.size >= this.maxHeld) return;
    try {
      const next = await this.store.nextDeliveryAt();
      if (next === null) this.alarm.clear();
      else this.alarm.set(next);
    } catch (err) {
      this.opts.onError?.(err);
    }
  }
}

function unique(xs: string[]): string[] {
  return [...new Set(xs)];
}
