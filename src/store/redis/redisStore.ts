/**
 * The Store on Redis (ioredis): the scale-out backend. Several Presently nodes share one Redis, or one Redis Cluster,
 * through this store; everything a node needs to hand over to another lives in Redis.
 *
 * ## Shards and keys
 *
 * A user's update must change their record, the due index and the outbox together. On a cluster, one script can only
 * touch keys of one hash slot, so the keyspace is cut into SHARDS (16) fixed shards, and everything a per-user update
 * touches lives in the user's shard: shard = FNV-1a(`<tenantId>/<userId>`) % 16. Every key of shard k starts with
 * `<prefix>{<prefix>s<k>}` — the braces are the hash tag, so all of a shard's keys share one slot, and the 16 shards
 * spread over 16 slots (so over up to 16 cluster nodes; the prefix in the tag keeps two deployments sharing a cluster
 * on different slots). The shard count and the hash are part of the data's layout: the store records them under
 * `<prefix>layout` and refuses to open data laid out differently.
 *
 * Shard keys (`B` = `<prefix>{<prefix>s<k>}`):
 *   B:u:<tenantId>/<userId>  hash   the user: tid, id, name, upn, facts, view, seq, due ('' = none), rev
 *   B:tu:<tenantId>          set    the tenant's user ids in this shard (listUsers)
 *   B:due                    zset   `<tenantId>/<userId>` scored by dueAt: the due index
 *   B:out                    stream the outbox: change events t, u, s (sequenceNumber), v (view JSON), a (at)
 *   B:dq                     zset   delivery ids scored by when each can next be claimed (nextAttemptAt, or lease end)
 *   B:d:<deliveryId>         hash   j (the delivery's fixed fields, JSON), n (nextAttemptAt), a (attempt), s (sub id)
 *   B:ds:<subscriptionId>    set    the subscription's delivery ids in this shard (deleteSubscription)
 *   B:ctr                    hash   counters: rev, dn (delivery ids), us (last outbox time)
 * Keys outside the shards (each hashes on its own name, so they spread over the cluster):
 *   <prefix>meta, <prefix>tenants, <prefix>apps   hashes
 *   <prefix>upn:<lower-case upn>                  string `<tenantId>/<userId>|<claimed at>`: the UPN index
 *   <prefix>sub:<id>                              string the subscription, JSON
 *   <prefix>subs:t:<tenantId>, <prefix>subs:u:<tenantId>/<userId>   sets of subscription ids (listing, fan-out)
 *   <prefix>subs:exp                              zset   subscription ids by expiresAt
 *   <prefix>ep:<sha1(url)>:d                      list   a webhook endpoint's latest POST durations, `<at> <ms>`
 *   <prefix>ep:<sha1(url)>:t                      string when a throttled endpoint's current turn ends
 *   <prefix>clock                                 string the shared manual clock's time (epoch ms)
 * and one pub/sub channel, `<prefix>clock`, on which every move of the shared manual clock is announced.
 *
 * ## Webhook endpoints
 *
 * The deliverer's slow-endpoint accounting is shared by every node: each POST's duration is appended to the
 * endpoint's list and the list trimmed to the latest `keep` in one script (RPUSH, LTRIM, LRANGE), so all nodes judge
 * an endpoint by the same last 100 POSTs, whichever node made them. A throttled endpoint's "one POST per 10 minutes"
 * is a turn taken with a script (set the end of the turn unless the current turn has not ended). The keys hash on
 * their own names (the URL's SHA-1), so endpoints spread over the cluster; both expire after ENDPOINT_TTL_MS of real
 * time without a POST — storage clean-up only: the deliverer forgets samples by the server clock's time.
 *
 * ## The shared manual clock
 *
 * With `--clock manual`, the time lives in `<prefix>clock` (src/platform/clock/shared.ts): set if absent at start, so the
 * nodes agree on one start; moved only forward by a script that also publishes the new time, so each node's local
 * copy follows. Pub/sub needs a connection of its own: `sharedClock().subscribe` opens one (closed by the returned
 * function, or by close()).
 *
 * ## Per-user updates: optimistic, atomic per shard
 *
 * updatePresence reads the record and its `rev`, runs the pure `fn` in JS, and commits with one Lua script (COMMIT in
 * ./scripts.ts) that checks `rev` is unchanged and then writes the record, a fresh `rev`, the due-index entry and —
 * when the view changed — the outbox event, all at once. A changed `rev` means another node committed first: read
 * again and re-run `fn` after a short jittered back-off, up to MAX_CONFLICTS times. No WATCH: that would need a
 * connection per update in flight. Within one process, updates of the same user are queued one behind another, so
 * conflicts only come from other nodes and cost one extra round trip, not a storm of retries.
 *
 * ## Timers across nodes
 *
 * The due index is a zset per shard; dueUsers and nextDueAt read every shard (one pipelined round trip) and merge.
 * Exactly-once transitions come from the optimistic commit, not from a lease: every node's scheduler may see the same
 * due user, but the transition is only made by `fn` when the record it reads is still due, and only one commit of a
 * given `rev` succeeds — the others re-read a record that is no longer due and change nothing (catchUp returns null).
 * A claim-with-lease inside dueUsers would break its contract (it is a read: the contract suite calls it repeatedly
 * and expects the same answer) and would only save duplicate reads, which are bounded by the number of nodes; the
 * scheduler wakes at the due instant on each node, so the duplicate work is one read per node per due user.
 *
 * ## Outbox and deliveries across nodes
 *
 * The outbox is a stream per shard. readChanges merges the shards' oldest entries by stream id, whose first part is
 * the Redis server time in microseconds: on one Redis, scripts run one at a time, so that is commit order; on a
 * cluster it is commit order as far as the nodes' clocks agree (within one user, it is always exact). Event ids are
 * `s<shard>:<stream id>`.
 * dispatchChanges groups its ids by shard and runs one script per shard that XDELs them and, only if it removed at
 * least one, enqueues the deliveries they produced — into the same shard (a delivery of a change goes to the shard of
 * its user, which is the shard of the event; deliveries with no user go with the first shard's group). So each group
 * is atomic on a cluster too: two dispatchers racing on the same events enqueue each event's deliveries once; a
 * failure part-way leaves the not-yet-dispatched groups' events in the outbox, to be read again.
 * Deliveries wait in a zset per shard scored by the instant they can next be claimed. claimDeliveries reads the
 * earliest candidates of every shard, then claims them with a script per shard that re-checks each is still claimable
 * and moves its score to the lease end: a lease is the score, so a delivery leased by a node that died is claimable
 * again when the lease ends — what XAUTOCLAIM's idle time does for a consumer group, with "due later" (retries with
 * back-off) for free, which a stream cannot express. Candidates taken by another node meanwhile are skipped and
 * replaced by reading again, so the result is the earliest `limit` that nobody else holds.
 *
 * ## Subscriptions
 *
 * A subscription is one JSON string plus its index entries (tenant set, one set per watched user, expiry zset), on
 * different slots. putSubscription writes the subscription first and its index entries after; deleteSubscription
 * removes the subscription first (GETDEL) and its index entries and deliveries after. Readers look each id up and
 * ignore those whose subscription is missing or no longer matches (tenant, users, expiry), so an interrupted call never
 * shows a wrong subscription.
 * markReauthorizationNotified (the lifecycle's exactly-once `reauthorizationRequired` over all nodes) is a
 * compare-and-set of the subscription's JSON (SET_IF_UNCHANGED: the mark is set only on the JSON whose expiry and
 * mark were checked; re-read and re-checked when another write came in between), and then enqueues the notice. The
 * subscription key and the delivery queue are on different slots, so the two cannot be one script on a cluster: a
 * node dying between them loses that one notice (never sends it twice) — the order the lifecycle asks for.
 *
 * ## UPNs
 *
 * A UPN is unique across tenants: putUser first claims the UPN key (a script: set if free, or already ours), then
 * creates or renames the user (one script in their shard), then releases their previous UPN if it changed. A claim
 * left behind by an interrupted call (its owner missing, or now having another UPN) may be taken over once it is
 * STALE_CLAIM_SECONDS old; findUserByUpn checks the owner still has the UPN.
 */
