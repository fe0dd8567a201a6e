/**
 * The presence port on the presence journal (./journal.ts): records read from memory, and the updates of one turn of
 * the event loop appended as one group before any of them is answered (group commit, as on SQLite:
 * docs/decisions.md#d-group-commit). A watched change's outbox event is owed by its journal entry and handed to
 * `events` (the SQLite outbox) right after the group is written; a crash between the two is made good at the next
 * start, from the journal (docs/operations/storage.md#presence-journal).
 */
import type { Transition } from '../../domain/record.ts';
import type { PresenceRecord } from '../../domain/types.ts';
import { applyInOrder, settle, UpdateQueue, type PendingUpdate } from '../groupCommit.ts';
import { decodeView, encodeRecord, RecordDecoder } from '../codec.ts';
import type { PresenceKey, PresencePort, PresenceSnapshot, PresenceUpdate } from '../ports/presence.ts';
import { RecentRecordsBySlot } from '../recentRecords.ts';
import type { JournalEntry } from './frames.ts';
import type { PresenceJournal } from './journal.ts';

/** An outbox event owed by a committed change. */
export interface OwedEvent { tenantId: string; userId: string; seq: string; view: string; at: number }

/** Where owed events go: appended, with the journal position they are owed up to, atomically. */
export type EventSink = (events: readonly OwedEvent[], lsn: number) => void;

/** Says whether any subscription watches a user (docs/decisions.md#d-outbox-watched). */
export type WatchedTest = (tenantId: string, userId: string) => boolean;

/** A record as the journal keeps it: `facts \t view \t seq` (JSON never holds a raw tab). */
export function recordText(record: PresenceRecord): string {
  const { facts, view } = encodeRecord(record);
  return `${facts}\t${view}\t${record.sequenceNumber}`;
}

/** The three parts of a record's text (`recordText`): its facts' JSON, its view's JSON, its sequence number. */
export function recordFields(text: string): [facts: string, view: string, seq: string] {
  const i = text.indexOf('\t');
  const j = text.indexOf('\t', i + 1);
  return [text.slice(0, i), text.slice(i + 1, j), text.slice(j + 1)];
}

/** The outbox events that `entries` (of one journal group) owe: those of watched changes. */
export function owedEvents(entries: readonly JournalEntry[]): OwedEvent[] {
  const owed: OwedEvent[] = [];
  for (const e of entries) {
    if (Number.isNaN(e.eventAt) || e.text === null) continue;
    const [, view, seq] = recordFields(e.text);
    owed.push({ tenantId: e.tenantId, userId: e.userId, seq, view, at: e.eventAt });
  }
  return owed;
}

export class JournalPresence implements PresencePort {
  private readonly queue = new UpdateQueue((group) => this.commitGroup(group));
  /** Events whose sink failed: handed over again, before the next group's. */
  private owed: OwedEvent[] = [];
  /** Decodes the records updates start from (users created together share one: ../codec.ts). */
  private readonly decoder = new RecordDecoder();
  /** The users in key order, for snapshotPage, and the arena's membership it was made at. */
  private ordered: { membership: number; slots: Int32Array } | null = null;

  constructor(
    private readonly journal: PresenceJournal,
    private readonly watched: WatchedTest = () => true,
    private readonly events: EventSink = () => {},
    private readonly recent = new RecentRecordsBySlot(),
  ) {}

  async getPresence(tenantId: string, userId: string): Promise<PresenceRecord | null> {
    return this.read(tenantId, userId) ?? null;
  }

  async getPresences(tenantId: string, userIds: readonly string[]): Promise<Map<string, PresenceRecord>> {
    const result = new Map<string, PresenceRecord>();
    for (const id of userIds) {
      const record = this.read(tenantId, id);
      if (record) result.set(id, record);
    }
    return result;
  }

  async getSnapshots(tenantId: string, userIds: readonly string[]): Promise<Map<string, PresenceSnapshot>> {
    const result = new Map<string, PresenceSnapshot>();
    const a = this.journal.arena;
    for (const id of userIds) {
      const slot = a.slotOf(tenantId, id);
      if (slot >= 0) result.set(id, this.snapshotAt(slot));
    }
    return result;
  }

  async snapshotPage(after: PresenceKey | null, limit: number): Promise<Array<PresenceKey & PresenceSnapshot>> {
    const a = this.journal.arena;
    const slots = this.orderedSlots();
    // The first user after `after`: a binary search over the users in key order.
    let [lo, hi] = [0, slots.length];
    while (after !== null && lo < hi) {
      const mid = (lo + hi) >> 1;
      const s = slots[mid]!;
      if (compareKeys(a.tenantOf(s), a.userOf(s), after.tenantId, after.userId) <= 0) lo = mid + 1;
      else hi = mid;
    }
    const page: Array<PresenceKey & PresenceSnapshot> = [];
    for (let i = lo; i < slots.length && page.length < limit; i++) {
      const s = slots[i]!;
      page.push({ tenantId: a.tenantOf(s), userId: a.userOf(s), ...this.snapshotAt(s) });
    }
    return page;
  }

