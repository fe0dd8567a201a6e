/**
 * The store on Redis (ioredis): the scale-out backend. Several Presently nodes share one Redis, or one Redis Cluster,
 * through this store; everything a node needs to hand over to another lives in Redis. One module per port
 * (./meta.ts, ./directory.ts, ./presence.ts, ./outbox.ts, ./subscriptions.ts, ./deliveries.ts, ./endpoints.ts,
 * ./rateLimits.ts, ./clock.ts), sharing ./context.ts; the Lua scripts are in ./scripts.ts.
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
 *   B:tu:<tenantId>          zset   the tenant's user ids in this shard, every score 0 so in id order (user pages)
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
 *   <prefix>rl:<tenantId>/<appId>                 hash   a throttling window: e (its end), #<counter> (counts)
 * and one pub/sub channel, `<prefix>clock`, on which every move of the shared manual clock is announced.
 *
 * ## Outages
 *
 * Every store call is answered within TIMEOUT_MS while Redis is away: refused at once when the connection is down,
 * given up after TIMEOUT_MS when Redis does not answer (FAIL_FAST; the wrapper also bounds the whole call by
 * `timeoutMs`, whatever queue or retry loop it waits in). The errors ioredis raises then are recognised by ./outage.ts
 * and become StoreUnavailable in the wrapper: a 503 with Retry-After, not a hang or a 500. What a 503 means for a
 * write is in docs/operations/scaling.md#when-redis-fails.
 */
import { Cluster, Redis } from 'ioredis';
import type { SharedClockBackend } from '../../platform/clock/shared.ts';
import { GuardedStore } from '../guarded.ts';
import type { StoreBackend, StoreReadiness } from '../ports/index.ts';
import { checkIdentity, IDENTITY_FIELD, parseIdentity, selectDatabase, type StoreIdentity } from './identity.ts';
import { quit, RedisSharedClock } from './clock.ts';
import { globEscape, LAYOUT, LAYOUT_V1, RedisContext, type Client } from './context.ts';
import { RedisDeliveries } from './deliveries.ts';
import { RedisDirectory } from './directory.ts';
import { RedisEndpointHealth } from './endpoints.ts';
import { RedisMeta } from './meta.ts';
import { isRedisOutage, TIMEOUT_MS } from './outage.ts';
import { RedisOutbox } from './outbox.ts';
import { RedisPresence } from './presence.ts';
import { RedisRateLimits } from './rateLimits.ts';
import { RedisSubscriptions } from './subscriptions.ts';
import { TENANT_USERS_TO_ZSET } from './scripts.ts';
import { parseRedisUrl, redact } from './url.ts';

export { SHARDS, shardOf } from './context.ts';
export { TIMEOUT_MS } from './outage.ts';
export { parseRedisUrl, redact, type RedisTarget } from './url.ts';

export const DEFAULT_PREFIX = 'presently:';
/** How long ping waits for an answer. */
const PING_TIMEOUT_MS = 2000;

export class RedisBackend implements StoreBackend {
  readonly kind = 'redis' as const;
  /** Other nodes write too: nothing read may be kept as the truth. */
  readonly facts = { soleWriter: false } as const;
  readonly timeoutMs = TIMEOUT_MS;
  private readonly ctx: RedisContext;
  readonly meta: RedisMeta;
  readonly directory: RedisDirectory;
  readonly presence: RedisPresence;
  readonly outbox: RedisOutbox;
  readonly subscriptions: RedisSubscriptions;
  readonly deliveries: RedisDeliveries;
  readonly endpoints: RedisEndpointHealth;
  readonly rateLimits: RedisRateLimits;
  readonly clock: RedisSharedClock;
  private closed = false;

