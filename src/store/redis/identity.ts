/**
 * Knowing the data is still there (docs/operations/storage.md#redis-that-comes-back-empty). Redis without persistence
 * comes back from a restart empty, and a flush or an eviction policy can empty it too; nodes that carried on would
 * serve an empty directory, and a node started then would seed the demo tenant again as if on a new deployment.
 *
 * So the store has an identity: a random id written under `<prefix>meta` (field `store.id`) when the store is first
 * opened. Each node remembers the identity of the store it last opened, by Redis address and prefix, in its data
 * folder (`redis-stores.json`). At start a node refuses a Redis that has no identity although it remembers one (the
 * data is gone), or has another one (the data was replaced); while it runs, its readiness check fails once the
 * identity it opened is gone.
 *
 * Also here: a database number in the URL that the Redis does not have is refused (ioredis would only log the failed
 * SELECT and go on in database 0).
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Client } from './context.ts';

export const IDENTITY_FIELD = 'store.id';
export const MEMORY_FILE = 'redis-stores.json';

export interface StoreIdentity {
  id: string;
  createdAt: string;
}

/** The database number a single-node URL names (`/3`), 0 without one; throws on anything else. */
export function databaseOf(url: string): number {
  const m = /^rediss?:\/\/[^/]*(?:\/([^?#]*))?/.exec(url);
  const db = m?.[1] ?? '';
  if (db === '') return 0;
  if (!/^\d{1,6}$/.test(db)) throw new Error(`the Redis URL names database '${db}': a database is a number (redis://host:port/0).`);
  return Number(db);
}

/** Selects the URL's database, refusing one the server does not have. */
export async function selectDatabase(client: Client, url: string, shownUrl: string): Promise<void> {
  const db = databaseOf(url);
  if (db === 0 || !('select' in client)) return;
  try {
    await client.select(db);
  } catch (err) {
    const count = await client.config('GET', 'databases').then((r) => (r as string[])[1], () => undefined);
    throw new Error(`Redis at ${shownUrl} has no database ${db}${count ? ` (it has ${count}: 0 to ${Number(count) - 1})` : ''}: `
      + `${(err as Error).message}. Use a database number it has, or raise 'databases' in its configuration.`);
  }
}

/** What the node remembers, keyed by the Redis address (no credentials) and prefix. */
class Memory {
  constructor(private readonly file: string | null) {}

  private readAll(): Record<string, StoreIdentity> {
    if (!this.file) return {};
    try {
      return JSON.parse(fs.readFileSync(this.file, 'utf8')) as Record<string, StoreIdentity>;
    } catch {
      return {};
    }
  }

  get(key: string): StoreIdentity | null {
    return this.readAll()[key] ?? null;
  }

  /** Best effort: a node without a writable data folder only loses the check at its next start. */
  set(key: string, identity: StoreIdentity): void {
    if (!this.file) return;
    try {
      fs.mkdirSync(path.dirname(this.file), { recursive: true });
      fs.writeFileSync(this.file, `${JSON.stringify({ ...this.readAll(), [key]: identity }, null, 2)}\n`);
    } catch {
      // Not remembered.
    }
  }
}

export const parseIdentity = (raw: string | null): StoreIdentity | null => {
  if (raw === null) return null;
  try {
    return JSON.parse(raw) as StoreIdentity;
  } catch {
    return { id: raw, createdAt: '' };
  }
};

/**
 * Compares the store's identity with the one this node remembers; creates it on a store that has none and is new to
 * the node. Throws, having written nothing, when the data is gone or was replaced.
 */
export async function checkIdentity(
  client: Client, opts: { prefix: string; shownUrl: string; dataDir?: string | undefined },
): Promise<StoreIdentity> {
  const memoryFile = opts.dataDir ? path.resolve(opts.dataDir, MEMORY_FILE) : null;
  const memory = new Memory(memoryFile);
  const key = `${opts.shownUrl.replace(/\/\/[^@/]*@/, '//')} ${opts.prefix}`;
  const metaKey = `${opts.prefix}meta`;
  const remembered = memory.get(key);
  let current = parseIdentity(await client.hget(metaKey, IDENTITY_FIELD));
  const where = `Redis at ${opts.shownUrl} (prefix '${opts.prefix}')`;
  const accept = `to start over with this store on purpose, delete ${memoryFile} and start again`;
  if (current === null && remembered) {
    throw new Error(`${where} holds no Presently data, but this node last used store ${remembered.id} there (created ${remembered.createdAt}): `
      + 'Redis lost its data — it restarted without persistence (appendonly or save), was flushed, or evicted keys (maxmemory-policy '
      + `should be noeviction). Nothing was written. Restore Redis from a backup; or, ${accept}.`);
  }
  if (current === null) {
    const fresh: StoreIdentity = { id: randomUUID(), createdAt: new Date().toISOString() };
    await client.hsetnx(metaKey, IDENTITY_FIELD, JSON.stringify(fresh));
    current = parseIdentity(await client.hget(metaKey, IDENTITY_FIELD))!;
  } else if (remembered && remembered.id !== current.id) {
    throw new Error(`${where} holds store ${current.id} (created ${current.createdAt}), but this node last used store ${remembered.id} `
      + `there: the data this node knew was lost and another node started a new store in its place. Restore Redis from a backup; or, ${accept}.`);
  }
  memory.set(key, current);
  return current;
}
