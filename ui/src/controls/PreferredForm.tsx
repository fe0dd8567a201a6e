/**
 * The user's preferred presence through Graph: `setUserPreferredPresence` (or `clearUserPreferredPresence`) with
 * a token of the user. It shows only while the user has a live session.
 */
import { useState } from 'preact/hooks';
import { UserSelect } from '../components/UserSelect.tsx';
import { Field, Panel } from './Panel.tsx';
import { PREFERRED_DURATIONS, PREFERRED_STATES, pairKey } from './presenceChoices.ts';
import { asCurl, type GraphRequest } from './send.ts';
import { DurationSelect, PairSelect } from './StateSelect.tsx';
import { useSender } from './useSender.ts';

interface Form {
  state: string;
  duration: string;
}

function request(userId: string, form: Form, clear: boolean): GraphRequest {
  const [availability, activity] = form.state.split('/');
  const base = `/v1.0/users/${userId}/presence`;
  if (clear) return { method: 'POST', path: `${base}/clearUserPreferredPresence`, body: {}, as: { userId } };
  const body = { availability, activity, ...(form.duration ? { expirationDuration: form.duration } : {}) };
  return { method: 'POST', path: `${base}/setUserPreferredPresence`, body, as: { userId } };
}

export function PreferredForm({ userId, onUser }: { userId: string | null; onUser: (id: string | null) => void }) {
  const [form, setForm] = useState<Form>({ state: pairKey(PREFERRED_STATES[1]), duration: '' });
  const { devMode, busy, answer, error, submit } = useSender();
  const set = (change: Partial<Form>) => setForm({ ...form, ...change });
  return (
    <Panel id="preferred" title="Preferred presence" intro="Sets the presence the user chose with setUserPreferredPresence, as the user. It wins over every session while one is live."
      curl={userId ? asCurl(request(userId, form, false), devMode) : ''} answer={answer} error={error}>
      <form onSubmit={(e) => { e.preventDefault(); if (userId) void submit(request(userId, form, false)); }}>
        <Field id="preferred-user" label="User"><UserSelect id="preferred-user" value={userId} onChange={onUser} required /></Field>
        <div class="row">
          <Field id="preferred-state" label="Availability / activity"><PairSelect id="preferred-state" pairs={PREFERRED_STATES} value={form.state} onChange={(state) => set({ state })} /></Field>
          <Field id="preferred-duration" label="Expires after"><DurationSelect id="preferred-duration" durations={PREFERRED_DURATIONS} value={form.duration} onChange={(duration) => set({ duration })} /></Field>
        </div>
        <div class="actions">
          <button type="submit" class="primary" disabled={!userId || busy}>Set preferred presence</button>
          <button type="button" disabled={!userId || busy} onClick={() => userId && void submit(request(userId, form, true))}>Clear</button>
        </div>
      </form>
    </Panel>
  );
}
