/**
 * Sets a user's status message through Graph (`POST /v1.0/users/{id}/presence/setStatusMessage`) with a token of
 * that user, optionally with an expiry in a time zone of the viewer's choice; or clears it.
 */
import { useState } from 'preact/hooks';
import { UserSelect } from '../components/UserSelect.tsx';
import { serverNow } from '../state/clock.ts';
import { Field, Panel } from './Panel.tsx';
import { asCurl, type GraphRequest } from './send.ts';
import { useSender } from './useSender.ts';
import { graphDateTime, localInputValue, zoneChoices } from './zones.ts';

interface Form {
  message: string;
  expires: boolean;
  at: string;
  zone: string;
}

function request(userId: string, form: Form | null): GraphRequest {
  const statusMessage = form === null ? null : {
    message: { content: form.message, contentType: 'text' },
    ...(form.expires && form.at ? { expiryDateTime: { dateTime: graphDateTime(form.at), timeZone: form.zone } } : {}),
  };
  return { method: 'POST', path: `/v1.0/users/${userId}/presence/setStatusMessage`, body: { statusMessage }, as: { userId } };
}

export function StatusMessageForm({ userId, onUser }: { userId: string | null; onUser: (id: string | null) => void }) {
  const zones = zoneChoices();
  const [form, setForm] = useState<Form>(() => ({ message: 'In a meeting', expires: true, at: localInputValue(serverNow() + 3_600_000), zone: zones[0]! }));
  const { devMode, busy, answer, error, submit } = useSender();
  const set = (change: Partial<Form>) => setForm({ ...form, ...change });
  const req = userId ? request(userId, form) : null;
  return (
    <Panel id="status" title="Status message" intro="Sets the user's status message with setStatusMessage, as the user (delegated token)." curl={req ? asCurl(req, devMode) : ''} answer={answer} error={error}>
      <form onSubmit={(e) => { e.preventDefault(); if (req) void submit(req); }}>
        <Field id="status-user" label="User"><UserSelect id="status-user" value={userId} onChange={onUser} required /></Field>
        <Field id="status-message" label="Message" hint="Up to 280 characters.">
          <textarea id="status-message" rows={2} maxLength={280} value={form.message} onInput={(e) => set({ message: (e.target as HTMLTextAreaElement).value })} />
        </Field>
        <div class="field inline">
          <input id="status-expires" type="checkbox" checked={form.expires} onChange={(e) => set({ expires: (e.target as HTMLInputElement).checked })} />
          <label for="status-expires">Expires</label>
        </div>
        {form.expires && (
          <div class="row">
            <Field id="status-at" label="At (wall time in the zone)"><input id="status-at" type="datetime-local" value={form.at} onInput={(e) => set({ at: (e.target as HTMLInputElement).value })} /></Field>
            <Field id="status-zone" label="Time zone" hint="Windows or IANA name.">
              <input id="status-zone" list="status-zones" value={form.zone} onInput={(e) => set({ zone: (e.target as HTMLInputElement).value })} />
              <datalist id="status-zones">{zones.map((z) => <option key={z} value={z} />)}</datalist>
            </Field>
          </div>
        )}
        <div class="actions">
          <button type="submit" class="primary" disabled={!userId || busy}>Set status message</button>
          <button type="button" disabled={!userId || busy} onClick={() => userId && void submit(request(userId, null))}>Clear</button>
        </div>
      </form>
    </Panel>
  );
}
