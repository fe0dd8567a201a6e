/** Opens the store the configuration names: its backend behind the common wrapper (./guarded.ts). */
import path from 'node:path';
import type { RedisStore } from './redis/redisStore.ts';
import { openSqliteStore, type SqliteStore } from './sqlite/sqliteStore.ts';
import type { Store } from './ports/index.ts';
import type { PresenceStorage } from './sqlite/presenceJournal.ts';

export { DB_FILE, JOURNAL_DIR, JOURNAL_FILE_PREFIX } from './files.ts';
import { DB_FILE } from './files.ts';

export type StoreOptions =
  | { kind: 'sqlite' | 'memory'; dataDir: string; presence?: PresenceStorage }
  | { kind: 'redis'; redisUrl: string; redisPrefix: string; dataDir?: string };

/**
 * `sqlite` keeps its data in `<dataDir>/presently.db` (the directory is created if missing), its presence records in
 * the presence table or (`presence: 'journal'`) in `<dataDir>/presence-journal/`; `memory` runs the same
 * SQLite code on a private in-memory database, which keeps nothing once closed. Both open synchronously.
 * `redis` connects to the Redis (or Redis Cluster: several comma-separated nodes) at `redisUrl`, its keys starting
 * with `redisPrefix`; it resolves once Redis answers, and rejects with "cannot reach Redis at …" when it does not.
 * With `dataDir`, the node remembers there which Redis store it opened, and refuses one that came back empty.
 */
export function openStore(opts: { kind: 'sqlite' | 'memory'; dataDir: string; presence?: PresenceStorage }): SqliteStore;
export function openStore(opts: { kind: 'redis'; redisUrl: string; redisPrefix: string; dataDir?: string }): Promise<RedisStore>;
export function openStore(opts: StoreOptions): Store | Promise<Store>;
export function openStore(opts: StoreOptions): Store | Promise<Store> {
  // Loaded only for Redis: ioredis costs ~20 MB of memory and much of the start of a server on SQLite.
  if (opts.kind === 'redis') return import('./redis/redisStore.ts').then((m) => m.openRedisStore({ url: opts.redisUrl, prefix: opts.redisPrefix, dataDir: opts.dataDir }));
  if (opts.kind === 'memory') return openSqliteStore({ path: ':memory:' });
  return openSqliteStore({ path: path.join(opts.dataDir, DB_FILE), presence: opts.presence });
}
