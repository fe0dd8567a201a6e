/**
 * The deliverer (docs/notifications/delivery.md): sends the queued deliveries to their endpoints, at least once. It claims
 * and shares fairly; the parts it uses each do one thing: the sender makes one POST (./sender.ts), endpoint health
 * judges slow endpoints (./endpointHealth.ts), the retry policy says when a failed item goes again (./retryPolicy.ts),
 * and the loop shell wakes it (src/platform/loops/backgroundLoop.ts).
 *
 * - Claims due deliveries from the store with a lease (`claimDeliveries`), holds them in memory per endpoint (URL),
 *   and POSTs them in batches of up to `batchSize` items. A `2xx` within `timeoutMs` (3 s) completes the items;
 *   anything else reschedules them by the retry policy, until `maxAgeMs` (4 h) after each was made.
 * - Isolation: at most `perEndpoint` POSTs in flight per URL and `maxInFlight` overall, round-robin over the
 *   endpoints, so a slow or dead endpoint holds only its own items. With the system clock an endpoint holds in memory
 *   only what it can drain in about 20 s at its measured pace (at least `holdPerEndpoint`); claimed items beyond that
 *   are left to their lease, and come back when it lapses — so one endpoint's backlog can neither fill memory nor
 *   hold up the claim order. A throttled endpoint's items wait in the store for its next turn, put back in one call.
 * - Wakes: on the deliveriesEnqueued event (`wake`), at the store's next due instant, after each POST, and on a
 *   real-time safety timer. With the manual clock, `settle` runs everything due and waits for the POSTs — on a
 *   shared store also for those of the due items another node claimed first (bounded: see `settle`).
 */
import { setTimeout } from 'node:timers';
import type { DevIssuer } from '../auth/devIssuer.ts';
import type { Clock } from '../platform/clock/clock.ts';
import { formatUtc } from '../domain/timezones.ts';
import type { Store } from '../store/types.ts';
import { BackgroundLoop } from '../platform/loops/backgroundLoop.ts';
import { Pacer } from '../platform/loops/pacer.ts';
import type { DeliveryLog, DropReason } from './deliveryLog.ts';
import type { Delivery } from '../domain/subscription.ts';
import { EndpointHealth, SLOW_ENDPOINT_ERROR, THROTTLE_WAIT_MS } from './endpointHealth.ts';
import { Endpoint } from './endpointShare.ts';
import { MAX_AGE_MS, planRetries } from './retryPolicy.ts';
import { Sender, type PostJson } from './sender.ts';
import type { WebhookOutcome } from './webhookClient.ts';

export type { PostJson } from './sender.ts';

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
  /** Paces claims and POSTs, so requests go first (default: one of its own). */
  pacer?: Pacer;
  /** How long a claimed delivery is this node's before another claim may take it (default 30 s). */
  leaseMs?: number;
  /** How long an endpoint has to answer a POST (default 3 s). */
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
   * 'shared' (the default): other nodes claim from the same queue and record endpoint samples too, so `settle` waits
   * for their leases and samples are re-read at each claim. 'local': this process is the store's only deliverer.
   */
  queue?: 'local' | 'shared';
  /**
   * At start, end every lease in the store: true only when the store is this process's alone (SQLite), where a lease
   * can only be one a killed run of this process left behind. On a shared store leases belong to live nodes too.
   */
  reclaimLeasesAtStart?: boolean;
  onError?: (err: unknown) => void;
}

export class Deliverer {
  private readonly random: () => number;
  private readonly batchSize: number;
  private readonly perEndpoint: number;
  private readonly maxInFlight: number;
  private readonly claimLimit: number;
  private readonly pacer: Pacer;
  private readonly leaseMs: number;
  private readonly maxAgeMs: number;
  private readonly holdPerEndpoint: number;
  private readonly holdDrainMs: number;
  private readonly maxHeld: number;
  /** settle on a shared store: how long (real time) it waits at most for the due items other nodes hold. */
  private readonly settleWaitMs: number;
  private readonly sender: Sender;
  private readonly loop: BackgroundLoop;

