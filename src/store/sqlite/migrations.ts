/**
 * The SQLite schema, as an ordered list of migrations. The database's `PRAGMA user_version` is the number of
 * migrations applied; opening a database applies the missing ones in one transaction. Never edit a migration that
 * has shipped: append a new one.
 */
import type Database from 'better-sqlite3';

export interface Migration {
  /** Shown in errors, so a failed upgrade says which step failed. */
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    name: 'initial schema',
    // WITHOUT ROWID: every table is looked up by its primary key, so storing rows in the primary-key b-tree saves
    // the second lookup (and the second copy of the key) a rowid table would need. The due index then carries
    // (tenant_id, user_id) itself, so dueUsers reads only the index.
    sql: `
      CREATE TABLE meta (
        key   TEXT NOT NULL PRIMARY KEY,
        value TEXT NOT NULL
      ) WITHOUT ROWID;

      CREATE TABLE tenants (
        id           TEXT NOT NULL PRIMARY KEY,
        display_name TEXT NOT NULL
      ) WITHOUT ROWID;

      CREATE TABLE users (
        tenant_id    TEXT NOT NULL,
        id           TEXT NOT NULL,
        display_name TEXT NOT NULL,
        upn          TEXT NOT NULL,
        -- Lower-cased in JavaScript (SQLite's lower() only folds ASCII): UPNs are unique across tenants, ignoring case.
        upn_lower    TEXT NOT NULL,
        PRIMARY KEY (tenant_id, id)
      ) WITHOUT ROWID;
      CREATE UNIQUE INDEX users_upn_lower ON users (upn_lower);

      CREATE TABLE apps (
        id           TEXT NOT NULL PRIMARY KEY,
        display_name TEXT NOT NULL
      ) WITHOUT ROWID;

      -- One row per user, created and deleted with the user (the cascade is a safety net: deleteUser removes both).
      CREATE TABLE presence (
        tenant_id TEXT NOT NULL,
        user_id   TEXT NOT NULL,
        facts     TEXT NOT NULL, -- PresenceFacts as JSON
        view      TEXT NOT NULL, -- PresenceView as JSON
        seq       TEXT NOT NULL, -- sequenceNumber
        due_at    INTEGER,       -- epoch ms of the next timed change, or NULL
        PRIMARY KEY (tenant_id, user_id),
        FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
      ) WITHOUT ROWID;
      -- The due index: only users with a pending timed change are in it.
      CREATE INDEX presence_due_at ON presence (due_at) WHERE due_at IS NOT NULL;
    `,
  },
];

/** The schema version this code writes and expects. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/**
 * Brings the database up to `migrations.length`, all pending steps in one IMMEDIATE transaction (so two processes
 * opening the same file cannot both migrate). Refuses a database written by a newer version, leaving it untouched.
 * Returns the version the database had before.
 */
export function migrate(db: Database.Database, migrations: readonly Migration[] = MIGRATIONS): number {
  const run = db.transaction(() => {
    const from = db.pragma('user_version', { simple: true }) as number;
    if (from > migrations.length) {
      throw new Error(
        `The database ${db.name} has schema version ${from}, but this version of Presently knows only up to ${migrations.length}. `
        + 'Upgrade Presently, or use another data directory.',
      );
    }
    for (let version = from; version < migrations.length; version++) {
      const migration = migrations[version]!;
      try {
        db.exec(migration.sql);
      } catch (cause) {
        throw new Error(`Migrating ${db.name} to schema version ${version + 1} (${migration.name}) failed`, { cause });
      }
    }
    // user_version lives in the database header, so it commits (or rolls back) with the migrations themselves.
    if (from !== migrations.length) db.pragma(`user_version = ${migrations.length}`);
    return from;
  });
  return run.immediate();
}
