/**
 * The presence journal beside a SQLite database (docs/operations/storage.md#presence-journal): where its folder is,
 * how a database whose presence lived in its table moves it into the journal (and back), and what a start makes good
 * after a crash between the database and the journal (a user created or deleted in one and not yet in the other; a
 * watched change whose outbox event was not appended yet).
 */
import fs from 'node:fs';
import path from 'node:path';
import type Database from 'better-sqlite3';
import { newRecord } from '../../domain/record.ts';
import { JOURNAL_DIR } from '../files.ts';
import { PresenceJournal, type JournalOptions, type JournalStart } from '../journal/journal.ts';
import type { JournalEntry } from '../journal/frames.ts';
import { owedEvents, recordFields, recordText } from '../journal/presence.ts';
import { SqliteDeliveries } from './deliveries.ts';
import { metaRows } from './meta.ts';
import { EVENTS_LSN_KEY, SqliteOutbox } from './outbox.ts';

/** The meta key that says where presence records live: 'journal' once they moved there. */
export const PRESENCE_STORE_KEY = 'presence_store';
/** Entries a group when records are moved or made good in bulk. */
const CHUNK = 10_000;

export type PresenceStorage = 'table' | 'journal';

/** The journal's folder for the database `file`. */
export const journalFolder = (file: string): string => path.join(path.dirname(file), JOURNAL_DIR);

/** Where the database keeps its presence records now. */
export function presenceStorage(db: Database.Database): PresenceStorage {
  const mode = metaRows(db).get.get(PRESENCE_STORE_KEY);
  return mode === 'journal' ? 'journal' : 'table';
}

/**
 * Opens the journal of the database `file`, moving the presence table's records into it first if they are still
 * there, and gives every user a record and every record a user.
 */
export function openPresenceJournal(db: Database.Database, file: string, options: JournalOptions = {}): OpenedJournal {
  const started = performance.now();
  const notices: string[] = [];
  const dir = journalFolder(file);
  const moved = presenceStorage(db) === 'journal';
  // Files from a move that a crash cut short: the table still holds every record.
  if (!moved) notices.push(...dropLeftoverJournal(file));
  const { journal, start } = PresenceJournal.open(dir, options);
  if (start.repaired) notices.push(`presence journal repaired: ${start.repaired}`);
  if (!moved) {
    const rows = db.prepare<[], { tenant_id: string; user_id: string; facts: string; view: string; seq: string; due_at: number | null }>(
      'SELECT tenant_id, user_id, facts, view, seq, due_at FROM presence',
    );
    let entries: JournalEntry[] = [];
    for (const r of rows.iterate()) {
      entries.push({ tenantId: r.tenant_id, userId: r.user_id, text: `${r.facts}\t${r.view}\t${r.seq}`, dueAt: r.due_at, eventAt: NaN });
      if (entries.length === CHUNK) entries = commitAll(journal, entries);
    }
    commitAll(journal, entries);
    const meta = metaRows(db);
    db.transaction(() => {
      meta.set.run(PRESENCE_STORE_KEY, 'journal');
      meta.set.run(EVENTS_LSN_KEY, String(journal.lsn));
      db.prepare('DELETE FROM presence').run();
    }).immediate();
    if (journal.arena.size > 0) notices.push(`presence records moved from the presence table to ${dir}: ${journal.arena.size}`);
  }
  const made = reconcile(db, journal);
  if (made.created + made.removed > 0) {
    notices.push(`presence journal made good after a crash: ${made.created} users given a record, ${made.removed} records of deleted users removed`);
  }
  notices.unshift(`presence: in the journal ${dir}, ${journal.arena.size} users read in ${Math.round(performance.now() - started)} ms`);
  return { journal, start, notices };
}

/**
 * Moves the records of a database that keeps them in the journal back into its presence table (`--presence-store
 * table`): the journal read as a start reads it, the events it owes appended, users and records made to agree, then
 * every record inserted with its sequence number and due instant in the transaction that records the move, and the
 * journal's folder removed. A crash before that transaction leaves the journal as it was; after it, the next start
 * removes the folder (dropLeftoverJournal). Answers what the operator should read.
 */
