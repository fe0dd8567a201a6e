/**
 * Which users' presence changed, told by Redis itself: what lets a node keep a read cache on a store other nodes write
 * too (src/presence/cacheCoherence.ts, docs/decisions.md#d-shared-read-cache).
 *
 * One connection of its own turns on Redis's server-assisted client-side caching in broadcast mode (`CLIENT TRACKING
 * on REDIRECT <its own id> BCAST PREFIX <each shard's user keys>`) and subscribes to `__redis__:invalidate`: Redis then
 * publishes the name of every user key any client modifies (a write, a script, a deletion, an expiry), before it
 * answers the client that made the change. On every (re)connection the tracking is turned on again; until it is, and
 * whenever the connection drops, the watcher is told that changes may have been missed.
 *
 * Only a single Redis: on a Redis Cluster each primary reports its own keys to its own connections (not done here), so
 * a node on a cluster keeps no read cache.
 */
import { Redis } from 'ioredis';
import type { PresenceKey, PresenceWatcher } from '../ports/presence.ts';
import { quit } from './clock.ts';
import type { RedisContext } from './context.ts';
import { isRedisOutage } from './outage.ts';

const CHANNEL = '__redis__:invalidate';

export class RedisChangeFeed {
  private sub: Redis | null = null;
  private closed = false;

  constructor(private readonly ctx: RedisContext) {}

  /** Starts telling `watcher` (once); false on a Redis Cluster, where it cannot. */
  watch(watcher: PresenceWatcher): boolean {
    const { client } = this.ctx;
    if (!(client instanceof Redis) || this.sub || this.closed) return false;
    // Its own connection, never in the offline queue's way: a subscriber answers nothing else.
    // Named for CLIENT LIST: an operator (or a test) can tell it from the data connection.
    const sub = (this.sub = client.duplicate({
      lazyConnect: true, autoResubscribe: false, enableAutoPipelining: false, connectionName: `${this.ctx.prefix}changes`,
    }));
    let live = false;
    const lost = () => {
      if (live) watcher.lost();
      live = false;
    };
    sub.on('error', () => {}); // the data connection reports outages; this one only stops vouching (close)
    sub.on('close', lost);
    sub.on('ready', () => {
      void (async () => {
        try {
          const id = String(await sub.client('ID'));
          await sub.call('CLIENT', 'TRACKING', 'on', 'REDIRECT', id, 'BCAST', ...this.ctx.userKeyStarts.flatMap((p) => ['PREFIX', p]));
          await sub.subscribe(CHANNEL);
          // A change made while the connection was away was never told: whatever was kept from before must go.
          watcher.lost();
          live = true;
          watcher.watching();
        } catch (err) {
          lost();
          // Redis refused the tracking (older than 6, or an ACL without CLIENT): nothing is ever vouched for, and the
          // connection goes. Redis away: the client reconnects, and 'ready' tries again.
          if (isRedisOutage(err)) return;
          sub.disconnect();
          watcher.refused(`Redis refused client-side caching (CLIENT TRACKING): ${(err as Error).message}`);
        }
      })();
    });
    sub.on('messageBuffer', (channel: Buffer, payload: Buffer[] | Buffer | null) => {
      if (!live || channel.toString() !== CHANNEL) return;
      // null: the whole database was flushed.
      if (payload === null || !Array.isArray(payload)) {
        watcher.lost();
        watcher.watching();
        return;
      }
      const users: PresenceKey[] = [];
      for (const name of payload) {
        const user = this.ctx.userOfKey(name.toString());
        if (user) users.push(user);
      }
      if (users.length > 0) watcher.changed(users);
    });
    sub.connect().catch(() => {}); // retried by the client's own strategy; 'ready' turns the tracking on
    return true;
  }

  async close(): Promise<void> {
    this.closed = true;
    const sub = this.sub;
    this.sub = null;
    if (sub) await quit(sub);
  }
}
