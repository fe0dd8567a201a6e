/** The outbox port on SQLite: the `changes` table, appended by SqlitePresence's update transaction. */
import type Database from 'better-sqlite3';
import type { ChangeEvent, NewDelivery } from '../../domain/subscription.ts';
import { decodeView } from '../codec.ts';
import type { OutboxPort } from '../ports/outbox.ts';
import type { SqliteDeliveries } from './deliveries.ts';
import { rowIds } from './ids.ts';

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
