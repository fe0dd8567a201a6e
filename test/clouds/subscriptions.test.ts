/**
 * Presence change notifications are offered in Graph's global service only (docs/api/national-clouds.md): in every
 * national cloud each subscription request — create, list, read, renew, delete, reauthorize, under both versions —
 * answers 404 naming the cloud, before authentication, and nothing is created. The global cloud accepts the same
 * create.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { CloudName } from '../../src/config/clouds.ts';
import { ADELE, TENANT, startInProcess, type TestServer } from '../kit/server.ts';
import { VERSIONS, assertGraphError, bearer } from '../kit/graph.ts';

const SUB = '7f105c7d-2dc5-4530-97cd-4e7ae6534c07';
const NATIONAL: Array<[CloudName, string]> = [['usgov', 'US Government L4'], ['dod', 'US Government L5 (DOD)'], ['china', 'China (21Vianet)']];

function createBody(s: TestServer): object {
  return {
    changeType: 'updated',
    notificationUrl: 'http://127.0.0.1:1/_presently/sink/clouds',
    resource: `/communications/presences/${ADELE}`,
    expirationDateTime: new Date(s.presently.clock.now() + 50 * 60_000).toISOString(),
  };
}

for (const [cloud, displayName] of NATIONAL) {
  describe(`--cloud ${cloud}: no presence subscriptions`, () => {
    let s: TestServer;
    before(async () => { s = await startInProcess({ cloud }); });
    after(() => s.close());

    const message = `Presence subscriptions are not available in the ${displayName} cloud: change notifications for presence are offered in the global service only.`;

    it('every subscription request, both versions, with or without a token, is 404 naming the cloud', async () => {
      const token = await s.userToken(ADELE);
      for (const version of VERSIONS) {
        const requests = [
          { method: 'POST' as const, url: `/${version}/subscriptions`, payload: createBody(s) },
          { method: 'GET' as const, url: `/${version}/subscriptions` },
          { method: 'GET' as const, url: `/${version}/subscriptions/${SUB}` },
          { method: 'PATCH' as const, url: `/${version}/subscriptions/${SUB}`, payload: { expirationDateTime: new Date(s.presently.clock.now() + 50 * 60_000).toISOString() } },
          { method: 'DELETE' as const, url: `/${version}/subscriptions/${SUB}` },
          { method: 'POST' as const, url: `/${version}/subscriptions/${SUB}/reauthorize` },
        ];
        for (const r of requests) {
          assertGraphError(await s.inject({ ...r, headers: bearer(token) }), 404, 'ResourceNotFound', message);
          assertGraphError(await s.inject(r), 404, 'ResourceNotFound', message);
        }
      }
      assert.equal(await s.presently.store.countSubscriptions({ tenantId: TENANT }), 0, 'nothing was created');
    });
  });
}

describe('--cloud global: presence subscriptions are served', () => {
  it('the same create is 201', async (t) => {
    const s = await startInProcess({ cloud: 'global' });
    t.after(() => s.close());
    const url = await s.listen();
    const token = await s.userToken(ADELE);
    const res = await s.inject({ method: 'POST', url: '/v1.0/subscriptions', headers: bearer(token), payload: { ...createBody(s), notificationUrl: `${url}/_presently/sink/clouds` } });
    assert.equal(res.statusCode, 201, res.body);
  });
});
