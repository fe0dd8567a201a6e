/**
 * The dashboard stream's names (src/dashboard/names.ts) against a fake store that counts its reads: a tenant is read
 * one page at a time and never whole; a user missing from a tenant already held is read alone; what is kept per
 * tenant stays within NAMES_PER_TENANT.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NAMES_PER_TENANT, Names } from '../../src/dashboard/names.ts';
import type { User } from '../../src/store/types.ts';
import { eventually } from '../kit/time.ts';

const TENANT = '2b5f4ac6-0f43-4b31-8a3c-2d8b8e4f5c01';
const user = (n: number): User => ({ tenantId: TENANT, id: `u${String(n).padStart(6, '0')}`, displayName: `User ${n}`, userPrincipalName: `u${n}@x.example` });

/** A tenant of `count` users; every read is recorded. */
function fakeStore(count: number) {
  const reads: string[] = [];
  return {
    reads,
    async listUserPage(_tenantId: string, after: string | null, limit: number): Promise<User[]> {
      reads.push(`page ${after ?? '-'} ${limit}`);
      const all = Array.from({ length: count }, (_, i) => user(i));
      return all.filter((u) => after === null || u.id > after).slice(0, limit);
    },
    async getUser(_tenantId: string, userId: string): Promise<User | null> {
      reads.push(`user ${userId}`);
      const n = Number(userId.slice(1));
      return n < count ? user(n) : null;
    },
  };
}

describe('dashboard names', () => {
  it('a tenant not held is read one page, never whole; its users then have their names', async () => {
    const store = fakeStore(NAMES_PER_TENANT + 10);
    const names = new Names(store, (err) => assert.fail(String(err)));
    assert.equal(names.of(TENANT, user(5).id).displayName, user(5).id, 'by id until read');
    await eventually(() => names.of(TENANT, user(5).id).displayName, (name) => name === 'User 5', 2000, 'the page read');
    assert.deepEqual(store.reads, [`page - ${NAMES_PER_TENANT}`]);
  });

  it('a user past what is kept of a large tenant is read alone, and the kept names stay within the bound', async () => {
    const store = fakeStore(NAMES_PER_TENANT + 10);
    const names = new Names(store, (err) => assert.fail(String(err)));
    await names.load(TENANT);
    const late = user(NAMES_PER_TENANT + 5);
    assert.equal(names.of(TENANT, late.id).displayName, late.id);
    await eventually(() => names.of(TENANT, late.id).displayName, (name) => name === late.displayName, 2000, 'the one user read');
    assert.deepEqual(store.reads, [`page - ${NAMES_PER_TENANT}`, `user ${late.id}`]);
    // The oldest name made room for it: user 0 is read again (alone) when asked for.
    names.of(TENANT, user(0).id);
    await eventually(() => store.reads.length, (n) => n === 3, 2000, 'user 0 read alone');
    assert.equal(store.reads[2], `user ${user(0).id}`);
  });
});
