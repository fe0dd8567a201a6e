/**
 * National clouds (docs/api/national-clouds.md): each cloud's token audience and `@odata.context` root, the limited presence
 * shape of the US Government clouds, beta missing there, and no presence at all in China — each refusal a 404 that
 * names the cloud. `--public-url` wins over the cloud's root.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { GRAPH_APP_ID, type CloudName } from '../../src/config/clouds.ts';
import { ADELE, ALEX, APP, TENANT, startInProcess, startProcess, tempDir, type TestServer } from '../kit/server.ts';
import {
  VERSIONS, addresses, assertBadProperty, assertGraphError, bearer, getPresence, postJson, readPresence,
} from '../kit/graph.ts';
import { forEachBackend } from '../kit/backends.ts';

forEachBackend(['memory', 'redis'], (backend) => {
  const NOBODY = '0d1c5b4e-2f7a-4c3b-9e8d-7a6b5c4d3e2f';

  interface CloudCase {
    name: CloudName;
    root: string;
    displayName: string;
    v1: boolean;
    beta: boolean;
    limited: boolean;
  }

  const CASES: CloudCase[] = [
    { name: 'global', root: 'https://graph.microsoft.com', displayName: 'Global', v1: true, beta: true, limited: false },
    { name: 'usgov', root: 'https://graph.microsoft.us', displayName: 'US Government L4', v1: true, beta: false, limited: true },
    { name: 'dod', root: 'https://dod-graph.microsoft.us', displayName: 'US Government L5 (DOD)', v1: true, beta: false, limited: true },
    { name: 'china', root: 'https://microsoftgraph.chinacloudapi.cn', displayName: 'China (21Vianet)', v1: false, beta: false, limited: false },
  ];

  const FULL_KEYS = ['@odata.context', 'activity', 'availability', 'id', 'outOfOfficeSettings', 'sequenceNumber', 'statusMessage', 'workLocation'];
  const LIMITED_KEYS = ['@odata.context', 'activity', 'availability', 'id', 'statusMessage'];
  const ACTIONS: Array<[string, unknown]> = [
    ['setStatusMessage', { statusMessage: { message: { content: 'hi', contentType: 'text' } } }],
    ['setPresence', { sessionId: APP, availability: 'Available', activity: 'Available' }],
    ['clearPresence', { sessionId: APP }],
    ['setUserPreferredPresence', { availability: 'Busy', activity: 'Busy' }],
    ['clearUserPreferredPresence', {}],
    ['setManualLocation', { workLocationType: 'office' }],
    ['setAutomaticLocation', { workLocationType: 'office' }],
    ['clearAutomaticLocation', undefined],
    ['clearLocation', undefined],
  ];

  function claims(token: string): Record<string, unknown> {
    return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
  }

  const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

  async function post(s: TestServer, url: string, token: string | null, body: unknown) {
    if (body === undefined) return s.inject({ method: 'POST', url, headers: token ? bearer(token) : {} });
    return postJson(s, url, token, body);
  }

  for (const c of CASES) {
    describe(`cloud ${c.name}`, () => {
      let s: TestServer;
      let adele: string;
      let alex: string;
      let app: string;
      /** What a refusal for this cloud says. */
      const notOffered = (version: string) => new RegExp(`${escape(c.displayName)} cloud${version === 'beta' && c.v1 ? '.*/v1\\.0' : ''}`);
      /** The `@odata.context` base: in every cloud the request's own URL (inject: http://localhost:80), where $metadata is. */
      const base = 'http://localhost:80';

      before(async () => {
        s = await startInProcess({ store: backend, cloud: c.name });
        [adele, alex, app] = await Promise.all([s.userToken(ADELE), s.userToken(ALEX), s.appToken()]);
      });
      after(() => s?.close());

      it(`tokens carry the cloud's audience (${c.root}); /_presently/info names the cloud`, async () => {
        for (const token of [adele, app]) {
          const cl = claims(token);
          assert.equal(cl.aud, c.root);
          assert.equal(cl.tid, TENANT);
        }
        const info = (await s.inject({ method: 'GET', url: '/_presently/info' })).json() as { cloud: string };
        assert.equal(info.cloud, c.name);
      });

      // (China serves no presence route to present a token to: see its 404 test.)
      if (c.v1) it('a token for another cloud\'s Graph (signed by this server) is 401 naming the audience; Graph\'s app id as audience is accepted', async () => {
        const other = c.name === 'global' ? 'https://graph.microsoft.us' : 'https://graph.microsoft.com';
        const mint = async (audience: string) =>
          (await s.presently.issuer.issue({ tenantId: TENANT, userId: null, appId: APP, roles: ['Presence.Read.All'], audience })).access_token;
        const foreign = await mint(other);
        const wellKnown = await mint(GRAPH_APP_ID);
        const url = `/v1.0/users/${ADELE}/presence`;
        const res = await getPresence(s, url, foreign);
        const body = assertGraphError(res, 401, 'InvalidAuthenticationToken', /audience/i);
        assert.match(body.error.message, new RegExp(escape(other)));
        assert.match(body.error.message, new RegExp(escape(c.root)));
        assert.equal((await getPresence(s, url, wellKnown)).statusCode, 200);
      });

      if (!c.v1) {
        it('every presence route is 404 naming the cloud, with or without a token, in both versions', async () => {
          for (const version of VERSIONS) {
            for (const token of [adele, app, null]) {
              for (const path of Object.values(addresses(ADELE))) {
                const get = await s.inject({ method: 'GET', url: `/${version}${path}`, headers: token ? bearer(token) : {} });
                assertGraphError(get, 404, 'ResourceNotFound', notOffered(version));
                for (const [action, body] of ACTIONS) {
                  assertGraphError(await post(s, `/${version}${path}/${action}`, token, body), 404, 'ResourceNotFound', notOffered(version));
                }
              }
              const many = await post(s, `/${version}/communications/getPresencesByUserId`, token, { ids: [ADELE] });
              assertGraphError(many, 404, 'ResourceNotFound', notOffered(version));
            }
          }
          // The admin API is still there.
          assert.equal((await s.inject({ method: 'GET', url: '/_presently/health' })).statusCode, 200);
        });
        return;
      }

      it(`v1.0 presence: ${c.limited ? 'only id, availability, activity, statusMessage' : 'the full shape'}, @odata.context on this server's $metadata`, async () => {
        const set = await postJson(s, '/v1.0/me/presence/setStatusMessage', adele, { statusMessage: { message: { content: `Hello from ${c.name}`, contentType: 'text' } } });
        assert.equal(set.statusCode, 200, set.body);
        const sp = await postJson(s, `/v1.0/users/${ADELE}/presence/setPresence`, app, { sessionId: APP, availability: 'Busy', activity: 'InACall', expirationDuration: 'PT1H' });
        assert.equal(sp.statusCode, 200, sp.body);

        const keys = c.limited ? LIMITED_KEYS : FULL_KEYS;
        const own = await readPresence(s, `/v1.0/users/${ADELE}/presence`, adele);
        assert.deepEqual(Object.keys(own).sort(), keys);
        assert.equal(own['@odata.context'], `${base}/v1.0/$metadata#users('${ADELE}')/presence/$entity`);
        assert.deepEqual([own.id, own.availability, own.activity], [ADELE, 'Busy', 'InACall']);
        assert.equal(own.statusMessage?.message.content, `Hello from ${c.name}`);
        assert.match(own.statusMessage?.publishedDateTime ?? '', /Z$/, 'the owner sees publishedDateTime');

        const watcher = await readPresence(s, `/v1.0/communications/presences/${ADELE}`, alex);
        assert.deepEqual(Object.keys(watcher).sort(), keys);
        assert.equal(watcher['@odata.context'], `${base}/v1.0/$metadata#communications/presences/$entity`);
        assert.deepEqual(watcher.statusMessage, { message: { content: `Hello from ${c.name}`, contentType: 'text' } });

        const me = await readPresence(s, '/v1.0/me/presence', alex);
        assert.deepEqual(Object.keys(me).sort(), keys);
        assert.equal(me.availability, 'PresenceUnknown');
      });

      it(`$select: ${c.limited ? 'workLocation and the other left-out properties are 400' : 'any presence property'}`, async () => {
        const sel = await getPresence(s, `/v1.0/users/${ADELE}/presence?$select=availability,statusMessage`, alex);
        assert.equal(sel.statusCode, 200, sel.body);
        const p = sel.json() as Record<string, unknown>;
        assert.deepEqual(Object.keys(p).sort(), ['@odata.context', 'availability', 'id', 'statusMessage']);
        assert.equal(p['@odata.context'], `${base}/v1.0/$metadata#users('${ADELE}')/presence(availability,statusMessage)/$entity`);
        for (const name of ['workLocation', 'outOfOfficeSettings', 'sequenceNumber']) {
          const res = await getPresence(s, `/v1.0/users/${ADELE}/presence?$select=${name}`, alex);
          if (c.limited) assertGraphError(res, 400, 'BadRequest', new RegExp(name));
          else assert.equal(res.statusCode, 200, res.body);
        }
      });

      it(`getPresencesByUserId in v1.0: ${c.limited ? 'the limited shape' : 'the full shape'}, unknown ids too`, async () => {
        const res = await postJson(s, '/v1.0/communications/getPresencesByUserId', app, { ids: [ADELE, NOBODY] });
        assert.equal(res.statusCode, 200, res.body);
        const body = res.json() as { '@odata.context': string; value: Array<Record<string, unknown>> };
        assert.equal(body['@odata.context'], `${base}/v1.0/$metadata#Collection(microsoft.graph.presence)`);
        const keys = (c.limited ? LIMITED_KEYS : FULL_KEYS).filter((k) => k !== '@odata.context');
        for (const item of body.value) assert.deepEqual(Object.keys(item).sort(), keys, JSON.stringify(item));
        assert.deepEqual(body.value.map((p) => [p.id, p.availability]), [[ADELE, 'Busy'], [NOBODY, 'PresenceUnknown']]);
        assert.deepEqual(body.value[0]!.statusMessage, { message: { content: `Hello from ${c.name}`, contentType: 'text' } });
      });

      it(c.beta ? 'beta is served with the full shape' : 'beta is 404 naming the cloud (and pointing at v1.0), at every route', async () => {
        if (c.beta) {
          const p = await readPresence(s, `/beta/users/${ADELE}/presence`, alex);
          assert.deepEqual(Object.keys(p).sort(), FULL_KEYS);
          assert.equal(p['@odata.context'], `${base}/beta/$metadata#users('${ADELE}')/presence/$entity`);
          return;
        }
        for (const token of [adele, app, null]) {
          for (const path of Object.values(addresses(ADELE))) {
            const get = await s.inject({ method: 'GET', url: `/beta${path}`, headers: token ? bearer(token) : {} });
            assertGraphError(get, 404, 'ResourceNotFound', notOffered('beta'));
            for (const [action, body] of ACTIONS) {
              assertGraphError(await post(s, `/beta${path}/${action}`, token, body), 404, 'ResourceNotFound', notOffered('beta'));
            }
          }
          assertGraphError(await post(s, '/beta/communications/getPresencesByUserId', token, { ids: [ADELE] }), 404, 'ResourceNotFound', notOffered('beta'));
        }
      });
    });
  }

  describe('clouds: --public-url wins over the cloud root', () => {
    for (const cloud of ['usgov', 'dod', 'global'] as const) {
      it(`${cloud}: @odata.context uses the public URL (trailing slash dropped); the token audience stays the cloud's`, async () => {
        const s = await startInProcess({ store: backend, cloud, publicUrl: 'https://presence.example.org/' });
        try {
          const alex = await s.userToken(ALEX);
          assert.equal(claims(alex).aud, CASES.find((c) => c.name === cloud)!.root);
          const p = await readPresence(s, `/v1.0/users/${ADELE}/presence?$select=availability`, alex);
          assert.equal(p['@odata.context'], `https://presence.example.org/v1.0/$metadata#users('${ADELE}')/presence(availability)/$entity`);
          const c = await readPresence(s, `/v1.0/communications/presences/${ADELE}`, alex);
          assert.equal(c['@odata.context'], 'https://presence.example.org/v1.0/$metadata#communications/presences/$entity');
          const many = await postJson(s, '/v1.0/communications/getPresencesByUserId', alex, { ids: [ADELE] });
          assert.equal((many.json() as { '@odata.context': string })['@odata.context'], 'https://presence.example.org/v1.0/$metadata#Collection(microsoft.graph.presence)');
          assertBadProperty(await postJson(s, '/v1.0/communications/getPresencesByUserId', alex, { ids: [] }), 'ids');
        } finally {
          await s.close();
        }
      });
    }
  });

  describe('clouds: presently serve --cloud dod --public-url', { timeout: 30_000 }, () => {
    it('the flags reach the server: info, token audience, limited shape, beta 404, context on the public URL', async () => {
      const dir = tempDir();
      const p = await startProcess(['--store', backend, '--data', dir, '--cloud', 'dod', '--public-url', 'https://dod.presence.example/']);
      try {
        const info = (await (await fetch(`${p.url}/_presently/info`)).json()) as { cloud: string };
        assert.equal(info.cloud, 'dod');
        const res = await fetch(`${p.url}/_presently/tokens`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ userId: ALEX }) });
        const token = ((await res.json()) as { access_token: string }).access_token;
        assert.equal(claims(token).aud, 'https://dod-graph.microsoft.us');
        const v1 = await fetch(`${p.url}/v1.0/users/${ADELE}/presence`, { headers: bearer(token) });
        assert.equal(v1.status, 200);
        const body = (await v1.json()) as Record<string, unknown>;
        assert.deepEqual(Object.keys(body).sort(), LIMITED_KEYS);
        assert.equal(body['@odata.context'], `https://dod.presence.example/v1.0/$metadata#users('${ADELE}')/presence/$entity`);
        const beta = await fetch(`${p.url}/beta/users/${ADELE}/presence`, { headers: bearer(token) });
        assert.equal(beta.status, 404);
        assert.match(((await beta.json()) as { error: { message: string } }).error.message, /US Government L5 \(DOD\)/);
      } finally {
        await p.stop();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});
