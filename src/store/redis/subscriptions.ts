/**
 * The subscriptions port on Redis. A subscription is one JSON string plus its index entries (tenant set, one set per
 * watched user, expiry zset, and the application's zset `subs:a:<tenantId>/<appId>` of `<createdAt>:<id>` members,
 * all scored 0 so that they sort by creation: counting and paging), on different slots. putSubscription writes the subscription first and its index entries
 * after; deleteSubscription removes the subscription first (GETDEL) and its index entries and deliveries after.
 * Readers look each id up and ignore those whose subscription is missing or no longer matches (tenant, users,
 * expiry), so an interrupted call never shows a wrong subscription.
 *
 * compareAndSetSubscription is SET_IF_UNCHANGED on the JSON, then the enqueue. The subscription key and the delivery
 * queue are on different slots, so the two cannot be one script on a cluster: a node dying between them loses what it
 * would have enqueued (never enqueues it twice) — the order the port asks for.
 */
import { Redis } from 'ioredis';
import type { NewDelivery, Subscription } from '../../domain/subscription.ts';
import { decodeSubscription, encodeSubscription } from '../codec.ts';
import type {
  SubscriptionCount, SubscriptionCursor, SubscriptionFilter, SubscriptionOwner, SubscriptionStorage,
} from '../ports/subscriptions.ts';
import { byString, type RedisContext } from './context.ts';
import type { RedisDeliveries } from './deliveries.ts';
import { DROP_SUBSCRIPTION_DELIVERIES, SET_IF_UNCHANGED } from './scripts.ts';

/** One index write: `[command, key, ...args]`. */
type IndexWrite = [command: 'sadd' | 'srem' | 'zadd' | 'zrem', key: string, ...args: (string | number)[]];

/** A subscription's member of its application's zset: 15 digits of createdAt (epoch ms) sort as numbers. */
const appMember = (at: SubscriptionCursor): string => `${String(at.createdAt).padStart(15, '0')}:${at.id}`;

/** How many members of the application's zset a page reads at a time (other creators' are skipped). */
const PAGE_CHUNK = 200;

export class RedisSubscriptions implements SubscriptionStorage {
  constructor(private readonly ctx: RedisContext, private readonly deliveries: RedisDeliveries) {}

  private key(id: string): string {
    return `${this.ctx.prefix}sub:${id}`;
  }

  private ofUserKey(tenantId: string, userId: string): string {
    return `${this.ctx.prefix}subs:u:${tenantId}/${userId}`;
  }

  private ofTenantKey(tenantId: string): string {
    return `${this.ctx.prefix}subs:t:${tenantId}`;
  }

  private ofAppKey(tenantId: string, applicationId: string): string {
    return `${this.ctx.prefix}subs:a:${tenantId}/${applicationId}`;
  }

  private get expiryKey(): string {
    return `${this.ctx.prefix}subs:exp`;
  }

  /**
   * Adds every stored subscription to its application's zset, in chunks of the expiry zset (which holds every
   * subscription). For data written before that zset existed, whose subscriptions the caps would otherwise not count
   * until renewed. Idempotent (ZADD of the same member), so nodes upgrading at once do no harm. Resolves to how many
   * subscriptions it indexed.
   */
  async indexByApplication(): Promise<number> {
    let indexed = 0;
    for (let start = 0; ; start += PAGE_CHUNK) {
      const ids = await this.ctx.client.zrange(this.expiryKey, start, start + PAGE_CHUNK - 1);
      const subs = (await this.read(ids)).filter((s): s is Subscription => s !== null);
      await Promise.all(subs.map((s) => this.ctx.client.zadd(this.ofAppKey(s.tenantId, s.applicationId), 0, appMember(s))));
      indexed += subs.length;
      if (ids.length < PAGE_CHUNK) return indexed;
    }
  }

