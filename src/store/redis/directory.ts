/**
 * The directory port on Redis. Tenants and apps are one hash each. A user is a hash in their shard (with their
 * presence: ./presence.ts), plus a member of the shard's tenant-users zset (every score 0, so it is in id order).
 *
 * A UPN is unique across tenants: putUser first claims the UPN key (a script: set if free, or already ours), then
 * creates or renames the user (one script in their shard), then releases their previous UPN if it changed. A claim
 * left behind by an interrupted call (its owner missing, or now having another UPN) may be taken over once it is
 * STALE_CLAIM_SECONDS old; findUserByUpn checks the owner still has the UPN. putUsers does the same for many users
 * with a few round trips: all the claims, then one script per shard, then the releases.
 */
import type { PresenceRecord } from '../../domain/types.ts';
import { encodeDue, encodeRecord } from '../codec.ts';
import { UpnTaken } from '../errors.ts';
import type { App, DirectoryPort, Tenant, User } from '../ports/directory.ts';
import { byString, groupBy, splitMember, type RedisContext } from './context.ts';
import { CLAIM_UPN, DELETE_USER, PUT_USER, PUT_USERS, RELEASE_UPN, STEAL_UPN } from './scripts.ts';

/** A UPN claim whose owner does not have the UPN may be taken over after this long (an interrupted putUser). */
const STALE_CLAIM_SECONDS = 30;

export class RedisDirectory implements DirectoryPort {
  constructor(private readonly ctx: RedisContext) {}

  private upnKey(upn: string): string {
    return `${this.ctx.prefix}upn:${upn.toLowerCase()}`;
  }

  private async putNamed(hash: 'tenants' | 'apps', item: Tenant | App): Promise<void> {
    await this.ctx.client.hset(`${this.ctx.prefix}${hash}`, item.id, item.displayName);
  }

  private async getNamed(hash: 'tenants' | 'apps', id: string): Promise<Tenant | App | null> {
    const displayName = await this.ctx.client.hget(`${this.ctx.prefix}${hash}`, id);
    return displayName === null ? null : { id, displayName };
  }

  private async listNamed(hash: 'tenants' | 'apps'): Promise<(Tenant | App)[]> {
    const all = await this.ctx.client.hgetall(`${this.ctx.prefix}${hash}`);
    return Object.keys(all).sort(byString).map((id) => ({ id, displayName: all[id]! }));
  }

  private async deleteNamed(hash: 'tenants' | 'apps', id: string): Promise<boolean> {
    return (await this.ctx.client.hdel(`${this.ctx.prefix}${hash}`, id)) > 0;
  }

  putTenant(tenant: Tenant) { return this.putNamed('tenants', tenant); }
  getTenant(id: string) { return this.getNamed('tenants', id); }
  listTenants() { return this.listNamed('tenants'); }
  deleteTenant(id: string) { return this.deleteNamed('tenants', id); }
  putApp(app: App) { return this.putNamed('apps', app); }
  getApp(id: string) { return this.getNamed('apps', id); }
  listApps() { return this.listNamed('apps'); }
  deleteApp(id: string) { return this.deleteNamed('apps', id); }

  private async readUser(tenantId: string, userId: string): Promise<User | null> {
    const [tid, id, name, upn] = await this.ctx.client.hmget(this.ctx.userKey(tenantId, userId), 'tid', 'id', 'name', 'upn');
    if ((tid ?? null) === null || (id ?? null) === null || (name ?? null) === null || (upn ?? null) === null) return null;
    return { tenantId: tid!, id: id!, displayName: name!, userPrincipalName: upn! };
  }

  /** Claims the UPN for `owner`; resolves to whether this call took it fresh (so a failure must release it). */
  private async claimUpn(upn: string, owner: string): Promise<boolean> {
    return this.settleClaim(upn, owner, await this.ctx.run(CLAIM_UPN, [this.upnKey(upn)], [owner]));
  }

