/**
 * Outside dev mode the dashboard's data is behind the admin key [P: d-dashboard-access]: this form asks for it once
 * and keeps it for the tab (sessionStorage). A key the server does not accept is said so, and not kept.
 */
import { useState } from 'preact/hooks';
import { forgetAdminKey, saveAdminKey } from '../api/adminKey.ts';
import { loadSession, locked } from '../state/session.ts';

/** Outside dev mode without --admin-key nothing opens the data: say how to turn it on. */
export function AdminApiOff() {
  return (
    <main class="gate">
      <section class="panel" aria-labelledby="gate-title">
        <h1 id="gate-title">Presently dashboard</h1>
        <p>This server is not in dev mode and its admin API is off, so the dashboard has no data to show.</p>
        <p>Start Presently with <code>--admin-key</code> (or <code>PRESENTLY_ADMIN_KEY</code>, at least 16 characters), then reload this page.</p>
      </section>
    </main>
  );
}

export function KeyGate({ refused }: { refused: boolean }) {
  const [key, setKey] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(refused ? 'That key was not accepted.' : null);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    saveAdminKey(key.trim());
    const s = await loadSession();
    setBusy(false);
    if (s && locked(s)) {
      forgetAdminKey();
      setError('That key was not accepted.');
    }
  };
  return (
    <main class="gate">
      <form class="panel" onSubmit={submit} aria-labelledby="gate-title">
        <h1 id="gate-title">Presently dashboard</h1>
        <p>This server is not in dev mode: its dashboard needs the admin key (<code>--admin-key</code> or <code>PRESENTLY_ADMIN_KEY</code>).</p>
        <div class="field">
          <label for="admin-key">Admin key</label>
          <input id="admin-key" type="password" autoComplete="current-password" required value={key} aria-describedby={error ? 'gate-error' : undefined}
            onInput={(e) => setKey((e.target as HTMLInputElement).value)} />
        </div>
        {error && <p id="gate-error" class="bad" role="alert">{error}</p>}
        <p class="muted">Kept in this tab only, until it closes.</p>
        <div class="actions"><button type="submit" class="primary" disabled={busy || !key.trim()}>Open the dashboard</button></div>
      </form>
    </main>
  );
}
