/**
 * Graph: "A single user can create one presence subscription per unique application" (docs/notifications/subscriptions.md).
 * The rule is about the creating user, so one subscription may watch many users, and a second create by the same
 * user with the same app is 403 — whatever users it names — naming the existing subscription, before any handshake.
 * Another user, or the same user with another app, may subscribe; deleting the subscription or letting it expire
 * makes room again. On every backend.
 */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { forEachBackend } from '../kit/backends.ts';
import { assertGraphError, bearer, moveClock } from '../kit/graph.ts';
import { startReceiver, type Receiver } from '../kit/receiver.ts';
import { ADELE, ALEX, MEGAN, startInProcess, type TestServer } from '../kit/server.ts';
import { toConfig } from '../../src/cli/options.ts';

const T0 = Date.parse('2026-11-28T08:00:00Z');
const MIN = 60_000;
const OTHER_APP = '0d7c6a57-52c4-4bd2-9d5b-4f4e1c8a9a10';
const MESSAGE = /^Operation: Create; Exception: \[Status Code: Forbidden; Reason: A user can create only one presence subscription per application, and subscription '([0-9a-f-]{36})' of this user and application exists until 2026-11-28T08:50:00\.0000000Z\. Renew it with PATCH, or delete it before creating another; one subscription can watch up to 650 users\.\]$/;

forEachBackend(['memory', 'sqlite', 'redis'], (backend) => {
  let s: TestServer;
  let rx: Receiver;
  before(async () => {
    s = await startInProcess({ store: backend, clock: 'manual' }, { manualStart: T0 });
    rx = await startReceiver();
  });
  after(async () => {
    await rx.close();
    await s.close();
  });

  const body = (users: string[], path = '/hooks') => ({
    changeType: 'updated', notificationUrl: `${rx.url}${path}`,
    resource: users.length === 1 ? `/communications/presences/${users[0]}` : `/communications/presences?$filter=id in ('${users.join("','")}')`,
    expirationDateTime: new Date(s.presently.clock.now() + 50 * MIN).toISOString(),
  });
  const create = (token: string, users: string[], path?: string) =>
    s.inject({ method: 'POST', url: '/v1.0/subscriptions', headers: bearer(token), payload: body(users, path) });

  it('one subscription watches several users; a second create by the same user and app is 403 naming the first, with no handshake', async () => {
    const alex = await s.userToken(ALEX);
    const first = await create(alex, [ADELE, MEGAN]);
    assert.equal(first.statusCode, 201, first.body);
    const id = (first.json() as { id: string }).id;
    const handshakes = rx.posts.length;

    for (const [users, version] of [[[ADELE], 'v1.0'], [[MEGAN, ALEX], 'beta'], [[ADELE, MEGAN], 'v1.0']] as const) {
      const res = await s.inject({ method: 'POST', url: `/${version}/subscriptions`, headers: bearer(alex), payload: body([...users], '/other') });
      const err = assertGraphError(res, 403, 'ExtensionError', MESSAGE);
      assert.equal(MESSAGE.exec(err.error.message)![1], id);
    }
    assert.equal(rx.posts.length, handshakes, 'no handshake for a refused create');
    const list = await s.inject({ url: '/v1.0/subscriptions', headers: bearer(alex) });
    assert.deepEqual((list.json() as { value: { id: string }[] }).value.map((v) => v.id), [id]);

    // Deleting it makes room.
    assert.equal((await s.inject({ method: 'DELETE', url: `/v1.0/subscriptions/${id}`, headers: bearer(alex) })).statusCode, 204);
    const again = await create(alex, [ADELE]);
    assert.equal(again.statusCode, 201, again.body);
  });

  it('another user, or the same user with another app, may subscribe to the same users', async () => {
    const megan = await s.userToken(MEGAN);
    assert.equal((await create(megan, [ADELE])).statusCode, 201);
    const meganOtherApp = (await s.inject({
      method: 'POST', url: '/_presently/tokens', payload: { userId: MEGAN, appId: OTHER_APP },
    }).then((r) => r.json() as { access_token: string })).access_token;
    const viaOther = await create(meganOtherApp, [ADELE]);
    assert.equal(viaOther.statusCode, 201, viaOther.body);
    assertGraphError(await create(megan, [ADELE]), 403, 'ExtensionError', /only one presence subscription per application/);
  });

  it('an expired subscription no longer counts', async () => {
    const adele = await s.userToken(ADELE);
    assert.equal((await create(adele, [ALEX])).statusCode, 201);
    assertGraphError(await create(adele, [ALEX]), 403, 'ExtensionError');
    await moveClock(s, { advance: 'PT51M' });
    const later = await create(await s.userToken(ADELE), [ALEX]);
    assert.equal(later.statusCode, 201, later.body);
  });
});

forEachBackend(['sqlite', 'redis'], (backend) => {
  it('a raised limit of 3: three live subscriptions, a fourth is 403 saying so; an expired one makes room', async () => {
    const s = await startInProcess({ store: backend, clock: 'manual', maxSubscriptionsPerUser: 3 }, { manualStart: T0 });
    const rx = await startReceiver();
    try {
      const token = await s.userToken(ALEX);
      const create = (minutes: number) => s.inject({
        method: 'POST', url: '/v1.0/subscriptions', headers: bearer(token), payload: {
          changeType: 'updated', notificationUrl: `${rx.url}/hooks`, resource: `/communications/presences/${ADELE}`,
          expirationDateTime: new Date(s.presently.clock.now() + minutes * MIN).toISOString(),
        },
      });
      for (const minutes of [50, 60, 60]) assert.equal((await create(minutes)).statusCode, 201);
      assertGraphError(await create(60), 403, 'ExtensionError',
        /Reason: A user can create only 3 presence subscriptions per application, and 3 exist\. Renew one with PATCH, or delete one before creating another/);
      await moveClock(s, { advance: 'PT51M' });
      const room = await create(50);
      assert.equal(room.statusCode, 201, room.body);
      assertGraphError(await create(50), 403, 'ExtensionError', /only 3 presence subscriptions/);
    } finally {
      await rx.close();
      await s.close();
    }
  });
});

it('--max-subscriptions-per-user (PRESENTLY_MAX_SUBSCRIPTIONS_PER_USER) raises the limit; the default is 1', () => {
  assert.equal(toConfig({}, {}).maxSubscriptionsPerUser, 1);
  assert.equal(toConfig({}, { PRESENTLY_MAX_SUBSCRIPTIONS_PER_USER: '5' }).maxSubscriptionsPerUser, 5);
  assert.equal(toConfig({ maxSubscriptionsPerUser: '7' }, { PRESENTLY_MAX_SUBSCRIPTIONS_PER_USER: '5' }).maxSubscriptionsPerUser, 7);
});
