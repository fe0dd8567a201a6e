/** Moving the manual clock from the page (POST /_presently/clock), and the presets the page offers. */
import { moveClock } from '../api/endpoints.ts';
import { setClock } from '../state/clock.ts';

export const PRESETS = [
  { advance: 'PT5M', label: '+5 min' },
  { advance: 'PT1H', label: '+1 h' },
  { advance: 'P1D', label: '+1 day' },
] as const;

/** Moves the clock; resolves when everything due by the new time has happened (the server's promise). */
export async function move(body: { advance: string } | { now: string }): Promise<void> {
  setClock(await moveClock(body));
}