export function moveToTable(db: Database.Database, file: string): string[] {
  const started = performance.now();
  const dir = journalFolder(file);
  const { journal, start } = PresenceJournal.open(dir);
  journal.holdSnapshots = true;
  const notices = start.repaired ? [`presence journal repaired: ${start.repaired}`] : [];
  try {
    settleOwedEvents(new SqliteOutbox(db, new SqliteDeliveries(db)), journal, start);
    reconcile(db, journal);
    const a = journal.arena;
    const insert = db.prepare<[string, string, string, string, string, number | null]>(
      'INSERT INTO presence (tenant_id, user_id, facts, view, seq, due_at) VALUES (?, ?, ?, ?, ?, ?)',
    );
    const meta = metaRows(db);
    try {
      db.transaction(() => {
        for (let slot = 0; slot < a.slotCount; slot++) {
          if (!a.live(slot)) continue;
          const [facts, view, seq] = recordFields(a.text(slot));
          insert.run(a.tenantOf(slot), a.userOf(slot), facts, view, seq, a.due(slot));
        }
        meta.set.run(PRESENCE_STORE_KEY, 'table');
      }).immediate();
    } catch (err) {
      throw new Error(`cannot move the presence records from ${dir} back to the presence table (${(err as Error).message}): `
        + 'the journal is left as it was; start without --presence-store table to keep it', { cause: err });
    }
    notices.push(`presence records moved from ${dir} back to the presence table: ${a.size} in ${Math.round(performance.now() - started)} ms`);
  } finally {
    journal.closeNow();
  }
  fs.rmSync(dir, { recursive: true, force: true });
  return notices;
}

/**
 * Removes a journal folder that a database keeping its records in the table does not use: what a move either way
 * that a crash cut short left (the table holds every record). Answers what the operator should read.
 */
export function dropLeftoverJournal(file: string): string[] {
  const dir = journalFolder(file);
  if (!fs.existsSync(dir)) return [];
  fs.rmSync(dir, { recursive: true, force: true });
  return [`presence journal ${dir} removed: a move that did not finish left it, and the presence table holds the records`];
}

/** An opened journal, what its start replayed, and what the operator should read about it. */
export interface OpenedJournal {
  journal: PresenceJournal;
  start: JournalStart;
  notices: string[];
}

/** Appends the outbox events that the journal's replayed changes owe and the outbox does not have yet. */
export function settleOwedEvents(outbox: SqliteOutbox, journal: PresenceJournal, start: JournalStart): number {
  const upTo = outbox.owedUpTo();
  const owed = start.owed.filter((f) => f.lsn > upTo).flatMap((f) => owedEvents(f.entries));
  if (owed.length > 0) outbox.appendOwed(owed, journal.lsn);
  return owed.length;
}

function commitAll(journal: PresenceJournal, entries: JournalEntry[]): JournalEntry[] {
  if (entries.length > 0) journal.commit(entries);
  return [];
}

/**
 * After a crash between a users' transaction and its journal group, the counts differ: the users without a record get
 * a new one, and the records of users who are gone are removed.
 */
function reconcile(db: Database.Database, journal: PresenceJournal): { created: number; removed: number } {
  const a = journal.arena;
  const count = db.prepare<[], number>('SELECT count(*) FROM users').pluck().get()!;
  if (count === a.size) return { created: 0, removed: 0 };
  let [created, removed] = [0, 0];
  // The store opens before the server's clock: the new records start at the journal's last write, the crash's time.
  const text = recordText(newRecord(Math.floor(journal.lastWrittenAt())));
  let entries: JournalEntry[] = [];
  for (const u of db.prepare<[], { tenant_id: string; id: string }>('SELECT tenant_id, id FROM users').iterate()) {
    if (a.slotOf(u.tenant_id, u.id) >= 0) continue;
    entries.push({ tenantId: u.tenant_id, userId: u.id, text, dueAt: null, eventAt: NaN });
    created++;
    if (entries.length === CHUNK) entries = commitAll(journal, entries);
  }
  const exists = db.prepare<[string, string], number>('SELECT 1 FROM users WHERE tenant_id = ? AND id = ?').pluck();
  for (let slot = 0; slot < a.slotCount; slot++) {
    if (!a.live(slot) || exists.get(a.tenantOf(slot), a.userOf(slot)) !== undefined) continue;
    entries.push({ tenantId: a.tenantOf(slot), userId: a.userOf(slot), text: null, dueAt: null, eventAt: NaN });
    removed++;
  }
  commitAll(journal, entries);
  return { created, removed };
}
