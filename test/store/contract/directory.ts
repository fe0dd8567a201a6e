/** The store contract, the directory port: tenants, apps, users (and the UPN index). Run by ./index.ts against every backend. */
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { newRecord } from '../../../src/domain/record.ts';
import { UpnTaken } from '../../../src/store/errors.ts';
import type { Store } from '../../../src/store/types.ts';
import { T1, T2, APP, NOW, MIN, HOUR, uid, user, withStatus, recordDueAt, key, byId } from './fixtures.ts';

export function directoryContract(use: () => Store): void {
  let store: Store;
  beforeEach(() => {
    store = use();
  });

  describe('tenants', () => {
    it('creates, reads, renames and lists tenants', async () => {
      assert.equal(await store.getTenant(T1), null);
      await store.putTenant({ id: T1, displayName: 'Contoso' });
      await store.putTenant({ id: T2, displayName: 'Fabrikam' });
      assert.deepEqual(await store.getTenant(T1), { id: T1, displayName: 'Contoso' });
      await store.putTenant({ id: T1, displayName: 'Contoso Ltd' });
      assert.deepEqual(await store.getTenant(T1), { id: T1, displayName: 'Contoso Ltd' });
      assert.deepEqual(byId(await store.listTenants()), byId([
        { id: T1, displayName: 'Contoso Ltd' },
        { id: T2, displayName: 'Fabrikam' },
      ]));
    });

    it('deleteTenant removes one tenant, returns false when there is none, and leaves users to the caller', async () => {
      await store.putTenant({ id: T1, displayName: 'Contoso' });
      await store.putTenant({ id: T2, displayName: 'Fabrikam' });
      await store.putUser(user(1, T1), newRecord(NOW));
      assert.equal(await store.deleteTenant(T1), true);
      assert.equal(await store.deleteTenant(T1), false);
      assert.equal(await store.getTenant(T1), null);
      assert.deepEqual(await store.listTenants(), [{ id: T2, displayName: 'Fabrikam' }]);
      assert.equal((await store.getUser(T1, uid(1)))?.id, uid(1));
    });
  });

  describe('apps', () => {
    it('creates, reads, renames and lists apps', async () => {
      const other = uid(42);
      assert.equal(await store.getApp(APP), null);
      await store.putApp({ id: APP, displayName: 'Presently Dev App' });
      await store.putApp({ id: other, displayName: 'Busy Light' });
      await store.putApp({ id: APP, displayName: 'Dev App' });
      assert.deepEqual(await store.getApp(APP), { id: APP, displayName: 'Dev App' });
      assert.deepEqual(byId(await store.listApps()), byId([
        { id: APP, displayName: 'Dev App' },
        { id: other, displayName: 'Busy Light' },
      ]));
    });

    it('deleteApp removes one app and returns false when there is none', async () => {
      await store.putApp({ id: APP, displayName: 'Dev App' });
      await store.putApp({ id: uid(42), displayName: 'Busy Light' });
      assert.equal(await store.deleteApp(APP), true);
      assert.equal(await store.deleteApp(APP), false);
      assert.equal(await store.getApp(APP), null);
      assert.deepEqual(await store.listApps(), [{ id: uid(42), displayName: 'Busy Light' }]);
    });
  });

  describe('users', () => {
    it('putUser creates a user with their initial presence and returns true', async () => {
      const initial = newRecord(NOW);
      assert.equal(await store.putUser(user(1), initial), true);
      assert.deepEqual(await store.getUser(T1, uid(1)), user(1));
      assert.deepEqual(await store.getPresence(T1, uid(1)), initial);
    });

    it('putUser on an existing user updates name and UPN, keeps presence, and returns false', async () => {
      await store.putUser(user(1), newRecord(NOW));
      const changed = await store.updatePresence(T1, uid(1), (r) => withStatus(r, 'Working from home', NOW, null));
      const renamed = { ...user(1), displayName: 'Adele Vance', userPrincipalName: 'AdeleV@contoso.example' };
      assert.equal(await store.putUser(renamed, newRecord(NOW + HOUR)), false);
      assert.deepEqual(await store.getUser(T1, uid(1)), renamed);
      assert.deepEqual(await store.getPresence(T1, uid(1)), changed?.record);
      assert.equal((await store.listUsers(T1)).length, 1);
    });

    it('finds a user by UPN ignoring case, keeping the UPN as given', async () => {
      await store.putUser({ ...user(1), userPrincipalName: 'AdeleV@Contoso.example' }, newRecord(NOW));
      await store.putUser({ ...user(2, T2), userPrincipalName: 'ÅSA@fabrikam.example' }, newRecord(NOW));
      for (const upn of ['AdeleV@Contoso.example', 'adelev@contoso.example', 'ADELEV@CONTOSO.EXAMPLE']) {
        assert.deepEqual(await store.findUserByUpn(upn), { ...user(1), userPrincipalName: 'AdeleV@Contoso.example' });
      }
      assert.equal((await store.findUserByUpn('åsa@fabrikam.example'))?.id, uid(2));
      assert.equal(await store.findUserByUpn('nobody@contoso.example'), null);
    });

    it('finds a user by their new UPN after a change, and not by the old one', async () => {
      await store.putUser(user(1), newRecord(NOW));
      await store.putUser({ ...user(1), userPrincipalName: 'renamed@contoso.example' }, newRecord(NOW));
      assert.equal(await store.findUserByUpn(user(1).userPrincipalName), null);
      assert.equal((await store.findUserByUpn('RENAMED@contoso.example'))?.id, uid(1));
    });

    it('lets a user change the case of their own UPN', async () => {
      await store.putUser(user(1), newRecord(NOW));
      const upper = { ...user(1), userPrincipalName: user(1).userPrincipalName.toUpperCase() };
      assert.equal(await store.putUser(upper, newRecord(NOW)), false);
      assert.deepEqual(await store.findUserByUpn(user(1).userPrincipalName), upper);
    });

    it('rejects a UPN another user has (in any tenant, any case) with UpnTaken and changes nothing', async () => {
      await store.putUser(user(1), newRecord(NOW));
      await store.putUser(user(2), newRecord(NOW));
      const taken = user(1).userPrincipalName.toLowerCase();
      await assert.rejects(store.putUser({ ...user(3, T2), userPrincipalName: taken }, newRecord(NOW)), UpnTaken);
      assert.equal(await store.getUser(T2, uid(3)), null);
      assert.equal(await store.getPresence(T2, uid(3)), null);
      await assert.rejects(store.putUser({ ...user(2), userPrincipalName: taken }, newRecord(NOW)), UpnTaken);
      assert.deepEqual(await store.getUser(T1, uid(2)), user(2));
      assert.deepEqual(await store.findUserByUpn(taken), user(1));
    });

    it('keeps tenants apart: the same user id in two tenants is two users', async () => {
      await store.putUser(user(1), newRecord(NOW));
      await store.putUser({ ...user(1, T2), userPrincipalName: 'one@fabrikam.example' }, newRecord(NOW));
      await store.updatePresence(T2, uid(1), (r) => withStatus(r, 'Fabrikam only', NOW, null));
      assert.equal((await store.getPresence(T1, uid(1)))?.facts.statusMessage, null);
      assert.equal((await store.getPresence(T2, uid(1)))?.facts.statusMessage?.content, 'Fabrikam only');
      assert.equal(await store.deleteUser(T1, uid(1)), true);
      assert.equal(await store.getUser(T1, uid(1)), null);
      assert.equal((await store.getUser(T2, uid(1)))?.displayName, 'User 1');
      assert.notEqual(await store.getPresence(T2, uid(1)), null);
    });

    it('gets null for an unknown user or the wrong tenant', async () => {
      await store.putUser(user(1), newRecord(NOW));
      assert.equal(await store.getUser(T1, uid(2)), null);
      assert.equal(await store.getUser(T2, uid(1)), null);
      assert.equal(await store.getPresence(T2, uid(1)), null);
    });

    it('lists the users of one tenant only', async () => {
      for (const n of [3, 1, 2]) await store.putUser(user(n), newRecord(NOW));
      await store.putUser(user(4, T2), newRecord(NOW));
      assert.deepEqual(byId(await store.listUsers(T1)), [user(1), user(2), user(3)]);
      assert.deepEqual(await store.listUsers(T2), [user(4, T2)]);
      assert.deepEqual(await store.listUsers(uid(77)), []);
    });

    it('listUserPage pages through one tenant\'s users in id order; countUsers counts them', async () => {
      for (const n of [5, 3, 1, 4, 2]) await store.putUser(user(n), newRecord(NOW));
      await store.putUser(user(6, T2), newRecord(NOW));
      assert.deepEqual(await store.listUserPage(T1, null, 2), [user(1), user(2)]);
      assert.deepEqual(await store.listUserPage(T1, uid(2), 2), [user(3), user(4)]);
      assert.deepEqual(await store.listUserPage(T1, uid(4), 2), [user(5)]);
      assert.deepEqual(await store.listUserPage(T1, uid(5), 2), []);
      assert.deepEqual(await store.listUserPage(T1, null, 0), []);
      assert.deepEqual(await store.listUserPage(T2, null, 10), [user(6, T2)]);
      assert.deepEqual([await store.countUsers(T1), await store.countUsers(T2), await store.countUsers(uid(77))], [5, 1, 0]);
      await store.deleteUser(T1, uid(3));
      assert.deepEqual(await store.listUserPage(T1, uid(2), 10), [user(4), user(5)]);
      assert.equal(await store.countUsers(T1), 4);
    });

    it('deleteUser removes the user and everything about their presence', async () => {
      await store.putUser(user(1), recordDueAt(NOW + MIN));
      await store.putUser(user(2), recordDueAt(NOW + 2 * MIN));
      assert.equal(await store.deleteUser(T1, uid(1)), true);

      assert.equal(await store.getUser(T1, uid(1)), null);
      assert.equal(await store.findUserByUpn(user(1).userPrincipalName), null);
      assert.deepEqual(await store.listUsers(T1), [user(2)]);
      assert.equal(await store.getPresence(T1, uid(1)), null);
      assert.equal((await store.getSnapshots(T1, [uid(1)])).size, 0);
      let called = false;
      const result = await store.updatePresence(T1, uid(1), (r) => {
        called = true;
        return withStatus(r, 'ghost', NOW, null);
      });
      assert.equal(result, undefined);
      assert.equal(called, false);
      assert.equal(await store.getPresence(T1, uid(1)), null, 'an update must not bring a deleted user back');
      assert.deepEqual(await store.dueUsers(NOW + HOUR, 10), [key(user(2))]);
      assert.equal(await store.nextDueAt(), NOW + 2 * MIN);
    });

    it('deleteUser returns false when there is no such user', async () => {
      assert.equal(await store.deleteUser(T1, uid(1)), false);
      await store.putUser(user(1), newRecord(NOW));
      assert.equal(await store.deleteUser(T2, uid(1)), false);
      assert.equal(await store.deleteUser(T1, uid(1)), true);
      assert.equal(await store.deleteUser(T1, uid(1)), false);
    });

    it('a deleted user can be created again, with fresh presence and their UPN free again', async () => {
      await store.putUser(user(1), recordDueAt(NOW + MIN));
      await store.deleteUser(T1, uid(1));
      const fresh = newRecord(NOW + HOUR);
      assert.equal(await store.putUser({ ...user(2), userPrincipalName: user(1).userPrincipalName }, newRecord(NOW)), true);
      assert.equal(await store.putUser({ ...user(1), userPrincipalName: 'back@contoso.example' }, fresh), true);
      assert.deepEqual(await store.getPresence(T1, uid(1)), fresh);
      assert.equal(await store.nextDueAt(), null);
    });
  });

  describe('users in bulk (putUsers)', () => {
    it('creates every user with the initial record, in more than one chunk, as putUser would', async () => {
      const many = Array.from({ length: 2500 }, (_, i) => user(i + 1));
      const initial = recordDueAt(NOW + MIN);
      const created = await store.putUsers(many, initial);
      assert.equal(created.length, many.length);
      assert.ok(created.every((c) => c === true));
      assert.equal((await store.listUsers(T1)).length, many.length);
      for (const n of [1, 1000, 2001, 2500]) {
        assert.deepEqual(await store.getUser(T1, uid(n)), user(n));
        assert.deepEqual(await store.getPresence(T1, uid(n)), initial);
        assert.equal((await store.findUserByUpn(user(n).userPrincipalName.toUpperCase()))?.id, uid(n));
      }
      assert.equal((await store.dueUsers(NOW + HOUR, 5000)).length, many.length);
      assert.deepEqual(await store.putUsers([], initial), []);
    });

    it('updates the names of existing users, keeping their presence, and frees a UPN they no longer have', async () => {
      await store.putUser(user(1), newRecord(NOW));
      const changed = await store.updatePresence(T1, uid(1), (r) => withStatus(r, 'Kept', NOW, null));
      const renamed = { ...user(1), displayName: 'Adele', userPrincipalName: 'adele@contoso.example' };
      assert.deepEqual(await store.putUsers([renamed, user(2, T2)], newRecord(NOW + HOUR)), [false, true]);
      assert.deepEqual(await store.getUser(T1, uid(1)), renamed);
      assert.deepEqual(await store.getPresence(T1, uid(1)), changed?.record);
      assert.equal(await store.findUserByUpn(user(1).userPrincipalName), null);
      assert.equal(await store.putUser({ ...user(3), userPrincipalName: user(1).userPrincipalName }, newRecord(NOW)), true);
      assert.deepEqual(await store.getUser(T2, uid(2)), user(2, T2));
    });

    it('rejects a UPN another user has with UpnTaken: that user is not written, every user is whole or absent', async () => {
      await store.putUser(user(1), newRecord(NOW));
      const clash = { ...user(5), userPrincipalName: user(1).userPrincipalName.toLowerCase() };
      const list = [user(2), user(3), clash, user(4)];
      await assert.rejects(store.putUsers(list, newRecord(NOW)), UpnTaken);
      assert.equal(await store.getUser(T1, uid(5)), null);
      assert.equal(await store.getPresence(T1, uid(5)), null);
      assert.deepEqual(await store.findUserByUpn(clash.userPrincipalName), user(1));
      for (const n of [2, 3, 4]) {
        const written = await store.getUser(T1, uid(n));
        assert.equal(written === null, (await store.getPresence(T1, uid(n))) === null, `user ${n} is whole or absent`);
      }
      // Corrected, the same call finishes the job; users already written are updated, not created twice.
      const created = await store.putUsers([user(2), user(3), user(5), user(4)], newRecord(NOW));
      assert.equal(created[2], true);
      assert.deepEqual(byId(await store.listUsers(T1)), [1, 2, 3, 4, 5].map((n) => user(n)));
    });

    it('rejects a UPN given twice in one call (ignoring case) to two users', async () => {
      const twice = [user(1), { ...user(2), userPrincipalName: user(1).userPrincipalName.toUpperCase() }];
      await assert.rejects(store.putUsers(twice, newRecord(NOW)), UpnTaken);
      assert.equal(await store.getUser(T1, uid(2)), null);
      const owner = await store.findUserByUpn(user(1).userPrincipalName);
      assert.ok(owner === null || owner.id === uid(1));
    });
  });
}
