/**
 * Presence subscriptions over the API (docs/notifications/subscriptions.md): create after a real validation handshake, every body
 * rule, who may subscribe to whom, and read, list, PATCH, DELETE and reauthorize, with the manual clock.
 * Receivers are real HTTP servers on port 0.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate, randomUUID } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import selfsigned from 'selfsigned';
import { startReceiver, type Receiver } from '../kit/receiver.ts';
import { ADELE, ALEX, APP, MEGAN, TENANT, startInProcess, type TestServer } from '../kit/server.ts';
import {
  GUID_RE, assertBadProperty, assertGraphError, assertJsonHeaders, bearer, createUser, mintToken, moveClock,
} from '../kit/graph.ts';
import { VALIDATION_FAILED } from '../../src/subscriptions/handshake.ts';
import { forEachBackend } from '../kit/backends.ts';

forEachBackend(['memory', 'redis'], (backend) => {
  const T0 = Date.parse('2026-11-28T08:00:00Z');
  const MIN = 60_000;
  const HOST = 'presently.test:8080';
  const OTHER_APP = '0d7c6a57-52c4-4bd2-9d5b-4f4e1c8a9a10';

  // ---- A webhook receiver ----



  // ---- Requests ----

  function send(s: TestServer, method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, token: string | null, body?: unknown): Promise<LightMyRequestResponse> {
    return s.inject({
      method,
      url,
      headers: { host: HOST, ...(token ? bearer(token) : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { payload: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
  }

  const iso = (ms: number) => new Date(ms).toISOString();

  type SubscriptionJson = Record<string, unknown> & { id: string; expirationDateTime: string };

  describe('subscriptions: create, validation rules, permissions', () => {
    let s: TestServer;
    let rx: Receiver;
    let adele: string;
    let base: Record<string, unknown>;
    let cert: string;

    before(async () => {
      s = await startInProcess({ store: backend, clock: 'manual', handshakeTimeoutMs: 2_000, maxSubscriptionsPerUser: 1_000 }, { manualStart: T0 });
      rx = await startReceiver();
      adele = await s.userToken(ADELE);
      base = {
        changeType: 'updated',
        notificationUrl: `${rx.url}/hooks/presence`,
        resource: `/communications/presences/${ALEX}`,
        expirationDateTime: iso(T0 + 50 * MIN),
        clientState: 'secretClientValue',
      };
      const pems = await selfsigned.generate([{ name: 'commonName', value: 'receiver' }], {
        keySize: 2048, algorithm: 'sha256',
        notBeforeDate: new Date(T0 - 86_400_000), notAfterDate: new Date(T0 + 365 * 86_400_000),
      });
      cert = new X509Certificate(pems.cert).raw.toString('base64');
    });
    after(async () => {
      await s?.close();
      await rx?.close();
    });

    const create = (body: unknown, token = adele, version = 'v1.0') => send(s, 'POST', `/${version}/subscriptions`, token, body);

    async function created(body: unknown, token = adele, version = 'v1.0'): Promise<SubscriptionJson> {
      const res = await create(body, token, version);
      assert.equal(res.statusCode, 201, res.body);
      assertJsonHeaders(res);
      return res.json() as SubscriptionJson;
    }

    it('201 after the handshake: Graph\'s subscription shape, stored, readable', async () => {
      const before = rx.received.length;
      const sub = await created(base);
      assert.deepEqual(Object.keys(sub), [
        '@odata.context', 'id', 'resource', 'applicationId', 'changeType', 'clientState', 'notificationUrl',
        'notificationQueryOptions', 'lifecycleNotificationUrl', 'expirationDateTime', 'creatorId', 'includeResourceData',
        'latestSupportedTlsVersion', 'encryptionCertificate', 'encryptionCertificateId', 'notificationUrlAppId',
      ], 'v1.0\'s subscription entity: notificationContentType is beta\'s only');
      assert.equal(sub['@odata.context'], `http://${HOST}/v1.0/$metadata#subscriptions/$entity`);
      assert.match(sub.id, GUID_RE);
      assert.deepEqual({ ...sub, '@odata.context': undefined, id: undefined }, {
        '@odata.context': undefined,
        id: undefined,
        resource: `/communications/presences/${ALEX}`,
        applicationId: APP,
        changeType: 'updated',
        clientState: 'secretClientValue',
        notificationUrl: `${rx.url}/hooks/presence`,
        notificationQueryOptions: null,
        lifecycleNotificationUrl: null,
        expirationDateTime: '2026-11-28T08:50:00.0000000Z',
        creatorId: ADELE,
        includeResourceData: false,
        latestSupportedTlsVersion: 'v1_2',
        encryptionCertificate: null,
        encryptionCertificateId: null,
        notificationUrlAppId: null,
      });
      // One handshake POST reached the receiver.
      const hs = rx.received.slice(before);
      assert.equal(hs.length, 1);
      assert.equal(hs[0]!.method, 'POST');
      assert.match(hs[0]!.url, /^\/hooks\/presence\?validationToken=/);
      assert.equal(hs[0]!.headers['content-type'], 'text/plain; charset=utf-8');

      const stored = await s.presently.store.getSubscription(sub.id);
      assert.ok(stored);
      assert.deepEqual(stored.userIds, [ALEX]);
      assert.equal(stored.tenantId, TENANT);
      assert.equal(stored.reauthorizationNotifiedAt, null);
      assert.equal(stored.createdAt, T0);

      const got = await send(s, 'GET', `/v1.0/subscriptions/${sub.id}`, adele);
      assert.equal(got.statusCode, 200, got.body);
      assertJsonHeaders(got);
      assert.deepEqual(got.json(), sub);
    });

    it('beta and case-insensitive paths', async () => {
      const sub = await created(base, adele, 'beta');
      assert.equal(sub['@odata.context'], `http://${HOST}/beta/$metadata#subscriptions/$entity`);
      const res = await send(s, 'POST', '/V1.0/Subscriptions', adele, base);
      assert.equal(res.statusCode, 201, res.body);
      const got = await send(s, 'GET', `/BETA/SUBSCRIPTIONS/${sub.id.toUpperCase()}`, adele);
      assert.equal(got.statusCode, 200, got.body);
    });

    describe('resource', () => {
      const watched = async (resource: string) => {
        const sub = await created({ ...base, resource });
        assert.equal(sub.resource, resource, 'echoed as sent');
        return (await s.presently.store.getSubscription(sub.id))!.userIds;
      };

      it('/communications/presences/{id}, leading slash optional, any case', async () => {
        assert.deepEqual(await watched(`/communications/presences/${ALEX}`), [ALEX]);
        assert.deepEqual(await watched(`communications/presences/${ALEX.toUpperCase()}`), [ALEX]);
        assert.deepEqual(await watched(`/Communications/Presences/${ALEX}`), [ALEX]);
      });

      it("$filter=id in ('…','…'): spaces, case, duplicates, percent-encoding", async () => {
        assert.deepEqual(await watched(`/communications/presences?$filter=id in ('${ADELE}','${ALEX}')`), [ADELE, ALEX]);
        assert.deepEqual(await watched(`communications/presences?$filter=id in ('${ALEX}')`), [ALEX]);
        assert.deepEqual(await watched(`/communications/presences?$FILTER= ID  IN ( '${ALEX}' , '${MEGAN.toUpperCase()}' , '${ALEX}' ) `), [ALEX, MEGAN]);
        assert.deepEqual(await watched(`/communications/presences?%24filter=id%20in%20('${ADELE}')`), [ADELE]);
      });

      it('650 ids are allowed, 651 are a 400', async () => {
        const list = (n: number) => Array.from({ length: n }, () => `'${ALEX}'`).join(',');
        assert.deepEqual(await watched(`/communications/presences?$filter=id in (${list(650)})`), [ALEX]);
        assertGraphError(await create({ ...base, resource: `/communications/presences?$filter=id in (${list(651)})` }),
          400, 'BadRequest', "Property 'resource' names 651 ids; the limit is 650.");
      });

      for (const [name, resource] of [
        ['missing', undefined],
        ['not a string', 42],
        ['another resource', `/users/${ALEX}/presence`],
        ['presences without a filter', '/communications/presences'],
        ['double quotes', `/communications/presences?$filter=id in ("${ALEX}")`],
        ['unquoted id', `/communications/presences?$filter=id in (${ALEX})`],
        ['not a GUID', "/communications/presences/not-a-guid"],
        ['a GUID too many characters', `/communications/presences?$filter=id in ('${ALEX}x')`],
        ['empty list', '/communications/presences?$filter=id in ()'],
        ['eq instead of in', `/communications/presences?$filter=id eq '${ALEX}'`],
        ['another query option', `/communications/presences?$select=id&$filter=id in ('${ALEX}')`],
        ['a query on a single presence', `/communications/presences/${ALEX}?$filter=id in ('${ALEX}')`],
        ['deeper path', `/communications/presences/${ALEX}/setPresence`],
      ] as const) {
        it(`400 naming 'resource': ${name}`, async () => {
          assertBadProperty(await create({ ...base, resource }), 'resource');
        });
      }

      it('a user of another tenant, or no user at all: 400 naming the id', async () => {
        const otherTenant = randomUUID();
        const stranger = await createUser(s, otherTenant, { userPrincipalName: `stranger@${otherTenant.slice(0, 8)}.example` });
        const res = await create({ ...base, resource: `/communications/presences?$filter=id in ('${ALEX}','${stranger}')` });
        assertGraphError(res, 400, 'BadRequest', new RegExp(`'${stranger}'.*not a user of the caller's tenant`));
        const nobody = randomUUID();
        assertGraphError(await create({ ...base, resource: `/communications/presences/${nobody}` }), 400, 'BadRequest', new RegExp(nobody));
      });
    });

    describe('changeType', () => {
      it("'updated' only", async () => {
        await created({ ...base, changeType: 'updated' });
        for (const changeType of ['created', 'created,updated', 'deleted', '', 5, undefined]) {
          assertBadProperty(await create({ ...base, changeType }), 'changeType');
        }
      });
    });

    describe('expirationDateTime (manual clock)', () => {
      it('60 minutes ahead is allowed; a minute more is a 400', async () => {
        const sub = await created({ ...base, expirationDateTime: iso(T0 + 60 * MIN) });
        assert.equal(sub.expirationDateTime, '2026-11-28T09:00:00.0000000Z');
        const res = await create({ ...base, expirationDateTime: iso(T0 + 60 * MIN + 1) });
        assertGraphError(res, 400, 'BadRequest', /60 minutes in the future.*'expirationDateTime'/);
        assertBadProperty(await create({ ...base, expirationDateTime: iso(T0 + 3 * 24 * 60 * MIN) }), 'expirationDateTime');
      });

      it('under 45 minutes ahead is raised to 45 minutes', async () => {
        const sub = await created({ ...base, expirationDateTime: iso(T0 + 5 * MIN) });
        assert.equal(sub.expirationDateTime, '2026-11-28T08:45:00.0000000Z');
        const exact = await created({ ...base, expirationDateTime: '2026-11-28T08:45:00.0000001Z' });
        assert.equal(exact.expirationDateTime, '2026-11-28T08:45:00.0000000Z');
      });

      it('offsets and 7 fractional digits are read as instants', async () => {
        const sub = await created({ ...base, expirationDateTime: '2026-11-28T09:50:00.0000000+01:00' });
        assert.equal(sub.expirationDateTime, '2026-11-28T08:50:00.0000000Z');
      });

      it('now, the past, no zone, not a date, not a string, missing: 400', async () => {
        for (const expirationDateTime of [iso(T0), iso(T0 - MIN), '2026-11-28T08:50:00', 'tomorrow', 1_800_000_000_000, undefined, null]) {
          assertBadProperty(await create({ ...base, expirationDateTime }), 'expirationDateTime');
        }
      });

      it('follows the clock', async () => {
        await moveClock(s, { advance: 'PT30M' }); // tokens minted at T0 last an hour
        const sub = await created({ ...base, expirationDateTime: iso(T0 + 80 * MIN) });
        assert.equal(sub.expirationDateTime, '2026-11-28T09:20:00.0000000Z');
        assertBadProperty(await create({ ...base, expirationDateTime: iso(T0 + 20 * MIN) }), 'expirationDateTime');
        assertBadProperty(await create({ ...base, expirationDateTime: iso(T0 + 91 * MIN) }), 'expirationDateTime');
        const raised = await created({ ...base, expirationDateTime: iso(T0 + 50 * MIN) });
        assert.equal(raised.expirationDateTime, '2026-11-28T09:15:00.0000000Z');
        base.expirationDateTime = iso(T0 + 80 * MIN);
      });
    });

    describe('other properties', () => {
      it('clientState: at most 128 characters; optional', async () => {
        assert.equal((await created({ ...base, clientState: 'x'.repeat(128) })).clientState, 'x'.repeat(128));
        assertGraphError(await create({ ...base, clientState: 'x'.repeat(129) }), 400, 'BadRequest',
          "Property 'clientState' is 129 characters long; the limit is 128.");
        const { clientState: _, ...rest } = base;
        assert.equal((await created(rest)).clientState, null);
      });

      it('includeResourceData: needs a valid encryptionCertificate and an encryptionCertificateId (≤ 128)', async () => {
        const rich = { ...base, includeResourceData: true, encryptionCertificate: cert, encryptionCertificateId: 'my-cert-1' };
        const sub = await created(rich);
        assert.equal(sub.includeResourceData, true);
        assert.equal(sub.encryptionCertificate, cert);
        assert.equal(sub.encryptionCertificateId, 'my-cert-1');

        assertBadProperty(await create({ ...rich, encryptionCertificate: undefined }), 'encryptionCertificate');
        assertBadProperty(await create({ ...rich, encryptionCertificate: '' }), 'encryptionCertificate');
        assertBadProperty(await create({ ...rich, encryptionCertificateId: undefined }), 'encryptionCertificateId');
        assertBadProperty(await create({ ...rich, encryptionCertificateId: 'i'.repeat(129) }), 'encryptionCertificateId');
        assertGraphError(await create({ ...rich, encryptionCertificate: 'bm90IGEgY2VydGlmaWNhdGU=' }), 400, 'BadRequest', /encryptionCertificate/);
        assertBadProperty(await create({ ...base, includeResourceData: 'yes' }), 'includeResourceData');
      });

      it('latestSupportedTlsVersion: v1_0..v1_3, default v1_2; notificationContentType: application/json', async () => {
        assert.equal((await created({ ...base, latestSupportedTlsVersion: 'v1_3' })).latestSupportedTlsVersion, 'v1_3');
        assert.equal((await created({ ...base, latestSupportedTlsVersion: 'v1_0' })).latestSupportedTlsVersion, 'v1_0');
        assertBadProperty(await create({ ...base, latestSupportedTlsVersion: 'v2_0' }), 'latestSupportedTlsVersion');
        // Accepted in a request under v1.0 too; answered only under beta, whose entity declares it.
        const withType = await created({ ...base, notificationContentType: 'application/json' });
        assert.equal('notificationContentType' in withType, false);
        assertBadProperty(await create({ ...base, notificationContentType: 'text/xml' }), 'notificationContentType');
      });

      it('notificationUrl: required, an absolute URL', async () => {
        for (const notificationUrl of [undefined, '', 'hooks/presence', 'ftp://127.0.0.1/x', 'http://user:pw@127.0.0.1/x', 7]) {
          assertBadProperty(await create({ ...base, notificationUrl }), 'notificationUrl');
        }
      });

      it('unknown properties are a 400 naming them; @odata.type is fine; read-only ones are refused', async () => {
        await created({ '@odata.type': '#microsoft.graph.subscription', ...base, notificationQueryOptions: null });
        assertGraphError(await create({ ...base, colour: 'blue' }), 400, 'BadRequest',
          "The property 'colour' does not exist on type 'microsoft.graph.subscription'. Make sure to only use property names that are defined by the type.");
        assertBadProperty(await create({ ...base, id: randomUUID() }), 'id');
        assertBadProperty(await create({ ...base, creatorId: ALEX }), 'creatorId');
        assertBadProperty(await create({ ...base, notificationQueryOptions: '$select=id' }), 'notificationQueryOptions');
        assertGraphError(await create([base]), 400, 'BadRequest');
        assertGraphError(await create(undefined), 400, 'BadRequest');
      });
    });

    describe('permissions', () => {
      it('no token: 401', async () => {
        assertGraphError(await create(base, ''), 401, 'InvalidAuthenticationToken');
      });

      it('application tokens: 403 with a clear message', async () => {
        const app = await s.appToken(['Presence.Read.All', 'Presence.ReadWrite.All']);
        const res = await create(base, app);
        assertGraphError(res, 403, 'Forbidden', /application permissions are not supported/);
        assertGraphError(await send(s, 'GET', '/v1.0/subscriptions', app), 403, 'Forbidden');
      });

      it('delegated without Presence.Read.All: 403', async () => {
        for (const scopes of [['Presence.Read'], ['Presence.ReadWrite']]) {
          const token = await s.userToken(ADELE, scopes);
          assertGraphError(await create(base, token), 403, 'Forbidden', /Presence\.Read\.All/);
        }
        await created(base, await s.userToken(ADELE, ['presence.read.all']));
      });

      it('the check comes before the handshake: nothing is called for a refused request', async () => {
        const n = rx.received.length;
        await create(base, await s.appToken());
        await create({ ...base, changeType: 'created' });
        assert.equal(rx.received.length, n);
      });
    });
  });

  describe('subscriptions: read, list, PATCH, DELETE, reauthorize', () => {
    let s: TestServer;
    let rx: Receiver;
    let tokens: { adele: string; alex: string; adeleOtherApp: string };
    let base: Record<string, unknown>;

    before(async () => {
      s = await startInProcess({ store: backend, clock: 'manual', handshakeTimeoutMs: 2_000, maxSubscriptionsPerUser: 1_000 }, { manualStart: T0 });
      rx = await startReceiver();
      tokens = {
        adele: await s.userToken(ADELE),
        alex: await s.userToken(ALEX),
        adeleOtherApp: await mintToken(s, { userId: ADELE, appId: OTHER_APP }),
      };
      base = {
        changeType: 'updated',
        notificationUrl: `${rx.url}/hooks`,
        resource: `/communications/presences?$filter=id in ('${ALEX}','${MEGAN}')`,
        expirationDateTime: iso(T0 + 50 * MIN),
        clientState: 'secret',
      };
    });
    after(async () => {
      await s?.close();
      await rx?.close();
    });

    async function createAs(token: string, body: Record<string, unknown> = base): Promise<SubscriptionJson> {
      const res = await send(s, 'POST', '/v1.0/subscriptions', token, body);
      assert.equal(res.statusCode, 201, res.body);
      return res.json() as SubscriptionJson;
    }

    const notFound = (res: LightMyRequestResponse) => assertGraphError(res, 404, 'ResourceNotFound', /subscription '.*' was not found/);

    it('GET /subscriptions lists the caller\'s app\'s subscriptions for the caller, clientState null', async () => {
      const mine = [await createAs(tokens.adele), await createAs(tokens.adele)];
      const alexs = await createAs(tokens.alex);
      const otherApps = await createAs(tokens.adeleOtherApp);

      const res = await send(s, 'GET', '/v1.0/subscriptions', tokens.adele);
      assert.equal(res.statusCode, 200, res.body);
      assertJsonHeaders(res);
      const list = res.json() as { '@odata.context': string; value: SubscriptionJson[] };
      assert.deepEqual(Object.keys(list), ['@odata.context', 'value']);
      assert.equal(list['@odata.context'], `http://${HOST}/v1.0/$metadata#subscriptions`);
      // Oldest first; created at the same (manual) instant, they are ordered by id.
      mine.sort((a, b) => a.id.localeCompare(b.id));
      assert.deepEqual(list.value.map((v) => v.id), mine.map((m) => m.id));
      for (const [i, item] of list.value.entries()) {
        const { '@odata.context': _context, ...entity } = mine[i]!;
        assert.deepEqual(item, { ...entity, clientState: null });
      }
      const forAlex = (await send(s, 'GET', '/beta/subscriptions', tokens.alex)).json() as { value: SubscriptionJson[] };
      assert.deepEqual(forAlex.value.map((v) => v.id), [alexs.id]);
      const forOtherApp = (await send(s, 'GET', '/v1.0/subscriptions', tokens.adeleOtherApp)).json() as { value: SubscriptionJson[] };
      assert.deepEqual(forOtherApp.value.map((v) => v.id), [otherApps.id]);
    });

    it('another user\'s or another app\'s subscription is a 404 for GET, PATCH, DELETE and reauthorize', async () => {
      const sub = await createAs(tokens.adele);
      for (const token of [tokens.alex, tokens.adeleOtherApp]) {
        notFound(await send(s, 'GET', `/v1.0/subscriptions/${sub.id}`, token));
        notFound(await send(s, 'PATCH', `/v1.0/subscriptions/${sub.id}`, token, { expirationDateTime: iso(T0 + 55 * MIN) }));
        notFound(await send(s, 'DELETE', `/v1.0/subscriptions/${sub.id}`, token));
        notFound(await send(s, 'POST', `/v1.0/subscriptions/${sub.id}/reauthorize`, token));
      }
      assert.equal((await send(s, 'GET', `/v1.0/subscriptions/${sub.id}`, tokens.adele)).statusCode, 200);
    });

    it('an unknown or malformed id is a 404', async () => {
      notFound(await send(s, 'GET', `/v1.0/subscriptions/${randomUUID()}`, tokens.adele));
      notFound(await send(s, 'GET', '/v1.0/subscriptions/not-a-guid', tokens.adele));
    });

    it('PATCH expirationDateTime: 200 with the new expiry (45/60-minute rules); clears reauthorizationNotifiedAt', async () => {
      const sub = await createAs(tokens.adele);
      const stored = (await s.presently.store.getSubscription(sub.id))!;
      await s.presently.store.putSubscription({ ...stored, reauthorizationNotifiedAt: T0 });

      const res = await send(s, 'PATCH', `/v1.0/subscriptions/${sub.id}`, tokens.adele, { expirationDateTime: iso(T0 + 58 * MIN) });
      assert.equal(res.statusCode, 200, res.body);
      assertJsonHeaders(res);
      const patched = res.json() as SubscriptionJson;
      assert.equal(patched['@odata.context'], `http://${HOST}/v1.0/$metadata#subscriptions/$entity`);
      assert.equal(patched.expirationDateTime, '2026-11-28T08:58:00.0000000Z');
      assert.equal(patched.clientState, 'secret');
      assert.equal((await s.presently.store.getSubscription(sub.id))!.reauthorizationNotifiedAt, null);

      const raised = (await send(s, 'PATCH', `/v1.0/subscriptions/${sub.id}`, tokens.adele, { expirationDateTime: iso(T0 + MIN) })).json() as SubscriptionJson;
      assert.equal(raised.expirationDateTime, '2026-11-28T08:45:00.0000000Z');
      assertBadProperty(await send(s, 'PATCH', `/v1.0/subscriptions/${sub.id}`, tokens.adele, { expirationDateTime: iso(T0 + 61 * MIN) }), 'expirationDateTime');
      assertBadProperty(await send(s, 'PATCH', `/v1.0/subscriptions/${sub.id}`, tokens.adele, { expirationDateTime: iso(T0 - MIN) }), 'expirationDateTime');
    });

    it('PATCH other properties: 400 naming them; adding lifecycleNotificationUrl: 400', async () => {
      const sub = await createAs(tokens.adele);
      const url = `/v1.0/subscriptions/${sub.id}`;
      for (const [key, value] of [
        ['clientState', 'other'], ['resource', `/communications/presences/${ADELE}`], ['changeType', 'updated'],
        ['includeResourceData', true], ['latestSupportedTlsVersion', 'v1_3'], ['id', sub.id], ['applicationId', APP],
      ] as const) {
        assertBadProperty(await send(s, 'PATCH', url, tokens.adele, { [key]: value }), key);
      }
      assertBadProperty(await send(s, 'PATCH', url, tokens.adele, { nonsense: 1 }), 'nonsense');
      const n = rx.received.length;
      assertGraphError(await send(s, 'PATCH', url, tokens.adele, { lifecycleNotificationUrl: `${rx.url}/lifecycle` }), 400, 'BadRequest',
        /'lifecycleNotificationUrl' can only be added when a subscription is created/);
      assert.equal(rx.received.length, n, 'no handshake for a refused PATCH');
    });

    it('PATCH notificationUrl: validated by a handshake to the new URL; a failed one changes nothing', async () => {
      const sub = await createAs(tokens.adele);
      const url = `/v1.0/subscriptions/${sub.id}`;
      const rx2 = await startReceiver();
      const bad = await startReceiver((_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('nope'));
      try {
        const res = await send(s, 'PATCH', url, tokens.adele, { notificationUrl: `${rx2.url}/moved`, expirationDateTime: iso(T0 + 59 * MIN) });
        assert.equal(res.statusCode, 200, res.body);
        const patched = res.json() as SubscriptionJson;
        assert.equal(patched.notificationUrl, `${rx2.url}/moved`);
        assert.equal(patched.expirationDateTime, '2026-11-28T08:59:00.0000000Z');
        assert.equal(rx2.received.length, 1);
        assert.match(rx2.received[0]!.url, /^\/moved\?validationToken=/);

        assertGraphError(await send(s, 'PATCH', url, tokens.adele, { notificationUrl: `${bad.url}/x`, expirationDateTime: iso(T0 + 46 * MIN) }),
          400, 'ValidationError', VALIDATION_FAILED);
        const after = (await send(s, 'GET', url, tokens.adele)).json() as SubscriptionJson;
        assert.equal(after.notificationUrl, `${rx2.url}/moved`);
        assert.equal(after.expirationDateTime, '2026-11-28T08:59:00.0000000Z');
        assertBadProperty(await send(s, 'PATCH', url, tokens.adele, { notificationUrl: 'http://example.com/hook' }), 'notificationUrl');
      } finally {
        await rx2.close();
        await bad.close();
      }
    });

    it('PATCH may change an existing lifecycleNotificationUrl (handshake), not remove it', async () => {
      const sub = await createAs(tokens.adele, { ...base, lifecycleNotificationUrl: `${rx.url}/lifecycle` });
      const url = `/v1.0/subscriptions/${sub.id}`;
      const res = await send(s, 'PATCH', url, tokens.adele, { lifecycleNotificationUrl: `${rx.url}/lifecycle2` });
      assert.equal(res.statusCode, 200, res.body);
      assert.equal((res.json() as SubscriptionJson).lifecycleNotificationUrl, `${rx.url}/lifecycle2`);
      assert.match(rx.received.at(-1)!.url, /^\/lifecycle2\?validationToken=/);
      assertBadProperty(await send(s, 'PATCH', url, tokens.adele, { lifecycleNotificationUrl: null }), 'lifecycleNotificationUrl');
    });

    it('PATCH with an empty body changes nothing', async () => {
      const sub = await createAs(tokens.adele);
      const res = await send(s, 'PATCH', `/v1.0/subscriptions/${sub.id}`, tokens.adele, {});
      assert.equal(res.statusCode, 200, res.body);
      assert.deepEqual(res.json(), sub);
    });

    it('reauthorize: 204, clears reauthorizationNotifiedAt', async () => {
      const sub = await createAs(tokens.adele);
      const stored = (await s.presently.store.getSubscription(sub.id))!;
      await s.presently.store.putSubscription({ ...stored, reauthorizationNotifiedAt: T0 });
      const res = await send(s, 'POST', `/v1.0/subscriptions/${sub.id}/reauthorize`, tokens.adele);
      assert.equal(res.statusCode, 204, res.body);
      assert.equal(res.body, '');
      const after = (await s.presently.store.getSubscription(sub.id))!;
      assert.equal(after.reauthorizationNotifiedAt, null);
      assert.equal(after.expiresAt, stored.expiresAt, 'the expiry is unchanged');
      assert.equal((await send(s, 'POST', `/beta/subscriptions/${sub.id}/Reauthorize`, tokens.adele, {})).statusCode, 204);
    });

    it('DELETE: 204, then 404', async () => {
      const sub = await createAs(tokens.adele);
      const url = `/v1.0/subscriptions/${sub.id}`;
      const res = await send(s, 'DELETE', url, tokens.adele);
      assert.equal(res.statusCode, 204, res.body);
      assert.equal(await s.presently.store.getSubscription(sub.id), null);
      notFound(await send(s, 'GET', url, tokens.adele));
      notFound(await send(s, 'DELETE', url, tokens.adele));
      const list = (await send(s, 'GET', '/v1.0/subscriptions', tokens.adele)).json() as { value: SubscriptionJson[] };
      assert.ok(!list.value.some((v) => v.id === sub.id));
    });

    it('405 for other methods', async () => {
      const res = await send(s, 'PUT' as 'POST', '/v1.0/subscriptions', tokens.adele, base);
      assertGraphError(res, 405, 'MethodNotAllowed');
    });

    it('an expired subscription answers 404 and leaves the list (last: moves the clock)', async () => {
      const sub = await createAs(tokens.adele, { ...base, expirationDateTime: iso(T0 + 50 * MIN) });
      const url = `/v1.0/subscriptions/${sub.id}`;
      await moveClock(s, { now: '2026-11-28T08:49:59.999Z' });
      assert.equal((await send(s, 'GET', url, tokens.adele)).statusCode, 200);
      await moveClock(s, { now: '2026-11-28T08:50:00Z' });
      // Tokens were minted at T0 for an hour: still valid.
      notFound(await send(s, 'GET', url, tokens.adele));
      notFound(await send(s, 'PATCH', url, tokens.adele, { expirationDateTime: iso(T0 + 100 * MIN) }));
      notFound(await send(s, 'POST', `${url}/reauthorize`, tokens.adele));
      const list = (await send(s, 'GET', '/v1.0/subscriptions', tokens.adele)).json() as { value: SubscriptionJson[] };
      assert.ok(!list.value.some((v) => v.id === sub.id));
    });
  });
});