  private async read(ids: readonly string[]): Promise<(Subscription | null)[]> {
    const raw = await Promise.all(ids.map((id) => this.ctx.client.get(this.key(id))));
    return raw.map((json) => (json === null ? null : decodeSubscription(json)));
  }

  /** The writes that remove the index entries of `old` that `now` (the subscription as written now, if any) no longer has. */
  private dropIndexEntries(id: string, old: Subscription, now?: Subscription): IndexWrite[] {
    const sameTenant = now !== undefined && old.tenantId === now.tenantId;
    const users = new Set(now?.userIds);
    const writes: IndexWrite[] = [];
    if (!sameTenant) writes.push(['srem', this.ofTenantKey(old.tenantId), id]);
    if (!sameTenant || old.applicationId !== now.applicationId || old.createdAt !== now.createdAt) {
      writes.push(['zrem', this.ofAppKey(old.tenantId, old.applicationId), appMember(old)]);
    }
    for (const u of new Set(old.userIds)) {
      if (!sameTenant || !users.has(u)) writes.push(['srem', this.ofUserKey(old.tenantId, u), id]);
    }
    return writes;
  }

  /** The writes that put every index entry of `s` (idempotent: entries it already has are kept). */
  private indexEntries(s: Subscription): IndexWrite[] {
    return [
      ['sadd', this.ofTenantKey(s.tenantId), s.id],
      ['zadd', this.ofAppKey(s.tenantId, s.applicationId), 0, appMember(s)],
      ['zadd', this.expiryKey, s.expiresAt, s.id],
      ...[...new Set(s.userIds)].map((u): IndexWrite => ['sadd', this.ofUserKey(s.tenantId, u), s.id]),
    ];
  }

  /**
   * Sends index writes in one round trip: a pipeline on one Redis. On a cluster the keys are on many nodes, which
   * one ioredis pipeline cannot span; sent together, ioredis still has them all in flight at once.
   */
  private async writeIndex(writes: IndexWrite[]): Promise<void> {
    const { client } = this.ctx;
    if (client instanceof Redis) {
      const results = (await client.pipeline(writes).exec()) ?? [];
      const failed = results.find(([err]) => err !== null);
      if (failed) throw failed[0];
      return;
    }
    await Promise.all(writes.map(([command, ...args]) => client.call(command, ...args)));
  }

  async putSubscription(subscription: Subscription): Promise<void> {
    const { id } = subscription;
    const { client } = this.ctx;
    // The subscription first, then its index entries: readers ignore entries that do not match the subscription.
    const previous = await client.set(this.key(id), encodeSubscription(subscription), 'GET');
    const writes = this.indexEntries(subscription);
    if (previous !== null) writes.push(...this.dropIndexEntries(id, decodeSubscription(previous), subscription));
    await this.writeIndex(writes);
  }

  async getSubscription(id: string): Promise<Subscription | null> {
    const json = await this.ctx.client.get(this.key(id));
    return json === null ? null : decodeSubscription(json);
  }

  async deleteSubscription(id: string): Promise<boolean> {
    const { ctx } = this;
    const json = await ctx.client.getdel(this.key(id));
    const ops: Promise<unknown>[] = ctx.shards.map((k) => {
      const b = ctx.shardBase(k);
      return ctx.run(DROP_SUBSCRIPTION_DELIVERIES, [`${b}:dq`], [b, id]);
    });
    const writes: IndexWrite[] = [['zrem', this.expiryKey, id]];
    if (json !== null) writes.push(...this.dropIndexEntries(id, decodeSubscription(json)));
    ops.push(this.writeIndex(writes));
    await Promise.all(ops);
    return json !== null;
  }

  async compareAndSetSubscription(expected: Subscription, next: Subscription, enqueue?: readonly NewDelivery[]): Promise<boolean> {
    const set = await this.ctx.run(SET_IF_UNCHANGED, [this.key(expected.id)], [encodeSubscription(expected), encodeSubscription(next)]);
    if (set !== 1) return false;
    // What the index entries hold (tenant, users, expiry) may have changed too.
    await this.reindex(expected, next);
    // Won: only this call enqueues (see the header for the window between the two).
    if (enqueue) await this.deliveries.enqueueDeliveries(enqueue);
    return true;
  }

