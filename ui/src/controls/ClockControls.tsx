/**
 * The manual clock: its time, the presets (+5 min, +1 h, +1 day) and a move to an instant given in the viewer's
 * zone. On the system clock the controls explain how to get a manual one instead.
 */
import { useState } from 'preact/hooks';
import { formatDateTime } from '../lib/format.ts';
import { useStore } from '../lib/store.ts';
import { clock, useServerNow } from '../state/clock.ts';
import { curlCommand } from './curl.ts';
import { move, PRESETS } from './clockMoves.ts';
import { Field, Panel } from './Panel.tsx';
import { localInputValue } from './zones.ts';

export function ClockPresets({ onError, compact = false }: { onError: (message: string | null) => void; compact?: boolean }) {
  const [busy, setBusy] = useState(false);
  const go = (advance: string) => {
    setBusy(true);
    onError(null);
    move({ advance }).catch((err: Error) => onError(err.message)).finally(() => setBusy(false));
  };
  return (
    <div class={`presets${compact ? ' compact' : ''}`} role="group" aria-label="Move the clock forward">
      {PRESETS.map((p) => (
        <button key={p.advance} type="button" disabled={busy} onClick={() => go(p.advance)} aria-label={`Move the clock forward ${p.label.slice(1)}`}>{p.label}</button>
      ))}
    </div>
  );
}

export function ClockControls() {
  const mode = useStore(clock, (c) => c.mode);
  const now = useServerNow();
  const [target, setTarget] = useState(() => localInputValue(now + 3_600_000));
  const [error, setError] = useState<string | null>(null);
  const instant = target ? new Date(target) : null;
  const body = instant && !Number.isNaN(instant.getTime()) ? { now: instant.toISOString() } : null;
  const submit = (e: Event) => {
    e.preventDefault();
    if (!body) return;
    setError(null);
    move(body).catch((err: Error) => setError(err.message));
  };
  if (mode !== 'manual') {
    return (
      <Panel id="clock" title="Clock" intro="Presently runs on the system clock. Start it with --clock manual to move time from here.">
        <p>Server time: <strong>{formatDateTime(now)}</strong></p>
      </Panel>
    );
  }
  return (
    <Panel id="clock" title="Clock" intro="The manual clock moves only when told; every change due by the new time has happened when it returns."
      curl={curlCommand({ method: 'POST', url: `${location.origin}/_presently/clock`, body: body ?? { advance: 'PT5M' } })} error={error}>
      <p class="clock-now">Server time: <strong>{formatDateTime(now)}</strong> <span class="muted">({new Date(now).toISOString()})</span></p>
      <ClockPresets onError={setError} />
      <form class="row" onSubmit={submit}>
        <Field id="clock-to" label="Move to (your time)"><input id="clock-to" type="datetime-local" step={1} value={target} onInput={(e) => setTarget((e.target as HTMLInputElement).value)} /></Field>
        <div class="actions"><button type="submit" disabled={!body}>Move the clock</button></div>
      </form>
    </Panel>
  );
}
