/**
 * The presence port on Redis: optimistic, atomic per shard.
 *
 * updatePresence reads the record and its `rev` (or starts from this process's last commit of the user, with the `rev`
 * it got: ./recentCommits.ts), runs the pure `fn` in JS, and commits with one Lua script (COMMIT in
 * ./scripts.ts) that checks `rev` is unchanged and then writes the record, a fresh `rev`, the due-index entry and —
 * when the view changed — the outbox event, all at once. A changed `rev` means another node committed first: read
 * again and re-run `fn` (the one retry loop, src/platform/retry.ts). No WATCH: that would need a connection per update
 * in flight. Within one process, updates of the same user are queued one behind another, so conflicts only come from
 * other nodes and cost one extra round trip, not a storm of retries.
 *
 * The due index is a zset per shard; dueUsers and nextDueAt read every shard (one pipelined round trip) and merge.
 * Exactly-once transitions come from the optimistic commit, not from a lease: every node's scheduler may see the same
 * due user, but the transition is only made by `fn` when the record it reads is still due, and only one commit of a
 * given `rev` succeeds — the others re-read a record that is no longer due and change nothing (catchUp returns null).
 * A claim-with-lease inside dueUsers would break its contract (it is a read: the contract suite calls it repeatedly
 * and expects the same answer) and would only save duplicate reads, which are bounded by the number of nodes.
 */
import type { Transition } from '../../domain/record.ts';
import type { PresenceRecord } from '../../domain/types.ts';
import { decodeDue, decodeRecord, decodeView, encodeDue, encodeRecord } from '../codec.ts';
import type { PresenceKey, PresencePort, PresenceSnapshot, PresenceUpdate, PresenceWatcher } from '../ports/presence.ts';
import { CONFLICT, retryOnConflict } from '../../platform/retry.ts';
import { Redis } from 'ioredis';
import { RedisChangeFeed } from './changes.ts';
import { RecentCommits } from './recentCommits.ts';
import { byString, globEscape, splitMember, type RedisContext } from './context.ts';
import { CallerGaveUp, TIMEOUT_MS } from './outage.ts';
import { COMMIT, READ_USERS } from './scripts.ts';

/** Up to this many users are read with one HMGET each; more with one script per shard. */
const FEW_USERS = 4;

/** A commit is sent only with at least this long left before its caller's timeout (the wrapper's timer ran first). */
const COMMIT_MARGIN_MS = 100;

export class RedisPresence implements PresencePort {
  private readonly changes: RedisChangeFeed;
  /** The records this process committed lately, with their rev (./recentCommits.ts). */
  private readonly recent = new RecentCommits();

  constructor(private readonly ctx: RedisContext) {
    this.changes = new RedisChangeFeed(ctx);
  }

  watchChanges(watcher: PresenceWatcher): boolean {
    return this.changes.watch(watcher);
  }

  /**
   * One SCAN of the keyspace for user records (every shard's, by one pattern): on a single Redis, the only kind whose
   * nodes keep a read cache (./changes.ts).
   */
  async userPage(cursor: string | null, limit: number): Promise<{ users: PresenceKey[]; next: string | null }> {
    const { client, prefix } = this.ctx;
    if (!(client instanceof Redis)) return { users: [], next: null };
    const [next, keys] = await client.scan(cursor ?? '0', 'MATCH', `${globEscape(prefix)}{${globEscape(prefix)}s*}:u:*`, 'COUNT', limit);
    const users: PresenceKey[] = [];
    for (const key of keys) {
      const user = this.ctx.userOfKey(key);
      if (user) users.push(user);
    }
    return { users, next: next === '0' ? null : next };
  }

  /** Stops telling changes (the store's close). */
  async close(): Promise<void> {
    await this.changes.close();
  }

  async getPresence(tenantId: string, userId: string): Promise<PresenceRecord | null> {
    const [facts, view, seq, due] = await this.ctx.client.hmget(this.ctx.userKey(tenantId, userId), 'facts', 'view', 'seq', 'due');
    if (!facts || !view || seq === null || seq === undefined) return null;
    return decodeRecord(facts, view, seq, decodeDue(due));
  }

  async getPresences(tenantId: string, userIds: readonly string[]): Promise<Map<string, PresenceRecord>> {
    const result = new Map<string, PresenceRecord>();
    const rows = await this.readUsers(tenantId, userIds, ['facts', 'view', 'seq', 'due']);
    for (const [i, [facts, view, seq, due]] of rows.entries()) {
      if (!facts || !view || seq === null || seq === undefined) continue;
      result.set(userIds[i]!, decodeRecord(facts, view, seq, decodeDue(due)));
    }
    return result;
  }

  async getSnapshots(tenantId: string, userIds: readonly string[]): Promise<Map<string, PresenceSnapshot>> {
    const result = new Map<string, PresenceSnapshot>();
    const rows = await this.readUsers(tenantId, userIds, ['view', 'seq', 'due']);
    for (const [i, [view, seq, due]] of rows.entries()) {
      if (!view || seq === null || seq === undefined) continue;
      result.set(userIds[i]!, { view: decodeView(view), sequenceNumber: seq, dueAt: decodeDue(due) });
    }
    return result;
  }

