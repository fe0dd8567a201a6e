/**
 * What every port module of the Redis store shares: the connection, the key layout (shards, hash tags), running a
 * Lua script, and the per-user queue of this process. See ./redisStore.ts for the layout as a whole.
 */
import type { Cluster, Redis } from 'ioredis';
import type { PresenceKey } from '../ports/presence.ts';
import { isRedisOutage } from './outage.ts';
import type { Script } from './scripts.ts';

export type Client = Redis | Cluster;

/** How many shards the keyspace is cut into. Part of the data layout: changing it needs a migration. */
export const SHARDS = 16;
/** The data's layout, recorded under `<prefix>layout` (./redisStore.ts). v2: the tenant-users keys are zsets. */
export const LAYOUT = `v2 shards=${SHARDS} hash=fnv1a32`;
/** The layout before, which a node of this version upgrades in place (./redisStore.ts). */
export const LAYOUT_V1 = `v1 shards=${SHARDS} hash=fnv1a32`;

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

/** `s` matched literally in a SCAN pattern. */
export function globEscape(s: string): string {
  return s.replace(/[*?[\]\\]/g, '\\$&');
}

export const byString = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** `<tenantId>/<userId>` → its parts. */
export function splitMember(member: string): PresenceKey {
  const i = member.indexOf('/');
  return { tenantId: member.slice(0, i), userId: member.slice(i + 1) };
}

export function groupBy<T>(items: Iterable<T>, key: (item: T) => number | null): Map<number, T[]> {
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

export class RedisContext {
  /** Every shard number, 0 … SHARDS - 1. */
  readonly shards: readonly number[] = Array.from({ length: SHARDS }, (_, k) => k);
  /** Updates of one user queued in this process (see ./presence.ts); a tail is null, or the outage that ended it. */
  private readonly userQueues = new Map<string, Promise<unknown>>();

  constructor(readonly client: Client, readonly prefix: string) {
    // In the body: a field's initializer would run before `prefix` is set.
    this.userKeyStarts = this.shards.map((k) => `${this.shardBase(k)}:u:`);
    this.tagStart = `${prefix}{${prefix}s`;
  }

  /** The common start of shard k's keys, hash tag included. */
  shardBase(k: number): string {
    return `${this.prefix}{${this.prefix}s${k}}`;
  }

  userShard(tenantId: string, userId: string): number {
    return shardOf(`${tenantId}/${userId}`);
  }

  /** The base of the user's shard. */
  userBase(tenantId: string, userId: string): string {
    return this.shardBase(this.userShard(tenantId, userId));
  }

  userKey(tenantId: string, userId: string): string {
    return `${this.userBase(tenantId, userId)}:u:${tenantId}/${userId}`;
  }

  /** What every user record's key starts with, shard by shard. */
  readonly userKeyStarts: readonly string[];
  /** What every shard's keys start with, up to the shard's number. */
  private readonly tagStart: string;

  /** The user whose record `key` is (userKey's inverse); null for any other key. */
  userOfKey(key: string): PresenceKey | null {
    // `<prefix>{<prefix>s<k>}:u:<tenant>/<user>`: one comparison and a short search, not one per shard (Redis tells
    // every node of every write, by key).
    const tag = this.tagStart;
    if (!key.startsWith(tag)) return null;
    const end = key.indexOf('}:u:', tag.length);
    const shard = key.slice(tag.length, end);
    if (end < 0 || !/^(0|[1-9]\d?)$/.test(shard) || Number(shard) >= SHARDS) return null;
    return splitMember(key.slice(end + 4));
  }

  /** Runs a script by its hash, loading it on a node that does not have it yet (first use, restart, failover). */
  async run(script: Script, keys: string[], args: (string | number)[]): Promise<unknown> {
    try {
      return await this.client.evalsha(script.sha, keys.length, ...keys, ...args);
    } catch (err) {
      if (err instanceof Error && err.message.startsWith('NOSCRIPT')) {
        return this.client.eval(script.lua, keys.length, ...keys, ...args);
      }
      throw err;
    }
  }

  /**
   * Runs `fn` after every earlier call queued under `key` in this process has finished. When the one before failed
   * because Redis is away, this one fails with the same error at once: waiting out another timeout behind it would
   * only answer later, and would pile up calls while Redis hangs.
   */
  async queued<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.userQueues.get(key) ?? Promise.resolve(null);
    const result = previous.then((outage) => {
      if (outage !== null) throw outage;
      return fn();
    });
    const tail = result.then(() => null, (err: unknown) => (isRedisOutage(err) ? err : null));
    this.userQueues.set(key, tail);
    try {
      return await result;
    } finally {
      if (this.userQueues.get(key) === tail) this.userQueues.delete(key);
    }
  }

  /** Resolves when every queued call has finished (close). */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.userQueues.values()]);
  }

  /** The earliest score over every shard's zset `suffix` (the due index, the delivery queue). */
  async earliest(suffix: string): Promise<number | null> {
    const firsts = await Promise.all(this.shards.map((k) => this.client.zrange(`${this.shardBase(k)}:${suffix}`, 0, 0, 'WITHSCORES')));
    let min: number | null = null;
    for (const f of firsts) {
      if (f.length < 2) continue;
      const at = Number(f[1]);
      if (min === null || at < min) min = at;
    }
    return min;
  }
}
