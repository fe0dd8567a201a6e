/**
 * The one behavioural contract of a Store, run against every backend (sqlite file, sqlite :memory:, later Redis).
 * Only the Store interface is used here, so a new backend passes by behaving the same, not by sharing code.
 *
 * Usage, in a backend's *.test.ts:
 *   storeContract('sqlite', () => openMyStore(freshPlace()), (closed) => openMyStore(placeOf(closed)));
 * `open` must return a new, empty store each time; `reopen`, when the backend persists, opens the data of a store
 * that has just been closed.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { newRecord, parseSequence, transition, type Transition } from '../../src/domain/record.ts';
import { setStatusMessage } from '../../src/domain/statusMessage.ts';
import { emptyFacts, type PresenceFacts, type PresenceRecord } from '../../src/domain/types.ts';
import type { ChangeEvent, Delivery, NewDelivery, Subscription } from '../../src/domain/subscription.ts';
import { UpnTaken } from '../../src/store/errors.ts';
import type { PresenceKey, PresenceSnapshot, Store, User } from '../../src/store/types.ts';

const T1 = '2b5f4ac6-0f43-4b31-8a3c-2d8b8e4f5c01';
const T2 = '7d1e0c9a-5b7f-4e2b-9a61-3f0b6c2d8e42';
const APP = '22553876-f5ab-4529-bffb-cfe50aa89f87';
const NOW = Date.UTC(2026, 10, 28, 8, 0, 0);
const MIN = 60_000;
const HOUR = 60 * MIN;

/** A lower-case GUID-shaped user id, distinct for each n. */
function uid(n: number): string {
  return `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
}

function user(n: number, tenantId = T1): User {
  return { tenantId, id: uid(n), displayName: `User ${n}`, userPrincipalName: `User${n}@Contoso.example` };
}

/** Graph's local dateTime for a UTC instant: `2026-11-28T09:00:00.0000000`. */
function utcDateTime(at: number): string {
  return `${new Date(at).toISOString().slice(0, 19)}.0000000`;
}

/** setStatusMessage at `now`, through the real domain path; `expiresAt` null means the message never expires. */
function withStatus(record: PresenceRecord, content: string, now: number, expiresAt: number | null): Transition {
  const facts = setStatusMessage(record.facts, {
    kind: 'set',
    message: {
      content,
      contentType: 'text',
      expiry: expiresAt === null ? null : { dateTime: utcDateTime(expiresAt), timeZone: 'UTC' },
      expiresAt,
    },
  }, now);
  return transition(record, facts, now);
}

function clearStatus(record: PresenceRecord, now: number): Transition {
  return transition(record, setStatusMessage(record.facts, { kind: 'clear' }, now), now);
}

/** A record due at `dueAt` (its status message expires then), or never due when `dueAt` is null. */
function recordDueAt(dueAt: number | null): PresenceRecord {
  const { record } = withStatus(newRecord(NOW), 'Back soon', NOW, dueAt);
  assert.equal(record.dueAt, dueAt);
  return record;
}

/** A record using every kind of fact, with text that JSON and string handling can get wrong. */
function richRecord(): PresenceRecord {
  const facts: PresenceFacts = {
    ...emptyFacts(),
    statusMessage: {
      content: 'En réunion 📅 — "quotes", back\\slash <pinnednote></pinnednote>',
      contentType: 'text',
      expiry: { dateTime: '2026-11-28T17:00:00.0000000', timeZone: 'W. Europe Standard Time' },
      expiresAt: NOW + 8 * HOUR,
      publishedAt: NOW - MIN,
    },
    sessions: [
      { sessionId: APP, availability: 'Busy', activity: 'InACall', refreshedAt: NOW - MIN, expiresAt: NOW + HOUR },
      { sessionId: uid(999), availability: 'Available', activity: 'Available', refreshedAt: NOW, expiresAt: NOW + 2 * HOUR },
    ],
    preferred: { availability: 'DoNotDisturb', activity: 'DoNotDisturb', expiresAt: NOW + 3 * HOUR },
    outOfOffice: {
      status: 'scheduled',
      message: 'On leave',
      scheduledStart: { dateTime: '2026-12-01T00:00:00.0000000', timeZone: 'UTC' },
      scheduledEnd: { dateTime: '2026-12-08T00:00:00.0000000', timeZone: 'UTC' },
      startsAt: Date.UTC(2026, 11, 1),
      endsAt: Date.UTC(2026, 11, 8),
    },
    workLocation: { manual: { workLocationType: 'office', placeId: 'building-1' }, automatic: null, scheduled: { workLocationType: 'remote', placeId: null } },
    everActive: true,
  };
  return transition(newRecord(NOW - HOUR), facts, NOW).record;
}

function snapshotOf(record: PresenceRecord): PresenceSnapshot {
  return { view: record.view, sequenceNumber: record.sequenceNumber, dueAt: record.dueAt };
}

function key(u: User): PresenceKey {
  return { tenantId: u.tenantId, userId: u.id };
}

const byId = <T extends { id: string }>(xs: T[]): T[] => [...xs].sort((a, b) => a.id.localeCompare(b.id));
const ids = (xs: readonly { id: string }[]): string[] => xs.map((x) => x.id);

/** A lower-case GUID-shaped subscription id, distinct for each n. */
function sid(n: number): string {
  return `5ab5c000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
}

/** Subscription n, watching `userIds` (uid(1) by default), with every optional part unset. */
function subscription(n: number, userIds: string[] = [uid(1)], over: Partial<Subscription> = {}): Subscription {
  return {
    id: sid(n),
    tenantId: T1,
    applicationId: APP,
    creatorId: uid(500),
    changeType: 'updated',
    resource: userIds.length === 1
      ? `/communications/presences/${userIds[0]}`
      : `/communications/presences?$filter=id in (${userIds.map((id) => `'${id}'`).join(',')})`,
    userIds,
    notificationUrl: `https://app.example/hooks/${n}`,
    lifecycleNotificationUrl: null,
    expiresAt: NOW + HOUR,
    clientState: null,
    includeResourceData: false,
    encryptionCertificate: null,
    encryptionCertificateId: null,
    latestSupportedTlsVersion: 'v1_2',
    reauthorizationNotifiedAt: null,
    createdAt: NOW,
    ...over,
  };
}

/** A subscription with every optional part set, with text that JSON can get wrong. */
function richSubscription(n: number): Subscription {
  return subscription(n, [uid(1), uid(2), uid(3)], {
    lifecycleNotificationUrl: 'https://app.example/hooks/lifecycle?x=1&y="2"',
    clientState: 'sécret — "state" \\ 📅',
    includeResourceData: true,
    encryptionCertificate: 'MIIC+zCCAeOgAwIBAgIJAL/base64==',
    encryptionCertificateId: 'my-cert-1',
    latestSupportedTlsVersion: 'v1_3',
    reauthorizationNotifiedAt: NOW + 50 * MIN,
    createdAt: NOW - MIN,
  });
}

