/**
 * The board: every user of the tenant with their card, sorted by name. Read once (a snapshot with the stream
 * position it is consistent with), then kept current by the stream's `presence` events, applied in place and at
 * most once per animation frame whatever their rate (a user changed five times within a frame is drawn once, with
 * the newest card). On `resync` the snapshot is read again; events that arrive meanwhile wait, and those newer than
 * the new snapshot are applied on top of it.
 */
import { getBoard } from '../api/endpoints.ts';
import type { UserCard } from '../api/types.ts';
import { useMemo } from 'preact/hooks';
import { FrameBatch } from '../lib/frame.ts';
import { Store, useStore } from '../lib/store.ts';
import { setServerNow } from './clock.ts';
import { follow, onStream } from './live.ts';

export interface BoardState {
  tenantId: string | null;
  status: 'idle' | 'loading' | 'ready' | 'error';
  error: string | null;
  users: UserCard[];
  /** Position of each user in `users`. */
  index: Map<string, number>;
  /** The stream position the board reflects. */
  cursor: number;
  /** The tenant's users; more than `users` when the board is capped (the server sends at most its first 5,000). */
  total: number;
  /** The server left users out: changes of users not on the board are not added to it. */
  capped: boolean;
}

export const board = new Store<BoardState>({ tenantId: null, status: 'idle', error: null, users: [], index: new Map(), cursor: 0, total: 0, capped: false });

export interface Person {
  id: string;
  displayName: string;
  userPrincipalName: string;
}

/** The tenant's users by name, changed only when a user is added or renamed (for pickers, which need no cards). */
export const people = new Store<Person[]>([]);

function updatePeople(users: UserCard[]): void {
  people.set(users.map(({ id, displayName, userPrincipalName }) => ({ id, displayName, userPrincipalName })));
}

/** Cards received and not yet drawn: the newest per user, with its stream position. */
const pending = new Map<string, { card: UserCard; position: number }>();
let reloading: Promise<void> | null = null;
let loadController: AbortController | null = null;

/** The server's order (src/dashboard/board.ts): by name, ignoring case and accents, numbers as numbers; then by id. */
const collator = new Intl.Collator('en', { sensitivity: 'base', numeric: true });
const byName = (a: UserCard, b: UserCard) => collator.compare(a.displayName, b.displayName) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

function indexOf(users: UserCard[]): Map<string, number> {
  return new Map(users.map((u, i) => [u.id, i]));
}

/** Applies the waiting cards newer than the board's cursor. */
function flush(): void {
  if (reloading || pending.size === 0) return;
  const state = board.get();
  let users = state.users;
  let index = state.index;
  let cursor = state.cursor;
  let inserted = false;
  let renamed = false;
  for (const { card, position } of pending.values()) {
    if (position !== 0 && position <= state.cursor) continue;
    cursor = Math.max(cursor, position);
    if (users === state.users) users = users.slice();
    const at = index.get(card.id);
    if (at === undefined) {
      if (state.capped) continue;
      users.push(card);
      inserted = true;
    } else {
      renamed ||= users[at]!.displayName !== card.displayName || users[at]!.userPrincipalName !== card.userPrincipalName;
      users[at] = card;
    }
  }
  pending.clear();
  if (users === state.users) return;
  if (inserted || renamed) {
    users.sort(byName);
    index = indexOf(users);
    updatePeople(users);
  }
  board.set({ ...state, users, index, cursor });
}

const frame = new FrameBatch(flush);

async function load(tenantId: string): Promise<void> {
  loadController?.abort();
  const controller = new AbortController();
  loadController = controller;
  try {
    const snapshot = await getBoard(tenantId, controller.signal);
    if (controller.signal.aborted) return;
    const users = snapshot.users.slice().sort(byName);
    setServerNow(snapshot.now);
    const capped = snapshot.total > users.length;
    board.set({ tenantId, status: 'ready', error: null, users, index: indexOf(users), cursor: snapshot.cursor, total: snapshot.total, capped });
    updatePeople(users);
    follow(tenantId, snapshot.cursor);
  } catch (err) {
    if (controller.signal.aborted) return;
    board.set({ ...board.get(), tenantId, status: 'error', error: (err as Error).message });
  }
}

/** Shows `tenantId`: reads its board and follows its stream. */
export function showTenant(tenantId: string): Promise<void> {
  pending.clear();
  board.set({ tenantId, status: 'loading', error: null, users: [], index: new Map(), cursor: 0, total: 0, capped: false });
  people.set([]);
  return load(tenantId);
}

/** Reads the board again (after `resync`), keeping the cards that arrive meanwhile. */
export function reloadBoard(): Promise<void> {
  const { tenantId } = board.get();
  if (!tenantId) return Promise.resolve();
  reloading ??= load(tenantId).finally(() => {
    reloading = null;
    frame.schedule();
  });
  return reloading;
}

onStream('presence', (event, position) => {
  if (event.tenantId !== board.get().tenantId) return;
  pending.set(event.userId, { card: event.card, position });
  frame.schedule();
});

onStream('resync', () => void reloadBoard());

/** The card of a user of the board, if known. */
export function cardOf(userId: string): UserCard | undefined {
  const state = board.get();
  const at = state.index.get(userId);
  return at === undefined ? undefined : state.users[at];
}

/** A user's display name, if the board knows them. */
export function nameOf(userId: string): string | undefined {
  return cardOf(userId)?.displayName;
}

/**
 * `nameOf` for a component that shows names: the component is drawn again when the board's names change (the board
 * may arrive after the rows that name its users, or a user may be added or renamed).
 */
export function useNames(): (userId: string) => string | undefined {
  const index = useStore(board, (s) => s.index);
  // A new function when the names change, so that memoised rows given it are drawn again.
  return useMemo(() => (userId: string) => nameOf(userId), [index]);
}
