/**
 * GET of a presence (docs/api/addresses.md, docs/api/presence.md, docs/api/wire-format.md): the three addresses under both versions, @odata.context, the
 * privacy rule, $select, ids and path matching, sequenceNumber, and the wire headers and error shape.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { ADELE, ALEX, MEGAN, sharedServer, startInProcess, type TestServer } from '../kit/server.ts';
import {
  ODATA_JSON, VERSIONS, addresses, assertBaseHeaders, assertGraphError, assertJsonHeaders, bearer, getPresence,
  message, postJson, readPresence, setStatus, setStatusOk, type PresenceJson,
} from '../kit/graph.ts';
import { forEachBackend } from '../kit/backends.ts';

forEachBackend(['memory', 'journal', 'redis'], (backend) => {
  const shared = sharedServer(() => startInProcess({ store: backend }));
  const HOST = 'presently.test:8080';
  const PRESENCE_KEYS = ['@odata.context', 'id', 'availability', 'activity', 'statusMessage', 'outOfOfficeSettings', 'workLocation', 'sequenceNumber'];

  describe('GET presence: addresses, @odata.context, shape', () => {
    let s: TestServer;
    let adele: string;

    before(async () => {
      s = await shared();
      adele = await s.userToken(ADELE);
    });

    for (const version of VERSIONS) {
      const a = addresses(ADELE);
      const cases = [
        { url: `/${version}${a.me}`, context: `http://${HOST}/${version}/$metadata#users('${ADELE}')/presence/$entity` },
        { url: `/${version}${a.users}`, context: `http://${HOST}/${version}/$metadata#users('${ADELE}')/presence/$entity` },
        { url: `/${version}${a.communications}`, context: `http://${HOST}/${version}/$metadata#communications/presences/$entity` },
      ];
      for (const c of cases) {
        it(`GET ${c.url}: 200, the full presence, @odata.context from the request's own URL`, async () => {
          const res = await getPresence(s, c.url, adele, { host: HOST });
          assert.equal(res.statusCode, 200, res.body);
          assertJsonHeaders(res);
          const p = res.json() as PresenceJson;
          assert.deepEqual(Object.keys(p), PRESENCE_KEYS);
          assert.equal(p['@odata.context'], c.context);
          assert.equal(p.id, ADELE);
          assert.equal(p.availability, 'PresenceUnknown');
          assert.equal(p.activity, 'PresenceUnknown');
          assert.deepEqual(p.outOfOfficeSettings, { message: null, isOutOfOffice: false });
          assert.deepEqual(p.workLocation, { workLocationType: 'unspecified', source: 'none', placeId: null });
          assert.match(p.sequenceNumber ?? '', /^C\d{20}$/);
        });
      }
    }

    it('all three addresses, both versions, show the same presence after a write', async () => {
      await setStatusOk(s, ADELE, adele, message('Same everywhere'));
      const seen = new Set<string>();
      for (const version of VERSIONS) {
        for (const path of Object.values(addresses(ADELE))) {
          const p = await readPresence(s, `/${version}${path}`, adele);
          const { '@odata.context': _ctx, ...rest } = p;
          seen.add(JSON.stringify(rest));
          assert.equal(p.statusMessage?.message.content, 'Same everywhere');
        }
      }
      assert.equal(seen.size, 1, 'identical bodies apart from @odata.context');
    });

    it('unknown query options are ignored', async () => {
      const res = await getPresence(s, `/v1.0/users/${ADELE}/presence?foo=bar&$top=3`, adele);
      assert.equal(res.statusCode, 200, res.body);
    });
  });

  describe('GET presence: --public-url overrides the base of @odata.context', () => {
    let s: TestServer;
    let adele: string;

    before(async () => {
      s = await startInProcess({ store: backend, publicUrl: 'https://presence.contoso.example/graph/' });
      adele = await s.userToken(ADELE);
    });
    after(() => s?.close());

    for (const version of VERSIONS) {
      it(`${version}: the configured URL (trailing slash dropped) whatever Host the request names`, async () => {
        const base = `https://presence.contoso.example/graph/${version}/$metadata#`;
        const a = addresses(ADELE);
        const expect = [
          [a.me, `${base}users('${ADELE}')/presence/$entity`],
          [a.users, `${base}users('${ADELE}')/presence/$entity`],
          [a.communications, `${base}communications/presences/$entity`],
        ] as const;
        for (const [path, context] of expect) {
          const res = await getPresence(s, `/${version}${path}`, adele, { host: 'internal-node-7:9999' });
          assert.equal(res.statusCode, 200, res.body);
          assert.equal((res.json() as PresenceJson)['@odata.context'], context);
        }
      });
    }
  });

  describe('GET presence: privacy rule (owner, watcher, application)', () => {
    let s: TestServer;
    let adele: string;

    before(async () => {
      s = await shared();
      adele = await s.userToken(ADELE);
      // An expiry with 2 fractional digits and a lower-case Windows zone name: read back normalised / as sent.
      await setStatusOk(s, ADELE, adele, message('In a meeting', { dateTime: '2099-10-18T17:05:33.12', timeZone: 'pacific standard time' }));
    });

    it('the owner sees expiryDateTime (dateTime normalised to 7 digits, timeZone exactly as sent) and publishedDateTime', async () => {
      for (const version of VERSIONS) {
        for (const path of Object.values(addresses(ADELE))) {
          const p = await readPresence(s, `/${version}${path}`, adele);
          assert.deepEqual(Object.keys(p.statusMessage ?? {}), ['message', 'expiryDateTime', 'publishedDateTime']);
          assert.deepEqual(p.statusMessage?.message, { content: 'In a meeting', contentType: 'text' });
          assert.deepEqual(p.statusMessage?.expiryDateTime, { dateTime: '2099-10-18T17:05:33.1200000', timeZone: 'pacific standard time' });
          assert.match(p.statusMessage?.publishedDateTime ?? '', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{7}Z$/);
        }
      }
    });

    it('another user (Presence.Read.All) sees only message', async () => {
      const alex = await s.userToken(ALEX, ['Presence.Read.All']);
      for (const version of VERSIONS) {
        for (const path of [addresses(ADELE).users, addresses(ADELE).communications]) {
          const p = await readPresence(s, `/${version}${path}`, alex);
          assert.deepEqual(p.statusMessage, { message: { content: 'In a meeting', contentType: 'text' } });
        }
      }
    });

    it('an application (Presence.Read.All or Presence.ReadWrite.All) sees only message', async () => {
      for (const roles of [['Presence.Read.All'], ['Presence.ReadWrite.All']]) {
        const app = await s.appToken(roles);
        for (const version of VERSIONS) {
          for (const path of [addresses(ADELE).users, addresses(ADELE).communications]) {
            const p = await readPresence(s, `/${version}${path}`, app);
            assert.deepEqual(p.statusMessage, { message: { content: 'In a meeting', contentType: 'text' } });
          }
        }
      }
    });

    it('a message without expiry: the owner sees publishedDateTime but no expiryDateTime', async () => {
      const megan = await s.userToken(MEGAN);
      await setStatusOk(s, MEGAN, megan, message('No expiry'));
      const p = await readPresence(s, '/v1.0/me/presence', megan);
      assert.deepEqual(Object.keys(p.statusMessage ?? {}), ['message', 'publishedDateTime']);
    });
  });

  describe('GET presence: $select', () => {
    let s: TestServer;
    let adele: string;

    before(async () => {
      s = await shared();
      adele = await s.userToken(ADELE);
    });

    for (const version of VERSIONS) {
      it(`${version}: $select=availability,activity returns only id + those, and the selection in @odata.context`, async () => {
        const res = await getPresence(s, `/${version}/users/${ADELE}/presence?$select=availability,activity`, adele, { host: HOST });
        assert.equal(res.statusCode, 200, res.body);
        assertJsonHeaders(res);
        const p = res.json() as Record<string, unknown>;
        assert.deepEqual(Object.keys(p).sort(), ['@odata.context', 'activity', 'availability', 'id']);
        assert.equal(p['@odata.context'], `http://${HOST}/${version}/$metadata#users('${ADELE}')/presence(availability,activity)/$entity`);
        assert.equal(p.id, ADELE);
        assert.equal(p.availability, 'PresenceUnknown');
        assert.equal(p.activity, 'PresenceUnknown');

        const me = await getPresence(s, `/${version}/me/presence?$select=availability,activity`, adele, { host: HOST });
        assert.deepEqual(me.json(), p);
      });
    }

    it('$select=statusMessage on /communications/presences/{id}', async () => {
      const res = await getPresence(s, `/beta/communications/presences/${ADELE}?$select=statusMessage`, adele, { host: HOST });
      assert.equal(res.statusCode, 200, res.body);
      const p = res.json() as Record<string, unknown>;
      assert.deepEqual(Object.keys(p).sort(), ['@odata.context', 'id', 'statusMessage']);
      assert.equal(p['@odata.context'], `http://${HOST}/beta/$metadata#communications/presences(statusMessage)/$entity`);
    });

    it('an unknown $select property is 400 naming it', async () => {
      for (const q of ['$select=availability,moodRing', '$select=moodRing']) {
        const res = await getPresence(s, `/v1.0/users/${ADELE}/presence?${q}`, adele);
        assertGraphError(res, 400, 'BadRequest', /'moodRing'/);
      }
    });
  });

  describe('GET presence: ids and path matching', () => {
    let s: TestServer;
    let adele: string;

    before(async () => {
      s = await shared();
      adele = await s.userToken(ADELE);
    });

    it('an upper-case GUID in the path answers the lower-case id (and context)', async () => {
      for (const path of [`/v1.0/users/${ADELE.toUpperCase()}/presence`, `/beta/communications/presences/${ADELE.toUpperCase()}`]) {
        const res = await getPresence(s, path, adele, { host: HOST });
        assert.equal(res.statusCode, 200, res.body);
        const p = res.json() as PresenceJson;
        assert.equal(p.id, ADELE);
        assert.ok(!p['@odata.context']?.includes(ADELE.toUpperCase()), p['@odata.context']);
      }
    });

    it('path segments match case-insensitively', async () => {
      for (const path of [`/BETA/Users/${ADELE}/Presence`, `/V1.0/USERS/${ADELE}/PRESENCE`, '/Beta/Me/Presence', `/v1.0/Communications/Presences/${ADELE}`]) {
        const res = await getPresence(s, path, adele);
        assert.equal(res.statusCode, 200, `${path}: ${res.body}`);
        assert.equal((res.json() as PresenceJson).id, ADELE);
      }
      for (const action of ['setstatusmessage', 'SETSTATUSMESSAGE', 'SetStatusMessage']) {
        const res = await s.inject({
          method: 'POST', url: `/BETA/Users/${ADELE}/Presence/${action}`, headers: { 'content-type': 'application/json', ...bearer(adele) },
          payload: JSON.stringify(message(`via ${action}`)),
        });
        assert.equal(res.statusCode, 200, `${action}: ${res.body}`);
        assert.equal((await readPresence(s, '/v1.0/me/presence', adele)).statusMessage?.message.content, `via ${action}`);
      }
    });

    it('a GUID that names no user is 404 ResourceNotFound (read and write)', async () => {
      const nobody = randomUUID();
      for (const path of [`/v1.0/users/${nobody}/presence`, `/beta/communications/presences/${nobody}`]) {
        assertGraphError(await getPresence(s, path, adele), 404, 'ResourceNotFound', new RegExp(nobody));
      }
      const app = await s.appToken(['Presence.ReadWrite.All']);
      assertGraphError(await setStatus(s, nobody, app, message('hi')), 404, 'ResourceNotFound');
    });

    it('an id that is not a GUID is 400', async () => {
      for (const id of ['AdeleV@contoso.example', 'adele', '12345', 'fa8bf3dc-eca7-46b7-bad1-db199b62afc3x', '%20']) {
        for (const path of [`/v1.0/users/${id}/presence`, `/beta/communications/presences/${id}`]) {
          assertGraphError(await getPresence(s, path, adele), 400, 'BadRequest');
        }
      }
    });
  });

  describe('GET presence: sequenceNumber', () => {
    let s: TestServer;
    let adele: string;

    before(async () => {
      s = await shared();
      adele = await s.userToken(ADELE);
    });

    it('changes on each write, sorts lexicographically in write order, and is stable across reads', async () => {
      const seqs: string[] = [];
      const read = async () => (await readPresence(s, `/v1.0/users/${ADELE}/presence`, adele)).sequenceNumber ?? '';
      seqs.push(await read());
      assert.equal(await read(), seqs[0], 'a read changes nothing');
      for (let i = 0; i < 6; i++) {
        await setStatusOk(s, ADELE, adele, i % 3 === 2 ? { statusMessage: null } : message(`message ${i}`));
        const seq = await read();
        assert.equal(await read(), seq, 'stable between writes');
        seqs.push(seq);
      }
      for (const seq of seqs) assert.match(seq, /^C\d{20}$/);
      assert.equal(new Set(seqs).size, seqs.length, `all distinct: ${seqs.join(' ')}`);
      assert.deepEqual([...seqs].sort(), seqs, 'lexicographic order is write order');
      // The same number at every address.
      const comm = await readPresence(s, `/beta/communications/presences/${ADELE}`, adele);
      assert.equal(comm.sequenceNumber, seqs.at(-1));
    });
  });

  describe('GET presence: a read does not wait for the due loop', () => {
    const START = Date.parse('2026-11-28T08:00:00Z');
    let s: TestServer;

    before(async () => {
      s = await startInProcess({ store: backend, clock: 'manual' }, { manualStart: START });
    });
    after(() => s?.close());

    /**
     * The due loop is behind (on a busy node, or a node that died holding the timer): stopped, and its runs — moving the
     * manual clock runs it — do nothing. Only the read path can make a transition now.
     */
    const stallDueLoop = async () => {
      await s.presently.scheduler.stop();
      s.presently.scheduler.runDue = async () => {};
    };

    it('a status message past its expiry reads as gone, with a new sequenceNumber, though the due loop has not got to it', async () => {
      await stallDueLoop();
      const adele = await s.userToken(ADELE);
      const alex = await s.userToken(ALEX);
      await setStatusOk(s, ADELE, adele, message('back at 8:10', { dateTime: '2026-11-28T08:10:00', timeZone: 'UTC' }));
      const before = await readPresence(s, `/v1.0/users/${ADELE}/presence`, alex);
      assert.equal(before.statusMessage?.message.content, 'back at 8:10');

      const moved = await s.inject({ method: 'POST', url: '/_presently/clock', payload: { advance: 'PT11M' } });
      assert.equal(moved.statusCode, 200, moved.body);
      const after = await readPresence(s, `/v1.0/users/${ADELE}/presence`, alex);
      assert.equal(after.statusMessage, null, 'expired at 8:10');
      assert.ok(after.sequenceNumber! > before.sequenceNumber!, `sequenceNumber ${after.sequenceNumber} after ${before.sequenceNumber}`);
      // Made once and stored: every later read, at any address and through getPresencesByUserId, agrees.
      assert.deepEqual(await readPresence(s, '/v1.0/me/presence', adele).then((p) => [p.statusMessage, p.sequenceNumber]), [null, after.sequenceNumber]);
      const list = await postJson(s, '/v1.0/communications/getPresencesByUserId', alex, { ids: [ADELE] });
      assert.equal(list.statusCode, 200, list.body);
      const [item] = (list.json() as { value: PresenceJson[] }).value;
      assert.deepEqual([item!.statusMessage, item!.sequenceNumber], [null, after.sequenceNumber]);
    });

    it('getPresencesByUserId makes an overdue transition itself, in its place in the list, among fresh and unknown ids', async () => {
      // The list is the first read after the expiry.
      await stallDueLoop();
      const megan = await s.userToken(MEGAN);
      const alex = await s.userToken(ALEX);
      await setStatusOk(s, MEGAN, megan, message('back at 8:20', { dateTime: '2026-11-28T08:20:00', timeZone: 'UTC' }));
      await setStatusOk(s, ALEX, alex, message('no expiry'));
      const before = await readPresence(s, `/v1.0/users/${MEGAN}/presence`, alex);
      const moved = await s.inject({ method: 'POST', url: '/_presently/clock', payload: { advance: 'PT21M' } });
      assert.equal(moved.statusCode, 200, moved.body);
      const nobody = randomUUID();
      const list = await postJson(s, '/v1.0/communications/getPresencesByUserId', alex, { ids: [MEGAN, nobody, ALEX, MEGAN.toUpperCase()] });
      assert.equal(list.statusCode, 200, list.body);
      const items = (list.json() as { value: PresenceJson[] }).value;
      assert.deepEqual(items.map((p) => p.id), [MEGAN, nobody, ALEX], 'request order, the repeat (in capitals) answered once');
      assert.equal(items[0]!.statusMessage, null, 'expired at 8:20');
      assert.ok(items[0]!.sequenceNumber! > before.sequenceNumber!, 'a new sequenceNumber for the transition');
      assert.equal(items[1]!.availability, 'PresenceUnknown');
      assert.equal(items[2]!.statusMessage?.message.content, 'no expiry');
      // Made once and stored: a GET afterwards agrees.
      const after = await readPresence(s, `/v1.0/users/${MEGAN}/presence`, megan);
      assert.deepEqual([after.statusMessage, after.sequenceNumber], [null, items[0]!.sequenceNumber]);
    });
  });

  describe('wire headers and error shape on presence responses', () => {
    let s: TestServer;
    let adele: string;

    before(async () => {
      s = await shared();
      adele = await s.userToken(ADELE);
    });

    it('a 200: request-id GUID, client-request-id = request-id when none sent, Date, exact Content-Type, OData-Version', async () => {
      const res = await getPresence(s, '/v1.0/me/presence', adele);
      assert.equal(res.statusCode, 200);
      assertJsonHeaders(res);
      assert.equal(res.headers['content-type'], ODATA_JSON);
    });

    it('client-request-id is echoed when sent, on successes and on errors; request-id is fresh each time', async () => {
      const crid = randomUUID();
      const ok = await getPresence(s, '/v1.0/me/presence', adele, { 'client-request-id': crid });
      assert.equal(ok.statusCode, 200);
      assertJsonHeaders(ok, crid);
      assert.notEqual(ok.headers['request-id'], crid);

      const again = await getPresence(s, '/v1.0/me/presence', adele, { 'client-request-id': crid });
      assert.notEqual(again.headers['request-id'], ok.headers['request-id'], 'request-id is fresh per request');

      const notFound = await getPresence(s, `/v1.0/users/${randomUUID()}/presence`, adele, { 'client-request-id': crid });
      const body = assertGraphError(notFound, 404, 'ResourceNotFound', undefined, crid);
      assert.equal(body.error.innerError['client-request-id'], crid);

      const written = await s.inject({
        method: 'POST', url: '/v1.0/me/presence/setStatusMessage',
        headers: { 'content-type': 'application/json', 'client-request-id': 'my-trace-42', ...bearer(adele) },
        payload: JSON.stringify(message('traced')),
      });
      assert.equal(written.statusCode, 200);
      assertBaseHeaders(written, 'my-trace-42');
    });

    it('errors of every kind carry the headers and the Graph error body', async () => {
      const crid = 'trace-' + randomUUID();
      const h = { 'client-request-id': crid };
      // 401
      assertGraphError(await s.inject({ method: 'GET', url: '/v1.0/me/presence', headers: h }), 401, 'InvalidAuthenticationToken', 'Access token is empty.', crid);
      // 400 (bad id)
      assertGraphError(await getPresence(s, '/v1.0/users/not-a-guid/presence', adele, h), 400, 'BadRequest', undefined, crid);
      // 403
      const weak = await s.userToken(ADELE, ['Presence.Read']);
      assertGraphError(await getPresence(s, `/v1.0/users/${ALEX}/presence`, weak, h), 403, 'Forbidden', undefined, crid);
      // 400 (an unknown segment)
      assertGraphError(await s.inject({ method: 'GET', url: '/v1.0/me/moodRing', headers: h }), 400, 'BadRequest', /'moodRing'/, crid);
      // 405
      assertGraphError(await s.inject({ method: 'DELETE', url: '/v1.0/me/presence', headers: { ...h, ...bearer(adele) } }), 405, 'MethodNotAllowed', undefined, crid);
      // 400 (body)
      const bad = await s.inject({
        method: 'POST', url: '/v1.0/me/presence/setStatusMessage', headers: { ...h, ...bearer(adele), 'content-type': 'application/json' }, payload: '{',
      });
      assertGraphError(bad, 400, 'BadRequest', undefined, crid);
    });

    it('innerError.date is the server clock without a zone (19 characters)', async () => {
      const res = await getPresence(s, '/v1.0/users/nope/presence', adele);
      const body = assertGraphError(res, 400, 'BadRequest');
      const date = Date.parse(`${body.error.innerError.date}Z`);
      assert.ok(Math.abs(date - Date.now()) < 5_000, body.error.innerError.date);
    });
  });
});
