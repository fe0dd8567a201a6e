/**
 * POST /communications/getPresencesByUserId (docs/api/get-presences-by-user-id.md): limits, validation, order, duplicates, unknown
 * ids, the privacy rule per item, permissions and @odata.context.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { ADELE, ALEX, MEGAN, startInProcess, type TestServer } from '../kit/server.ts';
import {
  VERSIONS, assertBadProperty, assertGraphError, assertJsonHeaders, message, postJson, setStatusOk, type PresenceJson,
} from '../kit/graph.ts';
import { forEachBackend } from '../kit/backends.ts';
import fc from 'fast-check';
import { MAX_JSON_DEPTH, TOO_DEEP_MESSAGE } from '../../src/platform/json/depth.ts';

forEachBackend(['memory', 'redis'], (backend) => {
  interface ListJson {
    '@odata.context': string;
    value: PresenceJson[];
  }

  const HOST = 'presently.test:8080';

  describe('getPresencesByUserId', () => {
    let s: TestServer;
    let adele: string;
    let app: string;

    const call = (body: unknown, token = adele, version: (typeof VERSIONS)[number] = 'v1.0', path = 'getPresencesByUserId') =>
      postJson(s, `/${version}/communications/${path}`, token, body, { host: HOST });
    const ok = async (body: unknown, token = adele, version: (typeof VERSIONS)[number] = 'v1.0'): Promise<ListJson> => {
      const res = await call(body, token, version);
      assert.equal(res.statusCode, 200, res.body);
      assertJsonHeaders(res);
      return res.json() as ListJson;
    };

    before(async () => {
      s = await startInProcess({ store: backend });
      adele = await s.userToken(ADELE);
      app = await s.appToken(['Presence.Read.All']);
      await setStatusOk(s, ADELE, adele, message('Adele says hi', { dateTime: '2099-01-01T09:00:00', timeZone: 'W. Europe Standard Time' }));
      await setStatusOk(s, ALEX, await s.userToken(ALEX), message('Alex says hi', { dateTime: '2099-01-01T09:00:00', timeZone: 'UTC' }));
    });
    after(() => s?.close());

    for (const version of VERSIONS) {
      it(`${version}: @odata.context is $metadata#Collection(microsoft.graph.presence)`, async () => {
        const list = await ok({ ids: [ADELE] }, adele, version);
        assert.deepEqual(Object.keys(list), ['@odata.context', 'value']);
        assert.equal(list['@odata.context'], `http://${HOST}/${version}/$metadata#Collection(microsoft.graph.presence)`);
      });
    }

    it('the path matches case-insensitively', async () => {
      const res = await call({ ids: [ADELE] }, adele, 'beta', 'GETPRESENCESBYUSERID');
      assert.equal(res.statusCode, 200, res.body);
    });

    it('keeps request order and answers each id once (duplicates in any case answered once)', async () => {
      const list = await ok({ ids: [MEGAN, ALEX, ADELE, ALEX, ADELE.toUpperCase(), MEGAN] });
      assert.deepEqual(list.value.map((p) => p.id), [MEGAN, ALEX, ADELE]);
      for (const p of list.value) {
        assert.deepEqual(Object.keys(p), ['id', 'availability', 'activity', 'statusMessage', 'outOfOfficeSettings', 'workLocation', 'sequenceNumber']);
      }
    });

    it('items are the same as a single GET would show (apart from @odata.context)', async () => {
      const list = await ok({ ids: [ALEX] });
      const single = (await s.inject({ method: 'GET', url: `/v1.0/users/${ALEX}/presence`, headers: { authorization: `Bearer ${adele}` } })).json() as PresenceJson;
      const { '@odata.context': _c, ...rest } = single;
      assert.deepEqual(list.value[0], rest);
    });

    it('any status message: each item is what a single GET shows, to the owner and to a watcher (fast-check)', async () => {
      const alex = await s.userToken(ALEX);
      const single = async (id: string, token: string) => {
        const { '@odata.context': _c, ...rest } = (await s.inject({ method: 'GET', url: `/v1.0/users/${id}/presence`, headers: { authorization: `Bearer ${token}` } })).json() as PresenceJson;
        return rest;
      };
      // Quotes, backslashes, control characters, emoji and other scripts: what the item's JSON must escape as a
      // whole rendering would. Alex's list holds his own item (owner) and Adele's (watcher), Adele's the reverse.
      const content = fc.stringMatching(/^[\s\S]{1,40}$/).filter((c) => c.trim().length > 0);
      await fc.assert(fc.asyncProperty(content, content, async (mine, hers) => {
        await setStatusOk(s, ALEX, alex, message(mine, { dateTime: '2099-01-01T09:00:00', timeZone: 'UTC' }));
        await setStatusOk(s, ADELE, adele, message(hers));
        for (const token of [alex, adele]) {
          const list = await ok({ ids: [ALEX, ADELE] }, token);
          assert.deepEqual(list.value, [await single(ALEX, token), await single(ADELE, token)]);
        }
      }), { numRuns: 25 });
      await setStatusOk(s, ALEX, alex, message('Alex says hi', { dateTime: '2099-01-01T09:00:00', timeZone: 'UTC' }));
      await setStatusOk(s, ADELE, adele, message('Adele says hi', { dateTime: '2099-01-01T09:00:00', timeZone: 'W. Europe Standard Time' }));
    });

    it('privacy rule per item: the caller\'s own item has expiry and publishedDateTime, the others only message', async () => {
      const list = await ok({ ids: [ALEX, ADELE] });
      const [alex, own] = list.value;
      assert.deepEqual(alex?.statusMessage, { message: { content: 'Alex says hi', contentType: 'text' } });
      assert.deepEqual(own?.statusMessage?.message, { content: 'Adele says hi', contentType: 'text' });
      assert.deepEqual(own?.statusMessage?.expiryDateTime, { dateTime: '2099-01-01T09:00:00.0000000', timeZone: 'W. Europe Standard Time' });
      assert.match(own?.statusMessage?.publishedDateTime ?? '', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{7}Z$/);
    });

    it('an application token (Presence.Read.All or Presence.ReadWrite.All) is allowed and sees only messages', async () => {
      for (const token of [app, await s.appToken(['Presence.ReadWrite.All'])]) {
        const list = await ok({ ids: [ADELE, ALEX] }, token);
        for (const p of list.value) assert.deepEqual(Object.keys(p.statusMessage ?? {}), ['message']);
      }
    });

    it('an id with no user comes back as PresenceUnknown/PresenceUnknown, in its place', async () => {
      const nobody = randomUUID();
      const list = await ok({ ids: [ADELE, nobody.toUpperCase(), ALEX] });
      assert.deepEqual(list.value.map((p) => p.id), [ADELE, nobody, ALEX]);
      const unknown = list.value[1]!;
      assert.equal(unknown.availability, 'PresenceUnknown');
      assert.equal(unknown.activity, 'PresenceUnknown');
      assert.equal(unknown.statusMessage, null);
      assert.deepEqual(unknown.outOfOfficeSettings, { message: null, isOutOfOffice: false });
    });

    it('1 and 650 ids are accepted; 651 is 400', async () => {
      assert.equal((await ok({ ids: [ADELE] })).value.length, 1);
      const many = [ADELE, ALEX, MEGAN, ...Array.from({ length: 647 }, () => randomUUID())];
      const list = await ok({ ids: many });
      assert.equal(list.value.length, 650);
      assert.deepEqual(list.value.map((p) => p.id), many);
      assert.equal(list.value[0]?.statusMessage?.message.content, 'Adele says hi');
      const body = assertBadProperty(await call({ ids: [...many, randomUUID()] }), 'ids');
      assert.match(body.error.message, /650/);
    });

    it('650 ids with duplicates beyond 650 entries is still 400 (the list, not the distinct ids, is limited)', async () => {
      assertBadProperty(await call({ ids: Array.from({ length: 651 }, () => ADELE) }), 'ids');
    });

    it('an empty list, a missing or non-array ids is 400 naming ids', async () => {
      for (const body of [{ ids: [] }, {}, { ids: null }, { ids: ADELE }, { ids: { 0: ADELE } }]) {
        assertBadProperty(await call(body), 'ids');
      }
    });

    it('a non-GUID is 400 naming ids[i]', async () => {
      const cases: Array<[unknown[], string]> = [
        [['nope'], 'ids[0]'],
        [[ADELE, ALEX, 'AdeleV@contoso.example'], 'ids[2]'],
        [[ADELE, 42], 'ids[1]'],
        [[ADELE, null], 'ids[1]'],
        [[ADELE, ALEX, MEGAN, [ADELE]], 'ids[3]'],
        [[`{${ADELE}}`], 'ids[0]'],
      ];
      for (const [ids, property] of cases) assertBadProperty(await call({ ids }), property);
    });

    it('an unknown property is 400 naming it', async () => {
      assertBadProperty(await call({ ids: [ADELE], select: ['availability'] }), 'select');
    });

    it('delegated without Presence.Read.All is 403, even for one\'s own id', async () => {
      for (const scopes of [['Presence.Read'], ['Presence.ReadWrite'], ['Presence.Read', 'Presence.ReadWrite'], []]) {
        const token = await s.userToken(ADELE, scopes);
        assertGraphError(await call({ ids: [ADELE] }, token), 403, 'Forbidden', /Presence\.Read\.All/);
      }
    });

    it('an application without a presence read role is 403', async () => {
      for (const roles of [[], ['User.Read.All']]) {
        assertGraphError(await call({ ids: [ADELE] }, await s.appToken(roles)), 403, 'Forbidden');
      }
    });

    it('a list polled again shows each change made in between, and each caller its own view of it', async () => {
      const megan = await s.userToken(MEGAN);
      const ids = [ALEX, MEGAN];
      const first = await ok({ ids });
      assert.deepEqual(await ok({ ids }), first, 'nothing changed: the same answer');
      await setStatusOk(s, MEGAN, megan, message('Megan changed her mind'));
      const second = await ok({ ids });
      assert.deepEqual(second.value[0], first.value[0], 'Alex did not change');
      assert.deepEqual(second.value[1]!.statusMessage, { message: { content: 'Megan changed her mind', contentType: 'text' } });
      assert.ok(second.value[1]!.sequenceNumber! > first.value[1]!.sequenceNumber!, 'a new sequenceNumber for Megan');
      await setStatusOk(s, MEGAN, megan, message('and again'));
      assert.equal((await ok({ ids })).value[1]!.statusMessage?.message.content, 'and again');
      // The same list asked by Megan herself: her own item is the owner's view (with publishedDateTime), not Adele's.
      const own = await ok({ ids }, megan);
      assert.match(own.value[1]!.statusMessage?.publishedDateTime ?? '', /Z$/, 'Megan sees her own publishedDateTime');
      assert.equal((await ok({ ids })).value[1]!.statusMessage?.publishedDateTime, undefined, 'Adele still sees a watcher\'s view');
    });

    it('lists polled again are answered each in its own order, one of them a subset or a permutation of another', async () => {
      const lists = [[ALEX, MEGAN], [MEGAN, ALEX], [ALEX], [ALEX, MEGAN, ADELE], [ADELE, ALEX, MEGAN]];
      for (let round = 0; round < 3; round++) {
        for (const ids of lists) assert.deepEqual((await ok({ ids })).value.map((p) => p.id), ids, `round ${round}`);
      }
      // The same GUIDs in capitals are the same list: answered in lower case, like the first time.
      assert.deepEqual((await ok({ ids: [MEGAN.toUpperCase(), ALEX.toUpperCase()] })).value.map((p) => p.id), [MEGAN, ALEX]);
    });

    it('a body asked again is remembered by its whole text: a list that differs in its last id or only in spacing is read anew', async () => {
      const ids = [ALEX, MEGAN, ADELE];
      const compact = JSON.stringify({ ids });
      // Asked three times: from the second on, the list is remembered by this text.
      for (let i = 0; i < 3; i++) assert.deepEqual((await ok(compact)).value.map((p) => p.id), ids);
      const lastChanged = [ALEX, MEGAN, randomUUID()];
      const other = await ok(JSON.stringify({ ids: lastChanged }));
      assert.deepEqual(other.value.map((p) => p.id), lastChanged);
      assert.equal(other.value[2]!.availability, 'PresenceUnknown', 'the changed id is read, not the remembered list\'s');
      const spaced = `{ "ids" : [ ${ids.map((id) => JSON.stringify(id.toUpperCase())).join(' , ')} ] }`;
      assert.deepEqual((await ok(spaced)).value.map((p) => p.id), ids, 'the same GUIDs written otherwise: the same list');
      assert.deepEqual((await ok(compact)).value.map((p) => p.id), ids);
    });

    it('a body that is not JSON, empty or too deeply nested is answered as by every other action', async () => {
      const setPresence = (body: string) => postJson(s, `/v1.0/users/${ADELE}/presence/setUserPreferredPresence`, adele, body);
      const tooDeep = `{"ids":${'['.repeat(MAX_JSON_DEPTH)}${']'.repeat(MAX_JSON_DEPTH)}}`;
      for (const body of ['{"ids": [', 'ids', '', tooDeep]) {
        const [list, action] = [await call(body), await setPresence(body)];
        assert.equal(list.statusCode, 400, `${JSON.stringify(body)}: ${list.body}`);
        if (body === '') {
          assertBadProperty(list, 'ids');
          continue;
        }
        assert.equal(list.json().error.message, action.json().error.message, JSON.stringify(body));
        assert.equal(list.json().error.code, action.json().error.code);
        if (body === tooDeep) assert.equal(list.json().error.message, TOO_DEEP_MESSAGE);
        else assert.match(list.json().error.message, /^Unable to read JSON request payload/);
      }
      // A remembered body is still authorized first: without Presence.Read.All it is 403.
      const compact = JSON.stringify({ ids: [ALEX] });
      for (let i = 0; i < 3; i++) await ok(compact);
      assertGraphError(await call(compact, await s.userToken(ADELE, ['Presence.Read'])), 403, 'Forbidden');
    });

    it('no token is 401', async () => {
      const res = await s.inject({
        method: 'POST', url: '/v1.0/communications/getPresencesByUserId', headers: { 'content-type': 'application/json' },
        payload: JSON.stringify({ ids: [ADELE] }),
      });
      assertGraphError(res, 401, 'InvalidAuthenticationToken', 'Access token is empty.');
    });
  });
});
