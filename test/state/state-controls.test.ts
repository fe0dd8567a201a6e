/**
 * State controls for test pipelines (docs/operations/state.md): reset to the seed, export and import of the whole
 * state as one document (checked whole before anything changes), and the tenants API.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DELETE_PAGE } from '../../src/admin/state/service.ts';
import { forEachBackend } from '../kit/backends.ts';
import { ADELE, ALEX, TENANT, startInProcess, tempDir, type TestServer } from '../kit/server.ts';

const T0 = Date.parse('2026-11-28T08:00:00Z');
const OTHER_TENANT = '0c4f0e3a-2222-4a1b-9c3d-5e6f7a8b9c0d';

type Doc = {
  version: number; exportedAt: string;
  tenants: Array<{ id: string; displayName: string; users: Array<{ id: string; userPrincipalName: string; presence: Record<string, unknown>; mailboxSettings: Record<string, unknown> }> }>;
  apps: Array<{ id: string }>; subscriptions: Array<Record<string, unknown>>;
};

forEachBackend(['memory', 'journal', 'redis'], (backend) => {
  let s: TestServer;
  let base: string;
  let adele: string;
  const seed = join(tempDir(), 'seed.json');

  before(async () => {
    writeFileSync(seed, JSON.stringify({ tenants: [{ id: OTHER_TENANT, displayName: 'Fabrikam', users: [{ id: '11111111-2222-4333-8444-555555555555', userPrincipalName: 'pat@fabrikam.example' }] }] }));
    s = await startInProcess({ store: backend, clock: 'manual', seedFile: seed, handshakeTimeoutMs: 2_000 }, { manualStart: T0 });
    base = await s.listen();
    adele = await s.userToken(ADELE, ['Presence.Read.All', 'Presence.ReadWrite', 'MailboxSettings.ReadWrite']);
  });
  after(() => s?.close());

  const call = async (method: string, url: string, body?: unknown, token?: string) => {
    const res = await s.inject({
      method: method as 'GET', url,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
    });
    return { status: res.statusCode, json: res.body ? res.json() as Record<string, unknown> : null, text: res.body };
  };
  const status = async (userId: string) => {
    const r = await call('GET', `/v1.0/users/${userId}/presence`, undefined, adele);
    return (r.json as { statusMessage: { message: { content: string } } | null }).statusMessage?.message.content ?? null;
  };
  const setStatus = (content: string) => call('POST', '/v1.0/me/presence/setStatusMessage', {
    statusMessage: { message: { content }, expiryDateTime: { dateTime: '2026-11-28T17:00:00', timeZone: 'Pacific Standard Time' } },
  }, adele);
  const subscribe = async (sink: string) => {
    const res = await fetch(`${base}/v1.0/subscriptions`, {
      method: 'POST', headers: { authorization: `Bearer ${adele}`, 'content-type': 'application/json' },
      body: JSON.stringify({ changeType: 'updated', notificationUrl: `${base}/_presently/sink/${sink}`, resource: `/communications/presences/${ADELE}`, expirationDateTime: new Date(T0 + 50 * 60_000).toISOString() }),
    });
    assert.equal(res.status, 201, await res.clone().text());
    return (await res.json() as { id: string }).id;
  };
  const sink = async (name: string) => ((await call('GET', `/_presently/sink/${name}`)).json as { value: unknown[] }).value;

  describe('POST /_presently/reset', () => {
    it('goes back to the seed: the demo tenant and the --seed file, every change and subscription gone', async () => {
      assert.equal((await setStatus('before reset')).status, 200);
      assert.equal((await call('POST', `/_presently/tenants/${TENANT}/users`, { userPrincipalName: 'extra@contoso.example' })).status, 201);
      await subscribe('reset');
      const reset = await call('POST', '/_presently/reset');
      assert.equal(reset.status, 200, reset.text);
      assert.deepEqual(reset.json, { status: 'reset', tenants: 2, users: 6, apps: 1, subscriptions: 0 });
      assert.equal(await status(ADELE), null);
      const users = (await call('GET', `/_presently/tenants/${TENANT}/users`)).json as { value: Array<{ userPrincipalName: string }> };
      assert.equal(users.value.length, 5);
      assert.ok(!users.value.some((u) => u.userPrincipalName === 'extra@contoso.example'));
      assert.equal(((await call('GET', `/_presently/tenants/${OTHER_TENANT}/users`)).json as { value: unknown[] }).value.length, 1);
      assert.equal((await call('GET', '/v1.0/subscriptions', undefined, adele)).json?.value instanceof Array, true);
      assert.deepEqual((await call('GET', '/v1.0/subscriptions', undefined, adele)).json?.value, []);
      assert.equal(await status(ADELE), null, 'tokens minted before the reset still work: same users, same signing key');
    });
  });

  describe('GET /_presently/export and POST /_presently/import', () => {
    it('round trip: export, reset, import gives back the same state, and an imported subscription still notifies', async () => {
      await call('POST', '/_presently/reset');
      assert.equal((await setStatus('exported')).status, 200);
      const mailbox = await call('PATCH', '/v1.0/me/mailboxSettings', { automaticRepliesSetting: { status: 'alwaysEnabled', internalReplyMessage: 'Away' }, timeZone: 'Pacific Standard Time' }, adele);
      assert.equal(mailbox.status, 200, mailbox.text);
      const subId = await subscribe('imported');
      const exported = await call('GET', '/_presently/export');
      assert.equal(exported.status, 200);
      const doc = exported.json as Doc;
      assert.equal(doc.version, 1);
      const adeleDoc = doc.tenants.find((t) => t.id === TENANT)!.users.find((u) => u.id === ADELE)!;
      assert.equal((adeleDoc.presence.statusMessage as { content: string }).content, 'exported');
      assert.equal((adeleDoc.mailboxSettings.automaticRepliesSetting as { status: string }).status, 'alwaysEnabled');
      assert.deepEqual(doc.subscriptions.map((x) => x.id), [subId]);

      await call('POST', '/_presently/reset');
      assert.equal(await status(ADELE), null);
      const imported = await call('POST', '/_presently/import', doc);
      assert.equal(imported.status, 200, imported.text);
      assert.deepEqual(imported.json, { status: 'imported', tenants: 2, users: 6, apps: 1, subscriptions: 1 });
      assert.equal(await status(ADELE), 'exported');
      const again = (await call('GET', '/_presently/export')).json as Doc;
      assert.deepEqual({ ...again, exportedAt: '' }, { ...doc, exportedAt: '' }, 'the same document comes out');

      assert.equal((await setStatus('after import')).status, 200);
      await call('POST', '/_presently/clock', { advance: 'PT1S' });
      const records = await sink('imported');
      assert.equal(records.length, 1, 'the imported subscription was notified of the change');
    });

    it('validates everything before changing anything: a bad property deep in the document is a 400 naming it, the state untouched', async () => {
      await call('POST', '/_presently/reset');
      await setStatus('keep me');
      const doc = (await call('GET', '/_presently/export')).json as Doc;
      const t = doc.tenants.findIndex((x) => x.id === TENANT);
      const bad = structuredClone(doc);
      (bad.tenants[t]!.users[1]!.presence as { sessions: unknown[] }).sessions = [{ sessionId: 'x', availability: 'Sleepy', activity: 'Available', refreshedAt: T0, expiresAt: T0 + 60_000 }];
      bad.tenants[t]!.users[0]!.userPrincipalName = 'new-name@contoso.example';
      const r = await call('POST', '/_presently/import', bad);
      assert.equal(r.status, 400, r.text);
      assert.match(r.text, new RegExp(`tenants\\[${t}\\]\\.users\\[1\\]\\.presence\\.sessions\\[0\\]\\.availability`));
      assert.equal(await status(ADELE), 'keep me', 'nothing changed');
      const users = ((await call('GET', `/_presently/tenants/${TENANT}/users`)).json as { value: Array<{ userPrincipalName: string }> }).value;
      assert.ok(!users.some((u) => u.userPrincipalName === 'new-name@contoso.example'));

      for (const [change, message] of [
        [(d: Doc) => { d.version = 2; }, /Property 'version' must be 1/],
        [(d: Doc) => { d.tenants[t]!.users[1]!.userPrincipalName = d.tenants[t]!.users[0]!.userPrincipalName.toUpperCase(); }, /userPrincipalName .* appears twice/],
        [(d: Doc) => { d.subscriptions = [{ ...(doc.subscriptions[0] ?? {}), id: '99999999-9999-4999-8999-999999999999', tenantId: TENANT, applicationId: TENANT, resource: 'x', notificationUrl: 'https://x.example', expiresAt: T0, createdAt: T0, userIds: ['99999999-9999-4999-8999-999999999999'] }]; }, /subscriptions\[0\]\.userIds': no user/],
        [(d: Doc) => { (d.tenants[t]!.users[0]!.mailboxSettings.automaticRepliesSetting as Record<string, unknown>).status = 'scheduled'; }, /users\[0\]\.mailboxSettings: .*required when the status is 'scheduled'/],
      ] as const) {
        const d = structuredClone(doc);
        change(d);
        const res = await call('POST', '/_presently/import', d);
        assert.equal(res.status, 400, res.text);
        assert.match(res.text, message);
      }
      assert.equal((await call('POST', '/_presently/import')).status, 400, 'no body');
      assert.equal(await status(ADELE), 'keep me');
    });
  });

  describe('the tenants API', () => {
    it('creates (201, then 200 renaming), lists, and deletes a tenant with its users (204, then 404)', async () => {
      const tid = '7d1f7c2e-3b4a-4c5d-8e6f-7a8b9c0d1e2f';
      const created = await call('POST', '/_presently/tenants', { id: tid, displayName: 'Northwind' });
      assert.equal(created.status, 201, created.text);
      assert.deepEqual(created.json, { id: tid, displayName: 'Northwind' });
      assert.equal((await call('POST', '/_presently/tenants', { id: tid, displayName: 'Northwind Traders' })).status, 200);
      const generated = await call('POST', '/_presently/tenants', { displayName: 'No id given' });
      assert.equal(generated.status, 201);
      assert.match(String(generated.json?.id), /^[0-9a-f-]{36}$/);
      assert.equal((await call('POST', `/_presently/tenants/${tid}/users`, { userPrincipalName: 'nancy@northwind.example' })).status, 201);
      const listed = (await call('GET', '/_presently/tenants')).json as { value: Array<{ id: string; displayName: string }> };
      assert.deepEqual(listed.value.find((t) => t.id === tid), { id: tid, displayName: 'Northwind Traders' });
      assert.equal((await call('DELETE', `/_presently/tenants/${tid}`)).status, 204);
      assert.deepEqual(((await call('GET', `/_presently/tenants/${tid}/users`)).json as { value: unknown[] }).value, []);
      assert.ok(!((await call('GET', '/_presently/tenants')).json as { value: Array<{ id: string }> }).value.some((t) => t.id === tid));
      assert.equal((await call('DELETE', `/_presently/tenants/${tid}`)).status, 404);
      assert.equal((await call('POST', '/_presently/tenants', { id: 'not-a-guid' })).status, 400);
      assert.equal((await call('POST', `/_presently/tenants/${tid}/users`, { userPrincipalName: 'nancy@northwind.example' })).status, 201, 'the UPN is free again');
      assert.equal(ALEX.length, 36);
    });

    it(`deletes a tenant of more users than it reads at once (${DELETE_PAGE.toLocaleString('en-US')}), every one of them`, async () => {
      const tid = '5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d';
      const value = Array.from({ length: DELETE_PAGE + 1 }, (_, i) => ({ userPrincipalName: `u${i}@many.example` }));
      // The bulk route takes 10,000 users a request.
      for (let i = 0; i < value.length; i += 10_000) {
        assert.equal((await call('POST', `/_presently/tenants/${tid}/users/bulk`, { value: value.slice(i, i + 10_000) })).status, 200);
      }
      assert.equal((await call('DELETE', `/_presently/tenants/${tid}`)).status, 204);
      assert.deepEqual(((await call('GET', `/_presently/tenants/${tid}/users`)).json as { value: unknown[] }).value, []);
      assert.equal((await call('POST', `/_presently/tenants/${tid}/users`, { userPrincipalName: `u${value.length - 1}@many.example` })).status, 201, 'the last UPN is free again');
    });
  });
});
