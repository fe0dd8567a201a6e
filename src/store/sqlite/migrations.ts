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
  {
    name: 'change notifications',
    // AUTOINCREMENT on changes and deliveries: their ids are handed out to dispatchers and deliverers, so an id must
    // never be reused after its row is deleted (a late dispatchChanges or completeDeliveries would hit a new row).
    sql: `
      -- The outbox: one row per committed change of a user's view, appended by updatePresence in its transaction.
      -- Not tied to users by a foreign key: deleting a user leaves their undispatched events.
      CREATE TABLE changes (
        id        INTEGER PRIMARY KEY AUTOINCREMENT,
        tenant_id TEXT NOT NULL,
        user_id   TEXT NOT NULL,
        seq       TEXT NOT NULL,    -- sequenceNumber after the change
        view      TEXT NOT NULL,    -- PresenceView as JSON
        at        INTEGER NOT NULL  -- epoch ms of the change
      );

      CREATE TABLE subscriptions (
        id             TEXT NOT NULL PRIMARY KEY,
        tenant_id      TEXT NOT NULL,
        application_id TEXT NOT NULL,
        creator_id     TEXT NOT NULL,
        expires_at     INTEGER NOT NULL,
        data           TEXT NOT NULL  -- the rest of the Subscription as JSON (userIds kept as sent, in order)
      );
      -- listSubscriptions filters by tenant, then optionally application and creator.
      CREATE INDEX subscriptions_tenant ON subscriptions (tenant_id, application_id, creator_id);
      -- The id makes ties come out in a stable order without a sort.
      CREATE INDEX subscriptions_expires_at ON subscriptions (expires_at, id);

      -- Fan-out: which subscriptions watch a user, one primary-key range per user.
      CREATE TABLE subscription_users (
        tenant_id       TEXT NOT NULL,
        user_id         TEXT NOT NULL,
        subscription_id TEXT NOT NULL REFERENCES subscriptions (id) ON DELETE CASCADE,
        PRIMARY KEY (tenant_id, user_id, subscription_id)
      ) WITHOUT ROWID;
      CREATE INDEX subscription_users_subscription ON subscription_users (subscription_id);

      -- The delivery queue. No foreign key to subscriptions: deleteSubscription removes a subscription's deliveries.
      CREATE TABLE deliveries (
        id              INTEGER PRIMARY KEY AUTOINCREMENT,
        subscription_id TEXT NOT NULL,
        tenant_id       TEXT NOT NULL,
        kind            TEXT NOT NULL,  -- 'change' | 'lifecycle'
        url             TEXT NOT NULL,
        item            TEXT NOT NULL,  -- the notification item as JSON
        resource_view   TEXT,           -- PresenceView as JSON, for rich notifications
        user_id         TEXT,
        attempt         INTEGER NOT NULL,
        next_attempt_at INTEGER NOT NULL,
        leased_until    INTEGER,        -- epoch ms; a claimed delivery is not claimed again before then
        created_at      INTEGER NOT NULL
      );
      CREATE INDEX deliveries_subscription ON deliveries (subscription_id);
      -- claimDeliveries walks this in (next_attempt_at, id) order (the rowid is the last key of every index).
      CREATE INDEX deliveries_next_attempt_at ON deliveries (next_attempt_at);
      -- nextDeliveryAt: when a delivery is next claimable, its lease counted. The expression must be written exactly
      -- like this in queries for SQLite to use the index.
      CREATE INDEX deliveries_ready_at ON deliveries (max(next_attempt_at, coalesce(leased_until, 0)));
    `,
  },
  {
    name: 'subscription counts and pages',
    // GET /subscriptions pages through one creator's subscriptions of one app, oldest first: created_at (a copy of
    // data's createdAt) and id end the index, so a page is one index range, found without reading the ones before.
    // The caps count a tenant's or an app's subscriptions from the same index. It starts with the old
    // subscriptions_tenant, which it replaces.
    sql: `
      ALTER TABLE subscriptions ADD COLUMN created_at INTEGER NOT NULL DEFAULT 0;
      UPDATE subscriptions SET created_at = json_extract(data, '$.createdAt');
      CREATE INDEX subscriptions_owner ON subscriptions (tenant_id, application_id, creator_id, created_at, id);
      DROP INDEX subscriptions_tenant;
    `,
  },
  {
    name: 'fan-out index in memory',
    // One row per watched user made a subscription of 650 users dirty ~650 pages of a b-tree spread over every user,
    // ~40 ms of commit each and more as the table outgrew the page cache. This process is the only writer, so the
    // index (tenant/user → subscriptions) is kept in memory instead, built from data's userIds at open.
    sql: `
      DROP TABLE subscription_users;
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
