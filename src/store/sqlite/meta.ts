/** The meta port on SQLite: one row per key. */
import type Database from 'better-sqlite3';
import { encodeList } from '../codec.ts';
import type { MetaPort } from '../ports/meta.ts';

/**
 * A meta row read and written synchronously, for the store's own bookkeeping inside its transactions (the presence
 * journal's marks: ./presenceJournal.ts, ./outbox.ts).
 */
export function metaRows(db: Database.Database) {
  return {
    get: db.prepare<[string], string>('SELECT value FROM meta WHERE key = ?').pluck(),
    set: db.prepare<[string, string]>(
      'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
    ),
  };
}

export class SqliteMeta implements MetaPort {
  private readonly get;
  private readonly getMany;
  private readonly set;
  private readonly setIfAbsent: (key: string, value: string) => string;

  constructor(db: Database.Database) {
    const rows = metaRows(db);
    const get = (this.get = rows.get);
    this.getMany = db.prepare<[string], { key: string; value: string }>(
      'SELECT key, value FROM meta WHERE key IN (SELECT value FROM json_each(?))',
    );
    this.set = rows.set;
    const insertIfAbsent = db.prepare<[string, string]>(
      'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING',
    );
    const tx = db.transaction((key: string, value: string): string => {
      insertIfAbsent.run(key, value);
      return get.get(key)!;
    });
    this.setIfAbsent = (key, value) => tx.immediate(key, value);
  }

  async getMeta(key: string): Promise<string | null> {
    return this.get.get(key) ?? null;
  }

  async getMetas(keys: readonly string[]): Promise<Map<string, string>> {
    return new Map(this.getMany.all(encodeList(keys)).map((r) => [r.key, r.value]));
  }

  async setMeta(key: string, value: string): Promise<void> {
    this.set.run(key, value);
  }

  async setMetaIfAbsent(key: string, value: string): Promise<string> {
    return this.setIfAbsent(key, value);
  }
}
