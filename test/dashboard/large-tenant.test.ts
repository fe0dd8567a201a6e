/**
 * A tenant too large to list whole (docs/decisions.md#d-board-limit): the dashboard's board holds the first 5,000
 * users by id and says how many the tenant has; the admin API's user list comes in pages that `@odata.nextLink` walks
 * through, each checked for bad `$top` and `$skiptoken`. On SQLite and Redis.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, it } from 'node:test';
import { BOARD_LIMIT } from '../../src/dashboard/board.ts';
import { forEachBackend } from '../kit/backends.ts';
import { assertGraphError } from '../kit/graph.ts';
import { startInProcess, type TestServer } from '../kit/server.ts';

const USERS = BOARD_LIMIT + 3;

forEachBackend(['sqlite', 'redis'], (backend) => {
  let s: TestServer;
  const tenant = randomUUID();
  let ids: string[];
  before(async () => {
    s = await startInProcess({ store: backend });
    const value = Array.from({ length: USERS }, (_, i) => ({ displayName: `Large ${i}`, userPrincipalName: `large${i}.${tenant.slice(0, 8)}@large.example` }));
    const res = await s.inject({ method: 'POST', url: `/_presently/tenants/${tenant}/users/bulk`, payload: { value } });
    assert.equal(res.statusCode, 200, res.body);
    ids = ((res.json() as { ids: string[] }).ids).sort();
  });
  after(() => s?.close());

  it(`the board holds the first ${BOARD_LIMIT} users by id and the tenant's total`, async () => {
    const res = await s.inject({ method: 'GET', url: `/_presently/ui/api/board?tenant=${tenant}` });
    assert.equal(res.statusCode, 200);
    const board = res.json() as { total: number; users: Array<{ id: string }> };
    assert.equal(board.total, USERS);
    assert.equal(board.users.length, BOARD_LIMIT);
    assert.deepEqual(board.users.map((u) => u.id).sort(), ids.slice(0, BOARD_LIMIT));
  });

  it('the admin list pages by $top, in id order, and @odata.nextLink walks every user once', async () => {
    const seen: string[] = [];
    let url: string | undefined = `/_presently/tenants/${tenant}/users?$top=2000`;
    let pages = 0;
    while (url !== undefined) {
      const res = await s.inject({ method: 'GET', url });
      assert.equal(res.statusCode, 200, res.body);
      const page = res.json() as { value: Array<{ id: string }>; '@odata.nextLink'?: string };
      seen.push(...page.value.map((u) => u.id));
      url = page['@odata.nextLink'];
      pages++;
    }
    assert.equal(pages, 3);
    assert.deepEqual(seen, ids);
    const whole = (await s.inject({ method: 'GET', url: `/_presently/tenants/${tenant}/users` })).json() as { value: unknown[]; '@odata.nextLink'?: string };
    assert.equal(whole.value.length, USERS, 'the default page (10,000) holds them all');
    assert.equal(whole['@odata.nextLink'], undefined);
  });

  it('a bad $top or $skiptoken is a 400 naming it', async () => {
    for (const top of ['0', '10001', '2.5', 'all']) {
      assertGraphError(await s.inject({ method: 'GET', url: `/_presently/tenants/${tenant}/users?$top=${top}` }), 400, 'BadRequest', /Invalid \$top/);
    }
    assertGraphError(await s.inject({ method: 'GET', url: `/_presently/tenants/${tenant}/users?$skiptoken=nope` }), 400, 'BadRequest', /Invalid \$skiptoken/);
  });
});