  /**
   * `fields` of each user's hash, in `userIds` order (nulls where there is no user): one HMGET for a few users, one
   * READ_USERS script per shard for more (each shard is one cluster slot, so each script is atomic on a cluster too).
   */
  private async readUsers(tenantId: string, userIds: readonly string[], fields: string[]): Promise<Array<Array<string | null>>> {
    const { ctx } = this;
    if (userIds.length <= FEW_USERS) return Promise.all(userIds.map((id) => ctx.client.hmget(ctx.userKey(tenantId, id), ...fields)));
    const byShard = new Map<number, number[]>();
    userIds.forEach((id, i) => {
      const shard = ctx.userShard(tenantId, id);
      const list = byShard.get(shard);
      if (list) list.push(i);
      else byShard.set(shard, [i]);
    });
    const rows = new Array<Array<string | null>>(userIds.length);
    await Promise.all([...byShard.values()].map(async (indices) => {
      const keys = indices.map((i) => ctx.userKey(tenantId, userIds[i]!));
      const answer = await ctx.run(READ_USERS, keys, fields) as Array<Array<string | null>>;
      indices.forEach((i, j) => { rows[i] = answer[j]!; });
    }));
    return rows;
  }

  async updatePresence(tenantId: string, userId: string, fn: PresenceUpdate): Promise<Transition | null | undefined> {
    const owner = `${tenantId}/${userId}`;
    const b = this.ctx.userBase(tenantId, userId);
    const keys = [`${b}:u:${owner}`, `${b}:due`, `${b}:out`, `${b}:ctr`];
    const started = performance.now();
    /** `result` (fn's, on the record whose rev is `rev`) committed: the transition, undefined (no user), or CONFLICT. */
    const commit = async (result: Transition, rev: string): Promise<Transition | undefined | typeof CONFLICT> => {
      // The wrapper answers this call 503 once TIMEOUT_MS have passed: past that, the commit must not be sent.
      if (performance.now() - started > TIMEOUT_MS - COMMIT_MARGIN_MS) throw new CallerGaveUp(`the commit of ${owner}`);
      const { record } = result;
      const encoded = encodeRecord(record);
      const outcome = await this.ctx.run(COMMIT, keys, [
        rev, encoded.facts, encoded.view, record.sequenceNumber, encodeDue(record.dueAt),
        result.changed ? '1' : '0', owner, tenantId, userId, String(result.at),
      ]);
      if (outcome === -1) {
        this.recent.forget(owner);
        return undefined;
      }
      if (outcome === 0) return CONFLICT;
      this.recent.set(owner, record, String(outcome));
      return result;
    };
    return this.ctx.queued(owner, () => retryOnConflict(`updatePresence of ${owner}`, async () => {
      // First from this process's last commit of the user, if any: overtaken by another writer, it costs one try. Only
      // a commit vouches for the copy: what `fn` decides on it without one (nothing to change, or an error such as "no
      // such session") may come from a copy another node has overtaken, so it is decided again on the record as stored.
      const kept = this.recent.get(owner);
      const onCopy = kept ? tryOn(fn, kept.record) : null;
      if (onCopy) {
        const outcome = await commit(onCopy, kept!.rev);
        if (outcome !== CONFLICT) return outcome;
        this.recent.refused(owner);
      }
      const [facts, view, seq, due, rev] = await this.ctx.client.hmget(keys[0]!, 'facts', 'view', 'seq', 'due', 'rev');
      if (!facts || !view || seq === null || seq === undefined || rev === null || rev === undefined) return undefined;
      const result = fn(this.recent.handOut(decodeRecord(facts, view, seq, decodeDue(due))));
      return result === null ? null : commit(result, rev);
    }));
  }

  async dueUsers(now: number, limit: number): Promise<PresenceKey[]> {
    const { ctx } = this;
    const perShard = await Promise.all(ctx.shards.map((k) =>
      ctx.client.zrangebyscore(`${ctx.shardBase(k)}:due`, '-inf', now, 'WITHSCORES', 'LIMIT', 0, limit)));
    const due: { at: number; key: PresenceKey }[] = [];
    for (const flat of perShard) {
      for (let i = 0; i < flat.length; i += 2) due.push({ at: Number(flat[i + 1]), key: splitMember(flat[i]!) });
    }
    due.sort((a, b) => a.at - b.at || byString(a.key.tenantId, b.key.tenantId) || byString(a.key.userId, b.key.userId));
    return due.slice(0, limit).map((d) => d.key);
  }

  async nextDueAt(): Promise<number | null> {
    return this.ctx.earliest('due');
  }
}

/** `fn`'s transition on `record`, or null when it changes nothing or throws (decided again on the stored record). */
function tryOn(fn: PresenceUpdate, record: PresenceRecord): Transition | null {
  try {
    return fn(record);
  } catch {
    return null;
  }
}
