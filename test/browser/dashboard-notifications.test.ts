/**
 * The dashboard's notifications view in Chromium (issue 12): a subscription made through the Graph API is listed
 * with its resource, expiry and state; a delivery to a failing receiver shows each retry (attempt, status, outcome,
 * next retry) as the page's own clock control moves time; the built-in sink's contents; the filters by subscription
 * and user.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { bearer, message, setStatusOk } from '../kit/graph.ts';
import { startReceiver, type Receiver } from '../kit/receiver.ts';
import { ADELE, ALEX, MEGAN } from '../kit/server.ts';
import { START, expectText, live, startDashboard, textOf, type DashboardRig } from '../kit/dashboard.ts';
import { until } from '../kit/time.ts';

const LEE = '5f7c2a10-3b9e-4d1a-8e2f-6a4b9c1d2e30';

describe('dashboard in Chromium: notifications', () => {
  let rig: DashboardRig;
  let failing: Receiver;
  let subscriptionId: string;
  before(async () => {
    rig = await startDashboard();
    failing = await startReceiver({ path: '/hooks', answer: () => 500 });
  });
  after(async () => {
    assert.deepEqual(rig?.errors ?? [], [], 'the pages threw no error');
    await failing?.close();
    await rig?.close();
  });

  /** `creator` subscribes to `userId`'s presence (delegated: Graph has no application permission for it). */
  async function subscribe(creator: string, userId: string, notificationUrl: string): Promise<string> {
    const res = await fetch(`${rig.origin}/v1.0/subscriptions`, {
      method: 'POST',
      headers: { ...bearer(await rig.server.userToken(creator)), 'content-type': 'application/json' },
      body: JSON.stringify({
        changeType: 'updated', notificationUrl, resource: `/communications/presences/${userId}`,
        expirationDateTime: new Date(START + 50 * 60_000).toISOString(),
      }),
    });
    assert.equal(res.status, 201, await res.clone().text());
    return (await res.json() as { id: string }).id;
  }

  it('lists a subscription with its resource, endpoint, expiry and state', async () => {
    subscriptionId = await subscribe(MEGAN, ADELE, failing.url);
    const page = await rig.open('/notifications');
    const table = page.getByRole('region', { name: 'Subscriptions table' });
    await expectText(table, new RegExp(`/communications/presences/${ADELE}[\\s\\S]*${failing.url.replace(/[.]/g, '\\.')}`));
    await expectText(table, /Adele Vance[\s\S]*updated[\s\S]*in (4\d|50) min[\s\S]*active/);
  });

  it('names the users of a subscription even when the board arrives after the subscriptions', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => { release = resolve; });
    const page = await rig.open('/notifications', {}, (p) => p.route('**/_presently/ui/api/board?*', async (route) => {
      await held;
      await route.continue();
    }));
    const table = page.getByRole('region', { name: 'Subscriptions table' });
    await expectText(table, new RegExp(`/communications/presences/${ADELE}[\\s\\S]*${ADELE.slice(0, 4)}…`));
    release();
    await expectText(table, /Adele Vance[\s\S]*updated/);
  });

  it('a delivery to a failing receiver shows its retries as the page moves the clock', async () => {
    const page = await rig.open('/notifications');
    await live(page);
    await setStatusOk(rig.server, ADELE, await rig.server.userToken(ADELE), message('Notify me'));
    await until(() => failing.posts.length >= 1, 10_000, 'the first POST reached the receiver');
    const rows = page.getByRole('region', { name: 'Deliveries table' }).getByRole('row');
    await expectText(rows.nth(1), /hooks[\s\S]*\b1\b[\s\S]*500[\s\S]*retry[\s\S]*in (< 1|\d+) s[\s\S]*HTTP 500/);

    for (const attempt of [2, 3]) {
      await page.getByRole('button', { name: 'Move the clock forward 5 min' }).click();
      await until(() => failing.posts.length >= attempt, 10_000, `attempt ${attempt} reached the receiver`);
      await expectText(rows.nth(1), new RegExp(`hooks[\\s\\S]*\\b${attempt}\\b[\\s\\S]*500[\\s\\S]*retry`));
    }
    const table = await textOf(page.getByRole('region', { name: 'Deliveries table' }));
    assert.equal((table.match(/HTTP 500/g) ?? []).length, 3, `three failed attempts listed:\n${table}`);
    await expectText(page.getByLabel('Delivery totals'), /0 delivered[\s\S]*3 to retry/);
  });

  it('shows what the built-in sink received', async () => {
    await subscribe(LEE, ALEX, `${rig.origin}/_presently/sink/dashboard`);
    await setStatusOk(rig.server, ALEX, await rig.server.userToken(ALEX), message('Into the sink'));
    const page = await rig.open('/notifications');
    const sink = page.getByRole('region', { name: 'Sink dashboard' });
    await expectText(sink, /\/_presently\/sink\/dashboard[\s\S]*1 received[\s\S]*updated communications\/presences/);
  });

  it('filters by subscription and by user, keeping the filter in the address', async () => {
    const page = await rig.open(`/notifications?subscription=${subscriptionId}`);
    const deliveries = page.getByRole('region', { name: 'Deliveries table' });
    await expectText(deliveries, /hooks/);
    assert.doesNotMatch(await textOf(deliveries), /sink\/dashboard/);
    await page.getByLabel('User').selectOption(MEGAN);
    await page.waitForURL(new RegExp(`user=${MEGAN}`));
    await expectText(page.locator('.notifications'), /No delivery yet/);
    await page.getByLabel('Subscription').selectOption('');
    await page.getByLabel('User').selectOption(ALEX);
    await expectText(page.getByRole('region', { name: 'Deliveries table' }), /sink\/dashboard/);
  });
});