  updatePresence(tenantId: string, userId: string, fn: PresenceUpdate): Promise<Transition | null | undefined> {
    return this.queue.add(tenantId, userId, fn);
  }

  /** Commits the waiting updates now (the store calls it before it closes). */
  flush(): void {
    this.queue.flush();
  }

  /**
   * One journal group for the updates of a turn, each from what the ones before it wrote (../groupCommit.ts). An `fn`
   * that throws fails alone; a journal write that fails fails every update that wrote.
   */
  private commitGroup(group: PendingUpdate[]): void {
    const entries: JournalEntry[] = [];
    const outcomes = applyInOrder(group, (tenantId, userId) => this.read(tenantId, userId), (u, result) => {
      const eventAt = result.changed && this.watched(u.tenantId, u.userId) ? result.at : NaN;
      entries.push({ tenantId: u.tenantId, userId: u.userId, text: recordText(result.record), dueAt: result.record.dueAt, eventAt });
    });
    if (entries.length > 0) {
      try {
        const lsn = this.journal.commit(entries);
        this.handOver(owedEvents(entries), lsn);
      } catch (error) {
        // Nothing was written: the updates that would have written fail, the others stand.
        outcomes.forEach((o, i) => {
          if (o.ok && o.value) outcomes[i] = { ok: false, error };
        });
      }
    }
    const a = this.journal.arena;
    settle(group, outcomes, (u, record) => {
      const slot = a.slotOf(u.tenantId, u.userId);
      if (slot >= 0) this.recent.set(slot, record);
    });
  }

  /**
   * Gives the users who have no record yet `initial` (the directory created them), in one group; a user who has one
   * keeps it.
   */
  create(users: readonly PresenceKey[], initial: PresenceRecord): void {
    const text = recordText(initial);
    const a = this.journal.arena;
    const entries = users.filter((u) => a.slotOf(u.tenantId, u.userId) < 0)
      .map((u): JournalEntry => ({ ...u, text, dueAt: initial.dueAt, eventAt: NaN }));
    if (entries.length > 0) this.journal.commit(entries);
  }

  /** Removes the user's record (the directory deleted them). */
  remove(tenantId: string, userId: string): void {
    const slot = this.journal.arena.slotOf(tenantId, userId);
    if (slot < 0) return;
    this.recent.forget(slot);
    this.journal.commit([{ tenantId, userId, text: null, dueAt: null, eventAt: NaN }]);
  }

  async dueUsers(now: number, limit: number): Promise<PresenceKey[]> {
    const a = this.journal.arena;
    return this.journal.dueIndex.due(now, limit).map((slot) => ({ tenantId: a.tenantOf(slot), userId: a.userOf(slot) }));
  }

  async nextDueAt(): Promise<number | null> {
    return this.journal.dueIndex.next();
  }

  /** Hands `events` (and any still owed) to the sink; kept for the next group if it fails. */
  private handOver(events: OwedEvent[], lsn: number): void {
    if (events.length === 0 && this.owed.length === 0) return;
    const all = this.owed.length === 0 ? events : [...this.owed, ...events];
    try {
      this.events(all, lsn);
      this.owed = [];
    } catch {
      // Committed all the same: the events go with the next group, or at the next start from the journal, which keeps
      // their entries until then.
      this.owed = all;
    }
    this.journal.holdSnapshots = this.owed.length > 0;
  }

  private read(tenantId: string, userId: string): PresenceRecord | undefined {
    const a = this.journal.arena;
    const slot = a.slotOf(tenantId, userId);
    if (slot < 0) return undefined;
    const kept = this.recent.get(slot);
    if (kept) return kept;
    const [facts, view, seq] = recordFields(a.text(slot));
    return this.recent.handOut(this.decoder.decode(facts, view, seq, a.due(slot)));
  }

  private snapshotAt(slot: number): PresenceSnapshot {
    const a = this.journal.arena;
    const [, view, seq] = recordFields(a.text(slot));
    return { view: decodeView(view), sequenceNumber: seq, dueAt: a.due(slot) };
  }

  private orderedSlots(): Int32Array {
    const a = this.journal.arena;
    if (this.ordered?.membership === a.membership) return this.ordered.slots;
    const slots: number[] = [];
    for (let s = 0; s < a.slotCount; s++) if (a.live(s)) slots.push(s);
    slots.sort((x, y) => a.compare(x, y));
    this.ordered = { membership: a.membership, slots: Int32Array.from(slots) };
    return this.ordered.slots;
  }
}

const compareKeys = (t1: string, u1: string, t2: string, u2: string): number =>
  (t1 < t2 ? -1 : t1 > t2 ? 1 : u1 < u2 ? -1 : u1 > u2 ? 1 : 0);
