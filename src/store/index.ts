/** Opens the store the configuration names. */
import path from 'node:path';
import { openSqliteStore } from './sqlite/sqliteStore.ts';
import type { Store } from './types.ts';

/** The database file inside the data directory. */
export const DB_FILE = 'presently.db';

/**
 * `sqlite` keeps its data in `<dataDir>/presently.db` (the directory is created if missing); `memory` runs the same
 * SQLite code on a private in-memory database, which keeps nothing once closed.
 */
export function openStore(opts: { kind: 'sqlite' | 'memory'; dataDir: string }): Store {
  return openSqliteStore({ path: opts.kind === 'memory' ? ':memory:' : path.join(opts.dataDir, DB_FILE) });
}
