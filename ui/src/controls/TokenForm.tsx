/**
 * Mints a dev token (POST /_presently/tokens) for a user (delegated) or an app (application permissions), shows it
 * with its claims and copies it. Outside dev mode Presently issues no token: the viewer pastes one instead, which
 * the other forms then send.
 */
import { useState } from 'preact/hooks';
import { mintToken, type TokenRequest } from '../api/endpoints.ts';
import { CopyButton } from '../components/CopyButton.tsx';
import { UserSelect } from '../components/UserSelect.tsx';
import { useStore } from '../lib/store.ts';
import { curlCommand } from './curl.ts';
import { jwtClaims } from './jwt.ts';
import { Field, Panel } from './Panel.tsx';
import { pastedToken } from './send.ts';
import { DEMO_APP_ID } from './SessionForm.tsx';
import { useDevMode } from './useSender.ts';

interface Form {
  kind: 'user' | 'app';
  appId: string;
  permissions: string;
}

const list = (text: string) => text.split(/[\s,]+/).filter(Boolean);

function tokenRequest(form: Form, userId: string | null): TokenRequest {
  const permissions = list(form.permissions);
  if (form.kind === 'user') return { userId: userId ?? '', ...(permissions.length ? { scopes: permissions } : {}) };
  return { appId: form.appId.trim(), ...(permissions.length ? { roles: permissions } : {}) };
}

function PasteToken() {
  const token = useStore(pastedToken);
  return (
    <Panel id="token" title="Token" intro="With --auth oidc Presently issues no token: paste one from your identity provider. The forms below send it.">
      <Field id="token-paste" label="Bearer token">
        <textarea id="token-paste" rows={3} spellcheck={false} value={token} onInput={(e) => pastedToken.set((e.target as HTMLTextAreaElement).value)} />
      </Field>
    </Panel>
  );
}

export function TokenForm({ userId, onUser }: { userId: string | null; onUser: (id: string | null) => void }) {
  const devMode = useDevMode();
  const [form, setForm] = useState<Form>({ kind: 'user', appId: DEMO_APP_ID, permissions: '' });
  const [token, setToken] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  if (!devMode) return <PasteToken />;
  const set = (change: Partial<Form>) => setForm({ ...form, ...change });
  const body = tokenRequest(form, userId);
  const mint = (e: Event) => {
    e.preventDefault();
    setError(null);
    mintToken(body).then((t) => setToken(t.access_token), (err: Error) => { setToken(null); setError(err.message); });
  };
  const claims = token ? jwtClaims(token) : null;
  return (
    <Panel id="token" title="Token" intro="Mints a dev token for a user (delegated) or an app (application permissions)."
      curl={curlCommand({ method: 'POST', url: `${location.origin}/_presently/tokens`, body })} error={error}>
      <form onSubmit={mint}>
        <fieldset class="radios">
          <legend>For</legend>
          <label><input type="radio" name="token-kind" checked={form.kind === 'user'} onChange={() => set({ kind: 'user' })} /> a user</label>
          <label><input type="radio" name="token-kind" checked={form.kind === 'app'} onChange={() => set({ kind: 'app' })} /> an app</label>
        </fieldset>
        {form.kind === 'user'
          ? <Field id="token-user" label="User"><UserSelect id="token-user" value={userId} onChange={onUser} required /></Field>
          : <Field id="token-app" label="App id"><input id="token-app" value={form.appId} spellcheck={false} onInput={(e) => set({ appId: (e.target as HTMLInputElement).value })} /></Field>}
        <Field id="token-permissions" label={form.kind === 'user' ? 'Scopes' : 'Roles'} hint={form.kind === 'user' ? 'Default: Presence.Read.All Presence.ReadWrite' : 'Default: Presence.ReadWrite.All'}>
          <input id="token-permissions" value={form.permissions} spellcheck={false} onInput={(e) => set({ permissions: (e.target as HTMLInputElement).value })} />
        </Field>
        <div class="actions"><button type="submit" class="primary" disabled={form.kind === 'user' && !userId}>Mint token</button></div>
      </form>
      {token && (
        <div class="token-out">
          <div class="curl-head"><span>Access token</span><CopyButton text={token} label="Copy token" /></div>
          <textarea readOnly rows={3} aria-label="Access token" value={token} />
          {claims && <details><summary>Claims</summary><pre><code>{JSON.stringify(claims, null, 2)}</code></pre></details>}
        </div>
      )}
    </Panel>
  );
}
