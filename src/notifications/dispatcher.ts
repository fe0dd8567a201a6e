/**
 * The dispatcher (docs/notifications/delivery.md): turns the outbox of committed presence changes into deliveries. Each change
 * event becomes one notification item per live subscription that watches the user; the events are removed and the
 * deliveries enqueued in one atomic store call (`dispatchChanges`), so a crash between reading and dispatching only
 * means the events are read again — no change is lost, and none is fanned out twice. On a store shared by several
 * nodes, whose dispatchers race on the same outbox, each event is dispatched by a call of its own (see `commit`).
 *
 * A fan-out goes in bounded steps that yield to I/O: the outbox is taken in groups of at most LOOKUP_USERS users, and
 * each group's deliveries are committed in chunks of about `chunkDeliveries`, so a write watched by thousands of
 * subscriptions never keeps another request (or /health) waiting until its fan-out is done.
 *
 * Woken by the presenceChanged event (every committed change), at start, and by a real-time safety timer (changes
 * committed by another node sharing the store, or a wake lost to an error).
 */
import type { Clock } from '../platform/clock/clock.ts';
import type { Store } from '../store/types.ts';
import { BackgroundLoop } from '../platform/loops/backgroundLoop.ts';
import { Pacer } from '../platform/loops/pacer.ts';
import type { ChangeEvent, NewDelivery, Subscription } from '../domain/subscription.ts';
import type { Emitter } from '../platform/events.ts';
import type { NotificationEvents } from './events.ts';
import { changeItem } from './items.ts';

export interface DispatcherOptions {
  /** Events read per store call. */
  readLimit?: number;
  /** Dispatch a chunk of events once it has produced this many deliveries (bounds one transaction). */
  chunkDeliveries?: number;
  /** Paces the chunks, so requests go first (default: one of its own). */
  pacer?: Pacer;
  /** Real-time safety net, milliseconds (0: none). */
  safetyIntervalMs?: number;
  /**
   * 'local': this is the store's only dispatcher (a store with one writer), so a whole chunk goes in one call;
   * 'shared' (the default): other nodes' dispatchers read the same outbox, so each event goes in a call of its own.
   */
  dispatch?: 'local' | 'shared';
  /** Told when deliveries were enqueued (the deliverer sends them). */
  events?: Emitter<NotificationEvents>;
  onError?: (err: unknown) => void;
}

/** The deliveries one event produces for the subscriptions watching its user (expired ones get nothing). */
export function deliveriesFor(event: ChangeEvent, subs: readonly Subscription[], now: number): NewDelivery[] {
  const out: NewDelivery[] = [];
  for (const sub of subs) {
    if (sub.expiresAt <= now) continue;
    if (sub.tenantId !== event.tenantId) continue;
    out.push({
      subscriptionId: sub.id,
      tenantId: sub.tenantId,
      kind: 'change',
      url: sub.notificationUrl,
      item: changeItem(sub, event),
      // The owner's view; the watcher projection is applied when it is encrypted, at each send.
      resourceView: sub.includeResourceData ? event.view : null,
      userId: event.userId,
      attempt: 0,
      nextAttemptAt: now,
      createdAt: now,
    });
  }
  return out;
}

/** Users whose subscriptions one fan-out step looks up together. */
const LOOKUP_USERS = 50;
/** Users whose subscriptions are read in one slice of a fan-out step. */
const LOOKUP_SLICE = 4;

/** The events cut, in order, into runs of at most `maxUsers` distinct users each. */
export function userGroups(events: readonly ChangeEvent[], maxUsers: number): ChangeEvent[][] {
  const groups: ChangeEvent[][] = [];
  let group: ChangeEvent[] = [];
  let users = new Set<string>();
  for (const event of events) {
    const key = `${event.tenantId}/${event.userId}`;
    if (!users.has(key) && users.size >= maxUsers) {
      groups.push(group);
      group = [];
      users = new Set();
    }
    users.add(key);
    group.push(event);
  }
  if (group.length > 0) groups.push(group);
  return groups;
}

/** One change event and the deliveries it produced. */
interface EventDeliveries {
  id: string;
  deliveries: NewDelivery[];
}

