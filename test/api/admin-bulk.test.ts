/**
 * The admin API's bulk route, `POST /_presently/tenants/{tid}/users/bulk` (docs/operations/admin-api.md#many-users-at-once):
 * many users in one request, through the store's bulk write, with the same rules as creating them one by one.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { ADELE, TENANT, sharedServer, startInProcess, type TestServer } from '../kit/server.ts';
import { assertBadProperty, assertGraphError, assertJsonHeaders, message, mintToken, readPresence, setStatusOk } from '../kit/graph.ts';
import { forEachBackend } from '../kit/backends.ts';

interface BulkAnswer { created: number; updated: number; ids: string[] }
interface Listed { id: string; displayName: string; userPrincipalName: string }

forEachBackend(['memory', 'redis'], (backend) => {
  const shared = sharedServer(() => startInProcess({ store: backend }));

  describe('admin: users in bulk', () => {
    let s: TestServer;
    const OTHER = randomUUID();
    const bulk = (body: unknown, tid = TENANT) => s.inject({
      method: 'POST', url: `/_presently/tenants/${tid}/users/bulk`, headers: { 'content-type': 'application/json' }, payload: JSON.stringify(body),
    });
    const list = async (tid = TENANT) =>
      ((await s.inject({ method: 'GET', url: `/_presently/tenants/${tid}/users` })).json() as { value: Listed[] }).value;

    before(async () => {
      s = await shared();
    });

    it('creates the users (ids given or new) with an empty presence, in order; sent again, it only updates names', async () => {
      const id = randomUUID();
      const users = [
        { id: id.toUpperCase(), displayName: 'Patti Fernandez', userPrincipalName: 'PattiF@contoso.example' },
        { userPrincipalName: 'DiegoS@contoso.example' },
      ];
      const res = await bulk({ value: users });
      assert.equal(res.statusCode, 200, res.body);
      assertJsonHeaders(res);
      const answer = res.json() as BulkAnswer;
      assert.equal(answer.created, 2);
      assert.equal(answer.updated, 0);
      assert.equal(answer.ids[0], id);
      assert.match(answer.ids[1]!, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      const listed = await list();
      assert.deepEqual(listed.find((u) => u.id === id), { id, tenantId: TENANT, displayName: 'Patti Fernandez', userPrincipalName: 'PattiF@contoso.example' });
      assert.equal(listed.find((u) => u.id === answer.ids[1])?.displayName, 'DiegoS@contoso.example');
      const p = await readPresence(s, '/v1.0/me/presence', await mintToken(s, { userId: 'diegos@contoso.example' }));
      assert.equal(p.availability, 'PresenceUnknown');

      const again = await bulk({ value: [{ id, displayName: 'Patti F.', userPrincipalName: 'PattiF@contoso.example' }] });
      assert.deepEqual(again.json(), { created: 0, updated: 1, ids: [id] });
      assert.equal((await list()).find((u) => u.id === id)?.displayName, 'Patti F.');
    });

    it('thousands of users in one request (more than one store chunk); a new tenant is created with them', async () => {
      const users = Array.from({ length: 4500 }, (_, i) => ({ userPrincipalName: `bulk${i}@fabrikam.example`, displayName: `Bulk ${i}` }));
      const res = await bulk({ value: users }, OTHER);
      assert.equal(res.statusCode, 200, res.body);
      const answer = res.json() as BulkAnswer;
      assert.equal(answer.created, 4500);
      assert.equal(new Set(answer.ids).size, 4500);
      assert.equal((await list(OTHER)).length, 4500);
      const tenants = (await s.inject({ method: 'GET', url: '/_presently/tenants' })).json() as { value: Array<{ id: string }> };
      assert.ok(tenants.value.some((t) => t.id === OTHER));
      const app = await mintToken(s, { roles: ['Presence.ReadWrite.All'], tenantId: OTHER });
      // Each user's presence is their own, read one by one and many at once (the read cache holds them from creation).
      const some = [answer.ids[0]!, answer.ids[1]!, answer.ids[2000]!];
      for (const id of some) assert.equal((await readPresence(s, `/v1.0/users/${id}/presence`, app)).id, id);
      const many = await s.inject({ method: 'POST', url: '/v1.0/communications/getPresencesByUserId', headers: { authorization: `Bearer ${app}`, 'content-type': 'application/json' }, payload: JSON.stringify({ ids: some }) });
      assert.deepEqual((many.json() as { value: Array<{ id: string }> }).value.map((p) => p.id).sort(), [...some].sort());
      await setStatusOk(s, answer.ids[4499]!, app, message('last of the lot'));
      assert.equal((await readPresence(s, `/v1.0/users/${answer.ids[4499]}/presence`, app)).statusMessage?.message?.content, 'last of the lot');
    });

    it('a userPrincipalName another user has is 409 naming it; the request, corrected, then goes through', async () => {
      const fresh = { id: randomUUID(), userPrincipalName: 'NewUser@contoso.example' };
      const taken = { id: randomUUID(), userPrincipalName: 'ADELEV@contoso.example' };
      assertGraphError(await bulk({ value: [fresh, taken] }), 409, 'Conflict', /ADELEV@contoso\.example/);
      assert.equal((await list()).find((u) => u.id === ADELE)?.displayName, 'Adele Vance');
      assert.ok(!(await list()).some((u) => u.id === taken.id));
      const res = await bulk({ value: [fresh, { ...taken, userPrincipalName: 'Other@contoso.example' }] });
      assert.equal(res.statusCode, 200, res.body);
      assert.equal((res.json() as BulkAnswer).created + (res.json() as BulkAnswer).updated, 2);
    });

    it('bad input is 400 naming the property, and nothing is written', async () => {
      const before = (await list()).length;
      assertBadProperty(await bulk({}), 'value');
      assertBadProperty(await bulk({ value: {} }), 'value');
      assertBadProperty(await bulk({ users: [] }), 'users');
      assertBadProperty(await bulk({ value: [{ userPrincipalName: 'ok@contoso.example' }, { userPrincipalName: 'nope' }] }), 'value[1].userPrincipalName');
      assertBadProperty(await bulk({ value: [{ id: 'x', userPrincipalName: 'a@contoso.example' }] }), 'value[0].id');
      const tooMany = Array.from({ length: 10_001 }, (_, i) => ({ userPrincipalName: `u${i}@contoso.example` }));
      assertBadProperty(await bulk({ value: tooMany }), 'value');
      assertGraphError(await s.inject({ method: 'POST', url: `/_presently/tenants/${TENANT}/users/bulk` }), 400, 'BadRequest', /empty/);
      assert.equal((await list()).length, before);
    });

    it('a deleted user created again in bulk continues their sequenceNumber', async () => {
      const id = randomUUID();
      const app = await s.appToken(['Presence.ReadWrite.All']);
      const seq = async () => (await readPresence(s, `/v1.0/users/${id}/presence`, app)).sequenceNumber ?? '';
      const user = { id, userPrincipalName: 'returning@contoso.example' };
      assert.equal((await bulk({ value: [user] })).statusCode, 200);
      for (const content of ['one', 'two', 'three']) await setStatusOk(s, id, app, message(content));
      const before = await seq();
      assert.equal((await s.inject({ method: 'DELETE', url: `/_presently/tenants/${TENANT}/users/${id}` })).statusCode, 204);
      const res = await bulk({ value: [user, { userPrincipalName: 'alongside@contoso.example' }] });
      assert.deepEqual((res.json() as BulkAnswer).created, 2);
      const after = await seq();
      assert.ok(after > before, `sequenceNumber went from ${before} to ${after}`);
    });
  });
});
