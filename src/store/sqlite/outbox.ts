/** The outbox port on SQLite: the `changes` table, appended by SqlitePresence's update transaction. */
import type Database from 'better-sqlite3';
import type { ChangeEvent, NewDelivery } from '../../domain/subscription.ts';
import { decodeView } from '../codec.ts';
import type { OutboxPort } from '../ports/outbox.ts';
import type { SqliteDeliveries } from './deliveries.ts';
import { rowIds } from './ids.ts';
import { metaRows } from './meta.ts';
import type { OwedEvent } from '../journal/presence.ts';

/** The meta key of the last presence journal position whose owed events are in the outbox. */
export const EVENTS_LSN_KEY = 'presence_journal_events_lsn';

interface ChangeRow { id: number; tenant_id: string; user_id: string; seq: string; view: string; at: number }

const toChange = (r: ChangeRow): ChangeEvent => ({
  id: String(r.id), tenantId: r.tenant_id, userId: r.user_id, sequenceNumber: r.seq, view: decodeView(r.view), at: r.at,
});

/**
 * Whether the outbox may hold events: this process is the only writer, so an empty outbox stays empty until an update
 * appends one (SqlitePresence sets `pending`). The dispatcher asks after every turn with a change, and most changes
 * (of users nobody watches) append nothing: an empty read then costs no query.
 */
export interface OutboxState {
  pending: boolean;
}

export class SqliteOutbox implements OutboxPort {
  /** Shared with SqlitePresence, which sets `pending` when it appends. */
  readonly state: OutboxState = { pending: true };
  private readonly read;
  private readonly txDispatch: (eventIds: string, deliveries: readonly NewDelivery[]) => boolean;
  private readonly txOwed: (events: readonly OwedEvent[], lsn: number) => void;
  private readonly eventsLsn: () => number;

  constructor(db: Database.Database, deliveries: SqliteDeliveries) {
    this.read = db.prepare<[number], ChangeRow>('SELECT id, tenant_id, user_id, seq, view, at FROM changes ORDER BY id LIMIT ?');
    const remove = db.prepare<[string]>('DELETE FROM changes WHERE id IN (SELECT value FROM json_each(?))');
    // Only the dispatcher that removes an event enqueues what it produced: a second one racing on the same ids
    // deletes nothing and adds nothing.
    const dispatch = db.transaction((eventIds: string, produced: readonly NewDelivery[]): boolean => {
      if (remove.run(eventIds).changes === 0) return false;
      deliveries.insert(produced);
      return true;
    });
    this.txDispatch = (eventIds, produced) => dispatch.immediate(eventIds, produced);
    const insert = db.prepare<[string, string, string, string, number]>(
      'INSERT INTO changes (tenant_id, user_id, seq, view, at) VALUES (?, ?, ?, ?, ?)',
    );
    const meta = metaRows(db);
    const owed = db.transaction((events: readonly OwedEvent[], lsn: number): void => {
      for (const e of events) insert.run(e.tenantId, e.userId, e.seq, e.view, e.at);
      meta.set.run(EVENTS_LSN_KEY, String(lsn));
    });
    this.txOwed = (events, lsn) => {
      owed.immediate(events, lsn);
      if (events.length > 0) this.state.pending = true;
    };
    this.eventsLsn = () => Number(meta.get.get(EVENTS_LSN_KEY) ?? 0);
  }

  /**
   * Appends the events the presence journal's changes owe (../journal/presence.ts) and marks them owed up to journal
   * position `lsn`, in one transaction: a start replays the journal after the mark (`owedUpTo`).
   */
  appendOwed(events: readonly OwedEvent[], lsn: number): void {
    this.txOwed(events, lsn);
  }

  /** The journal position up to which owed events are in the outbox. */
  owedUpTo(): number {
    return this.eventsLsn();
  }

  async readChanges(limit: number): Promise<ChangeEvent[]> {
    if (!this.state.pending) return [];
    const rows = this.read.all(limit);
    if (rows.length === 0) this.state.pending = false;
    return rows.map(toChange);
  }

  async dispatchChanges(eventIds: readonly string[], deliveries: readonly NewDelivery[]): Promise<boolean> {
    return this.txDispatch(rowIds(eventIds), deliveries);
  }
}
