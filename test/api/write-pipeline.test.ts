/**
 * The presence write pipeline: every action of the table is reachable at each address it declares, in any case, and
 * refuses a bad body by naming the property; a write's answer is what the store committed, even when the store ran
 * the command more than once (an optimistic retry after a concurrent write).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Principal } from '../../src/auth/types.ts';
import { newRecord, transition } from '../../src/domain/record.ts';
import { mergeOutOfOffice } from '../../src/domain/outOfOffice.ts';
import type { PresenceRecord } from '../../src/domain/types.ts';
import { manualClock } from '../../src/platform/clock/manual.ts';
import { PRESENCE_ACTIONS, ACTION_PATHS } from '../../src/presence/actions.ts';
import { MailboxSettingsService } from '../../src/presence/mailboxSettings.ts';
import { PresenceService } from '../../src/presence/service.ts';
import type { Store } from '../../src/store/types.ts';
import { ADELE, TENANT, startInProcess, type TestServer } from '../kit/server.ts';
import { VERSIONS, assertBadProperty, assertGraphError, bearer } from '../kit/graph.ts';
import { forEachBackend } from '../kit/backends.ts';

forEachBackend(['memory', 'redis'], (backend) => {
  describe('presence actions: routed from the table', () => {
    let s: TestServer;
    let token: string;
    before(async () => {
      s = await startInProcess({ store: backend });
      token = await s.userToken(ADELE, ['Presence.ReadWrite', 'Presence.Read.All']);
    });
    after(() => s?.close());

    it('each action, at each of its addresses and in any case, reads its body (a 400 naming the unknown property)', async () => {
      for (const version of VERSIONS) {
        for (const action of PRESENCE_ACTIONS) {
          for (const address of action.paths) {
            const path = ACTION_PATHS[address].replace(':id', ADELE).replace(':action', action.name);
            for (const spelled of [path, path.replace(action.name, action.name.toUpperCase())]) {
              const res = await s.inject({ method: 'POST', url: `/${version}${spelled}`, headers: bearer(token), payload: { bogus: 1 } });
              assertBadProperty(res, 'bogus');
            }
          }
        }
      }
    });

    it('an action not in the table is 400 naming the segment', async () => {
      const res = await s.inject({ method: 'POST', url: '/v1.0/me/presence/setMood', headers: bearer(token), payload: {} });
      assertGraphError(res, 400, 'BadRequest', /'setMood'/);
    });
  });

  describe('mailbox settings PATCH answers the committed settings', () => {
    const NOW = Date.parse('2026-11-28T08:00:00Z');
    const caller: Principal = {
      kind: 'delegated', tenantId: TENANT, userId: ADELE, appId: 'app', scopes: new Set(['MailboxSettings.ReadWrite']), roles: new Set(),
    };

    it('when the store runs the command again on a record another writer changed, the answer includes that change', async () => {
      const stale: PresenceRecord = newRecord(NOW);
      // Another writer set the mailbox time zone between the first run and the commit.
      const current = transition(stale, { ...stale.facts, outOfOffice: mergeOutOfOffice(null, { timeZone: 'Pacific Standard Time' }) }, NOW).record;
      let runs = 0;
      const store = {
        facts: { soleWriter: false },
        async updatePresence(_tenantId: string, _userId: string, fn: (r: PresenceRecord) => ReturnType<typeof transition> | null) {
          runs++;
          fn(stale); // the first run loses the race
          runs++;
          return fn(current);
        },
        async getPresence() { return current; },
      } as unknown as Store;
      const settings = new MailboxSettingsService(new PresenceService(store, manualClock(NOW)), store);
      const answer = await settings.patch(caller, ADELE, 'automaticRepliesSetting', { status: 'alwaysEnabled' });
      assert.equal(runs, 2);
      assert.equal(answer.automaticRepliesSetting.status, 'alwaysEnabled');
      assert.equal(answer.timeZone, 'Pacific Standard Time', 'the committed run, not the first one');
    });

    it('a user that does not exist is a 404 naming the user, and a missing body says it is empty', async () => {
      const store = { facts: { soleWriter: false }, async updatePresence() { return undefined; }, async getPresence() { return null; } } as unknown as Store;
      const settings = new MailboxSettingsService(new PresenceService(store, manualClock(NOW)), store);
      await assert.rejects(settings.patch(caller, ADELE, 'all', { timeZone: 'UTC' }), (err: Error) => err.name === 'NotFound' && err.message.includes(ADELE));
      await assert.rejects(settings.patch(caller, ADELE, 'all', undefined), /request body is empty/);
    });
  });
});