import { createHash } from 'node:crypto';
import { Cluster, Redis, type ClusterNode } from 'ioredis';
import type { SharedClockBackend } from '../../platform/clock/shared.ts';
import type { Transition } from '../../domain/record.ts';
import type { PresenceFacts, PresenceRecord, PresenceView } from '../../domain/types.ts';
import type { ChangeEvent, Delivery, NewDelivery, Subscription } from '../../domain/subscription.ts';
import { UpnTaken } from '../errors.ts';
import type { App, DeliveryReschedule, EndpointSample, PresenceKey, PresenceSnapshot, PresenceUpdate, Store, Tenant, User } from '../types.ts';
import {
  CLAIM, CLAIM_UPN, CLOCK_ADVANCE, CLOCK_INIT, COMMIT, COMPLETE, COUNT_LEASED, DELETE_USER, DISPATCH,
  DROP_SUBSCRIPTION_DELIVERIES, ENQUEUE, META_IF_ABSENT, PUT_USER, RECORD_ENDPOINT_DURATION, RELEASE_UPN, RESCHEDULE,
  SET_IF_UNCHANGED, STEAL_UPN, TAKE_ENDPOINT_TURN, type Script,
} from './scripts.ts';

/** How many shards the keyspace is cut into. Part of the data layout: changing it needs a migration. */
export const SHARDS = 16;
const LAYOUT = `v1 shards=${SHARDS} hash=fnv1a32`;
export const DEFAULT_PREFIX = 'presently:';
/** updatePresence (and markReauthorizationNotified) give up after this many commits lost to other writers in a row. */
const MAX_CONFLICTS = 50;
/** A UPN claim whose owner does not have the UPN may be taken over after this long (an interrupted putUser). */
const STALE_CLAIM_SECONDS = 30;
/** How long ping waits for an answer. */
const PING_TIMEOUT_MS = 2000;
/** A webhook endpoint's keys expire after this long (real time) without a POST: clean-up only (see the header). */
const ENDPOINT_TTL_MS = 24 * 60 * 60_000;

type Client = Redis | Cluster;

/** FNV-1a, 32 bits, over UTF-16 code units: the shard function (part of the layout). */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export function shardOf(key: string): number {
  return fnv1a(key) % SHARDS;
}

/** `redis://[user:password@]host:port[/db]`, or several nodes of a cluster: `redis://h1:p1,h2:p2,...`. */
export type RedisTarget =
  | { kind: 'single'; url: string }
  | { kind: 'cluster'; nodes: ClusterNode[]; username?: string; password?: string; tls: boolean };

