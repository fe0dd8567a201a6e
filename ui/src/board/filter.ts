/** The board's search (name, userPrincipalName or id) and availability filter, kept while the viewer moves around. */
import type { UserCard } from '../api/types.ts';
import { Store } from '../lib/store.ts';
import { FILTERS } from './availability.ts';

export interface BoardFilter {
  query: string;
  /** Ids of FILTERS; none selected shows everyone, several show anyone matching one. */
  availability: string[];
}

export const boardFilter = new Store<BoardFilter>({ query: '', availability: [] });

export function matches(card: UserCard, query: string, predicates: typeof FILTERS): boolean {
  if (query) {
    const q = query.toLowerCase();
    const hit = card.displayName.toLowerCase().includes(q) || card.userPrincipalName.toLowerCase().includes(q) || card.id.startsWith(q);
    if (!hit) return false;
  }
  if (predicates.length === 0) return true;
  const ooo = card.outOfOffice?.isOutOfOffice ?? card.presence.outOfOfficeSettings.isOutOfOffice;
  return predicates.some((f) => f.matches(card.presence.availability, ooo));
}

export function applyFilter(users: readonly UserCard[], filter: BoardFilter): readonly UserCard[] {
  const query = filter.query.trim();
  const predicates = FILTERS.filter((f) => filter.availability.includes(f.id));
  if (!query && predicates.length === 0) return users;
  return users.filter((u) => matches(u, query, predicates));
}

/** How many users each filter would show (with the search applied). */
export function countByFilter(users: readonly UserCard[], query: string): Record<string, number> {
  const counts: Record<string, number> = Object.fromEntries(FILTERS.map((f) => [f.id, 0]));
  const q = query.trim();
  for (const u of users) {
    if (!matches(u, q, [])) continue;
    const ooo = u.outOfOffice?.isOutOfOffice ?? u.presence.outOfOfficeSettings.isOutOfOffice;
    for (const f of FILTERS) if (f.matches(u.presence.availability, ooo)) counts[f.id]!++;
  }
  return counts;
}
