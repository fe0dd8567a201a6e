/**
 * How long creating a subscription that watches 650 users takes as subscriptions accumulate: POST /subscriptions
 * through the whole server (handshake to a real receiver, the lifecycle's wake included), timed per 100.
 *
 *   node --import tsx bench/subscription-create.ts [--store sqlite|redis] [--count 800] [--users 650]
 *
 * Prints one line per 100 creates and the total; a cost that does not grow with the number of subscriptions shows
 * as flat lines.
 */
import { parseArgs } from 'node:util';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { startReceiver } from '../test/kit/receiver.ts';
import { ADELE, TENANT, startInProcess, tempDir } from '../test/kit/server.ts';

const { values } = parseArgs({
  options: { store: { type: 'string', default: 'sqlite' }, count: { type: 'string', default: '800' }, users: { type: 'string', default: '650' } },
});
const store = values.store as 'sqlite' | 'redis';
const count = Number(values.count);
const userCount = Number(values.users);

const s = await startInProcess({
  store, dataDir: tempDir(), clock: 'manual', maxSubscriptionsPerUser: 1_000_000, maxSubscriptionsPerApp: 1_000_000, maxSubscriptionsPerTenant: 1_000_000,
} as never, { manualStart: Date.parse('2026-11-28T08:00:00Z') });
const rx = await startReceiver();
try {
  const ids: string[] = [];
  for (let i = 0; i < userCount; i++) {
    const res = await s.inject({
      method: 'POST', url: `/_presently/tenants/${TENANT}/users`,
      payload: { id: randomUUID(), displayName: `Bench ${i}`, userPrincipalName: `bench${i}.${randomUUID().slice(0, 8)}@bench.test` },
    });
    if (res.statusCode !== 201) throw new Error(`user: ${res.statusCode} ${res.body}`);
    ids.push((res.json() as { id: string }).id);
  }
  const token = await s.userToken(ADELE);
  const body = JSON.stringify({
    changeType: 'updated',
    notificationUrl: `${rx.url}/hooks/bench`,
    resource: `/communications/presences?$filter=id in (${ids.map((id) => `'${id}'`).join(',')})`,
    expirationDateTime: new Date(Date.parse('2026-11-28T08:00:00Z') + 55 * 60_000).toISOString(),
  });
  const started = performance.now();
  let lap = started;
  for (let i = 1; i <= count; i++) {
    const res = await s.inject({
      method: 'POST', url: '/v1.0/subscriptions', payload: body,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    });
    if (res.statusCode !== 201) throw new Error(`create ${i}: ${res.statusCode} ${res.body}`);
    if (i % 100 === 0) {
      const now = performance.now();
      console.log(`${store} subscriptions ${i - 99}-${i}: ${((now - lap) / 1000).toFixed(2)} s`);
      lap = now;
    }
  }
  console.log(`${store} total for ${count} × ${userCount} users: ${((performance.now() - started) / 1000).toFixed(1)} s`);
} finally {
  await rx.close();
  await s.close();
}
