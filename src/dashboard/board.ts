/**
 * The board: the users of a tenant as cards (up to BOARD_LIMIT), sorted by name, with the stream position it is
 * consistent with. Three store reads whatever the number of users (a page of users and their count, then their
 * records in one batch); records whose due instant has passed (the due loop has not got to them yet) are brought up
 * to date first, as every read does.
 */
import { formatUtc } from '../domain/timezones.ts';
import type { PresenceRecord } from '../domain/types.ts';
import type { Clock } from '../platform/clock/clock.ts';
import type { PresenceService } from '../presence/service.ts';
import type { Store } from '../store/types.ts';
import { cardOf, type UserCard } from './cards.ts';
import type { StreamHub } from './hub.ts';
import type { Names } from './names.ts';

export interface BoardDeps {
  store: Pick<Store, 'listUserPage' | 'countUsers' | 'getPresences'>;
  presence: Pick<PresenceService, 'catchUp'>;
  clock: Clock;
  hub: Pick<StreamHub, 'position' | 'looked'>;
  names: Pick<Names, 'remember'>;
}

export interface Board {
  tenantId: string;
  now: string;
  /** Events after this position may be newer than the board (and are then applied over it); none before it are. */
  cursor: number;
  users: UserCard[];
  /** The tenant's users: more than `users` holds when the tenant has more than BOARD_LIMIT. */
  total: number;
}

/**
 * The most users on a board [P: d-board-limit]: the first ones by id. A tenant of a million users would otherwise be one
 * answer of hundreds of megabytes, and as many cards for the browser.
 */
export const BOARD_LIMIT = 5_000;

const byName = new Intl.Collator('en', { sensitivity: 'base', numeric: true });

export async function readBoard(deps: BoardDeps, tenantId: string): Promise<Board> {
  // Taken first: a change committed while the board is read is in the board, in the stream after it, or both.
  const cursor = deps.hub.position;
  deps.hub.looked();
  const [users, total] = await Promise.all([deps.store.listUserPage(tenantId, null, BOARD_LIMIT), deps.store.countUsers(tenantId)]);
  deps.names.remember(tenantId, users);
  const ids = users.map((u) => u.id);
  const records = await deps.store.getPresences(tenantId, ids);
  let now = deps.clock.now();
  const overdue = ids.filter((id) => {
    const due = records.get(id)?.dueAt;
    return due !== null && due !== undefined && due <= now;
  });
  if (overdue.length > 0) {
    for (const id of overdue) await deps.presence.catchUp(tenantId, id);
    now = deps.clock.now();
    const fresh = await deps.store.getPresences(tenantId, overdue);
    for (const id of overdue) setOrDelete(records, id, fresh.get(id));
  }
  const cards: UserCard[] = [];
  for (const user of users) {
    const record = records.get(user.id);
    if (record) cards.push(cardOf(user, record, now));
  }
  cards.sort((a, b) => byName.compare(a.displayName, b.displayName) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return { tenantId, now: formatUtc(now), cursor, users: cards, total: Math.max(total, users.length) };
}

function setOrDelete(records: Map<string, PresenceRecord>, id: string, record: PresenceRecord | undefined): void {
  if (record) records.set(id, record);
  else records.delete(id);
}
