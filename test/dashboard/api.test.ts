/**
 * The dashboard's data API (docs/operations/dashboard.md), through fastify.inject: who may read it, the board after
 * a change made through the Graph API, the timeline's causes (an API call and which app made it; timed expiries moved
 * by the manual clock), and the notifications view filtered by subscription and by user.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Config } from '../../src/config/config.ts';
import type { UserCard } from '../../src/dashboard/cards.ts';
import type { TimelineEntry } from '../../src/dashboard/timeline.ts';
import type { DeliveryLogEntry } from '../../src/notifications/deliveryLog.ts';
import { ADELE, ALEX, APP, MEGAN, TENANT, startInProcess, type TestServer } from '../kit/server.ts';
import { assertGraphError, bearer, message, moveClock, postJson, setStatusOk } from '../kit/graph.ts';
import { startReceiver, type Receiver } from '../kit/receiver.ts';
import { eventually } from '../kit/time.ts';

const START = Date.parse('2026-11-28T08:00:00Z');
const ADMIN_KEY = 'dashboard-admin-key-0123456789abcdef';
const OIDC_NOWHERE: Partial<Config> = { auth: 'oidc', issuers: ['http://127.0.0.1:1/tenant'] };
const DATA = ['/_presently/ui/api/board', `/_presently/ui/api/timeline?user=${ADELE}`, '/_presently/ui/api/notifications', '/_presently/ui/api/stream'];

interface Board { tenantId: string; now: string; cursor: number; users: UserCard[] }

async function board(s: TestServer): Promise<Board> {
  const res = await s.inject({ method: 'GET', url: `/_presently/ui/api/board?tenant=${TENANT}` });
  assert.equal(res.statusCode, 200, res.body);
  return res.json() as Board;
}

async function timeline(s: TestServer, userId: string): Promise<TimelineEntry[]> {
  const res = await s.inject({ method: 'GET', url: `/_presently/ui/api/timeline?tenant=${TENANT}&user=${userId}` });
  assert.equal(res.statusCode, 200, res.body);
  return (res.json() as { value: TimelineEntry[] }).value;
}

describe('dashboard access', () => {
  describe('dev mode: everything open', () => {
    let s: TestServer;
    before(async () => { s = await startInProcess({ clock: 'manual' }, { manualStart: START }); });
    after(() => s?.close());

    it('the data endpoints answer without any key', async () => {
      for (const url of DATA.slice(0, 3)) assert.equal((await s.inject({ method: 'GET', url })).statusCode, 200, url);
    });

    it('the session says no key is needed, and lists the tenants and the clock', async () => {
      const res = await s.inject({ method: 'GET', url: '/_presently/ui/api/session' });
      assert.equal(res.statusCode, 200);
      const body = res.json() as Record<string, unknown>;
      assert.equal(body.authMode, 'dev');
      assert.equal(body.needsKey, false);
      assert.equal(body.defaultTenantId, TENANT);
      assert.deepEqual(body.tenants, [{ id: TENANT, displayName: 'Contoso' }]);
      assert.deepEqual(body.clock, { mode: 'manual', now: '2026-11-28T08:00:00.0000000Z' });
      assert.equal(typeof body.version, 'string');
    });

    it('an unknown tenant is a 404; a missing or unknown user of the timeline a 400 or 404', async () => {
      assertGraphError(await s.inject({ method: 'GET', url: '/_presently/ui/api/board?tenant=nope' }), 404, 'ResourceNotFound');
      assertGraphError(await s.inject({ method: 'GET', url: '/_presently/ui/api/timeline' }), 400, 'BadRequest');
      assertGraphError(await s.inject({ method: 'GET', url: '/_presently/ui/api/timeline?user=00000000-0000-4000-8000-000000000000' }), 404, 'ResourceNotFound');
    });
  });

  describe('oidc mode with an admin key', () => {
    let s: TestServer;
    before(async () => { s = await startInProcess({ ...OIDC_NOWHERE, adminKey: ADMIN_KEY }); });
    after(() => s?.close());

    it('every data endpoint is a 401 without the key and with a wrong one', async () => {
      for (const url of DATA) {
        assertGraphError(await s.inject({ method: 'GET', url }), 401, 'InvalidAuthenticationToken');
        assertGraphError(await s.inject({ method: 'GET', url, headers: bearer('not-the-key') }), 401, 'InvalidAuthenticationToken');
      }
    });

    it('and 200 with it', async () => {
      for (const url of DATA.slice(0, 3)) {
        const res = await s.inject({ method: 'GET', url, headers: bearer(ADMIN_KEY) });
        assert.equal(res.statusCode, 200, `${url}: ${res.body}`);
      }
    });

    it('the session is open: it says a key is needed, and shows tenants and clock only to a caller with the key', async () => {
      const anonymous = (await s.inject({ method: 'GET', url: '/_presently/ui/api/session' })).json() as Record<string, unknown>;
      assert.equal(anonymous.authMode, 'oidc');
      assert.equal(anonymous.needsKey, true);
      assert.deepEqual(anonymous.tenants, []);
      assert.equal(anonymous.clock, null);
      const admin = (await s.inject({ method: 'GET', url: '/_presently/ui/api/session', headers: bearer(ADMIN_KEY) })).json() as Record<string, unknown>;
      assert.equal((admin.tenants as unknown[]).length, 1);
      assert.deepEqual(Object.keys(admin.clock as object).sort(), ['mode', 'now']);
    });

    it('the static files are open (they hold no data)', async () => {
      for (const url of ['/_presently/ui', '/_presently/ui/', '/_presently/ui/assets/app.js']) {
        const res = await s.inject({ method: 'GET', url });
        assert.notEqual(res.statusCode, 401, url);
        assert.ok(!res.headers['www-authenticate'], url);
      }
    });
  });
});

describe('dashboard data', () => {
  let s: TestServer;
  let receiver: Receiver;
  before(async () => {
    s = await startInProcess({ clock: 'manual', maxSubscriptionsPerUser: 5 }, { manualStart: START });
    // The first POST of each subscription's notifications fails once: its entry says when it is tried again.
    receiver = await startReceiver({ answer: (n) => (n === 0 ? 500 : 202) });
  });
  after(async () => {
    await s?.close();
    await receiver?.close();
  });

  it('the board shows a status message set through the Graph API, with its expiry as an instant', async () => {
    const before = await board(s);
    await setStatusOk(s, ADELE, await s.userToken(ADELE), message('On the board', { dateTime: '2026-11-28T10:00:00', timeZone: 'W. Europe Standard Time' }));
    const after = await board(s);
    assert.equal(after.tenantId, TENANT);
    assert.equal(after.now, '2026-11-28T08:00:00.0000000Z');
    assert.ok(after.cursor > before.cursor, 'the change moved the stream position');
    assert.deepEqual(after.users.map((u) => u.displayName), [...after.users.map((u) => u.displayName)].sort());
    const adele = after.users.find((u) => u.id === ADELE)!;
    assert.equal(adele.userPrincipalName, 'AdeleV@contoso.example');
    assert.equal(adele.presence.statusMessage?.message.content, 'On the board');
    assert.deepEqual(adele.presence.statusMessage?.expiryDateTime, { dateTime: '2026-11-28T10:00:00.0000000', timeZone: 'W. Europe Standard Time' });
    assert.equal(adele.statusMessageExpiresAt, '2026-11-28T09:00:00.0000000Z');
  });

  it('the timeline names the API action and the app and user that called it', async () => {
    const [latest] = await timeline(s, ADELE);
    assert.deepEqual(latest!.cause, { kind: 'api', action: 'setStatusMessage', appId: APP, userId: ADELE });
    assert.deepEqual(latest!.changed, ['statusMessage']);
    assert.equal(latest!.statusMessage, 'On the board');
    assert.equal(latest!.at, '2026-11-28T08:00:00.0000000Z');
    assert.match(latest!.sequenceNumber!, /^C\d{20}$/);
  });

  it('timed expiries moved by the manual clock: status message, session and preferred presence, each named', async () => {
    const token = await s.appToken();
    const ok = async (action: string, body: unknown) => {
      const res = await postJson(s, `/v1.0/users/${MEGAN}/presence/${action}`, token, body);
      assert.equal(res.statusCode, 200, `${action}: ${res.body}`);
    };
    await ok('setStatusMessage', message('Brb', { dateTime: '2026-11-28T08:30:00', timeZone: 'UTC' }));
    await ok('setPresence', { sessionId: APP, availability: 'Busy', activity: 'InACall', expirationDuration: 'PT4H' });
    await ok('setUserPreferredPresence', { availability: 'DoNotDisturb', activity: 'DoNotDisturb', expirationDuration: 'PT1H' });
    const written = await timeline(s, MEGAN);
    assert.deepEqual(written.slice(0, 3).map((e) => e.cause), ['setUserPreferredPresence', 'setPresence', 'setStatusMessage'].map((action) => ({
      kind: 'api', action, appId: APP, userId: null,
    })));
    const reasons = async (advance: string) => {
      await moveClock(s, { advance });
      const [entry] = await timeline(s, MEGAN);
      assert.equal(entry!.cause.kind, 'timed');
      return entry!;
    };
    const expired = await reasons('PT31M');
    assert.deepEqual(expired.cause, { kind: 'timed', reasons: ['statusMessageExpired'] });
    assert.equal(expired.statusMessage, null);
    assert.deepEqual(expired.changed, ['statusMessage']);
    const preferred = await reasons('PT30M');
    assert.deepEqual(preferred.cause, { kind: 'timed', reasons: ['preferredExpired'] });
    assert.deepEqual([preferred.availability, preferred.activity, preferred.changed], ['Busy', 'InACall', ['availability', 'activity']]);
    const session = await reasons('PT3H');
    assert.deepEqual(session.cause, { kind: 'timed', reasons: ['sessionExpired'] });
    assert.deepEqual([session.availability, session.activity], ['Offline', 'Offline']);
  });

  it('notifications: subscriptions with their state, deliveries filtered by subscription and by user', async () => {
    const now = Date.parse((await moveClock(s, { advance: 'PT0S' })).now);
    const subscribe = async (creator: string, watched: string) => {
      const res = await postJson(s, '/v1.0/subscriptions', await s.userToken(creator), {
        changeType: 'updated', notificationUrl: receiver.url, resource: `/communications/presences/${watched}`,
        expirationDateTime: new Date(now + 50 * 60_000).toISOString(),
      });
      assert.equal(res.statusCode, 201, res.body);
      return (res.json() as { id: string }).id;
    };
    const watchAlex = await subscribe(ADELE, ALEX);
    const watchAdele = await subscribe(ALEX, ADELE);
    await setStatusOk(s, ALEX, await s.userToken(ALEX), message('Alex changed'));
    await setStatusOk(s, ADELE, await s.userToken(ADELE), message('Adele changed'));
    // Sent (and the first POST refused), then tried again a minute later.
    await moveClock(s, { advance: 'PT0S' });
    await moveClock(s, { advance: 'PT1M' });
    const read = async (query: string) => {
      const res = await s.inject({ method: 'GET', url: `/_presently/ui/api/notifications?tenant=${TENANT}${query}` });
      assert.equal(res.statusCode, 200, res.body);
      return res.json() as { subscriptions: Array<{ id: string; state: string; userIds: string[]; userCount: number; appId: string }>; deliveries: DeliveryLogEntry[] };
    };
    const all = await eventually(() => read(''), (v) => v.deliveries.some((d) => d.outcome === 'delivered'), 5000, 'a delivery after the retry');
    assert.deepEqual(all.subscriptions.map((x) => x.id).sort(), [watchAlex, watchAdele].sort());
    assert.ok(all.subscriptions.every((x) => x.state === 'active' && x.userCount === 1 && x.appId === APP));
    const failed = all.deliveries.find((d) => d.outcome === 'retry')!;
    assert.ok(failed, JSON.stringify(all.deliveries));
    assert.equal(failed.status, 500);
    assert.ok(failed.nextAttemptAt !== null && Date.parse(failed.nextAttemptAt) > now, failed.nextAttemptAt ?? 'null');

    const alexOnly = await read(`&user=${ALEX}`);
    assert.deepEqual(alexOnly.subscriptions.map((x) => x.id), [watchAlex]);
    assert.ok(alexOnly.deliveries.length > 0 && alexOnly.deliveries.every((d) => d.userIds.includes(ALEX) && d.subscriptionIds.includes(watchAlex)));
    const bySubscription = await read(`&subscription=${watchAdele}`);
    assert.deepEqual(bySubscription.subscriptions.map((x) => x.id), [watchAdele]);
    assert.ok(bySubscription.deliveries.length > 0 && bySubscription.deliveries.every((d) => d.subscriptionIds.includes(watchAdele) && d.userIds.includes(ADELE)));
    assert.deepEqual(all.deliveries.map((d) => d.time), [...all.deliveries.map((d) => d.time)].sort().reverse(), 'newest first');
  });
});
