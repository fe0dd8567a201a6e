/**
 * The seed page (docs/api/status-message.md#graphs-examples): its three examples sent exactly as written — same paths, the same
 * JSON bodies byte for byte, Content-Type application/json — and its response compared field by field.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ADELE, ALEX, APP, startInProcess, type TestServer } from '../kit/server.ts';
import {
  VERSIONS, assertBaseHeaders, assertJsonHeaders, bearer, readPresence, type PresenceJson,
} from '../kit/graph.ts';
import { forEachBackend } from '../kit/backends.ts';

/** Example 1's request body, byte for byte (indentation included). */
const EXAMPLE_1 = `{
  "statusMessage": {
    "message": {
        "content": "Hey I'm currently in a meeting.",
        "contentType": "text"
    },
    "expiryDateTime": {
        "dateTime": "2022-10-18T17:05:33.2079781",
        "timeZone": "Pacific Standard Time"
    }
  }
}`;

/** Example 2's request body, byte for byte. */
const EXAMPLE_2 = `{
  "statusMessage": {
    "message": {
      "content": "Hey I am available now",
      "contentType": "text"
    }
  }
}`;

/** Example 3's response body as the page prints it. */
const EXAMPLE_3_RESPONSE = JSON.parse(`{
  "id": "fa8bf3dc-eca7-46b7-bad1-db199b62afc3",
  "availability": "Available",
  "activity": "Available",
  "outOfOfficeSettings": {
    "message": null,
    "isOutOfOffice": false
  },
  "statusMessage": {
    "message": {
      "content": "Hey I am available now",
      "contentType": "text"
    }
  }
}`) as Record<string, unknown>;

const GRAPH = 'https://graph.microsoft.com';
const PAGE_USER = 'fa8bf3dc-eca7-46b7-bad1-db199b62afc3';

/** Where the examples are POSTed: the page's own address and the two other addresses of the same presence. */
const WRITE_ADDRESSES = [
  { name: '/users/{id}/presence', path: `/users/${PAGE_USER}/presence/setStatusMessage` },
  { name: '/communications/presences/{id}', path: `/communications/presences/${PAGE_USER}/setStatusMessage` },
  { name: '/me/presence', path: '/me/presence/setStatusMessage' },
] as const;

