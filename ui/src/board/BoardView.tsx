/**
 * The presence board: every user of the tenant as a card, searchable and filtered by availability, drawn as a
 * virtualised grid and kept current by the stream. Marks `presently:board-rendered` (Performance API) the first
 * time it shows cards, which the UI benchmark reads.
 */
import { useEffect, useMemo } from 'preact/hooks';
import type { UserCard as Card } from '../api/types.ts';
import { ErrorNote } from '../components/ErrorNote.tsx';
import { navigate } from '../lib/hashRoute.ts';
import { useStore } from '../lib/store.ts';
import { board, reloadBoard } from '../state/board.ts';
import { BoardToolbar } from './BoardToolbar.tsx';
import { applyFilter, boardFilter, countByFilter } from './filter.ts';
import { UserCard } from './UserCard.tsx';
import { VirtualGrid } from './VirtualGrid.tsx';

const CARD = { minItemWidth: 280, itemHeight: 236, gap: 12 };
let marked = false;

export function BoardView() {
  const state = useStore(board);
  const filter = useStore(boardFilter);
  const shown = useMemo(() => applyFilter(state.users, filter), [state.users, filter]);
  const counts = useMemo(() => countByFilter(state.users, filter.query), [state.users, filter.query]);

  useEffect(() => {
    if (marked || state.status !== 'ready' || shown.length === 0) return;
    marked = true;
    performance.mark('presently:board-rendered');
  });

  if (state.status === 'error') return <ErrorNote title="The board could not be read" message={state.error} retry={() => void reloadBoard()} />;
  return (
    <section class="board" aria-labelledby="board-title">
      <h1 id="board-title" class="visually-hidden">Presence board</h1>
      <BoardToolbar filter={filter} counts={counts} shown={shown.length} total={state.users.length} tenantTotal={state.capped ? state.total : null} />
      {state.status === 'loading' && <p class="placeholder" role="status">Reading the board…</p>}
      {state.status === 'ready' && shown.length === 0 && (
        <p class="placeholder">{state.users.length === 0 ? 'This tenant has no users yet.' : 'No user matches the search and filters.'}</p>
      )}
      {state.status === 'ready' && shown.length > 0 && (
        <VirtualGrid<Card>
          items={shown} itemKey={(u) => u.id} label="Users" {...CARD}
          renderItem={(u, { active }) => <UserCard card={u} active={active} />}
          onOpen={(u) => navigate({ name: 'user', userId: u.id })}
        />
      )}
    </section>
  );
}
