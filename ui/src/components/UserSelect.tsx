/** A choice of one user of the board (by name, with the UPN), or "any" when `anyLabel` is given. */
import { useStore } from '../lib/store.ts';
import { people } from '../state/board.ts';

export interface UserSelectProps {
  id: string;
  value: string | null;
  onChange: (userId: string | null) => void;
  anyLabel?: string;
  required?: boolean;
}

export function UserSelect({ id, value, onChange, anyLabel, required }: UserSelectProps) {
  const users = useStore(people);
  const known = value === null || users.some((u) => u.id === value);
  return (
    <select id={id} value={value ?? ''} required={required} onChange={(e) => onChange((e.target as HTMLSelectElement).value || null)}>
      {anyLabel !== undefined ? <option value="">{anyLabel}</option> : value === null && <option value="" disabled>Choose a user…</option>}
      {!known && value && <option value={value}>{value}</option>}
      {users.map((u) => <option key={u.id} value={u.id}>{u.displayName} ({u.userPrincipalName})</option>)}
    </select>
  );
}