  private readonly endpoints = new Map<string, Endpoint>();
  /** Ids of the deliveries held or in flight here (a re-claim after a lease lapse is ignored). */
  private readonly held = new Set<string>();
  private inFlight = 0;
  /** Sends and store writes started outside the pass; `settle` and `stop` wait for them. */
  private readonly tasks = new Set<Promise<void>>();
  /** Fresh claims since the counter was last reset (settle's progress check). */
  private claims = 0;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly opts: DelivererOptions,
  ) {
    this.random = opts.random ?? Math.random;
    this.batchSize = opts.batchSize ?? 100;
    this.perEndpoint = opts.perEndpoint ?? 2;
    this.maxInFlight = opts.maxInFlight ?? 64;
    this.claimLimit = opts.claimLimit ?? 1000;
    this.pacer = opts.pacer ?? new Pacer();
    this.leaseMs = opts.leaseMs ?? 30_000;
    const timeoutMs = opts.timeoutMs ?? 3000;
    this.maxAgeMs = opts.maxAgeMs ?? MAX_AGE_MS;
    this.holdPerEndpoint = opts.holdPerEndpoint ?? (clock.mode === 'manual' ? Infinity : 500);
    this.holdDrainMs = opts.holdDrainMs ?? 20_000;
    this.maxHeld = opts.maxHeld ?? 50_000;
    this.settleWaitMs = 2 * timeoutMs + 1000;
    this.sender = new Sender({
      store, issuer: opts.issuer, timeoutMs,
      ...(opts.limitedShape !== undefined ? { limitedShape: opts.limitedShape } : {}), ...(opts.post ? { post: opts.post } : {}),
    });
    this.loop = new BackgroundLoop({
      clock, pass: () => this.claimAndSend(), nextAt: () => this.nextAt(), safetyIntervalMs: opts.safetyIntervalMs ?? 5000,
      onError: (err) => this.opts.onError?.(err),
    });
  }

  /** Starts delivering: what was pending in the store (before a restart, say) goes out now. */
  async start(): Promise<void> {
    // What a killed run was sending goes out now, rather than when its lease runs out.
    if (this.opts.reclaimLeasesAtStart) await this.store.releaseDeliveryLeases();
    await this.loop.start();
  }

  /**
   * Stops claiming, waits (at most `graceMs`) for the POSTs in flight, and hands the items it held but did not
   * send back to the store, due now, so the next start sends them at once.
   */
  async stop(graceMs = 5000): Promise<void> {
    if (!this.loop.running) return;
    await this.loop.stop();
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
    if (this.loop.running) void this.loop.run();
  }

  /**
   * Sends everything due by the clock's now and waits until each has been attempted (and what that attempt made
   * due, if anything, too). For the manual clock.
   */
  async settle(): Promise<void> {
    if (!this.loop.running) return;
    let waitUntil: number | null = null;
    for (let round = 0; round < 10_000; round++) {
      this.claims = 0;
      await this.loop.run();
      await this.idle();
      if (this.claims !== 0 || this.held.size !== 0) continue;
      if (this.opts.queue === 'local') return;
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
    while (this.tasks.size > 0 || this.loop.busy) {
      await Promise.all([...this.tasks, this.loop.idle()]);
    }
  }

  private track(p: Promise<void>): void {
    const t = p.catch((err: unknown) => this.opts.onError?.(err)).finally(() => this.tasks.delete(t));
    this.tasks.add(t);
  }

  /** The pass: claims what is due, holds what each endpoint may, and starts the POSTs it can. */
  private async claimAndSend(): Promise<void> {
    for (;;) {
      // Each claim in a turn of its own (the first too: a wake comes in the middle of someone else's work).
      await this.pacer.turn();
      if (!this.loop.running || this.held.size >= this.maxHeld) break;
      const claimed = await this.store.claimDeliveries(this.clock.now(), this.claimLimit, this.leaseMs);
      await this.loadHealth(claimed.filter((d) => !this.held.has(d.id)).map((d) => d.url));
      this.hold(claimed);
      this.startSends();
      if (claimed.length < this.claimLimit) break;
    }
    this.startSends();
  }

  /** Holds the fresh claims, each endpoint up to its cap; beyond it an item stays leased and comes back later. */
  private hold(claimed: Delivery[]): void {
    const caps = new Map<Endpoint, number>();
    for (const d of claimed) {
      // A held item whose lease lapsed comes back: the claim renewed its lease; we still have it.
      if (this.held.has(d.id)) continue;
      this.claims++;
      const ep = this.endpoint(d.url);
      let cap = caps.get(ep);
      if (cap === undefined) caps.set(ep, (cap = this.holdCap(ep)));
      if (ep.heldCount >= cap) continue;
      this.held.add(d.id);
      ep.hold(d);
    }
  }

  /** How many items an endpoint may hold: what it drains in `holdDrainMs` at its measured pace, at least the floor. */
  private holdCap(ep: Endpoint): number {
    if (this.holdPerEndpoint === Infinity) return Infinity;
    const perMs = (this.perEndpoint * this.batchSize) / Math.max(ep.health.averageMs(), 1);
    return Math.max(this.holdPerEndpoint, Math.floor(perMs * this.holdDrainMs));
  }

  /**
   * Reads the health of the endpoints about to get items: those never read since this node last forgot them, and on
   * a shared store all of them (other nodes record there too). A failed read keeps what this node knows.
   */
  private async loadHealth(urls: string[]): Promise<void> {
    const stale = [...new Set(urls)].map((url) => this.endpoint(url)).filter((ep) => !ep.health.loaded || this.opts.queue !== 'local');
    await Promise.all(stale.map((ep) => ep.health.refresh().catch((err: unknown) => this.opts.onError?.(err))));
  }

  private endpoint(url: string): Endpoint {
    let ep = this.endpoints.get(url);
    if (!ep) this.endpoints.set(url, (ep = new Endpoint(new EndpointHealth(url, this.store))));
    return ep;
  }

  /** Starts POSTs while the limits allow, round-robin over the endpoints. */
  private startSends(): void {
    if (!this.loop.running) return;
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
        if (this.startSend(ep, now)) progressed = true;
      }
    }
  }

  /** Starts one POST to `ep` if its health allows; resolves true when it did. */
  private startSend(ep: Endpoint, now: number): boolean {
    const state = ep.health.state(now);
    if (state === 'dropping') {
      this.track(this.drop(ep.url, ep.takeAll(), 'slowEndpoint', SLOW_ENDPOINT_ERROR));
      return false;
    }
    if (state === 'ok') {
      this.launch(ep, ep.take(this.batchSize));
      return true;
    }
    // Throttled. It turned so while a POST of its own is in flight: that POST's end decides its next turn (taken at
    // once), so its items stay held until then. Released now, they would be due again before the turn is known, and
    // be claimed and released over and over.
    if (ep.inFlight > 0 && ep.health.nextAllowedAt <= now) return false;
    let launched = false;
    if (ep.inFlight === 0 && now >= ep.health.nextAllowedAt) {
      ep.health.nextAllowedAt = now + THROTTLE_WAIT_MS;
      // Only if no other node had the endpoint's turn meanwhile: send() takes it in the store first.
      this.launch(ep, ep.take(this.batchSize), ep.health.nextAllowedAt);
      launched = true;
    }
    // The rest wait for the endpoint's next turn, in the store (one call for all of them).
    const rest = ep.takeAll();
    if (rest.length > 0) this.track(this.release(rest, Math.max(ep.health.nextAllowedAt, now + 1000)));
    return launched;
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
      if (this.loop.running) {
        this.startSends();
        void this.loop.run();
      }
    }));
  }

  /** Back to the store for a later try, attempt count unchanged (not an attempt): one store call for all. */
  private async release(items: Delivery[], at: number): Promise<void> {
    for (const d of items) this.held.delete(d.id);
    await this.store.rescheduleDeliveries(items.map((d) => ({ id: d.id, nextAttemptAt: at, attempt: d.attempt })));
  }

  private async drop(url: string, items: Delivery[], reason: DropReason, error: string): Promise<void> {
    if (items.length === 0) return;
    for (const d of items) this.held.delete(d.id);
    await this.store.completeDeliveries(items.map((d) => d.id));
    this.opts.log.recordDrop(formatUtc(this.clock.now()), url, items, reason, error);
  }

  /** One POST: the endpoint's turn if it is throttled, the items that can go, the POST, and what it means for them. */
  private async send(ep: Endpoint, batch: Delivery[], turnUntil?: number): Promise<void> {
    // Preparing and encoding a batch is a slice of its own, so that starting many POSTs does not hold up requests.
    await this.pacer.turn();
    const started = this.clock.now();
    if (turnUntil !== undefined) {
      const turn = await ep.health.takeTurn(started, turnUntil);
      // Another node has the throttled endpoint's turn: the batch waits for the next one (not an attempt).
      if (!turn.taken) return this.release(batch, Math.max(turn.until, started + 1000));
    }
    const prepared = await this.sender.prepare(batch, started);
    await this.drop(ep.url, prepared.gone, 'subscriptionGone', 'subscription expired or deleted');
    await this.drop(ep.url, prepared.unencryptable, 'encryption', `cannot encrypt: ${prepared.encryptionError}`);
    if (prepared.sending.length === 0) return;
    const { outcome, posted } = await this.sender.send(ep.url, prepared, started);
    const now = this.clock.now();
    if (posted) await ep.health.record(outcome.durationMs, now, (err) => this.opts.onError?.(err));
    await this.conclude(ep, prepared.sending, outcome, now);
  }

  /** Completes delivered items; reschedules or drops failed ones by the retry policy. Logs the POST. */
  private async conclude(ep: Endpoint, items: Delivery[], outcome: WebhookOutcome, now: number): Promise<void> {
    const post = {
      time: formatUtc(now), url: ep.url, items, status: outcome.status, error: outcome.error, latencyMs: outcome.durationMs,
    };
    if (this.sender.delivered(outcome)) {
      await this.store.completeDeliveries(items.map((d) => d.id));
      this.opts.log.recordPost({ ...post, delivered: true });
      return;
    }
    const state = ep.health.state(now);
    const { retries, dropped } = planRetries(items, state, now, { random: this.random, maxAgeMs: this.maxAgeMs });
    await this.store.rescheduleDeliveries(retries);
    if (dropped.length > 0) await this.store.completeDeliveries(dropped.map((d) => d.id));
    const next = retries.length > 0 ? formatUtc(Math.min(...retries.map((r) => r.nextAttemptAt))) : null;
    this.opts.log.recordPost({
      ...post, delivered: false, dropped: dropped.length, reason: state === 'dropping' ? 'slowEndpoint' : 'expired', nextAttemptAt: next,
    });
  }

  /** When the store's next delivery is due; undefined (leave the alarm) while holding all it may. */
  private async nextAt(): Promise<number | null | undefined> {
    // Holding all it may: the POSTs in flight pump again as they finish (arming for a due instant would spin).
    if (this.held.size >= this.maxHeld) return undefined;
    return this.store.nextDeliveryAt();
  }
}
