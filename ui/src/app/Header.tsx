/**
 * The top bar: the views, the tenant, the server's clock (with the +5 min / +1 h / +1 day presets when it is
 * manual), whether the live stream is connected, and the light/dark toggle.
 */
import { useState } from 'preact/hooks';
import type { Session } from '../api/types.ts';
import { ClockPresets } from '../controls/ClockControls.tsx';
import { formatClockFace } from '../lib/format.ts';
import { href, type Route } from '../lib/hashRoute.ts';
import { useStore } from '../lib/store.ts';
import { clock, useServerNow } from '../state/clock.ts';
import { streamStatus } from '../state/live.ts';
import { pickTenant, tenant } from '../state/tenant.ts';
import { effectiveTheme, theme, toggleTheme } from './theme.ts';

const STREAM_WORDS = { connecting: 'Connecting…', live: 'Live', reconnecting: 'Reconnecting…', stopped: 'Not connected', unauthorised: 'Key refused' };

function Nav({ route }: { route: Route }) {
  const links: Array<[Route['name'], string, string]> = [
    ['board', href({ name: 'board' }), 'Board'],
    ['notifications', href({ name: 'notifications', subscription: null, user: null }), 'Notifications'],
    ['controls', href({ name: 'controls', user: null }), 'Controls'],
  ];
  const current = route.name === 'user' ? 'board' : route.name;
  return (
    <nav aria-label="Views">
      <ul class="nav">
        {links.map(([name, to, label]) => <li key={name}><a href={to} aria-current={current === name ? 'page' : undefined}>{label}</a></li>)}
      </ul>
    </nav>
  );
}

function ServerClock() {
  const mode = useStore(clock, (c) => c.mode);
  const now = useServerNow();
  const [error, setError] = useState<string | null>(null);
  return (
    <div class="server-clock" aria-label="Server clock">
      <time dateTime={new Date(now).toISOString()} title={`Server time ${new Date(now).toISOString()}`}>{formatClockFace(now)}</time>
      <span class={`badge ${mode === 'manual' ? 'warn' : 'muted'}`}>{mode === 'manual' ? 'manual clock' : 'system clock'}</span>
      {mode === 'manual' && <ClockPresets compact onError={setError} />}
      {error && <span class="bad" role="alert">{error}</span>}
    </div>
  );
}

export function Header({ route, session }: { route: Route; session: Session }) {
  const current = useStore(tenant);
  const stream = useStore(streamStatus);
  useStore(theme);
  const dark = effectiveTheme() === 'dark';
  return (
    <header class="top">
      <a class="brand" href={href({ name: 'board' })}><span class="brand-dot" aria-hidden="true" />Presently</a>
      <Nav route={route} />
      <div class="top-right">
        {session.tenants.length > 1 ? (
          <label class="tenant">
            <span class="visually-hidden">Tenant</span>
            <select value={current ?? ''} onChange={(e) => pickTenant((e.target as HTMLSelectElement).value)}>
              {session.tenants.map((t) => <option key={t.id} value={t.id}>{t.displayName}</option>)}
            </select>
          </label>
        ) : <span class="tenant" title={current ?? ''}>{session.tenants[0]?.displayName ?? 'No tenant'}</span>}
        <ServerClock />
        <span class={`stream stream-${stream}`} role="status" title="Live updates">{STREAM_WORDS[stream]}</span>
        <button type="button" class="theme-toggle" onClick={toggleTheme} aria-pressed={dark}>Dark theme</button>
      </div>
    </header>
  );
}
