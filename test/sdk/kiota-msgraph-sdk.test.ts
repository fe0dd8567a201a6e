/**
 * End to end with the official Kiota-generated SDK (`@microsoft/msgraph-sdk` + `@microsoft/msgraph-sdk-users`)
 * against a real `presently serve` on plain HTTP.
 *
 * - Kiota sends bearer tokens only to https or to a localhost URL; its `validateProtocol` counts `127.0.0.1` as
 *   localhost, so the URL Presently prints (`http://127.0.0.1:<port>`) is used as it is.
 * - Only the v1.0 SDK is installed (`@microsoft/msgraph-beta-sdk` is not), so this runs against `/v1.0`.
 * - `getPresencesByUserId` lives in `@microsoft/msgraph-sdk-communications`, which is not installed: it is called
 *   through the same request adapter with a RequestInformation, and parsed with the SDK's own
 *   `PresenceCollectionResponse` model.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import {
  AllowedHostsValidator,
  BaseBearerTokenAuthenticationProvider,
  Duration,
  HttpMethod,
  RequestInformation,
  validateProtocol,
  type AccessTokenProvider,
  type SerializationWriter,
} from '@microsoft/kiota-abstractions';
import { createGraphServiceClient, GraphRequestAdapter, type GraphServiceClient } from '@microsoft/msgraph-sdk';
import { createPresenceCollectionResponseFromDiscriminatorValue, type PresenceCollectionResponse } from '@microsoft/msgraph-sdk/models/index.js';
import { createODataErrorFromDiscriminatorValue, type ODataError } from '@microsoft/msgraph-sdk/models/oDataErrors/index.js';
// Adds `.users` and `.me` to GraphServiceClient.
import '@microsoft/msgraph-sdk-users';
import { ADELE, ALEX, APP, startProcess, tempDir, type ServerProcess } from '../kit/server.ts';
import { forEachBackend } from '../kit/backends.ts';

forEachBackend(['memory', 'journal', 'redis'], (backend) => {
  const NOBODY = '0d1c5b4e-2f7a-4c3b-9e8d-7a6b5c4d3e2f';

  let server: ServerProcess;
  let dataDir: string;
  let adele: GraphServiceClient;
  let alex: GraphServiceClient;
  let app: GraphServiceClient;
  let anonymous: GraphServiceClient;
  let alexAdapter: GraphRequestAdapter;
  /** Adele's availability and activity: she has a live Available session from `before` (docs/api/sessions.md). */
  const adeleAvailability = 'Available';

  /** An AccessTokenProvider as the real ones behave: token only for allowed hosts, over https or to localhost. */
  function tokenProvider(token: string, host: string): AccessTokenProvider {
    const hosts = new AllowedHostsValidator(new Set([host]));
    return {
      getAllowedHostsValidator: () => hosts,
      getAuthorizationToken: async (url) => {
        if (!url || !hosts.isUrlHostValid(url)) return '';
        validateProtocol(url); // throws for plain http to anything but localhost
        return token;
      },
    };
  }

  function adapterFor(token: string): GraphRequestAdapter {
    const adapter = new GraphRequestAdapter(new BaseBearerTokenAuthenticationProvider(tokenProvider(token, new URL(server.url).hostname)));
    adapter.baseUrl = `${server.url}/v1.0`;
    return adapter;
  }

  async function mint(body: object): Promise<string> {
    const res = await fetch(`${server.url}/_presently/tokens`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    assert.equal(res.status, 200, await res.clone().text());
    return ((await res.json()) as { access_token: string }).access_token;
  }

  /** Asserts the promise rejects with Kiota's ODataError, and returns it. */
  async function odataError(p: Promise<unknown>): Promise<ODataError> {
    try {
      await p;
    } catch (err) {
      const e = err as ODataError;
      if (!e.errorEscaped) assert.fail(`expected an ODataError, got ${err instanceof Error ? err.stack : JSON.stringify(err)}`);
      return e;
    }
    return assert.fail('the call succeeded but should have failed');
  }

  function assertWellFormedError(e: ODataError, status: number, code: string): void {
    assert.equal(e.responseStatusCode, status);
    assert.equal(e.errorEscaped?.code, code);
    assert.ok(e.errorEscaped?.message, 'error.message is populated');
    assert.equal(e.message, e.errorEscaped?.message, 'the thrown error carries the Graph message');
    const inner = e.errorEscaped?.innerError;
    assert.match(inner?.requestId ?? '', /^[0-9a-f-]{36}$/);
    assert.deepEqual(e.responseHeaders?.['request-id'], [inner?.requestId]);
    assert.ok(inner?.date instanceof Date && !Number.isNaN(inner.date.getTime()), 'innerError.date parses');
  }

  before(async () => {
    dataDir = tempDir();
    server = await startProcess(['--store', backend, '--data', dataDir]);
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    const [a, x, p] = await Promise.all([mint({ userId: ADELE }), mint({ userId: ALEX }), mint({ roles: ['Presence.ReadWrite.All'] })]);
    adele = createGraphServiceClient(adapterFor(a));
    alexAdapter = adapterFor(x);
    alex = createGraphServiceClient(alexAdapter);
    app = createGraphServiceClient(adapterFor(p));
    anonymous = createGraphServiceClient(adapterFor(''));

    // Give Adele a live session through the SDK (a Duration serialises as ISO 8601: see the session tests below).
    await app.users.byUserId(ADELE).presence.setPresence.post({
      sessionId: APP, availability: 'Available', activity: 'Available', expirationDuration: new Duration({ hours: 1 }),
    });
  });

  after(async () => {
    await server?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  describe('Kiota msgraph-sdk (v1.0) over plain http on 127.0.0.1', () => {
    const next = new Date().getUTCFullYear() + 1;

    test('setStatusMessage then presence.get(): the owner gets the typed presence with expiry and publish time', async () => {
      const before = Date.now();
      await adele.users.byUserId(ADELE).presence.setStatusMessage.post({
        statusMessage: {
          // Kiota writes these as "@odata.type" annotations, and writes publishedDateTime if given: the server must
          // accept the annotations and ignore a client's publishedDateTime.
          odataType: '#microsoft.graph.presenceStatusMessage',
          message: { content: 'Focus time 🎧', contentType: 'text', odataType: '#microsoft.graph.itemBody' },
          expiryDateTime: { dateTime: `${next}-06-01T09:00:00.25`, timeZone: 'Pacific Standard Time', odataType: '#microsoft.graph.dateTimeTimeZone' },
          publishedDateTime: new Date('2001-01-01T00:00:00Z'),
        },
      });
      const p = await adele.users.byUserId(ADELE).presence.get();
      assert.ok(p);
      assert.equal(p.id, ADELE);
      assert.equal(p.availability, adeleAvailability);
      assert.equal(p.activity, adeleAvailability);
      assert.equal(p.statusMessage?.message?.content, 'Focus time 🎧');
      assert.equal(p.statusMessage?.message?.contentType, 'text');
      assert.deepEqual(
        { dateTime: p.statusMessage?.expiryDateTime?.dateTime, timeZone: p.statusMessage?.expiryDateTime?.timeZone },
        { dateTime: `${next}-06-01T09:00:00.2500000`, timeZone: 'Pacific Standard Time' },
      );
      const published = p.statusMessage?.publishedDateTime;
      assert.ok(published instanceof Date, 'publishedDateTime parses as a Date');
      assert.ok(published.getTime() >= before - 5_000 && published.getTime() <= Date.now() + 5_000, `published now, not 2001: ${published.toISOString()}`);
      assert.equal(p.outOfOfficeSettings?.isOutOfOffice, false);
      assert.equal(typeof p.sequenceNumber, 'string');
      assert.equal(p.additionalData?.['@odata.context'], `${server.url}/v1.0/$metadata#users('${ADELE}')/presence/$entity`);
    });

    test("the watcher's view (Alex) has the message but no expiry or publish time", async () => {
      const p = await alex.users.byUserId(ADELE).presence.get();
      assert.equal(p?.statusMessage?.message?.content, 'Focus time 🎧');
      assert.equal(p?.statusMessage?.expiryDateTime, undefined);
      assert.equal(p?.statusMessage?.publishedDateTime, undefined);
      assert.equal(p?.availability, adeleAvailability);
    });

    test('client.me.presence.get() is the caller\'s own presence', async () => {
      const mine = await adele.me.presence.get();
      const byId = await adele.users.byUserId(ADELE).presence.get();
      assert.equal(mine?.id, ADELE);
      assert.equal(mine?.statusMessage?.message?.content, 'Focus time 🎧');
      assert.equal(mine?.statusMessage?.expiryDateTime?.timeZone, 'Pacific Standard Time');
      assert.equal(mine?.sequenceNumber, byId?.sequenceNumber);
      const alexOwn = await alex.me.presence.get();
      assert.equal(alexOwn?.id, ALEX);
    });

    test('a live session from setPresence shows Available/Available', async () => {
      const p = await alex.users.byUserId(ADELE).presence.get();
      assert.deepEqual([p?.availability, p?.activity], ['Available', 'Available']);
    });

    test('$select through queryParameters', async () => {
      const p = await alex.users.byUserId(ADELE).presence.get({ queryParameters: { select: ['availability', 'activity'] } });
      assert.equal(p?.id, ADELE);
      assert.equal(p?.availability, adeleAvailability);
      assert.equal(p?.activity, adeleAvailability);
      assert.equal(p?.statusMessage, undefined);
      assert.equal(p?.sequenceNumber, undefined);
      assert.ok(String(p?.additionalData?.['@odata.context']).endsWith('/presence(availability,activity)/$entity'));
    });

    test('getPresencesByUserId through the adapter, parsed into the SDK\'s PresenceCollectionResponse', async () => {
      const info = new RequestInformation(HttpMethod.POST, '{+baseurl}/communications/getPresencesByUserId');
      info.headers.tryAdd('Accept', 'application/json');
      const body = { ids: [ALEX, ADELE, NOBODY] };
      info.setContentFromParsable(alexAdapter, 'application/json', body, (w: SerializationWriter, b: Partial<typeof body> | null | undefined) => {
        w.writeCollectionOfPrimitiveValues('ids', b?.ids);
      });
      const res = await alexAdapter.send<PresenceCollectionResponse>(info, createPresenceCollectionResponseFromDiscriminatorValue, { XXX: createODataErrorFromDiscriminatorValue });
      assert.deepEqual(res?.value?.map((p) => p.id), [ALEX, ADELE, NOBODY]);
      const [, seenAdele, nobody] = res!.value!;
      assert.equal(seenAdele?.statusMessage?.message?.content, 'Focus time 🎧');
      assert.equal(seenAdele?.statusMessage?.expiryDateTime, undefined, 'privacy rule per item');
      assert.equal(nobody?.availability, 'PresenceUnknown');
    });

    test("clearing with content '' removes the message", async () => {
      await adele.me.presence.setStatusMessage.post({ statusMessage: { message: { content: '', contentType: 'text' } } });
      const mine = await adele.me.presence.get();
      assert.ok(mine);
      // The server answers `"statusMessage": null`; Kiota's JSON parse node turns a null object into an empty model.
      assert.ok(mine.statusMessage == null || Object.keys(mine.statusMessage).length === 0, `statusMessage: ${JSON.stringify(mine.statusMessage)}`);
      assert.equal(mine.statusMessage?.message, undefined);
      assert.equal(mine.statusMessage?.expiryDateTime, undefined);
      const watcher = await alex.users.byUserId(ADELE).presence.get();
      assert.equal(watcher?.statusMessage?.message?.content, undefined);
    });

    test('a 400 surfaces as an ODataError with code, message and innerError; nothing is stored', async () => {
      await adele.me.presence.setStatusMessage.post({ statusMessage: { message: { content: 'kept', contentType: 'text' } } });
      const html = await odataError(adele.me.presence.setStatusMessage.post({ statusMessage: { message: { content: '<b>hi</b>', contentType: 'html' } } }));
      assertWellFormedError(html, 400, 'BadRequest');
      assert.match(html.errorEscaped!.message!, /html/);

      const zone = await odataError(adele.me.presence.setStatusMessage.post({
        statusMessage: { message: { content: 'x', contentType: 'text' }, expiryDateTime: { dateTime: `${next}-01-01T00:00:00`, timeZone: 'Mars/Olympus_Mons' } },
      }));
      assertWellFormedError(zone, 400, 'BadRequest');
      assert.match(zone.errorEscaped!.message!, /timeZone/);

      assert.equal((await adele.me.presence.get())?.statusMessage?.message?.content, 'kept');
    });

    test('403, 404 and 401 are ODataErrors too', async () => {
      const forbidden = await odataError(alex.users.byUserId(ADELE).presence.setStatusMessage.post({ statusMessage: { message: { content: 'not mine', contentType: 'text' } } }));
      assertWellFormedError(forbidden, 403, 'Forbidden');

      const missing = await odataError(alex.users.byUserId(NOBODY).presence.get());
      assertWellFormedError(missing, 404, 'ResourceNotFound');

      const noToken = await odataError(anonymous.me.presence.get());
      assertWellFormedError(noToken, 401, 'InvalidAuthenticationToken');
      assert.equal(noToken.errorEscaped?.message, 'Access token is empty.');
    });
  });

  describe('Kiota msgraph-sdk (v1.0): sessions, preferred presence and work location', () => {
    const MEGAN = '48d31887-5fad-4d73-a9f5-3c356e68a038';
    const TEAMS = '1fec8e78-bce4-4aaf-ab1b-5451cc387264';
    const PLACE = '2b3c4d5e-6f70-4812-9a3b-4c5d6e7f8091';
    let teams: GraphServiceClient;
    let megan: GraphServiceClient;
    const seen = async () => {
      const p = await alex.users.byUserId(MEGAN).presence.get();
      return `${p?.availability}/${p?.activity}`;
    };

    before(async () => {
      teams = createGraphServiceClient(adapterFor(await mint({ appId: TEAMS, roles: ['Presence.ReadWrite.All'] })));
      megan = createGraphServiceClient(adapterFor(await mint({ userId: MEGAN })));
    });

    test('Kiota writes a Duration as an ISO-8601 string (the body it sends), which setPresence accepts', async () => {
      const info = app.users.byUserId(MEGAN).presence.setPresence.toPostRequestInformation({
        sessionId: APP, availability: 'Busy', activity: 'InACall', expirationDuration: new Duration({ hours: 1 }),
      });
      const sent = JSON.parse(new TextDecoder().decode(info.content)) as Record<string, unknown>;
      assert.deepEqual(sent, { activity: 'InACall', availability: 'Busy', expirationDuration: 'PT1H', sessionId: APP });
      for (const [d, text] of [[new Duration({ minutes: 90 }), 'PT90M'], [new Duration({ minutes: 5 }), 'PT5M'], [new Duration({ hours: 4 }), 'PT4H']] as const) {
        assert.equal(d.toString(), text);
      }

      await app.users.byUserId(MEGAN).presence.setPresence.post({
        sessionId: APP, availability: 'Busy', activity: 'InACall', expirationDuration: new Duration({ minutes: 90 }),
      });
      assert.equal(await seen(), 'Busy/InACall');
    });

    test('out-of-range Durations are an ODataError 400 InvalidArgument', async () => {
      for (const d of [new Duration({ days: 1 }), new Duration({ minutes: 4 }), new Duration({ hours: 5 })]) {
        const e = await odataError(app.users.byUserId(MEGAN).presence.setPresence.post({
          sessionId: APP, availability: 'Available', activity: 'Available', expirationDuration: d,
        }));
        assertWellFormedError(e, 400, 'InvalidArgument');
        assert.equal(e.errorEscaped?.message, 'The provided [ExpirationDuration] is out of range.');
      }
      assert.equal(await seen(), 'Busy/InACall');
    });

    test('a second app\'s stronger session, setUserPreferredPresence, clearUserPreferredPresence, clearPresence', async () => {
      await teams.users.byUserId(MEGAN).presence.setPresence.post({ sessionId: TEAMS, availability: 'DoNotDisturb', activity: 'Presenting' });
      assert.equal(await seen(), 'DoNotDisturb/Presenting');

      await app.users.byUserId(MEGAN).presence.setUserPreferredPresence.post({
        availability: 'BeRightBack', activity: 'BeRightBack', expirationDuration: new Duration({ hours: 8 }),
      });
      assert.equal(await seen(), 'BeRightBack/BeRightBack');
      await app.users.byUserId(MEGAN).presence.clearUserPreferredPresence.post();
      assert.equal(await seen(), 'DoNotDisturb/Presenting');
      // Nothing set: still 200.
      await megan.me.presence.clearUserPreferredPresence.post();

      await teams.users.byUserId(MEGAN).presence.clearPresence.post({ sessionId: TEAMS });
      assert.equal(await seen(), 'Busy/InACall');
      assertWellFormedError(await odataError(teams.users.byUserId(MEGAN).presence.clearPresence.post({ sessionId: TEAMS })), 404, 'ResourceNotFound');
      assertWellFormedError(await odataError(teams.users.byUserId(MEGAN).presence.clearPresence.post({ sessionId: APP })), 400, 'BadRequest');

      // A delegated user sets her own session with the dev app's id, and may not touch another user's.
      await megan.me.presence.clearPresence.post({ sessionId: APP });
      assert.equal(await seen(), 'Offline/Offline');
      await megan.me.presence.setPresence.post({ sessionId: APP, availability: 'Away', activity: 'Away', expirationDuration: new Duration({ minutes: 30 }) });
      assert.equal(await seen(), 'Away/Away');
      assertWellFormedError(await odataError(megan.users.byUserId(ADELE).presence.setUserPreferredPresence.post({ availability: 'Away', activity: 'Away' })), 403, 'Forbidden');
    });

    test('work location: setManualLocation, setAutomaticLocation, clearAutomaticLocation, clearLocation (delegated)', async () => {
      await megan.me.presence.setAutomaticLocation.post({ workLocationType: 'remote' });
      let p = await megan.me.presence.get();
      assert.deepEqual([p?.workLocation?.workLocationType, p?.workLocation?.source, p?.workLocation?.placeId], ['remote', 'automatic', undefined]);
      await megan.me.presence.setManualLocation.post({ workLocationType: 'office', placeId: PLACE });
      p = await megan.me.presence.get();
      assert.deepEqual([p?.workLocation?.workLocationType, p?.workLocation?.source, p?.workLocation?.placeId], ['office', 'manual', PLACE]);
      await megan.me.presence.clearAutomaticLocation.post();
      assert.equal((await megan.me.presence.get())?.workLocation?.source, 'manual');
      await megan.me.presence.clearLocation.post();
      p = await megan.me.presence.get();
      assert.deepEqual([p?.workLocation?.workLocationType, p?.workLocation?.source], ['unspecified', 'none']);
      // Application permissions cannot set a work location.
      assertWellFormedError(await odataError(app.users.byUserId(MEGAN).presence.setManualLocation.post({ workLocationType: 'office' })), 403, 'Forbidden');
    });
  });
});