export class Dispatcher {
  private readonly loop: BackgroundLoop;
  private readonly readLimit: number;
  private readonly chunkDeliveries: number;
  private readonly pacer: Pacer;
  /** Events dispatched and deliveries enqueued since start (tests, metrics). */
  events = 0;
  deliveries = 0;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly opts: DispatcherOptions = {},
  ) {
    this.readLimit = opts.readLimit ?? 500;
    // About 250 rows make a transaction of a few milliseconds (an event's deliveries always go in one).
    this.chunkDeliveries = opts.chunkDeliveries ?? 250;
    this.pacer = opts.pacer ?? new Pacer();
    this.loop = new BackgroundLoop({
      clock, pass: () => this.drain(), safetyIntervalMs: opts.safetyIntervalMs ?? 1000,
      onError: (err) => this.opts.onError?.(err),
    });
  }

  start(): Promise<void> {
    return this.loop.start();
  }

  private wakePending = false;

  /** Stops waking; resolves when a run in progress has finished. */
  stop(): Promise<void> {
    return this.loop.stop();
  }

  /**
   * A change was committed: dispatch it (and whatever else is in the outbox) on the next turn of the event loop, so
   * that the writes of one busy moment are dispatched together rather than one outbox round trip per write.
   */
  wake(): void {
    if (!this.loop.running || this.wakePending) return;
    this.wakePending = true;
    setImmediate(() => {
      this.wakePending = false;
      void this.run();
    });
  }

  /** Dispatches the whole outbox; resolves when it is empty (or a store call failed). Safe to call concurrently. */
  run(): Promise<void> {
    return this.loop.run();
  }

  private async drain(): Promise<void> {
    for (;;) {
      const events = await this.store.readChanges(this.readLimit);
      if (events.length === 0) return;
      // A full batch: more changes wait than one pass takes, so the fan-out gets a larger share of the loop.
      if (events.length === this.readLimit) this.pacer.behind();
      for (const group of userGroups(events, LOOKUP_USERS)) {
        await this.fanOut(group);
        if (!this.loop.running) return;
      }
      if (events.length < this.readLimit) return;
    }
  }

  /**
   * Dispatches a group of events, in order, in chunks of about `chunkDeliveries` deliveries, and lets the event loop
   * serve I/O after each chunk: on SQLite every store call resolves as a microtask, so a fan-out of many thousands
   * of deliveries would otherwise keep every request (and /health) waiting until it is done.
   */
  private async fanOut(events: readonly ChangeEvent[]): Promise<void> {
    // Each user's subscriptions once per group, LOOKUP_SLICE users asked for at once (one pipelined round trip on
    // Redis, not one per event), each slice in a turn of its own: a user watched by 800 subscriptions of 650 users
    // each is a few milliseconds to read, and a whole group of them at once held the loop for over 200 ms. A group
    // has at most LOOKUP_USERS users, which bounds what a pass holds in memory.
    const users = new Map<string, ChangeEvent>();
    for (const event of events) users.set(`${event.tenantId}/${event.userId}`, event);
    const subsByUser = new Map<string, ReadonlyArray<Readonly<Subscription>>>();
    const pending = [...users];
    while (pending.length > 0) {
      const slice = pending.splice(0, LOOKUP_SLICE);
      const lookups = await Promise.all(slice.map(([, e]) => this.store.subscriptionsForUser(e.tenantId, e.userId)));
      slice.forEach(([key], i) => subsByUser.set(key, lookups[i]!));
      await this.pacer.turn();
    }
    let chunk: EventDeliveries[] = [];
    let size = 0;
    for (const event of events) {
      const subs = subsByUser.get(`${event.tenantId}/${event.userId}`)!;
      const deliveries = deliveriesFor(event, subs, this.clock.now());
      chunk.push({ id: event.id, deliveries });
      size += deliveries.length;
      if (size >= this.chunkDeliveries) {
        await this.commit(chunk);
        chunk = [];
        size = 0;
        await this.pacer.turn();
      }
    }
    if (chunk.length > 0) {
      await this.commit(chunk);
      await this.pacer.turn();
    }
  }

  private async commit(chunk: EventDeliveries[]): Promise<void> {
    let events = 0;
    let deliveries = 0;
    if (this.opts.dispatch === 'local') {
      // The only dispatcher on the store (and single-flight): one atomic call for the whole chunk.
      const all = chunk.flatMap((e) => e.deliveries);
      if (await this.store.dispatchChanges(chunk.map((e) => e.id), all)) {
        events = chunk.length;
        deliveries = all.length;
      }
    } else {
      // Other nodes' dispatchers read the same outbox, and may have read an overlapping but different set of events.
      // dispatchChanges enqueues all of a call's deliveries when it removed any of its events, so a call covering
      // events another node dispatched meanwhile would enqueue theirs a second time: one event per call instead (the
      // calls go out together, in order, and a pipelining client sends them in one round trip).
      const results = await Promise.allSettled(chunk.map((e) => this.store.dispatchChanges([e.id], e.deliveries)));
      for (const [i, e] of chunk.entries()) {
        const r = results[i]!;
        if (r.status !== 'fulfilled' || !r.value) continue;
        events++;
        deliveries += e.deliveries.length;
      }
      // A failed call leaves its event in the outbox, to be read again; what the others enqueued still goes out now.
      const failed = results.find((r) => r.status === 'rejected');
      if (failed) {
        this.count(events, deliveries);
        throw failed.reason;
      }
    }
    this.count(events, deliveries);
  }

  private count(events: number, deliveries: number): void {
    this.events += events;
    this.deliveries += deliveries;
    if (deliveries > 0) this.opts.events?.emit('deliveriesEnqueued', { count: deliveries });
  }
}