/** A change notification for subscription n about uid(1), due at NOW. */
function delivery(n: number, over: Partial<NewDelivery> = {}): NewDelivery {
  return {
    subscriptionId: sid(n),
    tenantId: T1,
    kind: 'change',
    url: `https://app.example/hooks/${n}`,
    item: {
      subscriptionId: sid(n),
      changeType: 'updated',
      resource: `communications/presences/${uid(1)}`,
      resourceData: { '@odata.type': '#microsoft.graph.presence', id: uid(1), sequenceNumber: 'C00000000000000000042' },
      clientState: null,
      tenantId: T1,
    },
    resourceView: null,
    userId: uid(1),
    attempt: 0,
    nextAttemptAt: NOW,
    createdAt: NOW,
    ...over,
  };
}

/** What was enqueued, as a claimed delivery looks without its store-assigned id. */
function withoutId(d: Delivery): NewDelivery {
  const { id: _id, ...rest } = d;
  return rest;
}

export function storeContract<S extends Store>(
  name: string,
  open: () => Promise<S> | S,
  reopen?: (closed: S) => Promise<S> | S,
): void {
  describe(`Store contract: ${name}`, () => {
    let store: S;
    let closed: boolean;

    beforeEach(async () => {
      store = await open();
      closed = false;
    });
    afterEach(async () => {
      if (!closed) await store.close();
    });

    describe('ping and close', () => {
      it('answers ping while open, and not after close', async () => {
        assert.equal(await store.ping(), true);
        await store.close();
        closed = true;
        assert.equal(await store.ping(), false);
      });

      it('starts empty', async () => {
        assert.deepEqual(await store.listTenants(), []);
        assert.deepEqual(await store.listApps(), []);
        assert.deepEqual(await store.listUsers(T1), []);
        assert.equal(await store.nextDueAt(), null);
      });
    });

    describe('meta', () => {
      it('gets null for a key never set, and what was set otherwise', async () => {
        assert.equal(await store.getMeta('seeded'), null);
        await store.setMeta('seeded', 'yes');
        assert.equal(await store.getMeta('seeded'), 'yes');
        await store.setMeta('seeded', 'again');
        assert.equal(await store.getMeta('seeded'), 'again');
        assert.equal(await store.getMeta('other'), null);
      });

      it('stores the empty string as a value, distinct from no value', async () => {
        await store.setMeta('empty', '');
        assert.equal(await store.getMeta('empty'), '');
        assert.equal(await store.setMetaIfAbsent('empty', 'x'), '');
      });

      it('setMetaIfAbsent sets an absent key and returns the new value', async () => {
        assert.equal(await store.setMetaIfAbsent('signing-key', 'k1'), 'k1');
        assert.equal(await store.getMeta('signing-key'), 'k1');
      });

      it('setMetaIfAbsent keeps an existing value and returns it', async () => {
        await store.setMeta('signing-key', 'k1');
        assert.equal(await store.setMetaIfAbsent('signing-key', 'k2'), 'k1');
        assert.equal(await store.getMeta('signing-key'), 'k1');
      });

      it('concurrent setMetaIfAbsent calls agree on one winner', async () => {
        const results = await Promise.all(['a', 'b', 'c', 'd'].map((v) => store.setMetaIfAbsent('race', v)));
        const stored = await store.getMeta('race');
        assert.ok(stored !== null);
        assert.deepEqual(results, [stored, stored, stored, stored]);
      });
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

    describe('presence', () => {
      it('stores and returns every kind of fact exactly', async () => {
        const rich = richRecord();
        await store.putUser(user(1), rich);
        assert.deepEqual(await store.getPresence(T1, uid(1)), rich);
        await store.putUser(user(2), newRecord(NOW));
        await store.updatePresence(T1, uid(2), () => ({ record: rich, changed: true, at: NOW }));
        assert.deepEqual(await store.getPresence(T1, uid(2)), rich);
      });

      it('updatePresence gives fn the current record and commits what fn returns', async () => {
        const initial = newRecord(NOW);
        await store.putUser(user(1), initial);
        let seen: PresenceRecord | undefined;
        const result = await store.updatePresence(T1, uid(1), (r) => {
          seen = r;
          return withStatus(r, 'In a meeting', NOW, NOW + HOUR);
        });
        assert.deepEqual(seen, initial);
        assert.ok(result);
        assert.equal(result.changed, true);
        assert.equal(result.record.facts.statusMessage?.content, 'In a meeting');
        assert.deepEqual(await store.getPresence(T1, uid(1)), result.record);
        assert.ok(result.record.sequenceNumber > initial.sequenceNumber);
      });

      it('updatePresence writes nothing when fn returns null', async () => {
        await store.putUser(user(1), recordDueAt(NOW + MIN));
        const before = await store.getPresence(T1, uid(1));
        assert.equal(await store.updatePresence(T1, uid(1), () => null), null);
        assert.deepEqual(await store.getPresence(T1, uid(1)), before);
        assert.equal(await store.nextDueAt(), NOW + MIN);
      });

      it('updatePresence rejects with the error fn throws, and writes nothing', async () => {
        const initial = newRecord(NOW);
        await store.putUser(user(1), initial);
        const boom = new Error('boom');
        await assert.rejects(store.updatePresence(T1, uid(1), () => {
          throw boom;
        }), (err) => err === boom);
        assert.deepEqual(await store.getPresence(T1, uid(1)), initial);
      });

      it('applies every one of 50 concurrent updates to one user (no lost update)', async () => {
        const initial = newRecord(NOW);
        await store.putUser(user(1), initial);
        const increment = (r: PresenceRecord) => withStatus(r, String(Number(r.facts.statusMessage?.content ?? '0') + 1), NOW, null);
        const results = await Promise.all(Array.from({ length: 50 }, () => store.updatePresence(T1, uid(1), increment)));

        const final = await store.getPresence(T1, uid(1));
        assert.equal(final?.facts.statusMessage?.content, '50');
        // Each update saw a different predecessor: together they committed 1..50, each exactly once.
        const committed = results.map((t) => Number(t?.record.facts.statusMessage?.content)).sort((a, b) => a - b);
        assert.deepEqual(committed, Array.from({ length: 50 }, (_, i) => i + 1));
        // Every update changed the view, so the sequence number moved 50 times.
        assert.equal(parseSequence(final.sequenceNumber), parseSequence(initial.sequenceNumber) + 50);
      });

      it('keeps concurrent updates to different users apart', async () => {
        await store.putUser(user(1), newRecord(NOW));
        await store.putUser(user(2), newRecord(NOW));
        const append = (suffix: string) => (r: PresenceRecord) =>
          withStatus(r, (r.facts.statusMessage?.content ?? '') + suffix, NOW, null);
        await Promise.all(Array.from({ length: 20 }, (_, i) =>
          store.updatePresence(T1, uid(i % 2 === 0 ? 1 : 2), append(i % 2 === 0 ? 'a' : 'b'))));
        assert.equal((await store.getPresence(T1, uid(1)))?.facts.statusMessage?.content, 'a'.repeat(10));
        assert.equal((await store.getPresence(T1, uid(2)))?.facts.statusMessage?.content, 'b'.repeat(10));
      });
    });

    describe('snapshots', () => {
      it('returns the view, sequence number and due instant of existing users only', async () => {
        const records = [recordDueAt(NOW + MIN), recordDueAt(null), richRecord()];
        for (const [i, r] of records.entries()) await store.putUser(user(i + 1), r);
        await store.putUser(user(9, T2), newRecord(NOW));

        const snaps = await store.getSnapshots(T1, [uid(3), uid(404), uid(1), uid(9), uid(2)]);
        assert.deepEqual(snaps, new Map([
          [uid(1), snapshotOf(records[0]!)],
          [uid(2), snapshotOf(records[1]!)],
          [uid(3), snapshotOf(records[2]!)],
        ]));
      });

      it('does not depend on the order of ids, and tolerates duplicates', async () => {
        for (const n of [1, 2, 3]) await store.putUser(user(n), recordDueAt(NOW + n * MIN));
        const ids = [uid(1), uid(2), uid(3), uid(4)];
        const forward = await store.getSnapshots(T1, ids);
        assert.equal(forward.size, 3);
        assert.deepEqual(await store.getSnapshots(T1, [...ids].reverse()), forward);
        assert.deepEqual(await store.getSnapshots(T1, [...ids, ...ids]), forward);
      });

      it('returns an empty map for no ids', async () => {
        await store.putUser(user(1), newRecord(NOW));
        assert.deepEqual(await store.getSnapshots(T1, []), new Map());
      });

      it('reflects the latest committed update', async () => {
        await store.putUser(user(1), newRecord(NOW));
        const t = await store.updatePresence(T1, uid(1), (r) => withStatus(r, 'Lunch', NOW, NOW + HOUR));
        assert.deepEqual((await store.getSnapshots(T1, [uid(1)])).get(uid(1)), snapshotOf(t!.record));
      });

      it('serves a batch of 650 ids, some missing', async () => {
        const records = new Map<string, PresenceRecord>();
        for (let n = 0; n < 500; n++) {
          const r = n % 3 === 0 ? recordDueAt(NOW + (n + 1) * MIN) : withStatus(newRecord(NOW), `Status ${n}`, NOW, null).record;
          await store.putUser(user(n), r);
          records.set(uid(n), r);
        }
        // 400 existing ids (every fifth one skipped) and 250 unknown ones, interleaved.
        const existing = [...records.keys()].filter((_, i) => i % 5 !== 0);
        const missing = Array.from({ length: 250 }, (_, i) => uid(10_000 + i));
        const ids = existing.flatMap((id, i) => (i < 250 ? [id, missing[i]!] : [id]));
        assert.equal(ids.length, 650);

        const snaps = await store.getSnapshots(T1, ids);
        assert.equal(snaps.size, existing.length);
        for (const id of existing) assert.deepEqual(snaps.get(id), snapshotOf(records.get(id)!));
      });
    });

    describe('due index', () => {
      it('dueUsers returns the users due at or before now, earliest first, up to limit', async () => {
        const a = user(1);
        const b = user(2);
        const c = user(3, T2);
        const later = user(4);
        const never = user(5);
        await store.putUser(a, recordDueAt(NOW + 3 * MIN));
        await store.putUser(b, recordDueAt(NOW + MIN));
        await store.putUser(c, recordDueAt(NOW + 2 * MIN));
        await store.putUser(later, recordDueAt(NOW + HOUR));
        await store.putUser(never, recordDueAt(null));

        assert.deepEqual(await store.dueUsers(NOW + MIN - 1, 10), []);
        assert.deepEqual(await store.dueUsers(NOW + MIN, 10), [key(b)], 'due exactly at dueAt');
        assert.deepEqual(await store.dueUsers(NOW + 5 * MIN, 10), [key(b), key(c), key(a)]);
        assert.deepEqual(await store.dueUsers(NOW + 5 * MIN, 2), [key(b), key(c)]);
        assert.deepEqual(await store.dueUsers(NOW + 5 * MIN, 0), []);
        assert.deepEqual(await store.dueUsers(NOW + 5 * MIN, -1), [], 'a negative limit is not "no limit"');
        assert.deepEqual(await store.dueUsers(NOW + 2 * HOUR, 10), [key(b), key(c), key(a), key(later)]);
      });

      it('never lists users whose dueAt is null', async () => {
        await store.putUser(user(1), newRecord(NOW));
        await store.putUser(user(2), recordDueAt(null));
        assert.deepEqual(await store.dueUsers(Number.MAX_SAFE_INTEGER, 100), []);
        assert.equal(await store.nextDueAt(), null);
      });

      it('nextDueAt is the earliest dueAt of any user, in any tenant', async () => {
        assert.equal(await store.nextDueAt(), null);
        await store.putUser(user(1), recordDueAt(NOW + HOUR));
        assert.equal(await store.nextDueAt(), NOW + HOUR);
        await store.putUser(user(2, T2), recordDueAt(NOW + MIN));
        await store.putUser(user(3), recordDueAt(null));
        assert.equal(await store.nextDueAt(), NOW + MIN);
      });

      it('follows updates: a new dueAt moves the user, a null one takes them out', async () => {
        await store.putUser(user(1), recordDueAt(NOW + MIN));
        await store.putUser(user(2), recordDueAt(NOW + 10 * MIN));

        await store.updatePresence(T1, uid(1), (r) => clearStatus(r, NOW));
        assert.equal((await store.getPresence(T1, uid(1)))?.dueAt, null);
        assert.deepEqual(await store.dueUsers(NOW + HOUR, 10), [key(user(2))]);
        assert.equal(await store.nextDueAt(), NOW + 10 * MIN);

        await store.updatePresence(T1, uid(1), (r) => withStatus(r, 'Focus time', NOW, NOW + 30 * MIN));
        assert.deepEqual(await store.dueUsers(NOW + 29 * MIN, 10), [key(user(2))]);
        assert.deepEqual(await store.dueUsers(NOW + 30 * MIN, 10), [key(user(2)), key(user(1))]);

        // The timed transition itself: once expired, the message is pruned and the user is no longer due.
        await store.updatePresence(T1, uid(2), (r) => transition(r, r.facts, NOW + 10 * MIN));
        assert.deepEqual(await store.dueUsers(NOW + HOUR, 10), [key(user(1))]);
        assert.equal(await store.nextDueAt(), NOW + 30 * MIN);
      });
    });

    describe('change events (the outbox)', () => {
      it('a changed transition appends exactly one event with its sequence number, view and instant', async () => {
        await store.putUser(user(1), newRecord(NOW));
        assert.deepEqual(await store.readChanges(10), [], 'creating a user is not a change');
        const t = await store.updatePresence(T1, uid(1), (r) => withStatus(r, 'In a meeting', NOW + MIN, NOW + HOUR));
        assert.equal(t?.changed, true);
        const events = await store.readChanges(10);
        assert.equal(events.length, 1);
        const [event] = events as [ChangeEvent];
        assert.equal(typeof event.id, 'string');
        assert.deepEqual(event, {
          id: event.id, tenantId: T1, userId: uid(1), sequenceNumber: t.record.sequenceNumber, view: t.record.view, at: NOW + MIN,
        });
      });

      it('appends nothing when fn returns an unchanged transition, null, or throws, or the user does not exist', async () => {
        await store.putUser(user(1), recordDueAt(NOW + HOUR));
        const same = await store.updatePresence(T1, uid(1), (r) => transition(r, r.facts, NOW + MIN));
        assert.equal(same?.changed, false);
        assert.equal(await store.updatePresence(T1, uid(1), () => null), null);
        await assert.rejects(store.updatePresence(T1, uid(1), () => {
          throw new Error('boom');
        }));
        assert.equal(await store.updatePresence(T1, uid(2), (r) => withStatus(r, 'ghost', NOW, null)), undefined);
        assert.deepEqual(await store.readChanges(10), []);
      });

      it('keeps events in commit order across users and tenants, oldest first, up to limit', async () => {
        await store.putUser(user(1), newRecord(NOW));
        await store.putUser(user(2, T2), newRecord(NOW));
        const committed: [string, string, number][] = [];
        for (const [i, [tenantId, userId]] of [[T1, uid(1)], [T2, uid(2)], [T1, uid(1)], [T2, uid(2)]].entries()) {
          const at = NOW + i * MIN;
          const t = await store.updatePresence(tenantId!, userId!, (r) => withStatus(r, `change ${i}`, at, null));
          committed.push([userId!, t!.record.sequenceNumber, at]);
        }
        const events = await store.readChanges(10);
        assert.deepEqual(events.map((e) => [e.userId, e.sequenceNumber, e.at]), committed);
        assert.deepEqual(events.map((e) => e.tenantId), [T1, T2, T1, T2]);
        assert.equal(new Set(ids(events)).size, 4, 'ids are distinct');
        assert.deepEqual(await store.readChanges(2), events.slice(0, 2));
        assert.deepEqual(await store.readChanges(0), []);
        assert.deepEqual(await store.readChanges(-1), [], 'a negative limit is not "no limit"');
      });

      it('50 concurrent updates to one user append 50 events, in the order they committed', async () => {
        await store.putUser(user(1), newRecord(NOW));
        const increment = (r: PresenceRecord) => withStatus(r, String(Number(r.facts.statusMessage?.content ?? '0') + 1), NOW, null);
        await Promise.all(Array.from({ length: 50 }, () => store.updatePresence(T1, uid(1), increment)));
        const events = await store.readChanges(100);
        assert.deepEqual(events.map((e) => e.view.statusMessage?.content), Array.from({ length: 50 }, (_, i) => String(i + 1)));
        const seqs = events.map((e) => parseSequence(e.sequenceNumber));
        assert.ok(seqs.every((n, i) => i === 0 || n === seqs[i - 1]! + 1), 'one event per bump of sequenceNumber');
      });

      it('deleting a user leaves their undispatched events', async () => {
        await store.putUser(user(1), newRecord(NOW));
        await store.updatePresence(T1, uid(1), (r) => withStatus(r, 'Leaving', NOW, null));
        const before = await store.readChanges(10);
        assert.equal(await store.deleteUser(T1, uid(1)), true);
        assert.deepEqual(await store.readChanges(10), before);
      });

      it('dispatchChanges removes the events and enqueues their deliveries together', async () => {
        await store.putUser(user(1), newRecord(NOW));
        for (const m of ['a', 'b', 'c']) await store.updatePresence(T1, uid(1), (r) => withStatus(r, m, NOW, null));
        const [a, b, c] = await store.readChanges(10) as [ChangeEvent, ChangeEvent, ChangeEvent];
        const made = [delivery(1), delivery(2, { kind: 'lifecycle', userId: null })];
        assert.equal(await store.dispatchChanges([a.id, b.id], made), true);
        assert.deepEqual(await store.readChanges(10), [c]);
        assert.equal(await store.countDeliveries(), 2);
        const claimed = await store.claimDeliveries(NOW, 10, MIN);
        assert.deepEqual(byId(claimed.map((d) => ({ ...withoutId(d), id: d.subscriptionId }))),
          byId(made.map((d) => ({ ...d, id: d.subscriptionId }))));

        assert.equal(await store.dispatchChanges([c.id], []), true, 'an event that produced nothing is removed too');
        assert.deepEqual(await store.readChanges(10), []);
        assert.equal(await store.countDeliveries(), 2);
      });

      it('a second dispatch of the same events returns false and enqueues nothing', async () => {
        await store.putUser(user(1), newRecord(NOW));
        await store.updatePresence(T1, uid(1), (r) => withStatus(r, 'once', NOW, null));
        const [event] = await store.readChanges(10) as [ChangeEvent];
        assert.equal(await store.dispatchChanges([event.id], [delivery(1)]), true);
        assert.equal(await store.dispatchChanges([event.id], [delivery(1)]), false);
        assert.equal(await store.countDeliveries(), 1);
        assert.equal(await store.dispatchChanges([], [delivery(1)]), false, 'no ids: nothing removed, nothing enqueued');
        assert.equal(await store.countDeliveries(), 1);
      });

      it('racing dispatchers: exactly one enqueues; one that removes any of its ids enqueues all of its deliveries', async () => {
        await store.putUser(user(1), newRecord(NOW));
        for (const m of ['a', 'b']) await store.updatePresence(T1, uid(1), (r) => withStatus(r, m, NOW, null));
        const [a, b] = await store.readChanges(10) as [ChangeEvent, ChangeEvent];
        const results = await Promise.all(Array.from({ length: 5 }, () => store.dispatchChanges([a.id], [delivery(1), delivery(2)])));
        assert.equal(results.filter(Boolean).length, 1);
        assert.equal(await store.countDeliveries(), 2);
        // a is gone, b is not: this call removes b, so it enqueues.
        assert.equal(await store.dispatchChanges([a.id, b.id], [delivery(3)]), true);
        assert.equal(await store.countDeliveries(), 3);
        assert.deepEqual(await store.readChanges(10), []);
      });

      it('a dispatch that fails changes nothing', async () => {
        await store.putUser(user(1), newRecord(NOW));
        await store.updatePresence(T1, uid(1), (r) => withStatus(r, 'x', NOW, null));
        const events = await store.readChanges(10);
        // A BigInt cannot be serialised: the second delivery fails after the first one was handled.
        const bad = delivery(2, { item: { n: 1n } });
        await assert.rejects(store.dispatchChanges(ids(events), [delivery(1), bad]));
        assert.deepEqual(await store.readChanges(10), events);
        assert.equal(await store.countDeliveries(), 0);
      });
    });

    describe('subscriptions', () => {
      it('stores and returns every field exactly; null for an unknown id', async () => {
        assert.equal(await store.getSubscription(sid(1)), null);
        await store.putSubscription(subscription(1));
        await store.putSubscription(richSubscription(2));
        assert.deepEqual(await store.getSubscription(sid(1)), subscription(1));
        assert.deepEqual(await store.getSubscription(sid(2)), richSubscription(2));
        assert.equal(await store.getSubscription(sid(3)), null);
      });

      it('putSubscription replaces a subscription, and the fan-out follows its new users', async () => {
        await store.putSubscription(subscription(1, [uid(1), uid(2)]));
        // Read first, so a backend that keeps what it read cannot pass by not having read it.
        assert.deepEqual(await store.getSubscription(sid(1)), subscription(1, [uid(1), uid(2)]));
        assert.deepEqual(await store.subscriptionsForUser(T1, uid(2)), [subscription(1, [uid(1), uid(2)])]);
        const replaced = subscription(1, [uid(2), uid(3)], { expiresAt: NOW + 2 * HOUR, clientState: 'new', notificationUrl: 'https://b.example/h' });
        await store.putSubscription(replaced);
        assert.deepEqual(await store.getSubscription(sid(1)), replaced);
        assert.deepEqual(await store.subscriptionsForUser(T1, uid(1)), []);
        assert.deepEqual(await store.subscriptionsForUser(T1, uid(2)), [replaced]);
        assert.deepEqual(await store.subscriptionsForUser(T1, uid(3)), [replaced]);
        assert.deepEqual(await store.listSubscriptions({ tenantId: T1 }), [replaced]);
      });

      it('subscriptionsForUser finds every subscription watching a user, in their tenant only', async () => {
        const s1 = subscription(1, [uid(1), uid(2)]);
        const s2 = subscription(2, [uid(2)], { applicationId: uid(42) });
        const s3 = subscription(3, [uid(3), uid(2), uid(3)]);
        const other = subscription(4, [uid(2)], { tenantId: T2 });
        for (const sub of [s3, other, s1, s2]) await store.putSubscription(sub);
        assert.deepEqual(byId(await store.subscriptionsForUser(T1, uid(2))), [s1, s2, s3]);
        assert.deepEqual(await store.subscriptionsForUser(T1, uid(1)), [s1]);
        assert.deepEqual(await store.subscriptionsForUser(T1, uid(3)), [s3], 'a user named twice is watched once');
        assert.deepEqual(await store.subscriptionsForUser(T2, uid(2)), [other]);
        assert.deepEqual(await store.subscriptionsForUser(T2, uid(1)), []);
        assert.deepEqual(await store.subscriptionsForUser(T1, uid(9)), []);
      });

      it('a subscription to 650 users fans out to each of them', async () => {
        const users = Array.from({ length: 650 }, (_, i) => uid(i + 1));
        const big = subscription(1, users);
        await store.putSubscription(big);
        await store.putSubscription(subscription(2, [uid(7)]));
        assert.deepEqual(await store.getSubscription(sid(1)), big);
        for (const id of [uid(1), uid(325), uid(650)]) assert.deepEqual(await store.subscriptionsForUser(T1, id), [big]);
        assert.deepEqual(ids(await store.subscriptionsForUser(T1, uid(7))), [sid(1), sid(2)]);
        assert.deepEqual(await store.subscriptionsForUser(T1, uid(651)), []);
      });

      it('deleteSubscription removes it, its fan-out and its deliveries; false when there is none', async () => {
        await store.putSubscription(subscription(1, [uid(1)]));
        await store.putSubscription(subscription(2, [uid(1)]));
        await store.enqueueDeliveries([delivery(1), delivery(2), delivery(1, { kind: 'lifecycle', userId: null })]);
        assert.deepEqual(ids(await store.subscriptionsForUser(T1, uid(1))), [sid(1), sid(2)]);
        assert.deepEqual(await store.getSubscription(sid(1)), subscription(1, [uid(1)]));
        assert.equal(await store.deleteSubscription(sid(1)), true);
        assert.equal(await store.getSubscription(sid(1)), null);
        assert.deepEqual(ids(await store.subscriptionsForUser(T1, uid(1))), [sid(2)]);
        assert.deepEqual(ids(await store.listSubscriptions({ tenantId: T1 })), [sid(2)]);
        assert.equal(await store.countDeliveries(), 1);
        assert.deepEqual((await store.claimDeliveries(NOW, 10, MIN)).map((d) => d.subscriptionId), [sid(2)]);
        assert.equal(await store.deleteSubscription(sid(1)), false);
        assert.equal(await store.deleteSubscription(sid(9)), false);
      });

      it('returns subscriptions the caller may change without changing what is stored', async () => {
        const sub = subscription(1, [uid(1), uid(2)]);
        await store.putSubscription(sub);
        sub.userIds.push(uid(3));
        sub.expiresAt = 0;
        for (const read of [await store.getSubscription(sid(1)), (await store.subscriptionsForUser(T1, uid(1)))[0]]) {
          assert.ok(read);
          read.userIds.length = 0;
          read.clientState = 'changed';
        }
        assert.deepEqual(await store.getSubscription(sid(1)), subscription(1, [uid(1), uid(2)]));
        assert.deepEqual(await store.subscriptionsForUser(T1, uid(2)), [subscription(1, [uid(1), uid(2)])]);
        assert.deepEqual(await store.subscriptionsForUser(T1, uid(3)), []);
      });

      it('a deleted subscription can be created again', async () => {
        await store.putSubscription(subscription(1, [uid(1)]));
        await store.deleteSubscription(sid(1));
        await store.putSubscription(subscription(1, [uid(2)]));
        assert.deepEqual(await store.subscriptionsForUser(T1, uid(1)), []);
        assert.deepEqual(await store.subscriptionsForUser(T1, uid(2)), [subscription(1, [uid(2)])]);
      });

      it('lists a tenant\'s subscriptions, optionally one application\'s and/or one creator\'s', async () => {
        const otherApp = uid(42);
        const otherCreator = uid(501);
        const subs = [
          subscription(1),
          subscription(2, [uid(1)], { applicationId: otherApp }),
          subscription(3, [uid(1)], { creatorId: otherCreator }),
          subscription(4, [uid(1)], { applicationId: otherApp, creatorId: otherCreator }),
        ];
        for (const sub of subs) await store.putSubscription(sub);
        await store.putSubscription(subscription(5, [uid(1)], { tenantId: T2 }));
        const list = async (filter: Parameters<Store['listSubscriptions']>[0]) => ids(byId(await store.listSubscriptions(filter)));
        assert.deepEqual(await list({ tenantId: T1 }), [sid(1), sid(2), sid(3), sid(4)]);
        assert.deepEqual(await list({ tenantId: T1, applicationId: APP }), [sid(1), sid(3)]);
        assert.deepEqual(await list({ tenantId: T1, creatorId: otherCreator }), [sid(3), sid(4)]);
        assert.deepEqual(await list({ tenantId: T1, applicationId: otherApp, creatorId: otherCreator }), [sid(4)]);
        assert.deepEqual(await list({ tenantId: T2 }), [sid(5)]);
        assert.deepEqual(await list({ tenantId: uid(77) }), []);
        assert.deepEqual(byId(await store.listSubscriptions({ tenantId: T1 })), subs, 'whole subscriptions');
      });

      it('subscriptionsExpiringBy lists those expiring at or before an instant, earliest first, up to limit', async () => {
        assert.equal(await store.nextSubscriptionExpiry(), null);
        await store.putSubscription(subscription(1, [uid(1)], { expiresAt: NOW + 30 * MIN }));
        await store.putSubscription(subscription(2, [uid(1)], { expiresAt: NOW + 10 * MIN, tenantId: T2 }));
        await store.putSubscription(subscription(3, [uid(1)], { expiresAt: NOW + 20 * MIN }));
        await store.putSubscription(subscription(4, [uid(1)], { expiresAt: NOW + HOUR }));
        const expiring = async (at: number, limit: number) => ids(await store.subscriptionsExpiringBy(at, limit));

        assert.deepEqual(await expiring(NOW + 10 * MIN - 1, 10), []);
        assert.deepEqual(await expiring(NOW + 10 * MIN, 10), [sid(2)], 'at expiresAt exactly');
        assert.deepEqual(await expiring(NOW + 30 * MIN, 10), [sid(2), sid(3), sid(1)]);
        assert.deepEqual(await expiring(NOW + 30 * MIN, 2), [sid(2), sid(3)]);
        assert.deepEqual(await expiring(NOW + 30 * MIN, 0), []);
        assert.deepEqual(await expiring(NOW + 30 * MIN, -1), []);
        assert.deepEqual((await store.subscriptionsExpiringBy(NOW + 10 * MIN, 1))[0], subscription(2, [uid(1)], { expiresAt: NOW + 10 * MIN, tenantId: T2 }));
        assert.equal(await store.nextSubscriptionExpiry(), NOW + 10 * MIN);

        // Renewal moves a subscription; deletion takes it out.
        await store.putSubscription(subscription(2, [uid(1)], { expiresAt: NOW + 2 * HOUR, tenantId: T2 }));
        assert.deepEqual(await expiring(NOW + HOUR, 10), [sid(3), sid(1), sid(4)]);
        assert.equal(await store.nextSubscriptionExpiry(), NOW + 20 * MIN);
        await store.deleteSubscription(sid(3));
        assert.equal(await store.nextSubscriptionExpiry(), NOW + 30 * MIN);
      });

      describe('markReauthorizationNotified', () => {
        const since = NOW + 50 * MIN;
        const notice = (n: number): NewDelivery => delivery(n, {
          kind: 'lifecycle', url: 'https://app.example/lifecycle', userId: null, item: { subscriptionId: sid(n), lifecycleEvent: 'reauthorizationRequired' },
        });

        it('sets the mark and enqueues the notice; changes nothing else', async () => {
          const sub = richSubscription(1);
          const unmarked = { ...sub, reauthorizationNotifiedAt: null };
          await store.putSubscription(unmarked);
          // Read first, so a backend that keeps what it read cannot pass by not having read it.
          assert.deepEqual(await store.getSubscription(sid(1)), unmarked);
          assert.equal(await store.markReauthorizationNotified(sid(1), sub.expiresAt, NOW + 51 * MIN, since, notice(1)), true);
          assert.deepEqual(await store.getSubscription(sid(1)), { ...sub, reauthorizationNotifiedAt: NOW + 51 * MIN });
          assert.deepEqual((await store.subscriptionsForUser(T1, uid(2)))[0], { ...sub, reauthorizationNotifiedAt: NOW + 51 * MIN });
          assert.deepEqual((await store.claimDeliveries(NOW, 10, MIN)).map(withoutId), [notice(1)]);
        });

        it('at most once per lifetime: a second call, or a mark already in the window, changes and enqueues nothing', async () => {
          await store.putSubscription(subscription(1));
          assert.equal(await store.markReauthorizationNotified(sid(1), NOW + HOUR, since, since, notice(1)), true, 'a mark at `since` exactly');
          assert.equal(await store.markReauthorizationNotified(sid(1), NOW + HOUR, since + MIN, since, notice(1)), false);
          assert.equal((await store.getSubscription(sid(1)))!.reauthorizationNotifiedAt, since);
          assert.equal(await store.countDeliveries(), 1);
          // Without a notice: only the mark.
          await store.putSubscription(subscription(2));
          assert.equal(await store.markReauthorizationNotified(sid(2), NOW + HOUR, since + MIN, since), true);
          assert.equal((await store.getSubscription(sid(2)))!.reauthorizationNotifiedAt, since + MIN);
          assert.equal(await store.countDeliveries(), 1);
        });

        it('a mark from an earlier lifetime (before `since`) does not count', async () => {
          await store.putSubscription(subscription(1, [uid(1)], { reauthorizationNotifiedAt: since - 1 }));
          assert.equal(await store.markReauthorizationNotified(sid(1), NOW + HOUR, since + 2 * MIN, since, notice(1)), true);
          assert.equal((await store.getSubscription(sid(1)))!.reauthorizationNotifiedAt, since + 2 * MIN);
          assert.equal(await store.countDeliveries(), 1);
        });

        it('false, changing nothing, when the expiry moved (renewed) or the subscription is gone', async () => {
          await store.putSubscription(subscription(1, [uid(1)], { expiresAt: NOW + 2 * HOUR }));
          assert.equal(await store.markReauthorizationNotified(sid(1), NOW + HOUR, since + MIN, since, notice(1)), false);
          assert.deepEqual(await store.getSubscription(sid(1)), subscription(1, [uid(1)], { expiresAt: NOW + 2 * HOUR }));
          assert.equal(await store.markReauthorizationNotified(sid(9), NOW + HOUR, since + MIN, since, notice(9)), false);
          await store.deleteSubscription(sid(1));
          assert.equal(await store.markReauthorizationNotified(sid(1), NOW + 2 * HOUR, since + MIN, since, notice(1)), false);
          assert.equal(await store.getSubscription(sid(1)), null, 'not created by the mark');
          assert.equal(await store.countDeliveries(), 0);
        });

        it('racing callers: exactly one wins, and exactly one notice is queued', async () => {
          await store.putSubscription(subscription(1));
          const results = await Promise.all(Array.from({ length: 8 }, (_, i) =>
            store.markReauthorizationNotified(sid(1), NOW + HOUR, since + i, since, notice(1))));
          assert.equal(results.filter(Boolean).length, 1, `winners: ${JSON.stringify(results)}`);
          assert.equal((await store.getSubscription(sid(1)))!.reauthorizationNotifiedAt, since + results.indexOf(true));
          assert.equal(await store.countDeliveries(), 1);
        });
      });
    });

    describe('deliveries', () => {
      it('enqueues and claims deliveries with every field intact and a store-assigned id', async () => {
        const rich = delivery(2, {
          kind: 'change', resourceView: richRecord().view, attempt: 3, nextAttemptAt: NOW - MIN, createdAt: NOW - HOUR,
          item: { nested: { list: [1, 'two', null, true], text: 'é 📅 "q" \\' } },
        });
        const lifecycle = delivery(1, { kind: 'lifecycle', url: 'https://app.example/lifecycle', userId: null, nextAttemptAt: NOW });
        await store.enqueueDeliveries([lifecycle, rich]);
        assert.equal(await store.countDeliveries(), 2);
        const claimed = await store.claimDeliveries(NOW, 10, MIN);
        assert.deepEqual(claimed.map(withoutId), [rich, lifecycle], 'earliest first');
        assert.ok(claimed.every((d) => typeof d.id === 'string'));
        assert.equal(new Set(ids(claimed)).size, 2);
        await store.enqueueDeliveries([]);
        assert.equal(await store.countDeliveries(), 2);
      });

      it('claims only deliveries due by now, earliest first, up to limit', async () => {
        await store.enqueueDeliveries([
          delivery(3, { nextAttemptAt: NOW + 3 * MIN }),
          delivery(1, { nextAttemptAt: NOW + MIN }),
          delivery(4, { nextAttemptAt: NOW + HOUR }),
          delivery(2, { nextAttemptAt: NOW + 2 * MIN }),
        ]);
        const claim = async (now: number, limit: number) => (await store.claimDeliveries(now, limit, HOUR)).map((d) => d.subscriptionId);
        assert.deepEqual(await claim(NOW + MIN - 1, 10), []);
        assert.deepEqual(await claim(NOW + 5 * MIN, 0), []);
        assert.deepEqual(await claim(NOW + 5 * MIN, -1), []);
        assert.deepEqual(await claim(NOW + MIN, 10), [sid(1)], 'due exactly at nextAttemptAt');
        assert.deepEqual(await claim(NOW + 5 * MIN, 1), [sid(2)]);
        assert.deepEqual(await claim(NOW + 5 * MIN, 10), [sid(3)]);
        assert.equal(await store.countDeliveries(), 4, 'claiming removes nothing');
      });

      it('a claimed delivery is leased: not claimed again before the lease ends, claimable again at its end', async () => {
        await store.enqueueDeliveries([delivery(1), delivery(2, { nextAttemptAt: NOW + MIN })]);
        const [first] = await store.claimDeliveries(NOW, 1, 30_000) as [Delivery];
        assert.equal(first.subscriptionId, sid(1));
        assert.deepEqual(await store.claimDeliveries(NOW + 30_000 - 1, 10, 30_000), []);
        const [again, other] = await store.claimDeliveries(NOW + 2 * MIN, 10, 30_000);
        assert.deepEqual(again, first, 'a lapsed lease (a deliverer that died) frees the delivery');
        assert.equal(other?.subscriptionId, sid(2));
        assert.deepEqual(await store.claimDeliveries(NOW + 2 * MIN, 10, 30_000), []);
      });

      it('concurrent claims never hand out the same delivery twice', async () => {
        await store.enqueueDeliveries(Array.from({ length: 30 }, (_, i) => delivery(i)));
        const batches = await Promise.all(Array.from({ length: 5 }, () => store.claimDeliveries(NOW, 10, MIN)));
        const all = batches.flatMap(ids);
        assert.equal(all.length, 30);
        assert.equal(new Set(all).size, 30);
      });

      it('completeDeliveries removes them; unknown or repeated ids are ignored', async () => {
        await store.enqueueDeliveries([delivery(1), delivery(2), delivery(3)]);
        const [a, b, c] = await store.claimDeliveries(NOW, 10, MIN) as [Delivery, Delivery, Delivery];
        await store.completeDeliveries([a.id, c.id]);
        assert.equal(await store.countDeliveries(), 1);
        await store.completeDeliveries([a.id, 'no-such-delivery']);
        await store.completeDeliveries([]);
        assert.equal(await store.countDeliveries(), 1);
        assert.deepEqual(await store.claimDeliveries(NOW + HOUR, 10, MIN), [b]);
      });

      it('rescheduleDelivery sets the next attempt and the attempt count, and releases the lease', async () => {
        await store.enqueueDeliveries([delivery(1)]);
        const [d] = await store.claimDeliveries(NOW, 10, HOUR) as [Delivery];
        await store.rescheduleDelivery(d.id, NOW + 10_000, 1);
        assert.deepEqual(await store.claimDeliveries(NOW + 9_999, 10, HOUR), []);
        const [retry] = await store.claimDeliveries(NOW + 10_000, 10, HOUR);
        assert.deepEqual(retry, { ...d, attempt: 1, nextAttemptAt: NOW + 10_000 }, 'claimable before its earlier lease ended');
        await store.rescheduleDelivery('no-such-delivery', NOW, 9);
        assert.equal(await store.countDeliveries(), 1);
      });

      it('nextDeliveryAt is the earliest next attempt, counting a leased delivery from its lease end', async () => {
        assert.equal(await store.nextDeliveryAt(), null);
        await store.enqueueDeliveries([delivery(1, { nextAttemptAt: NOW }), delivery(2, { nextAttemptAt: NOW + 5 * MIN })]);
        assert.equal(await store.nextDeliveryAt(), NOW);
        const [d] = await store.claimDeliveries(NOW, 1, 2 * MIN) as [Delivery];
        assert.equal(await store.nextDeliveryAt(), NOW + 2 * MIN, 'the lease end of the claimed one');
        await store.claimDeliveries(NOW + 2 * MIN, 1, 10 * MIN);
        assert.equal(await store.nextDeliveryAt(), NOW + 5 * MIN, 'reclaimed until NOW + 12 min: the other one is next');
        await store.rescheduleDelivery(d.id, NOW + 3 * MIN, 1);
        assert.equal(await store.nextDeliveryAt(), NOW + 3 * MIN);
        await store.completeDeliveries([d.id]);
        assert.equal(await store.nextDeliveryAt(), NOW + 5 * MIN);
      });

      it('countLeasedDeliveries counts the due deliveries whose lease has not ended', async () => {
        await store.enqueueDeliveries([delivery(1), delivery(2), delivery(3, { nextAttemptAt: NOW - MIN }), delivery(4, { nextAttemptAt: NOW + HOUR })]);
        assert.equal(await store.countLeasedDeliveries(NOW), 0, 'due but nobody holds them');
        const [a, b] = await store.claimDeliveries(NOW, 2, 10 * MIN) as [Delivery, Delivery];
        assert.equal(await store.countLeasedDeliveries(NOW), 2);
        assert.equal(await store.countLeasedDeliveries(NOW + MIN), 2);
        await store.completeDeliveries([a.id]);
        assert.equal(await store.countLeasedDeliveries(NOW), 1);
        await store.rescheduleDelivery(b.id, NOW + 5 * MIN, 1);
        assert.equal(await store.countLeasedDeliveries(NOW), 0, 'released for a later attempt');
        await store.claimDeliveries(NOW, 10, 10 * MIN);
        assert.equal(await store.countLeasedDeliveries(NOW), 1);
        assert.equal(await store.countLeasedDeliveries(NOW + 10 * MIN), 0, 'the lease ended');
      });

      it('enqueues 1,000 deliveries at once and hands them out in batches of 200', async () => {
        const many = Array.from({ length: 1000 }, (_, i) => delivery(i, { userId: uid(i) }));
        await store.enqueueDeliveries(many);
        assert.equal(await store.countDeliveries(), 1000);
        const seen = new Set<string>();
        for (let batch = 0; batch < 5; batch++) {
          const claimed = await store.claimDeliveries(NOW, 200, MIN);
          assert.equal(claimed.length, 200);
          for (const d of claimed) seen.add(d.id);
        }
        assert.equal(seen.size, 1000);
        assert.deepEqual(await store.claimDeliveries(NOW, 200, MIN), []);
        await store.completeDeliveries([...seen]);
        assert.equal(await store.countDeliveries(), 0);
        assert.equal(await store.nextDeliveryAt(), null);
      });
    });

    describe('webhook endpoints (slow-endpoint accounting)', () => {
      const HOOK = 'https://app.example/hooks/presence?tenant=a&x=%20y';

      it('has no samples for an endpoint never recorded', async () => {
        assert.deepEqual(await store.endpointDurations(HOOK), []);
      });

      it('records durations per endpoint, oldest first, exactly as given', async () => {
        assert.deepEqual(await store.recordEndpointDuration(HOOK, 120.5, NOW, 100), [{ at: NOW, ms: 120.5 }]);
        assert.deepEqual(await store.recordEndpointDuration(HOOK, 3000, NOW + 1, 100), [{ at: NOW, ms: 120.5 }, { at: NOW + 1, ms: 3000 }]);
        await store.recordEndpointDuration(`${HOOK}/other`, 7, NOW + 2, 100);
        await store.recordEndpointDuration('https://APP.example/hooks/presence?tenant=a&x=%20y', 8, NOW + 3, 100);
        assert.deepEqual(await store.endpointDurations(HOOK), [{ at: NOW, ms: 120.5 }, { at: NOW + 1, ms: 3000 }]);
        assert.deepEqual(await store.endpointDurations(`${HOOK}/other`), [{ at: NOW + 2, ms: 7 }]);
      });

      it('keeps only the latest `keep` samples of an endpoint', async () => {
        let last: { at: number; ms: number }[] = [];
        for (let i = 0; i < 105; i++) last = await store.recordEndpointDuration(HOOK, i, NOW + i * MIN, 100);
        const expected = Array.from({ length: 100 }, (_, j) => ({ at: NOW + (j + 5) * MIN, ms: j + 5 }));
        assert.deepEqual(last, expected);
        assert.deepEqual(await store.endpointDurations(HOOK), expected);
        assert.deepEqual(await store.recordEndpointDuration(HOOK, 999, NOW + HOUR * 3, 2), [
          { at: NOW + 104 * MIN, ms: 104 }, { at: NOW + HOUR * 3, ms: 999 },
        ], 'a smaller keep trims to it');
      });

      it('loses no sample recorded concurrently', async () => {
        await Promise.all(Array.from({ length: 50 }, (_, i) => store.recordEndpointDuration(HOOK, i, NOW + i, 100)));
        const kept = await store.endpointDurations(HOOK);
        assert.equal(kept.length, 50);
        assert.deepEqual(kept.map((k) => k.ms).sort((a, b) => a - b), Array.from({ length: 50 }, (_, i) => i));
        for (const k of kept) assert.equal(k.at, NOW + k.ms);
      });

      it('hands out a throttled endpoint\'s turn once until it ends', async () => {
        assert.deepEqual(await store.takeEndpointTurn(HOOK, NOW, NOW + 10 * MIN), { taken: true, until: NOW + 10 * MIN });
        assert.deepEqual(await store.takeEndpointTurn(HOOK, NOW + MIN, NOW + 11 * MIN), { taken: false, until: NOW + 10 * MIN });
        assert.deepEqual(await store.takeEndpointTurn(`${HOOK}/other`, NOW + MIN, NOW + 11 * MIN), { taken: true, until: NOW + 11 * MIN });
        assert.deepEqual(await store.takeEndpointTurn(HOOK, NOW + 10 * MIN, NOW + 20 * MIN), { taken: true, until: NOW + 20 * MIN }, 'the turn ended');
      });

      it('gives a throttled endpoint\'s turn to one of several concurrent takers', async () => {
        const results = await Promise.all(Array.from({ length: 8 }, (_, i) => store.takeEndpointTurn(HOOK, NOW, NOW + 10 * MIN + i)));
        const winners = results.filter((r) => r.taken);
        assert.equal(winners.length, 1);
        assert.ok(results.every((r) => r.until === winners[0]!.until));
      });
    });

    if (reopen) {
      describe('persistence', () => {
        it('keeps everything across close and reopen', async () => {
          await store.setMeta('seeded', 'yes');
          await store.putTenant({ id: T1, displayName: 'Contoso' });
          await store.putApp({ id: APP, displayName: 'Presently Dev App' });
          await store.putUser(user(1), newRecord(NOW));
          await store.putUser(user(2), richRecord());
          const updated = await store.updatePresence(T1, uid(1), (r) => withStatus(r, 'Persisted', NOW, NOW + MIN));
          await store.close();
          store = await reopen(store);

          assert.equal(await store.getMeta('seeded'), 'yes');
          assert.deepEqual(await store.listTenants(), [{ id: T1, displayName: 'Contoso' }]);
          assert.deepEqual(await store.listApps(), [{ id: APP, displayName: 'Presently Dev App' }]);
          assert.deepEqual(byId(await store.listUsers(T1)), [user(1), user(2)]);
          assert.deepEqual(await store.findUserByUpn(user(2).userPrincipalName), user(2));
          assert.deepEqual(await store.getPresence(T1, uid(1)), updated?.record);
          assert.deepEqual(await store.getPresence(T1, uid(2)), richRecord());
          assert.deepEqual(await store.dueUsers(NOW + MIN, 10), [key(user(1))]);
          assert.equal(await store.nextDueAt(), NOW + MIN);
        });

        it('keeps change events, subscriptions and deliveries (with their leases) across close and reopen', async () => {
          await store.putUser(user(1), newRecord(NOW));
          const t = await store.updatePresence(T1, uid(1), (r) => withStatus(r, 'Persisted', NOW + MIN, null));
          await store.putSubscription(richSubscription(1));
          await store.enqueueDeliveries([delivery(1), delivery(1, { nextAttemptAt: NOW + MIN })]);
          const [leased] = await store.claimDeliveries(NOW, 1, HOUR) as [Delivery];
          const events = await store.readChanges(10);
          await store.close();
          store = await reopen(store);

          assert.deepEqual(await store.readChanges(10), events);
          assert.deepEqual(events.map((e) => [e.sequenceNumber, e.at]), [[t!.record.sequenceNumber, NOW + MIN]]);
          assert.deepEqual(await store.getSubscription(sid(1)), richSubscription(1));
          assert.deepEqual(await store.subscriptionsForUser(T1, uid(2)), [richSubscription(1)]);
          assert.equal(await store.nextSubscriptionExpiry(), NOW + HOUR);
          assert.equal(await store.countDeliveries(), 2);
          assert.equal(await store.nextDeliveryAt(), NOW + MIN);
          assert.deepEqual((await store.claimDeliveries(NOW + MIN, 10, HOUR)).map(withoutId), [delivery(1, { nextAttemptAt: NOW + MIN })]);
          assert.deepEqual(await store.claimDeliveries(NOW + HOUR, 10, HOUR), [leased], 'the lease survived');
          // New ids do not reuse those handed out before.
          await store.updatePresence(T1, uid(1), (r) => withStatus(r, 'After', NOW + 2 * MIN, null));
          const after = await store.readChanges(10);
          assert.equal(after.length, 2);
          assert.notEqual(after[1]!.id, events[0]!.id);
        });
      });
    }
  });
}