  /** Use openRedisStore. `identity`: the store's, as it was at open (./identity.ts). */
  constructor(private readonly client: Client, readonly url: string, readonly prefix: string, readonly identity: StoreIdentity | null = null) {
    const ctx = (this.ctx = new RedisContext(client, prefix));
    this.meta = new RedisMeta(ctx);
    this.directory = new RedisDirectory(ctx);
    this.presence = new RedisPresence(ctx);
    this.outbox = new RedisOutbox(ctx);
    this.deliveries = new RedisDeliveries(ctx);
    this.subscriptions = new RedisSubscriptions(ctx, this.deliveries);
    this.endpoints = new RedisEndpointHealth(ctx);
    this.rateLimits = new RedisRateLimits(ctx);
    this.clock = new RedisSharedClock(ctx);
  }

  /** The common start of shard k's keys, hash tag included. */
  shardBase(k: number): string {
    return this.ctx.shardBase(k);
  }

  /** Every key an update, creation or deletion of the user touches (they share one hash slot). */
  keysOfUser(tenantId: string, userId: string): string[] {
    const b = this.ctx.userBase(tenantId, userId);
    return [`${b}:u:${tenantId}/${userId}`, `${b}:due`, `${b}:out`, `${b}:ctr`, `${b}:tu:${tenantId}`, `${b}:dq`];
  }