  private async reindex(old: Subscription, now: Subscription): Promise<void> {
    if (old.tenantId === now.tenantId && old.applicationId === now.applicationId && old.createdAt === now.createdAt
      && old.expiresAt === now.expiresAt && old.userIds.join() === now.userIds.join()) return;
    await this.writeIndex([...this.indexEntries(now), ...this.dropIndexEntries(now.id, old, now)]);
  }

  async listSubscriptions(filter: SubscriptionFilter): Promise<Subscription[]> {
    const ids = (await this.ctx.client.smembers(this.ofTenantKey(filter.tenantId))).sort(byString);
    return (await this.read(ids)).filter((s): s is Subscription => s !== null
      && s.tenantId === filter.tenantId
      && (filter.applicationId === undefined || s.applicationId === filter.applicationId)
      && (filter.creatorId === undefined || s.creatorId === filter.creatorId));
  }

  async countSubscriptions(filter: SubscriptionCount): Promise<number> {
    const { client } = this.ctx;
    return filter.applicationId === undefined
      ? client.scard(this.ofTenantKey(filter.tenantId))
      : client.zcard(this.ofAppKey(filter.tenantId, filter.applicationId));
  }

  async countLiveSubscriptions(owner: SubscriptionOwner, now: number, upTo: number): Promise<number> {
    let live = 0;
    let after: SubscriptionCursor | null = null;
    for (;;) {
      const page = await this.listSubscriptionPage(owner, after, PAGE_CHUNK);
      for (const s of page) if (s.expiresAt > now && ++live >= upTo) return live;
      if (page.length < PAGE_CHUNK) return live;
      after = { createdAt: page.at(-1)!.createdAt, id: page.at(-1)!.id };
    }
  }

  async listSubscriptionPage(owner: SubscriptionOwner, after: SubscriptionCursor | null, limit: number): Promise<Subscription[]> {
    const key = this.ofAppKey(owner.tenantId, owner.applicationId);
    const page: Subscription[] = [];
    let from = after === null ? '-' : `(${appMember(after)}`;
    while (page.length < limit) {
      const members = await this.ctx.client.zrangebylex(key, from, '+', 'LIMIT', 0, PAGE_CHUNK);
      const subs = await this.read(members.map((m) => m.slice(m.indexOf(':') + 1)));
      subs.forEach((s, i) => {
        // Entries of an interrupted write or delete do not match their subscription: skipped.
        if (s === null || s.tenantId !== owner.tenantId || s.applicationId !== owner.applicationId || appMember(s) !== members[i]) return;
        if (s.creatorId === owner.creatorId && page.length < limit) page.push(s);
      });
      if (members.length < PAGE_CHUNK) break;
      from = `(${members[members.length - 1]!}`;
    }
    return page;
  }

  async subscriptionsForUser(tenantId: string, userId: string): Promise<ReadonlyArray<Readonly<Subscription>>> {
    const ids = (await this.ctx.client.smembers(this.ofUserKey(tenantId, userId))).sort(byString);
    return (await this.read(ids)).filter((s): s is Subscription => s !== null
      && s.tenantId === tenantId && s.userIds.includes(userId));
  }

  async subscriptionsExpiringBy(at: number, limit: number): Promise<Subscription[]> {
    const ids = await this.ctx.client.zrangebyscore(this.expiryKey, '-inf', at, 'LIMIT', 0, limit);
    return (await this.read(ids)).filter((s): s is Subscription => s !== null && s.expiresAt <= at);
  }

  async nextSubscriptionExpiry(): Promise<number | null> {
    const first = await this.ctx.client.zrange(this.expiryKey, 0, 0, 'WITHSCORES');
    return first.length < 2 ? null : Number(first[1]);
  }
}