  /** What CLAIM_UPN answered → whether the UPN was taken fresh; someone else's claim is UpnTaken unless left over. */
  private async settleClaim(upn: string, owner: string, claim: unknown): Promise<boolean> {
    if (typeof claim !== 'string') return claim === 2;
    // Someone else's claim: theirs if they still have the UPN; a leftover of an interrupted call otherwise.
    const other = splitMember(claim.slice(0, claim.lastIndexOf('|')));
    const theirs = await this.ctx.client.hget(this.ctx.userKey(other.tenantId, other.userId), 'upn');
    if (theirs !== null && theirs.toLowerCase() === upn.toLowerCase()) throw new UpnTaken(upn);
    if (await this.ctx.run(STEAL_UPN, [this.upnKey(upn)], [claim, owner, STALE_CLAIM_SECONDS]) !== 1) throw new UpnTaken(upn);
    return true;
  }

  async putUser(user: User, initial: PresenceRecord): Promise<boolean> {
    const { tenantId, id: userId } = user;
    const owner = `${tenantId}/${userId}`;
    const upn = user.userPrincipalName;
    const fresh = await this.claimUpn(upn, owner);
    const b = this.ctx.userBase(tenantId, userId);
    const { facts, view } = encodeRecord(initial);
    let result: [number, string?];
    try {
      result = await this.ctx.run(PUT_USER, [`${b}:u:${owner}`, `${b}:due`, `${b}:tu:${tenantId}`, `${b}:ctr`], [
        tenantId, userId, user.displayName, upn, facts, view, initial.sequenceNumber, encodeDue(initial.dueAt), owner,
      ]) as [number, string?];
    } catch (err) {
      if (fresh) await this.ctx.run(RELEASE_UPN, [this.upnKey(upn)], [owner]).catch(() => {});
      throw err;
    }
    const [created, previousUpn] = result;
    if (created === 0 && previousUpn !== undefined && previousUpn.toLowerCase() !== upn.toLowerCase()) {
      await this.ctx.run(RELEASE_UPN, [this.upnKey(previousUpn)], [owner]);
    }
    return created === 1;
  }

  /**
   * Every UPN claimed at once (pipelined), then one PUT_USERS script per shard, then the previous UPNs of renamed
   * users released: a few round trips for the whole chunk instead of three per user.
   */
  async putUsers(users: readonly User[], initial: PresenceRecord): Promise<boolean[]> {
    const owners = users.map((u) => `${u.tenantId}/${u.id}`);
    const claims = await Promise.all(users.map((u, i) => this.ctx.run(CLAIM_UPN, [this.upnKey(u.userPrincipalName)], [owners[i]!])));
    const fresh = claims.map((c) => c === 2);
    const results: unknown[] = new Array(users.length);
    const releaseUnwritten = () => Promise.all(users.map((u, i) =>
      fresh[i] && results[i] === undefined ? this.ctx.run(RELEASE_UPN, [this.upnKey(u.userPrincipalName)], [owners[i]!]).catch(() => {}) : null));
    try {
      for (const [i, u] of users.entries()) {
        if (typeof claims[i] === 'string') fresh[i] = await this.settleClaim(u.userPrincipalName, owners[i]!, claims[i]);
      }
      await this.writeUsers(users, owners, initial, results);
    } catch (err) {
      await releaseUnwritten();
      throw err;
    }
    await Promise.all(users.map((u, i) => {
      const previous = results[i];
      if (typeof previous !== 'string' || previous.toLowerCase() === u.userPrincipalName.toLowerCase()) return null;
      return this.ctx.run(RELEASE_UPN, [this.upnKey(previous)], [owners[i]!]);
    }));
    return results.map((r) => r === 1);
  }

