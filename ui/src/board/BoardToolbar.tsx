/** The board's search box (`/` focuses it) and availability filter chips (toggle buttons, each with its count). */
import { useEffect, useRef } from 'preact/hooks';
import { Dot } from '../components/Dot.tsx';
import { formatCount } from '../lib/format.ts';
import { FILTERS } from './availability.ts';
import { boardFilter, type BoardFilter } from './filter.ts';

const SAMPLE: Record<string, string> = {
  available: 'Available', busy: 'Busy', dnd: 'DoNotDisturb', away: 'Away', offline: 'Offline', unknown: 'PresenceUnknown',
};

function toggle(filter: BoardFilter, id: string): BoardFilter {
  const on = filter.availability.includes(id);
  return { ...filter, availability: on ? filter.availability.filter((a) => a !== id) : [...filter.availability, id] };
}

/** `/` anywhere but in a field focuses the search, as on many sites. */
function useSlashToSearch(input: { current: HTMLInputElement | null }): void {
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const target = e.target as HTMLElement;
      if (e.key !== '/' || e.ctrlKey || e.metaKey || e.altKey || target.closest('input, textarea, select, [contenteditable]')) return;
      e.preventDefault();
      input.current?.focus();
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [input]);
}

/** `tenantTotal`: the tenant's users when the board holds only the first of them (null when it holds all). */
export function BoardToolbar({ filter, counts, shown, total, tenantTotal }: {
  filter: BoardFilter; counts: Record<string, number>; shown: number; total: number; tenantTotal: number | null;
}) {
  const search = useRef<HTMLInputElement>(null);
  useSlashToSearch(search);
  return (
    <div class="toolbar" role="search">
      <label class="search">
        <span class="visually-hidden">Search users by name or user principal name</span>
        <input
          ref={search} type="search" placeholder="Search name or UPN (press /)" value={filter.query} autoComplete="off" aria-keyshortcuts="/"
          onInput={(e) => boardFilter.set({ ...filter, query: (e.target as HTMLInputElement).value })}
        />
      </label>
      <div class="chips" role="group" aria-label="Filter by availability">
        {FILTERS.map((f) => (
          <button
            key={f.id} type="button" class="chip" aria-pressed={filter.availability.includes(f.id)}
            onClick={() => boardFilter.set(toggle(filter, f.id))}
          >
            {SAMPLE[f.id] ? <Dot availability={SAMPLE[f.id]!} size="sm" /> : <span class="ooo-mark" aria-hidden="true" />}
            {f.label} <span class="chip-count">{formatCount(counts[f.id] ?? 0)}</span>
          </button>
        ))}
      </div>
      <p class="shown" aria-live="polite">
        {shown === total ? `${formatCount(total)} users` : `${formatCount(shown)} of ${formatCount(total)} users`}
        {tenantTotal !== null && ` (the board holds the first ${formatCount(total)} of the tenant's ${formatCount(tenantTotal)}, by id)`}
      </p>
    </div>
  );
}
