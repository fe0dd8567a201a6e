/** Choice of an availability/activity pair, and of an expirationDuration. */
import { words } from '../board/availability.ts';
import { DURATION_WORDS, pairKey } from './presenceChoices.ts';

export function PairSelect({ id, pairs, value, onChange }: { id: string; pairs: readonly (readonly [string, string])[]; value: string; onChange: (key: string) => void }) {
  return (
    <select id={id} value={value} onChange={(e) => onChange((e.target as HTMLSelectElement).value)}>
      {pairs.map((p) => <option key={pairKey(p)} value={pairKey(p)}>{words(p[0])} / {words(p[1])}</option>)}
    </select>
  );
}

export function DurationSelect({ id, durations, value, onChange }: { id: string; durations: string[]; value: string; onChange: (d: string) => void }) {
  return (
    <select id={id} value={value} onChange={(e) => onChange((e.target as HTMLSelectElement).value)}>
      {durations.map((d) => <option key={d} value={d}>{DURATION_WORDS[d] ?? d}</option>)}
    </select>
  );
}
