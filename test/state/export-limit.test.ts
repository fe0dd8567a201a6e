/**
 * The export's size limit (docs/operations/state.md): a state of more users than an import accepts is refused with
 * a 409 that names its size and where to turn, before anything is read, instead of building a document no import
 * can take (or, at a million users, one larger than a JavaScript string can hold).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { EXPORT_MAX_USERS } from '../../src/admin/state/service.ts';
import { IMPORT_BODY_LIMIT } from '../../src/admin/state/routes.ts';
import { startInProcess, type TestServer } from '../kit/server.ts';

describe('state controls: the export of a large state', () => {
  let s: TestServer;
  const tid = randomUUID();
  const users = async () => {
    const tenants = (await s.inject({ method: 'GET', url: '/_presently/tenants' })).json() as { value: Array<{ id: string }> };
    let n = 0;
    for (const t of tenants.value) n += await s.presently.store.countUsers(t.id);
    return n;
  };

  before(async () => {
    s = await startInProcess();
  });
  after(() => s.close());

  it(`more than ${EXPORT_MAX_USERS.toLocaleString('en-US')} users: 409 naming the count and the way out`, async () => {
    let missing = EXPORT_MAX_USERS + 1 - (await users());
    for (let from = 0; missing > 0; from += 10_000) {
      const value = Array.from({ length: Math.min(10_000, missing) }, (_, i) => ({ userPrincipalName: `u${from + i}@large.example` }));
      const res = await s.inject({ method: 'POST', url: `/_presently/tenants/${tid}/users/bulk`, headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ value }) });
      assert.equal(res.statusCode, 200, res.body);
      missing -= value.length;
    }
    const res = await s.inject({ method: 'GET', url: '/_presently/export' });
    assert.equal(res.statusCode, 409, res.body.slice(0, 300));
    const error = (res.json() as { error: { code: string; message: string } }).error;
    assert.equal(error.code, 'Conflict');
    assert.equal(error.message, `The state has ${(EXPORT_MAX_USERS + 1).toLocaleString('en-US')} users; an export holds at most ` +
      `${EXPORT_MAX_USERS.toLocaleString('en-US')} (what an import accepts). Back up the store itself instead: docs/operations/storage.md#backups.`);

    // One user fewer, and the export is whole again, and small enough for an import.
    const one = ((await s.inject({ method: 'GET', url: `/_presently/tenants/${tid}/users?$top=1` })).json() as { value: Array<{ id: string }> }).value[0]!;
    assert.equal((await s.inject({ method: 'DELETE', url: `/_presently/tenants/${tid}/users/${one.id}` })).statusCode, 204);
    const whole = await s.inject({ method: 'GET', url: '/_presently/export' });
    assert.equal(whole.statusCode, 200);
    assert.ok(whole.rawPayload.length < IMPORT_BODY_LIMIT, `${whole.rawPayload.length} bytes, an import takes ${IMPORT_BODY_LIMIT}`);
    const doc = whole.json() as { tenants: Array<{ users: unknown[] }> };
    assert.equal(doc.tenants.reduce((a, t) => a + t.users.length, 0), EXPORT_MAX_USERS);
  });
});