export function parseRedisUrl(url: string): RedisTarget {
  const m = /^(rediss?):\/\/(?:([^@/]*)@)?([^/?#]+)(\/[^?#]*)?$/.exec(url);
  if (!m) throw new Error(`not a Redis URL: '${redact(url)}' (expected redis://host:port[/db] or redis://host1:port1,host2:port2,...)`);
  const [, scheme, auth, hosts, path] = m as unknown as [string, string, string | undefined, string, string | undefined];
  const list = hosts.split(',').map((h) => h.trim()).filter((h) => h !== '');
  if (list.length <= 1) return { kind: 'single', url };
  if (path && path !== '/' && path !== '/0') throw new Error('Redis Cluster has only database 0: drop the /db from the URL.');
  const nodes = list.map((h) => {
    const hm = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(h);
    if (!hm) throw new Error(`bad Redis node '${h}' in '${redact(url)}'`);
    return { host: hm[1]!.replace(/^\[(.*)\]$/, '$1'), port: hm[2] ? Number(hm[2]) : 6379 };
  });
  const target: RedisTarget = { kind: 'cluster', nodes, tls: scheme === 'rediss' };
  if (auth) {
    const i = auth.indexOf(':');
    const user = decodeURIComponent(i < 0 ? auth : auth.slice(0, i));
    const password = i < 0 ? '' : decodeURIComponent(auth.slice(i + 1));
    if (i < 0) target.password = user;
    else {
      if (user) target.username = user;
      target.password = password;
    }
  }
  return target;
}

/** The URL without its password, for messages. */
export function redact(url: string): string {
  return url.replace(/^(rediss?:\/\/)([^@/]*)@/, (_, scheme: string, auth: string) =>
    `${scheme}${auth.includes(':') ? `${auth.slice(0, auth.indexOf(':'))}:***` : '***'}@`);
}

interface UserHash { tid: string | null; id: string | null; name: string | null; upn: string | null }

const stringifyDue = (dueAt: number | null): string => (dueAt === null ? '' : String(dueAt));
const parseDue = (s: string | null | undefined): number | null => (s === null || s === undefined || s === '' ? null : Number(s));

/** The fixed fields of a delivery, kept as JSON; attempt and nextAttemptAt are hash fields (they change). */
type DeliveryFixed = Omit<NewDelivery, 'attempt' | 'nextAttemptAt'>;

function deliveryArgs(d: NewDelivery): string[] {
  const fixed: DeliveryFixed = {
    subscriptionId: d.subscriptionId, tenantId: d.tenantId, kind: d.kind, url: d.url, item: d.item,
    resourceView: d.resourceView, userId: d.userId, createdAt: d.createdAt,
  };
  return [JSON.stringify(fixed), String(d.nextAttemptAt), String(d.attempt), d.subscriptionId];
}

function toDelivery(id: string, json: string, next: string, attempt: string): Delivery {
  const f = JSON.parse(json) as DeliveryFixed;
  return {
    id, subscriptionId: f.subscriptionId, tenantId: f.tenantId, kind: f.kind, url: f.url, item: f.item,
    resourceView: f.resourceView, userId: f.userId, attempt: Number(attempt), nextAttemptAt: Number(next),
    createdAt: f.createdAt,
  };
}

/** `s<shard>:<ms>-<seq>` → its parts, or null for an id this store cannot have handed out. */
function parseEventId(id: string): { shard: number; streamId: string } | null {
  const m = /^s(\d{1,3}):(\d{1,20}-\d{1,20})$/.exec(id);
  if (!m) return null;
  const shard = Number(m[1]);
  return shard < SHARDS ? { shard, streamId: m[2]! } : null;
}

/** `d<shard>-<n>` → the shard, or null. */
function deliveryShard(id: string): number | null {
  const m = /^d(\d{1,3})-\d{1,20}$/.exec(id);
  if (!m) return null;
  const shard = Number(m[1]);
  return shard < SHARDS ? shard : null;
}

/** Orders stream ids `<ms>-<seq>` numerically. */
function compareStreamIds(a: string, b: string): number {
  const [am, as] = a.split('-') as [string, string];
  const [bm, bs] = b.split('-') as [string, string];
  return Number(am) - Number(bm) || Number(as) - Number(bs);
}

const byString = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function splitMember(member: string): PresenceKey {
  const i = member.indexOf('/');
  return { tenantId: member.slice(0, i), userId: member.slice(i + 1) };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function groupBy<T>(items: Iterable<T>, key: (item: T) => number | null): Map<number, T[]> {
  const groups = new Map<number, T[]>();
  for (const item of items) {
    const k = key(item);
    if (k === null) continue;
    let g = groups.get(k);
    if (!g) groups.set(k, (g = []));
    g.push(item);
  }
  return groups;
}

export class RedisStore implements Store {
  readonly kind = 'redis' as const;
  /** Other nodes write too: nothing read may be kept as the truth. */
  readonly exclusive = false;
  /** Updates of one user queued in this process (see the header). */
  private readonly userQueues = new Map<string, Promise<void>>();
  /** Pub/sub connections opened by sharedClock().subscribe, closed with the store. */
  private readonly subscribers = new Set<Client>();
  private closed = false;

  /** Use openRedisStore. */
  constructor(private readonly client: Client, readonly url: string, readonly prefix: string) {}

  // ---- keys ----

  /** The common start of shard k's keys, hash tag included. */
  shardBase(k: number): string {
    return `${this.prefix}{${this.prefix}s${k}}`;
  }

  private userShard(tenantId: string, userId: string): number {
    return shardOf(`${tenantId}/${userId}`);
  }

  private userKey(tenantId: string, userId: string): string {
    return `${this.shardBase(this.userShard(tenantId, userId))}:u:${tenantId}/${userId}`;
  }

  /** Every key an update, creation or deletion of the user touches (they share one hash slot). */
  keysOfUser(tenantId: string, userId: string): string[] {
    const b = this.shardBase(this.userShard(tenantId, userId));
    return [`${b}:u:${tenantId}/${userId}`, `${b}:due`, `${b}:out`, `${b}:ctr`, `${b}:tu:${tenantId}`, `${b}:dq`];
  }

  private upnKey(upn: string): string {
    return `${this.prefix}upn:${upn.toLowerCase()}`;
  }

  private subKey(id: string): string {
    return `${this.prefix}sub:${id}`;
  }

  private subsOfUserKey(tenantId: string, userId: string): string {
    return `${this.prefix}subs:u:${tenantId}/${userId}`;
  }

  private subsOfTenantKey(tenantId: string): string {
    return `${this.prefix}subs:t:${tenantId}`;
  }

  private get subsExpiryKey(): string {
    return `${this.prefix}subs:exp`;
  }

  private get shards(): number[] {
    return Array.from({ length: SHARDS }, (_, k) => k);
  }

  // ---- plumbing ----

  /** Runs a script by its hash, loading it on a node that does not have it yet (first use, restart, failover). */
  private async run(script: Script, keys: string[], args: (string | number)[]): Promise<unknown> {
    try {
      return await this.client.evalsha(script.sha, keys.length, ...keys, ...args);
    } catch (err) {
      if (err instanceof Error && err.message.startsWith('NOSCRIPT')) {
        return this.client.eval(script.lua, keys.length, ...keys, ...args);
      }
      throw err;
    }
  }

  /** Runs `fn` after every earlier call queued under `key` in this process has finished. */
  private async queued<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.userQueues.get(key) ?? Promise.resolve();
    const result = previous.then(fn);
    const tail = result.then(() => {}, () => {});
    this.userQueues.set(key, tail);
    try {
      return await result;
    } finally {
      if (this.userQueues.get(key) === tail) this.userQueues.delete(key);
    }
  }

  async ping(): Promise<boolean> {
    if (this.closed) return false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const answer = await Promise.race([
        this.client.ping(),
        new Promise<null>((resolve) => {
          timer = setTimeout(() => resolve(null), PING_TIMEOUT_MS);
        }),
      ]);
      return answer === 'PONG';
    } catch {
      return false;
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled([...this.userQueues.values()]);
    await Promise.allSettled([...this.subscribers].map((sub) => quit(sub)));
    this.subscribers.clear();
    try {
      await this.client.quit();
    } catch {
      this.client.disconnect();
    }
  }

  // ---- meta, tenants, apps ----

  async getMeta(key: string): Promise<string | null> {
    return this.client.hget(`${this.prefix}meta`, key);
  }

  async setMeta(key: string, value: string): Promise<void> {
    await this.client.hset(`${this.prefix}meta`, key, value);
  }

  async setMetaIfAbsent(key: string, value: string): Promise<string> {
    return await this.run(META_IF_ABSENT, [`${this.prefix}meta`], [key, value]) as string;
  }

  async putTenant(tenant: Tenant): Promise<void> {
    await this.client.hset(`${this.prefix}tenants`, tenant.id, tenant.displayName);
  }

  async getTenant(id: string): Promise<Tenant | null> {
    const displayName = await this.client.hget(`${this.prefix}tenants`, id);
    return displayName === null ? null : { id, displayName };
  }

  async listTenants(): Promise<Tenant[]> {
    const all = await this.client.hgetall(`${this.prefix}tenants`);
    return Object.keys(all).sort(byString).map((id) => ({ id, displayName: all[id]! }));
  }

  async putApp(app: App): Promise<void> {
    await this.client.hset(`${this.prefix}apps`, app.id, app.displayName);
  }

  async getApp(id: string): Promise<App | null> {
    const displayName = await this.client.hget(`${this.prefix}apps`, id);
    return displayName === null ? null : { id, displayName };
  }

  async listApps(): Promise<App[]> {
    const all = await this.client.hgetall(`${this.prefix}apps`);
    return Object.keys(all).sort(byString).map((id) => ({ id, displayName: all[id]! }));
  }

  // ---- users ----

  private async readUser(tenantId: string, userId: string): Promise<User | null> {
    const [tid, id, name, upn] = await this.client.hmget(this.userKey(tenantId, userId), 'tid', 'id', 'name', 'upn');
    return toUser({ tid: tid ?? null, id: id ?? null, name: name ?? null, upn: upn ?? null });
  }

  async putUser(user: User, initial: PresenceRecord): Promise<boolean> {
    const { tenantId, id: userId } = user;
    const owner = `${tenantId}/${userId}`;
    const upn = user.userPrincipalName;
    const lower = upn.toLowerCase();
    const upnKey = this.upnKey(upn);

    const claim = await this.run(CLAIM_UPN, [upnKey], [owner]);
    let fresh = claim === 2;
    if (typeof claim === 'string') {
      // Someone else's claim: theirs if they still have the UPN; a leftover of an interrupted call otherwise.
      const other = splitMember(claim.slice(0, claim.lastIndexOf('|')));
      const theirs = await this.client.hget(this.userKey(other.tenantId, other.userId), 'upn');
      if (theirs !== null && theirs.toLowerCase() === lower) throw new UpnTaken(upn);
      if (await this.run(STEAL_UPN, [upnKey], [claim, owner, STALE_CLAIM_SECONDS]) !== 1) throw new UpnTaken(upn);
      fresh = true;
    }

    const b = this.shardBase(this.userShard(tenantId, userId));
    let result: [number, string?];
    try {
      result = await this.run(PUT_USER, [`${b}:u:${owner}`, `${b}:due`, `${b}:tu:${tenantId}`, `${b}:ctr`], [
        tenantId, userId, user.displayName, upn, JSON.stringify(initial.facts), JSON.stringify(initial.view),
        initial.sequenceNumber, stringifyDue(initial.dueAt), owner,
      ]) as [number, string?];
    } catch (err) {
      if (fresh) await this.run(RELEASE_UPN, [upnKey], [owner]).catch(() => {});
      throw err;
    }
    const [created, previousUpn] = result;
    if (created === 0 && previousUpn !== undefined && previousUpn.toLowerCase() !== lower) {
      await this.run(RELEASE_UPN, [this.upnKey(previousUpn)], [owner]);
    }
    return created === 1;
  }

  async getUser(tenantId: string, userId: string): Promise<User | null> {
    return this.readUser(tenantId, userId);
  }

  async findUserByUpn(upn: string): Promise<User | null> {
    const claim = await this.client.get(this.upnKey(upn));
    if (claim === null) return null;
    const owner = splitMember(claim.slice(0, claim.lastIndexOf('|')));
    const user = await this.readUser(owner.tenantId, owner.userId);
    // A claim left by an interrupted call names a user who does not have the UPN.
    return user && user.userPrincipalName.toLowerCase() === upn.toLowerCase() ? user : null;
  }

  async listUsers(tenantId: string): Promise<User[]> {
    const perShard = await Promise.all(this.shards.map((k) => this.client.smembers(`${this.shardBase(k)}:tu:${tenantId}`)));
    const ids = perShard.flat().sort(byString);
    const users = await Promise.all(ids.map((id) => this.readUser(tenantId, id)));
    return users.filter((u): u is User => u !== null);
  }

  async deleteUser(tenantId: string, userId: string): Promise<boolean> {
    const owner = `${tenantId}/${userId}`;
    const b = this.shardBase(this.userShard(tenantId, userId));
    const upn = await this.queued(owner, async () =>
      await this.run(DELETE_USER, [`${b}:u:${owner}`, `${b}:due`, `${b}:tu:${tenantId}`], [userId, owner]) as string | null);
    if (upn === null) return false;
    await this.run(RELEASE_UPN, [this.upnKey(upn)], [owner]);
    return true;
  }

  // ---- presence ----

  async getPresence(tenantId: string, userId: string): Promise<PresenceRecord | null> {
    const [facts, view, seq, due] = await this.client.hmget(this.userKey(tenantId, userId), 'facts', 'view', 'seq', 'due');
    if (!facts || !view || seq === null || seq === undefined) return null;
    return { facts: JSON.parse(facts) as PresenceFacts, view: JSON.parse(view) as PresenceView, sequenceNumber: seq, dueAt: parseDue(due) };
  }

  async getSnapshots(tenantId: string, userIds: readonly string[]): Promise<Map<string, PresenceSnapshot>> {
    const result = new Map<string, PresenceSnapshot>();
    const unique = [...new Set(userIds)];
    // One HMGET per user, issued together: ioredis sends them as one pipeline per node.
    const rows = await Promise.all(unique.map((id) => this.client.hmget(this.userKey(tenantId, id), 'view', 'seq', 'due')));
    for (const [i, [view, seq, due]] of rows.entries()) {
      if (!view || seq === null || seq === undefined) continue;
      result.set(unique[i]!, { view: JSON.parse(view) as PresenceView, sequenceNumber: seq, dueAt: parseDue(due) });
    }
    return result;
  }

  async updatePresence(tenantId: string, userId: string, fn: PresenceUpdate): Promise<Transition | null | undefined> {
    const owner = `${tenantId}/${userId}`;
    const b = this.shardBase(this.userShard(tenantId, userId));
    const keys = [`${b}:u:${owner}`, `${b}:due`, `${b}:out`, `${b}:ctr`];
    return this.queued(owner, async () => {
      for (let conflicts = 0; ; conflicts++) {
        const [facts, view, seq, due, rev] = await this.client.hmget(keys[0]!, 'facts', 'view', 'seq', 'due', 'rev');
        if (!facts || !view || seq === null || seq === undefined || rev === null || rev === undefined) return undefined;
        const result = fn({
          facts: JSON.parse(facts) as PresenceFacts, view: JSON.parse(view) as PresenceView, sequenceNumber: seq, dueAt: parseDue(due),
        });
        if (result === null) return null;
        const { record } = result;
        const viewJson = JSON.stringify(record.view);
        const outcome = await this.run(COMMIT, keys, [
          rev, JSON.stringify(record.facts), viewJson, record.sequenceNumber, stringifyDue(record.dueAt),
          result.changed ? '1' : '0', owner, tenantId, userId, String(result.at),
        ]);
        if (outcome === -1) return undefined;
        if (outcome !== 0) return result;
        if (conflicts + 1 >= MAX_CONFLICTS) {
          throw new Error(`updatePresence of ${owner}: another writer committed first ${MAX_CONFLICTS} times in a row; gave up`);
        }
        // Another node committed first: back off a little (jittered, growing) and try again on what it wrote.
        await sleep(Math.random() * Math.min(50, 2 ** Math.min(conflicts, 6)));
      }
    });
  }

  async dueUsers(now: number, limit: number): Promise<PresenceKey[]> {
    if (limit <= 0) return [];
    const perShard = await Promise.all(this.shards.map((k) =>
      this.client.zrangebyscore(`${this.shardBase(k)}:due`, '-inf', now, 'WITHSCORES', 'LIMIT', 0, limit)));
    const due: { at: number; key: PresenceKey }[] = [];
    for (const flat of perShard) {
      for (let i = 0; i < flat.length; i += 2) due.push({ at: Number(flat[i + 1]), key: splitMember(flat[i]!) });
    }
    due.sort((a, b) => a.at - b.at || byString(a.key.tenantId, b.key.tenantId) || byString(a.key.userId, b.key.userId));
    return due.slice(0, limit).map((d) => d.key);
  }

  /** The earliest score over every shard's zset `suffix`. */
  private async earliest(suffix: string): Promise<number | null> {
    const firsts = await Promise.all(this.shards.map((k) => this.client.zrange(`${this.shardBase(k)}:${suffix}`, 0, 0, 'WITHSCORES')));
    let min: number | null = null;
    for (const f of firsts) {
      if (f.length < 2) continue;
      const at = Number(f[1]);
      if (min === null || at < min) min = at;
    }
    return min;
  }

  async nextDueAt(): Promise<number | null> {
    return this.earliest('due');
  }

  // ---- the outbox ----

  async readChanges(limit: number): Promise<ChangeEvent[]> {
    if (limit <= 0) return [];
    type Entry = { shard: number; streamId: string; fields: string[] };
    const read: Entry[] = [];
    /** Per shard: the last stream id read, and whether the shard has nothing after it. */
    const cursor = this.shards.map(() => ({ last: '-', done: false }));
    // Read a fair share from every shard; read more from shards that may still hold events older than the ones
    // already read, until `limit` events are known to be the oldest.
    let per = Math.min(limit, Math.ceil((2 * limit) / SHARDS) + 4);
    for (;;) {
      const pending = this.shards.filter((k) => !cursor[k]!.done);
      const batches = await Promise.all(pending.map((k) => {
        const c = cursor[k]!;
        return this.client.xrange(`${this.shardBase(k)}:out`, c.last === '-' ? '-' : `(${c.last}`, '+', 'COUNT', per);
      }));
      for (const [i, batch] of batches.entries()) {
        const k = pending[i]!;
        for (const [streamId, fields] of batch) read.push({ shard: k, streamId, fields });
        if (batch.length > 0) cursor[k]!.last = batch[batch.length - 1]![0];
        if (batch.length < per) cursor[k]!.done = true;
      }
      read.sort((a, b) => compareStreamIds(a.streamId, b.streamId) || a.shard - b.shard);
      // Everything up to the smallest "last read" of the shards not exhausted is complete.
      const open = this.shards.filter((k) => !cursor[k]!.done);
      const bound = open.length === 0 ? null : open.map((k) => cursor[k]!.last).sort(compareStreamIds)[0]!;
      const safe = bound === null ? read : read.filter((e) => compareStreamIds(e.streamId, bound) <= 0);
      if (safe.length >= limit || bound === null) {
        return safe.slice(0, limit).map(({ shard, streamId, fields }) => {
          const f: Record<string, string> = {};
          for (let i = 0; i < fields.length; i += 2) f[fields[i]!] = fields[i + 1]!;
          return {
            id: `s${shard}:${streamId}`, tenantId: f.t!, userId: f.u!, sequenceNumber: f.s!,
            view: JSON.parse(f.v!) as PresenceView, at: Number(f.a),
          };
        });
      }
      per = Math.min(limit, per * 2);
    }
  }

  async dispatchChanges(eventIds: readonly string[], deliveries: readonly NewDelivery[]): Promise<boolean> {
    const parsed = eventIds.map(parseEventId).filter((e) => e !== null);
    if (parsed.length === 0) return false;
    // Serialise first: a delivery that cannot be stored fails the call before anything is written.
    const args = deliveries.map((d) => ({ d, args: deliveryArgs(d) }));
    const idsByShard = groupBy(parsed, (e) => e.shard);
    const first = parsed[0]!.shard;
    const deliveriesByShard = groupBy(args, ({ d }) => {
      const k = d.userId === null ? first : this.userShard(d.tenantId, d.userId);
      return idsByShard.has(k) ? k : first;
    });
    const results = await Promise.all([...idsByShard].map(([k, events]) => {
      const b = this.shardBase(k);
      const ds = deliveriesByShard.get(k) ?? [];
      return this.run(DISPATCH, [`${b}:out`, `${b}:dq`, `${b}:ctr`], [
        b, k, events.length, ...events.map((e) => e.streamId), ...ds.flatMap((x) => x.args),
      ]);
    }));
    return results.some((r) => r === 1);
  }

  // ---- subscriptions ----

  private async readSubscriptions(ids: readonly string[]): Promise<(Subscription | null)[]> {
    const raw = await Promise.all(ids.map((id) => this.client.get(this.subKey(id))));
    return raw.map((json) => (json === null ? null : JSON.parse(json) as Subscription));
  }

  async putSubscription(subscription: Subscription): Promise<void> {
    const { id, tenantId } = subscription;
    const json = JSON.stringify(subscription);
    const previous = await this.client.get(this.subKey(id));
    // The subscription first, then its index entries: readers ignore entries that do not match the subscription.
    await this.client.set(this.subKey(id), json);
    const users = new Set(subscription.userIds);
    const ops: Promise<unknown>[] = [
      this.client.sadd(this.subsOfTenantKey(tenantId), id),
      this.client.zadd(this.subsExpiryKey, subscription.expiresAt, id),
      ...[...users].map((u) => this.client.sadd(this.subsOfUserKey(tenantId, u), id)),
    ];
    if (previous !== null) {
      const old = JSON.parse(previous) as Subscription;
      const sameTenant = old.tenantId === tenantId;
      if (!sameTenant) ops.push(this.client.srem(this.subsOfTenantKey(old.tenantId), id));
      for (const u of new Set(old.userIds)) {
        if (!sameTenant || !users.has(u)) ops.push(this.client.srem(this.subsOfUserKey(old.tenantId, u), id));
      }
    }
    await Promise.all(ops);
  }

  async getSubscription(id: string): Promise<Subscription | null> {
    const json = await this.client.get(this.subKey(id));
    return json === null ? null : JSON.parse(json) as Subscription;
  }

  async deleteSubscription(id: string): Promise<boolean> {
    const json = await this.client.getdel(this.subKey(id));
    const ops: Promise<unknown>[] = this.shards.map((k) => {
      const b = this.shardBase(k);
      return this.run(DROP_SUBSCRIPTION_DELIVERIES, [`${b}:dq`], [b, id]);
    });
    ops.push(this.client.zrem(this.subsExpiryKey, id));
    if (json !== null) {
      const old = JSON.parse(json) as Subscription;
      ops.push(this.client.srem(this.subsOfTenantKey(old.tenantId), id));
      for (const u of new Set(old.userIds)) ops.push(this.client.srem(this.subsOfUserKey(old.tenantId, u), id));
    }
    await Promise.all(ops);
    return json !== null;
  }

  async markReauthorizationNotified(id: string, expiresAt: number, at: number, since: number, notice?: NewDelivery): Promise<boolean> {
    const key = this.subKey(id);
    for (let conflicts = 0; ; conflicts++) {
      const json = await this.client.get(key);
      if (json === null) return false;
      const sub = JSON.parse(json) as Subscription;
      const marked = sub.reauthorizationNotifiedAt;
      if (sub.expiresAt !== expiresAt || (marked !== null && marked >= since)) return false;
      const set = await this.run(SET_IF_UNCHANGED, [key], [json, JSON.stringify({ ...sub, reauthorizationNotifiedAt: at })]);
      if (set === 1) break;
      if (conflicts + 1 >= MAX_CONFLICTS) throw new Error(`subscription ${id} changed under this node ${MAX_CONFLICTS} times in a row; gave up`);
    }
    // Won: only this call enqueues (see the header for the window between the two).
    if (notice) await this.enqueueDeliveries([notice]);
    return true;
  }

  async listSubscriptions(filter: { tenantId: string; applicationId?: string; creatorId?: string }): Promise<Subscription[]> {
    const ids = (await this.client.smembers(this.subsOfTenantKey(filter.tenantId))).sort(byString);
    return (await this.readSubscriptions(ids)).filter((s): s is Subscription => s !== null
      && s.tenantId === filter.tenantId
      && (filter.applicationId === undefined || s.applicationId === filter.applicationId)
      && (filter.creatorId === undefined || s.creatorId === filter.creatorId));
  }

  async subscriptionsForUser(tenantId: string, userId: string): Promise<Subscription[]> {
    const ids = (await this.client.smembers(this.subsOfUserKey(tenantId, userId))).sort(byString);
    return (await this.readSubscriptions(ids)).filter((s): s is Subscription => s !== null
      && s.tenantId === tenantId && s.userIds.includes(userId));
  }

  async subscriptionsExpiringBy(at: number, limit: number): Promise<Subscription[]> {
    if (limit <= 0) return [];
    const ids = await this.client.zrangebyscore(this.subsExpiryKey, '-inf', at, 'LIMIT', 0, limit);
    return (await this.readSubscriptions(ids)).filter((s): s is Subscription => s !== null && s.expiresAt <= at);
  }

  async nextSubscriptionExpiry(): Promise<number | null> {
    const first = await this.client.zrange(this.subsExpiryKey, 0, 0, 'WITHSCORES');
    return first.length < 2 ? null : Number(first[1]);
  }

  // ---- deliveries ----

  async enqueueDeliveries(deliveries: readonly NewDelivery[]): Promise<void> {
    if (deliveries.length === 0) return;
    const args = deliveries.map((d) => ({ d, args: deliveryArgs(d) }));
    const byShard = groupBy(args, ({ d }) => shardOf(d.subscriptionId));
    await Promise.all([...byShard].map(([k, ds]) => {
      const b = this.shardBase(k);
      return this.run(ENQUEUE, [`${b}:dq`, `${b}:ctr`], [b, k, ...ds.flatMap((x) => x.args)]);
    }));
  }

  async claimDeliveries(now: number, limit: number, leaseMs: number): Promise<Delivery[]> {
    if (limit <= 0) return [];
    const claimed: { score: number; delivery: Delivery }[] = [];
    // Read the earliest candidates of every shard, claim the earliest of them; any taken by another claimer in
    // between are replaced by reading again. Stops when `limit` are claimed or no candidate is left.
    for (let round = 0; claimed.length < limit && round < 50; round++) {
      const want = limit - claimed.length;
      const perShard = await Promise.all(this.shards.map((k) =>
        this.client.zrangebyscore(`${this.shardBase(k)}:dq`, '-inf', now, 'WITHSCORES', 'LIMIT', 0, want)));
      const candidates: { shard: number; id: string; score: number }[] = [];
      for (const [k, flat] of perShard.entries()) {
        for (let i = 0; i < flat.length; i += 2) candidates.push({ shard: k, id: flat[i]!, score: Number(flat[i + 1]) });
      }
      if (candidates.length === 0) break;
      candidates.sort((a, b) => a.score - b.score || byString(a.id, b.id));
      const chosen = candidates.slice(0, want);
      const scores = new Map(chosen.map((c) => [c.id, c.score]));
      const results = await Promise.all([...groupBy(chosen, (c) => c.shard)].map(([k, cs]) => {
        const b = this.shardBase(k);
        return this.run(CLAIM, [`${b}:dq`], [b, now, now + leaseMs, ...cs.map((c) => c.id)]) as Promise<string[]>;
      }));
      let got = 0;
      for (const flat of results) {
        for (let i = 0; i < flat.length; i += 4) {
          const id = flat[i]!;
          claimed.push({ score: scores.get(id)!, delivery: toDelivery(id, flat[i + 1]!, flat[i + 2]!, flat[i + 3]!) });
          got++;
        }
      }
      // All of them claimed and fewer than wanted were there: nothing else is claimable.
      if (got === chosen.length && candidates.length < want) break;
    }
    claimed.sort((a, b) => a.score - b.score || byString(a.delivery.id, b.delivery.id));
    return claimed.map((c) => c.delivery);
  }

  async completeDeliveries(ids: readonly string[]): Promise<void> {
    const byShard = groupBy(new Set(ids), deliveryShard);
    await Promise.all([...byShard].map(([k, group]) => {
      const b = this.shardBase(k);
      return this.run(COMPLETE, [`${b}:dq`], [b, ...group]);
    }));
  }

  async rescheduleDelivery(id: string, nextAttemptAt: number, attempt: number): Promise<void> {
    const k = deliveryShard(id);
    if (k === null) return;
    const b = this.shardBase(k);
    await this.run(RESCHEDULE, [`${b}:dq`], [b, id, nextAttemptAt, attempt]);
  }

  async rescheduleDeliveries(items: readonly DeliveryReschedule[]): Promise<void> {
    // Sent together: the client pipelines them into one round trip per node.
    await Promise.all(items.map((d) => this.rescheduleDelivery(d.id, d.nextAttemptAt, d.attempt)));
  }

  async nextDeliveryAt(): Promise<number | null> {
    return this.earliest('dq');
  }

  async countDeliveries(): Promise<number> {
    const counts = await Promise.all(this.shards.map((k) => this.client.zcard(`${this.shardBase(k)}:dq`)));
    return counts.reduce((a, b) => a + b, 0);
  }

  async countLeasedDeliveries(now: number): Promise<number> {
    const counts = await Promise.all(this.shards.map((k) => {
      const b = this.shardBase(k);
      return this.run(COUNT_LEASED, [`${b}:dq`], [b, now]) as Promise<number>;
    }));
    return counts.reduce((a, b) => a + b, 0);
  }

  // ---- webhook endpoints ----

  private endpointKey(url: string, suffix: 'd' | 't'): string {
    return `${this.prefix}ep:${createHash('sha1').update(url).digest('hex')}:${suffix}`;
  }

  async recordEndpointDuration(url: string, durationMs: number, at: number, keep: number): Promise<EndpointSample[]> {
    const kept = await this.run(RECORD_ENDPOINT_DURATION, [this.endpointKey(url, 'd')], [
      `${at} ${durationMs}`, Math.max(1, Math.floor(keep)), ENDPOINT_TTL_MS,
    ]) as string[];
    return kept.map(parseSample);
  }

  async endpointDurations(url: string): Promise<EndpointSample[]> {
    return (await this.client.lrange(this.endpointKey(url, 'd'), 0, -1)).map(parseSample);
  }

  async takeEndpointTurn(url: string, now: number, until: number): Promise<{ taken: boolean; until: number }> {
    const [taken, end] = await this.run(TAKE_ENDPOINT_TURN, [this.endpointKey(url, 't')], [now, until, ENDPOINT_TTL_MS]) as [number, string];
    return { taken: taken === 1, until: Number(end) };
  }

  // ---- the shared manual clock ----

  sharedClock(): SharedClockBackend {
    const key = `${this.prefix}clock`;
    const channel = `${this.prefix}clock`;
    return {
      read: async () => {
        const v = await this.client.get(key);
        return v === null ? null : Number(v);
      },
      init: async (start) => Number(await this.run(CLOCK_INIT, [key], [start])),
      advanceTo: async (to, from) => {
        const [moved, now] = await this.run(CLOCK_ADVANCE, [key], [to, from === undefined ? '' : from, channel]) as [number, string];
        return { moved: moved === 1, now: now === '' ? to : Number(now) };
      },
      subscribe: async (onChange) => {
        if (this.closed) throw new Error('the Redis store is closed');
        const sub = this.client.duplicate();
        sub.on('error', () => {});
        sub.on('message', (ch: string, message: string) => {
          const now = Number(message);
          if (ch === channel && Number.isFinite(now)) onChange(now);
        });
        this.subscribers.add(sub);
        try {
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
      },
    };
  }
}

function parseSample(entry: string): EndpointSample {
  const i = entry.indexOf(' ');
  return { at: Number(entry.slice(0, i)), ms: Number(entry.slice(i + 1)) };
}

async function quit(client: Client): Promise<void> {
  try {
    await client.quit();
  } catch {
    client.disconnect();
  }
}

function toUser(h: UserHash): User | null {
  if (h.tid === null || h.id === null || h.name === null || h.upn === null) return null;
  return { tenantId: h.tid, id: h.id, displayName: h.name, userPrincipalName: h.upn };
}

/**
 * While Redis is away, a request should fail fast with a 503, not hang: a command gives up after one reconnect
 * attempt, and one that gets no answer (a hung Redis) after 3 s. (ioredis's defaults are 20 attempts, no timeout.)
 */
const FAIL_FAST = { maxRetriesPerRequest: 1, commandTimeout: 3000 } as const;

/**
 * Connects to the Redis (or Redis Cluster) the URL names and checks it answers; rejects with "cannot reach Redis at
 * <url>: <why>" otherwise. `prefix` starts every key (default `presently:`), so several deployments or test runs can
 * share one Redis; it must not contain `{` or `}` (they would change the hash tags).
 */
export async function openRedisStore(opts: { url: string; prefix?: string }): Promise<RedisStore> {
  const prefix = opts.prefix ?? DEFAULT_PREFIX;
  if (/[{}]/.test(prefix)) throw new Error(`the Redis key prefix must not contain '{' or '}'; got '${prefix}'`);
  const target = parseRedisUrl(opts.url);
  let lastError: Error | null = null;
  const client: Client = target.kind === 'single'
    ? new Redis(target.url, { lazyConnect: true, enableAutoPipelining: true, ...FAIL_FAST })
    : new Cluster(target.nodes, {
      lazyConnect: true,
      enableAutoPipelining: true,
      redisOptions: {
        ...FAIL_FAST,
        ...(target.username !== undefined ? { username: target.username } : {}),
        ...(target.password !== undefined ? { password: target.password } : {}),
        ...(target.tls ? { tls: {} } : {}),
      },
    });
  // Without a listener, ioredis reports connection errors on the console; the commands that fail reject anyway.
  client.on('error', (err: Error) => {
    lastError = err;
  });
  try {
    await client.connect();
    await client.ping();
  } catch (err) {
    client.disconnect();
    const why = (lastError as Error | null)?.message ?? (err as Error).message;
    throw new Error(`cannot reach Redis at ${redact(opts.url)}: ${why}`);
  }
  try {
    const layoutKey = `${prefix}layout`;
    await client.set(layoutKey, LAYOUT, 'NX');
    const layout = await client.get(layoutKey);
    if (layout !== LAYOUT) {
      throw new Error(`the data under prefix '${prefix}' is laid out as '${layout}', but this version of Presently uses '${LAYOUT}'`);
    }
  } catch (err) {
    client.disconnect();
    throw err;
  }
  return new RedisStore(client, opts.url, prefix);
}