forEachBackend(['memory', 'redis'], (backend) => {
  describe('seed page examples (docs/api/status-message.md#graphs-examples)', () => {
    let s: TestServer;
    let adele: string;
    let alex: string;

    before(async () => {
      // The page's responses come from graph.microsoft.com: serve under that public URL so @odata.context matches Graph's.
      s = await startInProcess({ store: backend, publicUrl: GRAPH });
      assert.equal(ADELE, PAGE_USER, 'the demo tenant holds the page\'s user');
      adele = await s.userToken(ADELE);
      alex = await s.userToken(ALEX, ['Presence.Read.All']);
    });
    after(() => s?.close());

    const send = (url: string, token: string, body: string) =>
      s.inject({ method: 'POST', url, headers: { 'Content-Type': 'application/json', ...bearer(token) }, payload: body });

    for (const version of VERSIONS) {
      for (const address of WRITE_ADDRESSES) {
        const url = `/${version}${address.path}`;

        it(`${version} ${address.name}: Example 1 (expiry in 2022) answers 200 with an empty body, and the message is already gone`, async () => {
          // Start from a visible message, so that "null" below really is Example 1's doing.
          assert.equal((await send(url, adele, EXAMPLE_2)).statusCode, 200);
          const res = await send(url, adele, EXAMPLE_1);
          assert.equal(res.statusCode, 200, res.body);
          assert.equal(res.body, '');
          assertBaseHeaders(res);
          for (const reader of [adele, alex]) {
            const p = await readPresence(s, `/${version}/users/${PAGE_USER}/presence`, reader);
            assert.equal(p.statusMessage, null);
          }
          assert.equal((await readPresence(s, `/${version}/me/presence`, adele)).statusMessage, null);
        });

        it(`${version} ${address.name}: Example 2 answers 200; Example 3 (Alex reads Adele) matches the page field by field`, async () => {
          const res = await send(url, adele, EXAMPLE_2);
          assert.equal(res.statusCode, 200, res.body);
          assert.equal(res.body, '');
          assertBaseHeaders(res);

          const read = await s.inject({ method: 'GET', url: `/${version}/users/${PAGE_USER}/presence`, headers: bearer(alex) });
          assert.equal(read.statusCode, 200, read.body);
          assertJsonHeaders(read);
          const body = read.json() as PresenceJson & Record<string, unknown>;
          assert.equal(body['@odata.context'], `${GRAPH}/${version}/$metadata#users('${PAGE_USER}')/presence/$entity`);
          assert.equal(body.id, EXAMPLE_3_RESPONSE.id);
          assert.deepEqual(body.outOfOfficeSettings, EXAMPLE_3_RESPONSE.outOfOfficeSettings);
          // Privacy rule: another user sees only `message` — no expiryDateTime, no publishedDateTime.
          assert.deepEqual(body.statusMessage, EXAMPLE_3_RESPONSE.statusMessage);
          assert.deepEqual(Object.keys(body.statusMessage ?? {}), ['message']);
          // Adele never had a presence session here, so she is PresenceUnknown [P: d-presence-unknown]; see the next test for "Available".
          assert.equal(body.availability, 'PresenceUnknown');
          assert.equal(body.activity, 'PresenceUnknown');

          // The same read through the communications address.
          const comm = await readPresence(s, `/${version}/communications/presences/${PAGE_USER}`, alex);
          assert.equal(comm['@odata.context'], `${GRAPH}/${version}/$metadata#communications/presences/$entity`);
          assert.deepEqual(comm.statusMessage, EXAMPLE_3_RESPONSE.statusMessage);
          assert.equal(comm.id, PAGE_USER);

          // The owner, through /me, sees the same message plus its publication time (and no expiry: none was set).
          const own = await readPresence(s, `/${version}/me/presence`, adele);
          assert.equal(own['@odata.context'], `${GRAPH}/${version}/$metadata#users('${PAGE_USER}')/presence/$entity`);
          assert.deepEqual(own.statusMessage?.message, { content: 'Hey I am available now', contentType: 'text' });
          assert.equal(own.statusMessage?.expiryDateTime, undefined);
          assert.match(own.statusMessage?.publishedDateTime ?? '', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{7}Z$/);
        });
      }

      it(`${version}: Example 2 sent by an application (Presence.ReadWrite.All) for the user also answers 200`, async () => {
        const app = await s.appToken(['Presence.ReadWrite.All']);
        const res = await send(`/${version}/users/${PAGE_USER}/presence/setStatusMessage`, app, EXAMPLE_2);
        assert.equal(res.statusCode, 200, res.body);
        assert.equal(res.body, '');
        const p = await readPresence(s, `/${version}/users/${PAGE_USER}/presence`, alex);
        assert.deepEqual(p.statusMessage, EXAMPLE_3_RESPONSE.statusMessage);
      });
    }

    it('Example 3 with Adele online (Graph\'s setPresence example first): the whole page response matches', async () => {
      const app = await s.appToken(['Presence.ReadWrite.All']);
      // Graph's own setPresence example; its sessionId is the dev app (docs/operations/README.md#the-demo-tenant).
      const online = await s.inject({
        method: 'POST',
        url: `/v1.0/users/${PAGE_USER}/presence/setPresence`,
        headers: { 'Content-Type': 'application/json', ...bearer(app) },
        payload: JSON.stringify({ sessionId: APP, availability: 'Available', activity: 'Available', expirationDuration: 'PT1H' }),
      });
      assert.equal(online.statusCode, 200, `setPresence: ${online.body}`);
      assert.equal((await send(`/beta/users/${PAGE_USER}/presence/setStatusMessage`, adele, EXAMPLE_2)).statusCode, 200);
      const body = await readPresence(s, `/beta/users/${PAGE_USER}/presence`, alex) as unknown as Record<string, unknown>;
      for (const [key, value] of Object.entries(EXAMPLE_3_RESPONSE)) assert.deepEqual(body[key], value, `field ${key}`);
      assert.equal(body['@odata.context'], `${GRAPH}/beta/$metadata#users('${PAGE_USER}')/presence/$entity`);
    });
  });
});
