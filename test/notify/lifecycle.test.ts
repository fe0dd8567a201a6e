/**
 * Subscription lifecycle (docs/notifications/lifecycle.md) with the manual clock and real local receivers: expiry deletes,
 * reauthorizationRequired 10 minutes before expiry (once per lifetime), and when the creator's access is revoked
 * (user deleted, app access withdrawn through the admin API).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { formatUtc } from '../../src/domain/timezones.ts';
import type { Subscription } from '../../src/domain/subscription.ts';
import { ADELE, ALEX, APP, MEGAN, TENANT, startInProcess, type TestServer } from '../kit/server.ts';
import { message, moveClock, setStatusOk } from '../kit/graph.ts';
import { forEachBackend } from '../kit/backends.ts';
import { startReceiver, type Receiver } from '../kit/receiver.ts';
import { sleep } from '../kit/time.ts';

forEachBackend(['sqlite', 'redis'], (backend) => {
  const START = Date.parse('2026-11-28T08:00:00Z');
  const MIN = 60_000;
  const OTHER_APP = '0f6d6a1e-2a4b-4c3d-9e8f-1a2b3c4d5e6f';

  const cleanups: (() => Promise<void>)[] = [];
  after(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => {});
  });

  async function receiver(): Promise<Receiver> {
    const rx = await startReceiver({ path: '/hooks' });
    cleanups.push(rx.close);
    return rx;
  }

  async function server(): Promise<TestServer> {
    const s = await startInProcess({ store: backend, clock: 'manual' }, { manualStart: START });
    cleanups.push(() => s.close());
    return s;
  }

  async function subscribe(s: TestServer, over: Partial<Subscription> & { notificationUrl: string }): Promise<Subscription> {
    const sub: Subscription = {
      id: randomUUID(), tenantId: TENANT, applicationId: APP, creatorId: ALEX, changeType: 'updated',
      resource: `/communications/presences/${ADELE}`, userIds: [ADELE], lifecycleNotificationUrl: null,
      expiresAt: START + 50 * MIN, clientState: 'secretClientValue', includeResourceData: false,
      encryptionCertificate: null, encryptionCertificateId: null, latestSupportedTlsVersion: 'v1_2',
      reauthorizationNotifiedAt: null, createdAt: START, ...over,
    };
    await s.presently.store.putSubscription(sub);
    // Created outside the API: tell the lifecycle loop (the subscriptions routes do it on create and PATCH).
    s.presently.notifications.lifecycle.wake();
    return sub;
  }

  const lifecycleBody = (sub: Subscription) => ({
    value: [{
      subscriptionId: sub.id,
      subscriptionExpirationDateTime: formatUtc(sub.expiresAt),
      tenantId: TENANT,
      clientState: sub.clientState,
      lifecycleEvent: 'reauthorizationRequired',
    }],
  });

  describe('lifecycle: expiry', () => {
    it('reauthorizationRequired goes to lifecycleNotificationUrl 10 minutes before expiry, once; then the subscription expires', async () => {
      const changes = await receiver();
      const life = await receiver();
      const s = await server();
      const sub = await subscribe(s, { notificationUrl: changes.url, lifecycleNotificationUrl: life.url });
      await moveClock(s, { advance: 'PT39M59S' });
      assert.equal(life.bodies().length, 0);
      await moveClock(s, { advance: 'PT1S' });
      assert.deepEqual(life.bodies(), [lifecycleBody(sub)], 'sent before the clock call returned');
      assert.equal((await s.presently.store.getSubscription(sub.id))?.reauthorizationNotifiedAt, START + 40 * MIN);
      const log = s.presently.notifications.log.entries({ subscriptionId: sub.id });
      assert.deepEqual(log.map((e) => [e.kind, e.url, e.outcome]), [['lifecycle', life.url, 'delivered']]);
      await moveClock(s, { advance: 'PT5M' });
      assert.equal(life.bodies().length, 1, 'once per lifetime');
      // Still delivering until it expires.
      await setStatusOk(s, ADELE, await s.userToken(ADELE), message('still here'));
      await changes.waitFor(() => changes.posts.length >= 1, 1000, '1 POST(s)');
      await moveClock(s, { advance: 'PT5M' });
      assert.equal(await s.presently.store.getSubscription(sub.id), null, 'expired: deleted');
      await setStatusOk(s, ADELE, await s.userToken(ADELE), message('gone'));
      await moveClock(s, { advance: 'PT1S' });
      await sleep(100);
      assert.equal(changes.bodies().length, 1);
      assert.equal(life.bodies().length, 1);
      assert.equal(s.presently.notifications.lifecycle.expired, 1);
    });

    it('without a lifecycleNotificationUrl nothing is sent; it still expires', async () => {
      const changes = await receiver();
      const s = await server();
      const sub = await subscribe(s, { notificationUrl: changes.url });
      await moveClock(s, { advance: 'PT45M' });
      assert.equal(changes.bodies().length, 0);
      assert.equal((await s.presently.store.getSubscription(sub.id))?.reauthorizationNotifiedAt, null);
      await moveClock(s, { advance: 'PT5M' });
      assert.equal(await s.presently.store.getSubscription(sub.id), null);
    });

    it('a renewal starts a new lifetime (a new notice before the new expiry); a reauthorize alone does not', async () => {
      const changes = await receiver();
      const life = await receiver();
      const s = await server();
      const sub = await subscribe(s, { notificationUrl: changes.url, lifecycleNotificationUrl: life.url });
      await moveClock(s, { advance: 'PT41M' });
      assert.equal(life.bodies().length, 1);
      // Reauthorize: the mark is cleared, the expiry stays.
      const marked = (await s.presently.store.getSubscription(sub.id))!;
      await s.presently.store.putSubscription({ ...marked, reauthorizationNotifiedAt: null });
      s.presently.notifications.lifecycle.wake();
      await moveClock(s, { advance: 'PT1M' });
      assert.equal(life.bodies().length, 1, 'no second notice for the same expiry');
      // Renew to 08:42 + 45 minutes = 09:27.
      const renewed = { ...(await s.presently.store.getSubscription(sub.id))!, expiresAt: START + 87 * MIN, reauthorizationNotifiedAt: null };
      await s.presently.store.putSubscription(renewed);
      s.presently.notifications.lifecycle.wake();
      await moveClock(s, { advance: 'PT34M' }); // 09:16
      assert.equal(life.bodies().length, 1);
      await moveClock(s, { advance: 'PT1M' }); // 09:17 = 09:27 - 10 minutes
      assert.equal(life.bodies().length, 2);
      assert.deepEqual(life.bodies()[1], lifecycleBody(renewed));
    });
  });

  describe('lifecycle: access revoked', () => {
    it("deleting the creating user sends reauthorizationRequired for the user's subscriptions and ends them", async () => {
      const changes = await receiver();
      const life = await receiver();
      const s = await server();
      const byAlex = await subscribe(s, { notificationUrl: changes.url, lifecycleNotificationUrl: life.url, creatorId: ALEX });
      const byAlexQuiet = await subscribe(s, { notificationUrl: changes.url, creatorId: ALEX });
      const byMegan = await subscribe(s, { notificationUrl: changes.url, lifecycleNotificationUrl: life.url, creatorId: MEGAN });
      const res = await s.inject({ method: 'DELETE', url: `/_presently/tenants/${TENANT}/users/${ALEX}` });
      assert.equal(res.statusCode, 204, res.body);
      await life.waitFor(() => life.posts.length >= 1, 1000, '1 POST(s)');
      assert.deepEqual(life.bodies(), [lifecycleBody(byAlex)]);
      assert.equal(await s.presently.store.getSubscription(byAlex.id), null);
      assert.equal(await s.presently.store.getSubscription(byAlexQuiet.id), null);
      assert.ok(await s.presently.store.getSubscription(byMegan.id));
      // Only Megan's subscription is notified of Adele's next change.
      await setStatusOk(s, ADELE, await s.userToken(ADELE), message('after'));
      await changes.waitFor(() => changes.posts.length >= 1, 1000, '1 POST(s)');
      await sleep(100);
      assert.deepEqual(changes.bodies().flatMap((b) => b.value.map((i) => i.subscriptionId)), [byMegan.id]);
    });

    it("withdrawing an app's access (admin API) notifies and ends that app's subscriptions in the tenant only", async () => {
      const changes = await receiver();
      const life = await receiver();
      const s = await server();
      const mine = await subscribe(s, { notificationUrl: changes.url, lifecycleNotificationUrl: life.url });
      const mine2 = await subscribe(s, { notificationUrl: changes.url, lifecycleNotificationUrl: life.url, creatorId: MEGAN });
      const other = await subscribe(s, { notificationUrl: changes.url, lifecycleNotificationUrl: life.url, applicationId: OTHER_APP });
      const res = await s.inject({ method: 'DELETE', url: `/_presently/tenants/${TENANT}/apps/${APP}/access` });
      assert.equal(res.statusCode, 204, res.body);
      await life.waitFor(() => life.posts.length >= 1, 1000, '1 POST(s)');
      await sleep(100);
      const items = life.bodies().flatMap((b) => b.value);
      assert.equal(items.length, 2);
      assert.deepEqual(new Set(items.map((i) => i.subscriptionId)), new Set([mine.id, mine2.id]));
      assert.ok(items.every((i) => i.lifecycleEvent === 'reauthorizationRequired'));
      assert.equal(await s.presently.store.getSubscription(mine.id), null);
      assert.equal(await s.presently.store.getSubscription(mine2.id), null);
      assert.ok(await s.presently.store.getSubscription(other.id));
      const bad = await s.inject({ method: 'DELETE', url: `/_presently/tenants/${TENANT}/apps/not-a-guid/access` });
      assert.equal(bad.statusCode, 400);
    });
  });
});