  /** PUT_USERS in each shard the users fall in, concurrently; `results[i]` is user i's answer once written. */
  private async writeUsers(users: readonly User[], owners: string[], initial: PresenceRecord, results: unknown[]): Promise<void> {
    const { facts, view } = encodeRecord(initial);
    const head = [facts, view, initial.sequenceNumber, encodeDue(initial.dueAt)];
    const byShard = groupBy(users.keys(), (i) => this.ctx.userShard(users[i]!.tenantId, users[i]!.id));
    const written = await Promise.allSettled([...byShard].map(async ([k, indexes]) => {
      const b = this.ctx.shardBase(k);
      const keys = [`${b}:due`, `${b}:ctr`];
      const args = [...head];
      for (const i of indexes) {
        const u = users[i]!;
        keys.push(`${b}:u:${owners[i]}`, `${b}:tu:${u.tenantId}`);
        args.push(u.tenantId, u.id, u.displayName, u.userPrincipalName);
      }
      const out = await this.ctx.run(PUT_USERS, keys, args) as unknown[];
      indexes.forEach((i, j) => { results[i] = out[j]; });
    }));
    const failed = written.find((w) => w.status === 'rejected');
    if (failed) throw failed.reason;
  }

  async getUser(tenantId: string, userId: string): Promise<User | null> {
    return this.readUser(tenantId, userId);
  }

  async findUserByUpn(upn: string): Promise<User | null> {
    const claim = await this.ctx.client.get(this.upnKey(upn));
    if (claim === null) return null;
    const owner = splitMember(claim.slice(0, claim.lastIndexOf('|')));
    const user = await this.readUser(owner.tenantId, owner.userId);
    // A claim left by an interrupted call names a user who does not have the UPN.
    return user && user.userPrincipalName.toLowerCase() === upn.toLowerCase() ? user : null;
  }

  async listUsers(tenantId: string): Promise<User[]> {
    const { ctx } = this;
    const perShard = await Promise.all(ctx.shards.map((k) => ctx.client.zrange(this.tenantUsersKey(k, tenantId), 0, -1)));
    const ids = perShard.flat().sort(byString);
    const users = await Promise.all(ids.map((id) => this.readUser(tenantId, id)));
    return users.filter((u): u is User => u !== null);
  }

  /**
   * The tenant's users after `after`, by id: each shard's zset (all scores 0, so in id order) gives its first `limit`
   * ids past `after`, and the page is the first `limit` of those 16 short lists. Its cost grows with the page, not
   * with the tenant.
   */
  async listUserPage(tenantId: string, after: string | null, limit: number): Promise<User[]> {
    const { ctx } = this;
    const from = after === null ? '-' : `(${after}`;
    const perShard = await Promise.all(ctx.shards.map((k) =>
      ctx.client.zrangebylex(this.tenantUsersKey(k, tenantId), from, '+', 'LIMIT', 0, limit)));
    const ids = perShard.flat().sort(byString).slice(0, limit);
    const users = await Promise.all(ids.map((id) => this.readUser(tenantId, id)));
    return users.filter((u): u is User => u !== null);
  }

  async countUsers(tenantId: string): Promise<number> {
    const { ctx } = this;
    const counts = await Promise.all(ctx.shards.map((k) => ctx.client.zcard(this.tenantUsersKey(k, tenantId))));
    return counts.reduce((a, b) => a + b, 0);
  }

  /** Shard k's zset of the tenant's user ids. */
  private tenantUsersKey(k: number, tenantId: string): string {
    return `${this.ctx.shardBase(k)}:tu:${tenantId}`;
  }

  async deleteUser(tenantId: string, userId: string): Promise<boolean> {
    const owner = `${tenantId}/${userId}`;
    const b = this.ctx.userBase(tenantId, userId);
    const upn = await this.ctx.queued(owner, async () =>
      await this.ctx.run(DELETE_USER, [`${b}:u:${owner}`, `${b}:due`, `${b}:tu:${tenantId}`], [userId, owner]) as string | null);
    if (upn === null) return false;
    await this.ctx.run(RELEASE_UPN, [this.upnKey(upn)], [owner]);
    return true;
  }
}
