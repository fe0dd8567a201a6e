/**
 * Group commit, as the backends a process writes alone share it (docs/decisions.md#d-group-commit): the presence
 * updates asked for in one turn of the event loop are applied in order, each from what the ones before it wrote,
 * committed together after the turn's I/O callbacks, and each promise settles only after that commit.
 */
import type { Transition } from '../domain/record.ts';
import type { PresenceRecord } from '../domain/types.ts';
import type { PresenceUpdate } from './ports/presence.ts';

/** One updatePresence waiting for its group's commit. */
export interface PendingUpdate {
  tenantId: string;
  userId: string;
  fn: PresenceUpdate;
  resolve: (result: Transition | null | undefined) => void;
  reject: (err: unknown) => void;
}

/**
 * What one update of a group came to: its result and the user's record after it (none: no such user), or what its
 * `fn` threw (which changed nothing).
 */
export type UpdateOutcome =
  | { ok: true; value: Transition | null | undefined; record?: PresenceRecord }
  | { ok: false; error: unknown };

/** The updates of one turn, handed to `commit` together once the turn's I/O callbacks have run. */
export class UpdateQueue {
  private pending: PendingUpdate[] = [];

  constructor(private readonly commit: (group: PendingUpdate[]) => void) {}

  add(tenantId: string, userId: string, fn: PresenceUpdate): Promise<Transition | null | undefined> {
    return new Promise((resolve, reject) => {
      if (this.pending.push({ tenantId, userId, fn, resolve, reject }) === 1) setImmediate(() => this.flush());
    });
  }

  /** Commits the waiting updates now (a store calls it before it closes). */
  flush(): void {
    const group = this.pending;
    if (group.length === 0) return;
    this.pending = [];
    this.commit(group);
  }
}

/**
 * Runs each update's `fn` in turn, from what the ones before it in `updates` wrote, else from `read`, and hands each
 * transition to `write`. An `fn` that throws has written nothing (it runs before `write`), so it fails alone.
 */
export function applyInOrder(
  updates: readonly PendingUpdate[],
  read: (tenantId: string, userId: string) => PresenceRecord | undefined,
  write: (update: PendingUpdate, result: Transition) => void,
): UpdateOutcome[] {
  // What the group wrote so far, by tenant and user: plain maps (no order is needed here).
  const written = new Map<string, Map<string, PresenceRecord>>();
  return updates.map((u) => {
    const record = written.get(u.tenantId)?.get(u.userId) ?? read(u.tenantId, u.userId);
    if (!record) return { ok: true, value: undefined };
    let result: Transition | null;
    try {
      result = u.fn(record);
    } catch (error) {
      return { ok: false, error };
    }
    if (result !== null) write(u, result);
    const after = result?.record ?? record;
    let users = written.get(u.tenantId);
    if (!users) written.set(u.tenantId, (users = new Map()));
    users.set(u.userId, after);
    return { ok: true, value: result, record: after };
  });
}

/**
 * Once the group committed: each user's record after it goes to `keep` (the port's recent records: the next update
 * starts from it), and each promise settles.
 */
export function settle(
  group: readonly PendingUpdate[], outcomes: readonly UpdateOutcome[], keep: (u: PendingUpdate, record: PresenceRecord) => void,
): void {
  outcomes.forEach((o, i) => {
    if (o.ok && o.record !== undefined) keep(group[i]!, o.record);
  });
  outcomes.forEach((o, i) => (o.ok ? group[i]!.resolve(o.value) : group[i]!.reject(o.error)));
}