  isOutage(err: unknown): boolean {
    return isRedisOutage(err);
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

  /**
   * Ready while Redis answers, still holds the store this node opened (its identity), and takes a write (a replica
   * left read-only by a failover, or a full Redis refusing writes, is not ready).
   */
  async readiness(): Promise<StoreReadiness> {
    if (!(await this.ping())) return { ready: false, problem: `Redis at ${redact(this.url)} does not answer` };
    const metaKey = `${this.prefix}meta`;
    try {
      const current = parseIdentity(await this.client.hget(metaKey, IDENTITY_FIELD));
      if (this.identity && current?.id !== this.identity.id) {
        return {
          ready: false,
          problem: `Redis at ${redact(this.url)} no longer holds store ${this.identity.id} under prefix '${this.prefix}' `
            + `(${current ? `it holds ${current.id}` : 'it is empty'}): Redis lost its data (a restart without persistence, a flush, or `
            + 'evictions). Restore it from a backup, then restart the nodes.',
        };
      }
      await this.client.hincrby(metaKey, 'health.probe', 1);
      return { ready: true };
    } catch (err) {
      return { ready: false, problem: `Redis at ${redact(this.url)} does not take writes: ${(err as Error).message}` };
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.ctx.drain();
    await this.clock.closeAll();
    await this.presence.close();
    await quit(this.client);
  }
}

/**
 * The Redis store: its backend (`.backend.url`, `.backend.prefix`, its key layout) behind the common wrapper; it
 * always has a shared clock.
 */
export type RedisStore = GuardedStore<RedisBackend> & { sharedClock(): SharedClockBackend };

/**
 * While Redis is away, a request should fail fast with a 503, not hang (ioredis's defaults: 20 reconnect attempts
 * per command, no timeout, an offline queue without bound).
 * - A command that gets no answer (a hung Redis) gives up after TIMEOUT_MS.
 * - While the connection is down, a command is refused at once instead of waiting in the offline queue: a queued
 *   command would be sent when the connection comes back, after its caller was told 503 (single Redis only; a
 *   cluster keeps its queue while it looks for the slot's node, bounded by the same timeout).
 * - Commands in flight when a connection drops are not sent again on the next one, for the same reason.
 * - Reconnect attempts at most a second apart, so a node serves again within about a second of Redis's return
 *   (a cluster reconnects its nodes its own way).
 */
const FAIL_FAST = {
  maxRetriesPerRequest: 1,
  commandTimeout: TIMEOUT_MS,
  autoResendUnfulfilledCommands: false,
  retryStrategy: (attempt: number) => Math.min(attempt * 50, 1000),
} as const;

function connect(url: string): Client {
  const target = parseRedisUrl(url);
  if (target.kind === 'single') {
    return new Redis(target.url, { lazyConnect: true, enableAutoPipelining: true, enableOfflineQueue: false, ...FAIL_FAST });
  }
  return new Cluster(target.nodes, {
    lazyConnect: true,
    enableAutoPipelining: true,
    redisOptions: {
      ...FAIL_FAST,
      ...(target.username !== undefined ? { username: target.username } : {}),
      ...(target.password !== undefined ? { password: target.password } : {}),
      ...(target.tls ? { tls: {} } : {}),
    },
  });
}

/**
 * Records the layout on first use; upgrades data laid out as v1 in place; refuses data laid out by another version.
 * The upgrade turns every tenant-users set into a zset (TENANT_USERS_TO_ZSET, one key at a time, idempotent), then
 * records v2, after which nodes of older versions refuse the data instead of failing on it.
 */
async function checkLayout(client: Client, prefix: string): Promise<void> {
  const layoutKey = `${prefix}layout`;
  await client.set(layoutKey, LAYOUT, 'NX');
  const layout = await client.get(layoutKey);
  if (layout === LAYOUT_V1) {
    const tenantUsers = `${globEscape(prefix)}{${globEscape(prefix)}s*}:tu:*`;
    for (const key of await scanAll(client, tenantUsers)) await client.eval(TENANT_USERS_TO_ZSET.lua, 1, key);
    await client.set(layoutKey, LAYOUT);
    return;
  }
  if (layout !== LAYOUT) {
    throw new Error(`the data under prefix '${prefix}' is laid out as '${layout}', but this version of Presently uses '${LAYOUT}'`);
  }
}

/** Every key matching `pattern`, from each master of a cluster. For upgrades: it reads the whole keyspace. */
export async function scanAll(client: Client, pattern: string): Promise<string[]> {
  const keys: string[] = [];
  for (const node of client instanceof Cluster ? client.nodes('master') : [client]) {
    let cursor = '0';
    do {
      const [next, batch] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      keys.push(...batch);
      cursor = next;
    } while (cursor !== '0');
  }
  return keys;
}

/**
 * Additions to the layout that older data lacks, each made once and then recorded under `<prefix>layout:<name>`. The
 * steps are idempotent: nodes starting together may both run one.
 */
const UPGRADES: ReadonlyArray<{ name: string; run: (backend: RedisBackend) => Promise<unknown> }> = [
  // The per-application zsets that count subscriptions for the caps and page GET /subscriptions.
  { name: 'subs-by-app', run: (backend) => backend.subscriptions.indexByApplication() },
];

async function upgrade(client: Client, prefix: string, backend: RedisBackend): Promise<void> {
  for (const step of UPGRADES) {
    const key = `${prefix}layout:${step.name}`;
    if (await client.exists(key)) continue;
    await step.run(backend);
    await client.set(key, '1');
  }
}

/**
 * Connects to the Redis (or Redis Cluster) the URL names and checks it answers; rejects with "cannot reach Redis at
 * <url>: <why>" otherwise, and refuses a database number the Redis does not have and a store whose data is gone
 * (./identity.ts; `dataDir` is where the node remembers the stores it opened). `prefix` starts every key (default `presently:`), so several deployments or test runs can
 * share one Redis; it must not contain `{` or `}` (they would change the hash tags).
 */
export async function openRedisStore(opts: { url: string; prefix?: string; dataDir?: string | undefined }): Promise<RedisStore> {
  const prefix = opts.prefix ?? DEFAULT_PREFIX;
  if (/[{}]/.test(prefix)) throw new Error(`the Redis key prefix must not contain '{' or '}'; got '${prefix}'`);
  const client = connect(opts.url);
  let lastError: Error | null = null;
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
    await selectDatabase(client, opts.url, redact(opts.url));
    // Before anything is written: a store whose data is gone must be refused as it is found.
    const identity = await checkIdentity(client, { prefix, shownUrl: redact(opts.url), dataDir: opts.dataDir });
    await checkLayout(client, prefix);
    const backend = new RedisBackend(client, opts.url, prefix, identity);
    await upgrade(client, prefix, backend);
    return new GuardedStore(backend) as RedisStore;
  } catch (err) {
    client.disconnect();
    throw err;
  }
}
