/**
 * A presence session through Graph: `setPresence` (or `clearPresence`) for the user with an application token of
 * the chosen app, whose id is the session's id, as Graph requires.
 */
import { useState } from 'preact/hooks';
import { UserSelect } from '../components/UserSelect.tsx';
import { Field, Panel } from './Panel.tsx';
import { SESSION_DURATIONS, SESSION_STATES, pairKey } from './presenceChoices.ts';
import { asCurl, type GraphRequest } from './send.ts';
import { DurationSelect, PairSelect } from './StateSelect.tsx';
import { useSender } from './useSender.ts';

export const DEMO_APP_ID = '22553876-f5ab-4529-bffb-cfe50aa89f87';

interface Form {
  state: string;
  duration: string;
  appId: string;
}

function request(userId: string, form: Form, clear: boolean): GraphRequest {
  const [availability, activity] = form.state.split('/');
  const appId = form.appId.trim();
  const as = { appId, roles: ['Presence.ReadWrite.All'] };
  const base = `/v1.0/users/${userId}/presence`;
  if (clear) return { method: 'POST', path: `${base}/clearPresence`, body: { sessionId: appId }, as };
  return { method: 'POST', path: `${base}/setPresence`, body: { sessionId: appId, availability, activity, expirationDuration: form.duration }, as };
}

export function SessionForm({ userId, onUser }: { userId: string | null; onUser: (id: string | null) => void }) {
  const [form, setForm] = useState<Form>({ state: pairKey(SESSION_STATES[0]), duration: 'PT1H', appId: DEMO_APP_ID });
  const { devMode, busy, answer, error, submit } = useSender();
  const set = (change: Partial<Form>) => setForm({ ...form, ...change });
  const ready = !!userId && /^[0-9a-f-]{36}$/i.test(form.appId.trim());
  return (
    <Panel id="session" title="Presence session" intro="Creates or refreshes an app's presence session with setPresence (application token; the session id is the app id)."
      curl={userId ? asCurl(request(userId, form, false), devMode) : ''} answer={answer} error={error}>
      <form onSubmit={(e) => { e.preventDefault(); if (ready) void submit(request(userId!, form, false)); }}>
        <Field id="session-user" label="User"><UserSelect id="session-user" value={userId} onChange={onUser} required /></Field>
        <div class="row">
          <Field id="session-state" label="Availability / activity"><PairSelect id="session-state" pairs={SESSION_STATES} value={form.state} onChange={(state) => set({ state })} /></Field>
          <Field id="session-duration" label="Expires after"><DurationSelect id="session-duration" durations={SESSION_DURATIONS} value={form.duration} onChange={(duration) => set({ duration })} /></Field>
        </div>
        <Field id="session-app" label="App id (session id)" hint="The demo app by default.">
          <input id="session-app" value={form.appId} spellcheck={false} onInput={(e) => set({ appId: (e.target as HTMLInputElement).value })} />
        </Field>
        <div class="actions">
          <button type="submit" class="primary" disabled={!ready || busy}>Set presence</button>
          <button type="button" disabled={!ready || busy} onClick={() => void submit(request(userId!, form, true))}>Clear session</button>
        </div>
      </form>
    </Panel>
  );
}
