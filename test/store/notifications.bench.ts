/**
 * How long does one presence change watched by 1,000 subscriptions take through the store: the fan-out lookup, the
 * dispatch that turns the change into 1,000 queued deliveries, and claiming them in batches of 200? Not part of
 * `npm test`; run it with:
 *   node --import tsx test/store/notifications.bench.ts [users watched by each subscription, default 50; at most 650]
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { newRecord, transition } from '../../src/domain/record.ts';
import { setStatusMessage } from '../../src/domain/statusMessage.ts';
import type { NewDelivery, Subscription } from '../../src/domain/subscription.ts';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite/sqliteStore.ts';

const SUBSCRIPTIONS = 1000;
const BATCH = 200;
const WARMUP = 5;
const RUNS = 30;
const WATCHED = Math.min(650, Math.max(1, Number(process.argv[2] ?? 50)));

const tenantId = randomUUID();
const userId = randomUUID();
const start = Date.UTC(2026, 10, 28, 8);

function subscription(i: number): Subscription {
  // Each watches the user among others, like a client watching a team.
  const userIds = [userId, ...Array.from({ length: WATCHED - 1 }, () => randomUUID())];
  return {
    id: randomUUID(), tenantId, applicationId: randomUUID(), creatorId: randomUUID(), changeType: 'updated',
    resource: `/communications/presences?$filter=id in (${userIds.map((id) => `'${id}'`).join(',')})`, userIds,
    notificationUrl: `https://app${i}.example/hooks/presence`, lifecycleNotificationUrl: null, expiresAt: start + 3_600_000,
    clientState: 'secretClientValue', includeResourceData: false, encryptionCertificate: null, encryptionCertificateId: null,
    latestSupportedTlsVersion: 'v1_2', reauthorizationNotifiedAt: null, createdAt: start,
  };
}

const ms = (from: bigint) => Number(process.hrtime.bigint() - from) / 1e6;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

interface Timings { lookup: number; dispatch: number; claim: number; complete: number; total: number }

async function run(store: SqliteStore, n: number): Promise<Timings> {
  const now = start + n * 1000;
  await store.updatePresence(tenantId, userId, (r) => {
    const message = { content: `change ${n}`, contentType: 'text' as const, expiry: null, expiresAt: null };
    return transition(r, setStatusMessage(r.facts, { kind: 'set', message }, now), now);
  });

  let t = process.hrtime.bigint();
  const [event] = await store.readChanges(100);
  const subs = await store.subscriptionsForUser(event!.tenantId, event!.userId);
  const lookup = ms(t);
  const deliveries: NewDelivery[] = subs.map((s) => ({
    subscriptionId: s.id, tenantId: s.tenantId, kind: 'change', url: s.notificationUrl, resourceView: null, userId,
    item: {
      subscriptionId: s.id, subscriptionExpirationDateTime: new Date(s.expiresAt).toISOString(), changeType: 'updated',
      resource: `communications/presences/${userId}`,
      resourceData: { '@odata.id': `users/${userId}/presence`, '@odata.type': '#microsoft.graph.presence', id: userId, sequenceNumber: event!.sequenceNumber },
      clientState: s.clientState, tenantId,
    },
    attempt: 0, nextAttemptAt: now, createdAt: now,
  }));

  t = process.hrtime.bigint();
  if (!await store.dispatchChanges([event!.id], deliveries)) throw new Error('dispatch lost');
  const dispatch = ms(t);

  t = process.hrtime.bigint();
  const claimed: string[] = [];
  for (let b = 0; b < SUBSCRIPTIONS / BATCH; b++) for (const d of await store.claimDeliveries(now, BATCH, 30_000)) claimed.push(d.id);
  const claim = ms(t);
  if (claimed.length !== SUBSCRIPTIONS) throw new Error(`claimed ${claimed.length}`);

  t = process.hrtime.bigint();
  await store.completeDeliveries(claimed);
  const complete = ms(t);
  return { lookup, dispatch, claim, complete, total: lookup + dispatch + claim };
}

for (const where of ['file', ':memory:'] as const) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'presently-bench-'));
  const store = openSqliteStore({ path: where === 'file' ? path.join(dir, 'presently.db') : ':memory:' });
  try {
    await store.putUser({ tenantId, id: userId, displayName: 'Adele', userPrincipalName: `adele-${where}@contoso.example` }, newRecord(start));
    for (let i = 0; i < SUBSCRIPTIONS; i++) await store.putSubscription(subscription(i));
    for (let i = 0; i < WARMUP; i++) await run(store, i);
    const results: Timings[] = [];
    for (let i = 0; i < RUNS; i++) results.push(await run(store, WARMUP + i));
    const keys = ['lookup', 'dispatch', 'claim', 'total', 'complete'] as const;
    console.log(`sqlite ${where}, 1 change -> ${SUBSCRIPTIONS} deliveries (subscriptions of ${WATCHED} users), claimed ${BATCH} at a time (median of ${RUNS}):`);
    console.log(`  ${keys.map((k) => `${k} ${median(results.map((r) => r[k])).toFixed(2)} ms`).join(' | ')}`);
  } finally {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
