/**
 * End to end with the official `@microsoft/microsoft-graph-client` v3 against a real `presently serve --https`.
 *
 * TLS trust: the SDK calls run in a child process (graph-client-v3.worker.ts) started with
 * `NODE_EXTRA_CA_CERTS=<the dev certificate Presently made and printed>` — see that file for why this is the
 * cleanest way on Node 20. This file starts the server, starts the worker, and asserts on what the SDK returned or
 * threw, as a user of the SDK would see it.
 */
import assert from 'node:assert/strict';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ADELE, ALEX, APP, startProcess, tempDir, type ServerProcess } from '../kit/server.ts';
import type { SdkAuth, SdkCall, SdkError, SdkOutcome } from './graph-client-v3.worker.ts';
import { WorkerHost, certificatePath } from '../kit/sdkWorker.ts';
import { forEachBackend } from '../kit/backends.ts';
import type { PresenceJson } from '../kit/graph.ts';

forEachBackend(['memory', 'redis'], (backend) => {
  const WORKER = new URL('./graph-client-v3.worker.ts', import.meta.url).pathname;

  const AS_ADELE: SdkAuth = { userId: ADELE };
  const AS_ALEX: SdkAuth = { userId: ALEX };
  /** An app token for the dev app (its id is the sessionId of Graph's setPresence example). */
  const AS_APP: SdkAuth = { roles: ['Presence.ReadWrite.All'] };

  /** The three request/response bodies of the seed page (docs/api/status-message.md#graphs-examples), as printed there. */
  const EXAMPLE_1 = {
    statusMessage: {
      message: {
        content: "Hey I'm currently in a meeting.",
        contentType: 'text',
      },
      expiryDateTime: {
        dateTime: '2022-10-18T17:05:33.2079781',
        timeZone: 'Pacific Standard Time',
      },
    },
  };
  const EXAMPLE_2 = {
    statusMessage: {
      message: {
        content: 'Hey I am available now',
        contentType: 'text',
      },
    },
  };
  const EXAMPLE_3_RESPONSE = {
    id: 'fa8bf3dc-eca7-46b7-bad1-db199b62afc3',
    availability: 'Available',
    activity: 'Available',
    outOfOfficeSettings: {
      message: null,
      isOutOfOffice: false,
    },
    statusMessage: {
      message: {
        content: 'Hey I am available now',
        contentType: 'text',
      },
    },
  };

  type Presence = PresenceJson & Record<string, unknown>;

  /** Drives the worker: one SDK call per message. */
  class SdkWorker extends WorkerHost<SdkCall, SdkOutcome> {
    static async start(url: string, certPath: string): Promise<SdkWorker> {
      const worker = new SdkWorker(await WorkerHost.fork(WORKER, url, certPath));
      await worker.ready();
      return worker;
    }

    /** The call must succeed; returns the SDK's value. */
    async ok<T = unknown>(call: SdkCall): Promise<T> {
      const o = await this.call(call);
      if (!o.ok) assert.fail(`${call.method.toUpperCase()} ${call.path} failed in the SDK: ${JSON.stringify(o.error)}`);
      return o.value as T;
    }

    /** The call must fail; returns what the SDK threw. */
    async fails(call: SdkCall): Promise<SdkError> {
      const o = await this.call(call);
      if (o.ok) assert.fail(`${call.method.toUpperCase()} ${call.path} succeeded but should have failed: ${JSON.stringify(o.value)}`);
      return o.error;
    }
  }

  /**
   * A successful empty-bodied 200 as graph-client v3 resolves it: the (empty) response stream. (Were the server to
   * label an empty 200 `application/json`, the SDK would throw a JSON SyntaxError here instead.)
   */
  function assertEmptyOk(value: unknown): void {
    assert.deepEqual(value, { streamText: '' });
  }

  let server: ServerProcess;
  let worker: SdkWorker;
  let dataDir: string;
  let certPath: string;
  /** Adele's availability and activity: she has a live Available session from `before` (docs/api/sessions.md). */
  const adeleAvailability = 'Available';

  before(async () => {
    dataDir = tempDir();
    server = await startProcess(['--https', '--data', dataDir, '--store', backend]);
    certPath = await certificatePath(server);
    worker = await SdkWorker.start(server.url, certPath);

    // Example 3 shows Adele Available/Available, which needs a live session: give her one the way Graph's own
    // setPresence example does (the dev app's id is that example's sessionId).
    assertEmptyOk(await worker.ok({
      auth: AS_APP, method: 'post', path: `/users/${ADELE}/presence/setPresence`,
      body: { sessionId: APP, availability: 'Available', activity: 'Available', expirationDuration: 'PT1H' },
    }));
  });

  after(async () => {
    worker?.close();
    await server?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  describe('graph-client v3 over https', () => {
    test('the server speaks real TLS with its printed self-signed localhost certificate', async () => {
      assert.match(server.url, /^https:\/\/127\.0\.0\.1:\d+$/);
      assert.equal(certPath, join(dataDir, 'dev-cert.pem'));
      assert.ok(existsSync(certPath));
      // This process does not trust the certificate: the handshake must be refused, so the worker's success below
      // comes from NODE_EXTRA_CA_CERTS and not from verification being off.
      await assert.rejects(fetch(`${server.url}/_presently/health`), (err: Error & { cause?: { code?: string } }) => {
        assert.equal(err.cause?.code, 'DEPTH_ZERO_SELF_SIGNED_CERT');
        return true;
      });
    });

    test("the seed page's three examples work as written; Example 3 shows the message without expiry or publish time", async () => {
      // Example 1 (Adele, her own presence): 200 although the 2022 expiry is long past — the message is expired at once.
      assertEmptyOk(await worker.ok({ auth: AS_ADELE, method: 'post', path: `/users/${ADELE}/presence/setStatusMessage`, body: EXAMPLE_1 }));
      const afterExample1 = await worker.ok<Presence>({ auth: AS_ADELE, method: 'get', path: `/users/${ADELE}/presence` });
      assert.equal(afterExample1.statusMessage, null);

      // Example 2 ("set status message of another user": an application with Presence.ReadWrite.All).
      assertEmptyOk(await worker.ok({ auth: AS_APP, method: 'post', path: `/users/${ADELE}/presence/setStatusMessage`, body: EXAMPLE_2 }));

      // Example 3: Alex reads Adele's presence.
      const seen = await worker.ok<Presence>({ auth: AS_ALEX, method: 'get', path: `/users/${ADELE}/presence` });
      for (const [key, expected] of Object.entries(EXAMPLE_3_RESPONSE)) {
        if (key === 'availability' || key === 'activity') assert.equal(seen[key], adeleAvailability, key);
        else assert.deepEqual(seen[key], expected, `Example 3 field '${key}'`);
      }
      // The privacy rule: no expiryDateTime / publishedDateTime for someone else.
      assert.deepEqual(Object.keys(seen.statusMessage!), ['message']);
      assert.equal(seen['@odata.context'], `${server.url}/beta/$metadata#users('${ADELE}')/presence/$entity`);
    });

    test('Example 3 field for field, Available/Available from a live session', async () => {
      const seen = await worker.ok<Presence>({ auth: AS_ALEX, method: 'get', path: `/users/${ADELE}/presence` });
      for (const [key, expected] of Object.entries(EXAMPLE_3_RESPONSE)) assert.deepEqual(seen[key], expected, `Example 3 field '${key}'`);
    });

    test('/me/presence: the owner sees her message with its publishedDateTime', async () => {
      const me = await worker.ok<Presence>({ auth: AS_ADELE, method: 'get', path: '/me/presence' });
      assert.equal(me.id, ADELE);
      assert.equal(me.availability, adeleAvailability);
      assert.deepEqual(me.statusMessage?.message, EXAMPLE_2.statusMessage.message);
      assert.match(me.statusMessage?.publishedDateTime ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z$/);
      assert.ok(Math.abs(Date.parse(me.statusMessage!.publishedDateTime!) - Date.now()) < 60_000, 'published just now');
      assert.equal(me.statusMessage?.expiryDateTime, undefined, 'Example 2 set no expiry');
    });

    test(".version('v1.0'): write and read through v1.0; the expiry reads back as sent, 7 fractional digits", async () => {
      const next = new Date().getUTCFullYear() + 1;
      assertEmptyOk(await worker.ok({
        auth: AS_ADELE, method: 'post', version: 'v1.0', path: '/me/presence/setStatusMessage',
        body: { statusMessage: { message: { content: 'Lunch in Berlin', contentType: 'text' }, expiryDateTime: { dateTime: `${next}-03-10T13:30:00`, timeZone: 'W. Europe Standard Time' } } },
      }));
      const own = await worker.ok<Presence>({ auth: AS_ADELE, method: 'get', version: 'v1.0', path: `/users/${ADELE}/presence` });
      assert.equal(own['@odata.context'], `${server.url}/v1.0/$metadata#users('${ADELE}')/presence/$entity`);
      assert.deepEqual(own.statusMessage?.expiryDateTime, { dateTime: `${next}-03-10T13:30:00.0000000`, timeZone: 'W. Europe Standard Time' });
      const watcher = await worker.ok<Presence>({ auth: AS_ALEX, method: 'get', version: 'v1.0', path: `/users/${ADELE}/presence` });
      assert.deepEqual(watcher.statusMessage, { message: { content: 'Lunch in Berlin', contentType: 'text' } });
    });

    test('/communications/getPresencesByUserId: request order kept, privacy rule per item', async () => {
      const res = await worker.ok<{ '@odata.context': string; value: Presence[] }>({
        auth: AS_ALEX, method: 'post', path: '/communications/getPresencesByUserId', body: { ids: [ADELE, ALEX] },
      });
      assert.equal(res['@odata.context'], `${server.url}/beta/$metadata#Collection(microsoft.graph.presence)`);
      assert.deepEqual(res.value.map((p) => p.id), [ADELE, ALEX]);
      const [adele, alex] = res.value;
      assert.equal(adele!.availability, adeleAvailability);
      assert.deepEqual(adele!.statusMessage, { message: { content: 'Lunch in Berlin', contentType: 'text' } });
      assert.equal(alex!.availability, 'PresenceUnknown', 'Alex never had a session');
    });

    test('$select via .select([...]) returns only id and the selected properties', async () => {
      const p = await worker.ok<Presence>({ auth: AS_ALEX, method: 'get', path: `/users/${ADELE}/presence`, select: ['availability', 'activity'] });
      assert.deepEqual(Object.keys(p).sort(), ['@odata.context', 'activity', 'availability', 'id']);
      assert.deepEqual([p.id, p.availability, p.activity], [ADELE, adeleAvailability, adeleAvailability]);
      assert.ok(String(p['@odata.context']).endsWith('/presence(availability,activity)/$entity'), String(p['@odata.context']));
    });

    test('a Graph error surfaces as a GraphError with the status, code, message and request id; nothing is stored', async () => {
      const err = await worker.fails({
        auth: AS_ADELE, method: 'post', path: '/me/presence/setStatusMessage',
        body: { statusMessage: { message: { content: '<b>bold</b>', contentType: 'html' } } },
      });
      assert.equal(err.isGraphError, true, `threw ${err.name}: ${err.message}`);
      assert.equal(err.name, 'GraphError');
      assert.equal(err.statusCode, 400);
      assert.equal(err.code, 'BadRequest');
      assert.match(err.message, /contentType/);
      assert.match(err.message, /html/);
      assert.match(err.message, /text/);
      assert.match(err.requestId ?? '', /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      assert.equal(err.requestId, err.headers?.['request-id']);
      assert.ok(err.date instanceof Date && !Number.isNaN(err.date.getTime()), 'innerError.date parses as a date');

      const me = await worker.ok<Presence>({ auth: AS_ADELE, method: 'get', path: '/me/presence' });
      assert.equal(me.statusMessage?.message.content, 'Lunch in Berlin');
    });

    test('another user may not set my message: 403 GraphError', async () => {
      const err = await worker.fails({ auth: AS_ALEX, method: 'post', path: `/users/${ADELE}/presence/setStatusMessage`, body: EXAMPLE_2 });
      assert.equal(err.statusCode, 403);
      assert.equal(err.code, 'Forbidden');
      assert.match(err.message, /Cannot set the presence of another user/);
    });

    test('401 without a token: forgetting customHosts makes the SDK drop the Authorization header', async () => {
      const err = await worker.fails({ auth: AS_ADELE, customHosts: false, method: 'get', path: '/me/presence' });
      assert.equal(err.isGraphError, true);
      assert.equal(err.statusCode, 401);
      assert.equal(err.code, 'InvalidAuthenticationToken');
      assert.equal(err.message, 'Access token is empty.');
      assert.equal(err.requestId, err.headers?.['request-id']);
    });
  });

  describe('graph-client v3: sessions, preferred presence and work location', () => {
    const MEGAN = '48d31887-5fad-4d73-a9f5-3c356e68a038';
    const TEAMS = '1fec8e78-bce4-4aaf-ab1b-5451cc387264';
    /** An app token for another application, with its own session. */
    const AS_TEAMS: SdkAuth = { roles: ['Presence.ReadWrite.All'], appId: TEAMS };
    const AS_MEGAN: SdkAuth = { userId: MEGAN };
    const seen = async (version?: string) => {
      const p = await worker.ok<Presence>({ auth: AS_ALEX, method: 'get', path: `/users/${MEGAN}/presence`, ...(version ? { version } : {}) });
      return `${p.availability}/${p.activity}`;
    };
    const post = (auth: SdkAuth, action: string, body?: unknown, path = `/users/${MEGAN}/presence`): SdkCall =>
      ({ auth, method: 'post', path: `${path}/${action}`, ...(body === undefined ? {} : { body }) });

    test('setPresence (app token), a stronger session of a second app, clearPresence; a missing session is a 404 GraphError', async () => {
      assertEmptyOk(await worker.ok(post(AS_APP, 'setPresence', { sessionId: APP, availability: 'Busy', activity: 'InACall', expirationDuration: 'PT1H' })));
      assert.equal(await seen(), 'Busy/InACall');
      assertEmptyOk(await worker.ok(post(AS_TEAMS, 'setPresence', { sessionId: TEAMS, availability: 'DoNotDisturb', activity: 'Presenting' })));
      assert.equal(await seen('v1.0'), 'DoNotDisturb/Presenting');
      assertEmptyOk(await worker.ok(post(AS_TEAMS, 'clearPresence', { sessionId: TEAMS })));
      assert.equal(await seen(), 'Busy/InACall');

      const missing = await worker.fails(post(AS_TEAMS, 'clearPresence', { sessionId: TEAMS }));
      assert.equal(missing.isGraphError, true, `threw ${missing.name}: ${missing.message}`);
      assert.equal(missing.statusCode, 404);
      assert.equal(missing.code, 'ResourceNotFound');
      const range = await worker.fails(post(AS_APP, 'setPresence', { sessionId: APP, availability: 'Available', activity: 'Available', expirationDuration: 'PT5H' }));
      assert.deepEqual([range.statusCode, range.code, range.message], [400, 'InvalidArgument', 'The provided [ExpirationDuration] is out of range.']);
    });

    test('setUserPreferredPresence overrides the session; clearUserPreferredPresence with no body and with {} restores it', async () => {
      assertEmptyOk(await worker.ok(post(AS_APP, 'setUserPreferredPresence', { availability: 'DoNotDisturb', activity: 'DoNotDisturb', expirationDuration: 'PT8H' })));
      assert.equal(await seen(), 'DoNotDisturb/DoNotDisturb');
      assertEmptyOk(await worker.ok(post(AS_APP, 'clearUserPreferredPresence')));
      assert.equal(await seen(), 'Busy/InACall');
      // Megan for herself, at /me, through v1.0; {} when nothing is set is fine too.
      assertEmptyOk(await worker.ok({ ...post(AS_MEGAN, 'setUserPreferredPresence', { availability: 'Offline', activity: 'OffWork' }, '/me/presence'), version: 'v1.0' }));
      assert.equal(await seen(), 'Offline/OffWork');
      assertEmptyOk(await worker.ok({ ...post(AS_MEGAN, 'clearUserPreferredPresence', {}, '/me/presence'), version: 'v1.0' }));
      assertEmptyOk(await worker.ok(post(AS_MEGAN, 'clearUserPreferredPresence', {}, '/me/presence')));
      assert.equal(await seen(), 'Busy/InACall');

      const other = await worker.fails(post(AS_ALEX, 'setUserPreferredPresence', { availability: 'Away', activity: 'Away' }));
      assert.deepEqual([other.statusCode, other.code], [403, 'Forbidden']);
      assert.match(other.message, /Cannot set the presence of another user/);
    });

    test('a delegated user sets and clears her own session (sessionId = the dev app)', async () => {
      assertEmptyOk(await worker.ok(post(AS_MEGAN, 'clearPresence', { sessionId: APP }, '/me/presence')));
      assert.equal(await seen(), 'Offline/Offline');
      assertEmptyOk(await worker.ok(post(AS_MEGAN, 'setPresence', { sessionId: APP, availability: 'Available', activity: 'Available', expirationDuration: 'PT30M' }, '/me/presence')));
      assert.equal(await seen(), 'Available/Available');
    });

    test('setManualLocation (delegated) shows in workLocation; clearLocation with no body; an app token is a 403 GraphError', async () => {
      assertEmptyOk(await worker.ok(post(AS_MEGAN, 'setAutomaticLocation', { workLocationType: 'remote' }, '/me/presence')));
      assertEmptyOk(await worker.ok(post(AS_MEGAN, 'setManualLocation', { workLocationType: 'office', placeId: 'b1' }, '/me/presence')));
      const me = await worker.ok<Presence>({ auth: AS_MEGAN, method: 'get', path: '/me/presence' });
      assert.deepEqual(me.workLocation, { workLocationType: 'office', source: 'manual', placeId: 'b1' });
      assertEmptyOk(await worker.ok(post(AS_MEGAN, 'clearAutomaticLocation', undefined, '/me/presence')));
      const watcher = await worker.ok<Presence>({ auth: AS_ALEX, method: 'get', version: 'v1.0', path: `/communications/presences/${MEGAN}` });
      assert.deepEqual(watcher.workLocation, { workLocationType: 'office', source: 'manual', placeId: 'b1' });
      assertEmptyOk(await worker.ok(post(AS_MEGAN, 'clearLocation', undefined, '/me/presence')));
      const cleared = await worker.ok<Presence>({ auth: AS_MEGAN, method: 'get', path: '/me/presence' });
      assert.deepEqual(cleared.workLocation, { workLocationType: 'unspecified', source: 'none', placeId: null });

      const byApp = await worker.fails(post(AS_APP, 'setManualLocation', { workLocationType: 'office' }));
      assert.deepEqual([byApp.isGraphError, byApp.statusCode, byApp.code], [true, 403, 'Forbidden']);
    });
  });
});
