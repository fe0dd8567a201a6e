/**
 * Out of office through mailboxSettings (docs/api/out-of-office.md, docs/api/permissions.md, docs/api/wire-format.md): GET and PATCH of
 * `/{version}/users/{id}/mailboxSettings`, `/me/mailboxSettings` and their `/automaticRepliesSetting`; permissions;
 * defaults; validation; and how the settings show in the presence, including a schedule across a DST change.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import { ADELE, ALEX, APP, TENANT, startInProcess, type TestServer } from '../kit/server.ts';
import {
  VERSIONS, assertBadProperty, assertGraphError, assertJsonHeaders, bearer, moveClock, postJson, readPresence, type PresenceJson,
} from '../kit/graph.ts';
import { forEachBackend } from '../kit/backends.ts';

forEachBackend(['memory', 'redis'], (backend) => {
  const HOST = 'presently.test:8080';
  const READ = ['MailboxSettings.Read'];
  const READWRITE = ['MailboxSettings.ReadWrite'];

  const DEFAULT_REPLIES = {
    status: 'disabled',
    externalAudience: 'all',
    scheduledStartDateTime: null,
    scheduledEndDateTime: null,
    internalReplyMessage: '',
    externalReplyMessage: '',
  };

  function patch(s: TestServer, url: string, token: string | null, body: unknown, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
    return s.inject({
      method: 'PATCH',
      url,
      headers: { 'content-type': 'application/json', ...(token ? bearer(token) : {}), ...headers },
      ...(body === undefined ? {} : { payload: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
  }

  function get(s: TestServer, url: string, token: string | null, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
    return s.inject({ method: 'GET', url, headers: { ...(token ? bearer(token) : {}), ...headers } });
  }

  /** A 200 JSON answer with the wire headers; returns the body. */
  function ok(res: LightMyRequestResponse): Record<string, unknown> {
    assert.equal(res.statusCode, 200, res.body);
    assertJsonHeaders(res);
    return res.json() as Record<string, unknown>;
  }

  async function patchOk(s: TestServer, url: string, token: string, body: unknown): Promise<Record<string, unknown>> {
    return ok(await patch(s, url, token, body));
  }

  /** A session for `appId` (its own sessionId), through setPresence with an app token. */
  async function setSession(s: TestServer, token: string, appId: string, availability: string, activity: string): Promise<void> {
    const res = await postJson(s, `/v1.0/users/${ADELE}/presence/setPresence`, token,
      { sessionId: appId, availability, activity, expirationDuration: 'PT4H' });
    assert.equal(res.statusCode, 200, res.body);
  }

  describe('mailboxSettings: permissions (docs/api/permissions.md)', () => {
    let s: TestServer;
    const t: Record<string, string> = {};

    before(async () => {
      s = await startInProcess({ store: backend });
      t.adeleRead = await s.userToken(ADELE, READ);
      t.adeleReadWrite = await s.userToken(ADELE, READWRITE);
      t.adelePresence = await s.userToken(ADELE); // Presence.* only
      t.appRead = await s.appToken(READ);
      t.appReadWrite = await s.appToken(READWRITE);
      t.appPresence = await s.appToken(); // Presence.ReadWrite.All only
    });
    after(() => s?.close());

    const harmless = { automaticRepliesSetting: { externalAudience: 'all' } };
    const cases: Array<[string, 'GET' | 'PATCH', string, string, number]> = [];
    for (const suffix of ['', '/automaticRepliesSetting']) {
      const users = (id: string) => `/v1.0/users/${id}/mailboxSettings${suffix}`;
      const me = `/v1.0/me/mailboxSettings${suffix}`;
      cases.push(
        ['delegated Read, self', 'GET', users(ADELE), 'adeleRead', 200],
        ['delegated ReadWrite, self', 'GET', users(ADELE), 'adeleReadWrite', 200],
        ['delegated Read, /me', 'GET', me, 'adeleRead', 200],
        ['delegated Presence.* only', 'GET', users(ADELE), 'adelePresence', 403],
        ['delegated Read, another user', 'GET', users(ALEX), 'adeleRead', 403],
        ['delegated ReadWrite, another user', 'GET', users(ALEX), 'adeleReadWrite', 403],
        ['application Read, any user', 'GET', users(ALEX), 'appRead', 200],
        ['application ReadWrite, any user', 'GET', users(ALEX), 'appReadWrite', 200],
        ['application Presence.ReadWrite.All only', 'GET', users(ALEX), 'appPresence', 403],
        ['application, /me', 'GET', me, 'appRead', 400],
        ['delegated ReadWrite, self', 'PATCH', users(ADELE), 'adeleReadWrite', 200],
        ['delegated ReadWrite, /me', 'PATCH', me, 'adeleReadWrite', 200],
        ['delegated Read only', 'PATCH', users(ADELE), 'adeleRead', 403],
        ['delegated Presence.* only', 'PATCH', me, 'adelePresence', 403],
        ['delegated ReadWrite, another user', 'PATCH', users(ALEX), 'adeleReadWrite', 403],
        ['application ReadWrite, any user', 'PATCH', users(ALEX), 'appReadWrite', 200],
        ['application Read only', 'PATCH', users(ALEX), 'appRead', 403],
        ['application Presence.ReadWrite.All only', 'PATCH', users(ALEX), 'appPresence', 403],
        ['application, /me', 'PATCH', me, 'appReadWrite', 400],
      );
    }
    for (const [name, method, url, who, status] of cases) {
      it(`${method} ${url} — ${name}: ${status}`, async () => {
        const body = url.endsWith('/automaticRepliesSetting') ? harmless.automaticRepliesSetting : harmless;
        const res = method === 'GET' ? await get(s, url, t[who]!) : await patch(s, url, t[who]!, body);
        if (status === 200) {
          ok(res);
        } else if (status === 400) {
          assertGraphError(res, 400, 'BadRequest', /\/me request is only valid with delegated authentication flow/);
        } else {
          const e = assertGraphError(res, 403, 'Forbidden');
          if (who.startsWith('adele') && url.includes(ALEX)) assert.match(e.error.message, /another user/);
          else assert.match(e.error.message, method === 'GET' ? /MailboxSettings\.Read\b/ : /MailboxSettings\.ReadWrite/);
        }
      });
    }

    it('a refused PATCH changes nothing', async () => {
      const on = { automaticRepliesSetting: { status: 'alwaysEnabled' } };
      assertGraphError(await patch(s, `/v1.0/users/${ALEX}/mailboxSettings`, t.adeleReadWrite!, on), 403, 'Forbidden');
      assertGraphError(await patch(s, `/v1.0/users/${ALEX}/mailboxSettings`, t.appRead!, on), 403, 'Forbidden');
      const body = ok(await get(s, `/v1.0/users/${ALEX}/mailboxSettings`, t.appRead!));
      assert.equal((body.automaticRepliesSetting as { status: string }).status, 'disabled');
    });

    it('no token: 401; a bad token: 401', async () => {
      for (const method of ['GET', 'PATCH'] as const) {
        const url = `/v1.0/users/${ADELE}/mailboxSettings`;
        const none = method === 'GET' ? await get(s, url, null) : await patch(s, url, null, {});
        assertGraphError(none, 401, 'InvalidAuthenticationToken', 'Access token is empty.');
        const bad = method === 'GET' ? await get(s, url, 'not.a.jwt') : await patch(s, url, 'not.a.jwt', {});
        assertGraphError(bad, 401, 'InvalidAuthenticationToken');
      }
    });

    it('an unknown user: 404 ResourceNotFound (application); a non-GUID id: 400', async () => {
      const nobody = randomUUID();
      assertGraphError(await get(s, `/v1.0/users/${nobody}/mailboxSettings`, t.appReadWrite!), 404, 'ResourceNotFound');
      assertGraphError(await patch(s, `/beta/users/${nobody}/mailboxSettings/automaticRepliesSetting`, t.appReadWrite!, { status: 'disabled' }), 404, 'ResourceNotFound');
      assertGraphError(await get(s, '/v1.0/users/adelev@contoso.example/mailboxSettings', t.appReadWrite!), 400, 'BadRequest', /GUID/);
      // A delegated caller learns nothing about other ids: 403 before 404.
      assertGraphError(await get(s, `/v1.0/users/${nobody}/mailboxSettings`, t.adeleReadWrite!), 403, 'Forbidden');
    });

    it('other methods: 405 with Allow; a non-JSON body: 415', async () => {
      for (const url of ['/v1.0/me/mailboxSettings', `/beta/users/${ADELE}/mailboxSettings/automaticRepliesSetting`]) {
        const res = await postJson(s, url, t.adeleReadWrite!, {});
        assertGraphError(res, 405, 'MethodNotAllowed');
        assert.equal(res.headers.allow, 'GET, PATCH');
      }
      const res = await patch(s, '/v1.0/me/mailboxSettings', t.adeleReadWrite!, 'status=on', { 'content-type': 'text/plain' });
      assertGraphError(res, 415, 'UnsupportedMediaType');
    });
  });

  describe('mailboxSettings: GET and PATCH shapes', () => {
    let s: TestServer;
    let adele: string;
    let app: string;

    before(async () => {
      s = await startInProcess({ store: backend });
      adele = await s.userToken(ADELE, READWRITE);
      app = await s.appToken(READWRITE);
    });
    after(() => s?.close());

    for (const version of VERSIONS) {
      for (const url of [`/${version}/me/mailboxSettings`, `/${version}/users/${ADELE.toUpperCase()}/MAILBOXSETTINGS`]) {
        it(`GET ${url} when never set: the defaults, @odata.context from the request URL`, async () => {
          const body = ok(await get(s, url, adele, { host: HOST }));
          assert.deepEqual(body, {
            '@odata.context': `http://${HOST}/${version}/$metadata#users('${ADELE}')/mailboxSettings`,
            automaticRepliesSetting: DEFAULT_REPLIES,
            timeZone: 'UTC',
          });
        });
        it(`GET ${url}/automaticRepliesSetting when never set: the setting alone`, async () => {
          const body = ok(await get(s, `${url}/automaticRepliesSetting`, adele, { host: HOST }));
          assert.deepEqual(body, {
            '@odata.context': `http://${HOST}/${version}/$metadata#users('${ADELE}')/mailboxSettings/automaticRepliesSetting`,
            ...DEFAULT_REPLIES,
          });
        });
      }
    }

    it('PATCH returns 200 with the updated settings, which GET then returns; partial PATCHes merge', async () => {
      const url = `/v1.0/users/${ALEX}/mailboxSettings`;
      const first = await patchOk(s, url, app, {
        automaticRepliesSetting: {
          status: 'SCHEDULED', externalAudience: 'contactsonly',
          scheduledStartDateTime: { dateTime: '2026-12-24T09:00:00', timeZone: 'W. Europe Standard Time' },
          scheduledEndDateTime: { dateTime: '2027-01-04T09:00:00.5', timeZone: 'Europe/Berlin' },
          internalReplyMessage: '<p>Holidays</p>', externalReplyMessage: 'Away',
        },
        timeZone: 'W. Europe Standard Time',
      });
      const expected = {
        '@odata.context': `http://localhost:80/v1.0/$metadata#users('${ALEX}')/mailboxSettings`,
        automaticRepliesSetting: {
          status: 'scheduled', externalAudience: 'contactsOnly',
          scheduledStartDateTime: { dateTime: '2026-12-24T09:00:00.0000000', timeZone: 'W. Europe Standard Time' },
          scheduledEndDateTime: { dateTime: '2027-01-04T09:00:00.5000000', timeZone: 'Europe/Berlin' },
          internalReplyMessage: '<p>Holidays</p>', externalReplyMessage: 'Away',
        },
        timeZone: 'W. Europe Standard Time',
      };
      assert.deepEqual(first, expected);
      assert.deepEqual(ok(await get(s, url, app)), expected);

      const second = await patchOk(s, url, app, { automaticRepliesSetting: { externalReplyMessage: null } });
      assert.deepEqual(second, { ...expected, automaticRepliesSetting: { ...expected.automaticRepliesSetting, externalReplyMessage: '' } });

      const sub = await patchOk(s, `${url}/automaticRepliesSetting`, app, { status: 'alwaysEnabled' });
      assert.deepEqual(sub, {
        '@odata.context': `http://localhost:80/v1.0/$metadata#users('${ALEX}')/mailboxSettings/automaticRepliesSetting`,
        ...expected.automaticRepliesSetting, status: 'alwaysEnabled', externalReplyMessage: '',
      });
      assert.equal((ok(await get(s, `/beta/users/${ALEX}/mailboxSettings`, app)).automaticRepliesSetting as { status: string }).status, 'alwaysEnabled');

      // The whole GET answer sent back as a PATCH changes nothing.
      const whole = ok(await get(s, url, app));
      assert.deepEqual(await patchOk(s, url, app, whole), whole);
      assert.deepEqual(await patchOk(s, url, app, {}), whole);
    });

    it('only what the presence shows bumps sequenceNumber', async () => {
      const reader = await s.userToken(ADELE); // Presence.Read.All
      const seq = async () => (await readPresence(s, `/v1.0/users/${ADELE}/presence`, reader)).sequenceNumber;
      const url = '/v1.0/me/mailboxSettings';
      await patchOk(s, url, adele, { automaticRepliesSetting: { status: 'disabled', internalReplyMessage: '' } });
      const s0 = await seq();
      await patchOk(s, url, adele, { automaticRepliesSetting: { externalReplyMessage: 'x', internalReplyMessage: 'later' }, timeZone: 'UTC' });
      assert.equal(await seq(), s0, 'nothing visible changed while disabled');
      await patchOk(s, url, adele, { automaticRepliesSetting: { status: 'alwaysEnabled' } });
      const s1 = await seq();
      assert.ok(s1! > s0!, `${s1} > ${s0}`);
      await patchOk(s, url, adele, { automaticRepliesSetting: { internalReplyMessage: 'changed' } });
      const s2 = await seq();
      assert.ok(s2! > s1!, 'the shown message changed');
      await patchOk(s, url, adele, { automaticRepliesSetting: { externalAudience: 'none' } });
      assert.equal(await seq(), s2);
    });
  });

  describe('mailboxSettings: validation (400 naming the property)', () => {
    let s: TestServer;
    let app: string;
    const url = `/v1.0/users/${ALEX}/mailboxSettings`;
    const start = { dateTime: '2026-10-31T18:00:00', timeZone: 'Pacific Standard Time' };
    const end = { dateTime: '2026-11-01T09:00:00', timeZone: 'Pacific Standard Time' };
    const r = (x: Record<string, unknown>) => ({ automaticRepliesSetting: x });

    before(async () => {
      s = await startInProcess({ store: backend });
      app = await s.appToken(READWRITE);
    });
    after(() => s?.close());

    const cases: Array<[string, unknown, string]> = [
      ['an unknown property', { foo: 1 }, 'foo'],
      ['a Graph property Presently does not model', { workingHours: { daysOfWeek: ['monday'] } }, 'workingHours'],
      ['an unknown setting property', r({ status: 'disabled', replyToAll: true }), 'automaticRepliesSetting.replyToAll'],
      ['a bad status', r({ status: 'on' }), 'automaticRepliesSetting.status'],
      ['a null status', r({ status: null }), 'automaticRepliesSetting.status'],
      ['a bad externalAudience', r({ externalAudience: 'everybody' }), 'automaticRepliesSetting.externalAudience'],
      ['a non-string message', r({ internalReplyMessage: ['hi'] }), 'automaticRepliesSetting.internalReplyMessage'],
      ['scheduled without a schedule', r({ status: 'scheduled' }), 'automaticRepliesSetting.scheduledStartDateTime'],
      ['scheduled without an end', r({ status: 'scheduled', scheduledStartDateTime: start }), 'automaticRepliesSetting.scheduledEndDateTime'],
      ['an end before the start', r({ status: 'scheduled', scheduledStartDateTime: end, scheduledEndDateTime: start }), 'automaticRepliesSetting.scheduledEndDateTime'],
      ['an unknown time zone', r({ scheduledStartDateTime: { ...start, timeZone: 'Pacific Time' } }), 'automaticRepliesSetting.scheduledStartDateTime.timeZone'],
      ['an offset with a non-UTC zone', r({ scheduledEndDateTime: { dateTime: '2026-11-01T09:00:00Z', timeZone: 'Pacific Standard Time' } }), 'automaticRepliesSetting.scheduledEndDateTime.dateTime'],
      ['an impossible date', r({ scheduledEndDateTime: { dateTime: '2026-11-31T09:00:00', timeZone: 'UTC' } }), 'automaticRepliesSetting.scheduledEndDateTime.dateTime'],
      ['a schedule that is not a dateTimeTimeZone', r({ scheduledStartDateTime: '2026-10-31T18:00:00' }), 'automaticRepliesSetting.scheduledStartDateTime'],
      ['a missing timeZone', r({ scheduledStartDateTime: { dateTime: '2026-10-31T18:00:00' } }), 'automaticRepliesSetting.scheduledStartDateTime.timeZone'],
      ['an unknown mailbox time zone', { timeZone: 'Atlantis' }, 'timeZone'],
      ['a setting that is not an object', { automaticRepliesSetting: [] }, 'automaticRepliesSetting'],
    ];
    for (const [name, body, property] of cases) {
      it(`${name}: 400 naming '${property}', nothing stored`, async () => {
        assertBadProperty(await patch(s, url, app, body), property);
        const after = ok(await get(s, url, app));
        assert.deepEqual(after.automaticRepliesSetting, DEFAULT_REPLIES);
      });
    }

    it('the sub-resource names properties without the prefix', async () => {
      assertBadProperty(await patch(s, `${url}/automaticRepliesSetting`, app, { status: 'maybe' }), 'status');
      assertBadProperty(await patch(s, `${url}/automaticRepliesSetting`, app, { status: 'scheduled', scheduledEndDateTime: end }), 'scheduledStartDateTime');
      assertBadProperty(await patch(s, `${url}/automaticRepliesSetting`, app, { automaticRepliesSetting: {} }), 'automaticRepliesSetting');
    });

    it('checks against what is stored: scheduled later uses it; a start after the stored end is refused and rolled back', async () => {
      const stored = await patchOk(s, url, app, r({ scheduledStartDateTime: start, scheduledEndDateTime: end }));
      assert.equal((stored.automaticRepliesSetting as { status: string }).status, 'disabled');
      await patchOk(s, url, app, r({ status: 'scheduled' }));
      const res = await patch(s, url, app, r({ scheduledStartDateTime: { dateTime: '2026-11-01T18:00:00', timeZone: 'UTC' }, internalReplyMessage: 'x' }));
      assertBadProperty(res, 'automaticRepliesSetting.scheduledStartDateTime');
      const now = ok(await get(s, url, app)).automaticRepliesSetting as Record<string, unknown>;
      assert.deepEqual(now.scheduledStartDateTime, { dateTime: '2026-10-31T18:00:00.0000000', timeZone: 'Pacific Standard Time' });
      assert.equal(now.internalReplyMessage, '');
      assertBadProperty(await patch(s, url, app, r({ scheduledEndDateTime: null })), 'automaticRepliesSetting.scheduledEndDateTime');
    });

    it('bad JSON and an empty body: 400', async () => {
      assertGraphError(await patch(s, url, app, '{"automaticRepliesSetting":'), 400, 'BadRequest');
      assertGraphError(await patch(s, url, app, undefined), 400, 'BadRequest', /empty/);
    });
  });

  describe('mailboxSettings in the presence: status and activity', () => {
    let s: TestServer;
    let app: string;
    let sessions: string;
    let reader: string;
    const OTHER_APP = randomUUID();

    before(async () => {
      s = await startInProcess({ store: backend, clock: 'manual' }, { manualStart: Date.parse('2026-06-01T09:00:00Z') });
      app = await s.appToken(READWRITE);
      sessions = await s.appToken(); // Presence.ReadWrite.All, the dev app
      reader = await s.userToken(ADELE); // Presence.Read.All
    });
    after(() => s?.close());

    const presence = () => readPresence(s, `/v1.0/users/${ADELE}/presence`, reader);
    const settings = `/v1.0/users/${ADELE}/mailboxSettings`;

    it('alwaysEnabled: isOutOfOffice true, the internal reply as the message, activity OutOfOffice over Available', async () => {
      await setSession(s, sessions, APP, 'Available', 'Available');
      assert.deepEqual(pick(await presence()), ['Available', 'Available', { message: null, isOutOfOffice: false }]);
      await patchOk(s, settings, app, { automaticRepliesSetting: { status: 'alwaysEnabled', internalReplyMessage: 'Out until Monday', externalReplyMessage: 'Not for you' } });
      assert.deepEqual(pick(await presence()), ['Available', 'OutOfOffice', { message: 'Out until Monday', isOutOfOffice: true }]);
    });

    it('a Busy/InACall session keeps InACall while out of office', async () => {
      const other = await s.appToken(['Presence.ReadWrite.All'], OTHER_APP);
      await setSession(s, other, OTHER_APP, 'Busy', 'InACall');
      assert.deepEqual(pick(await presence()), ['Busy', 'InACall', { message: 'Out until Monday', isOutOfOffice: true }]);
      const res = await postJson(s, `/v1.0/users/${ADELE}/presence/clearPresence`, other, { sessionId: OTHER_APP });
      assert.equal(res.statusCode, 200, res.body);
      assert.deepEqual(pick(await presence()), ['Available', 'OutOfOffice', { message: 'Out until Monday', isOutOfOffice: true }]);
    });

    it('disabled: isOutOfOffice false, message null, the session\'s activity back', async () => {
      await patchOk(s, `${settings}/automaticRepliesSetting`, app, { status: 'Disabled' });
      assert.deepEqual(pick(await presence()), ['Available', 'Available', { message: null, isOutOfOffice: false }]);
    });

    it('delegated /me: the user sets their own out of office', async () => {
      const adele = await s.userToken(ADELE, READWRITE);
      await patchOk(s, '/beta/me/mailboxSettings', adele, { automaticRepliesSetting: { status: 'alwaysenabled', internalReplyMessage: 'Gone fishing' } });
      assert.deepEqual(pick(await presence()), ['Available', 'OutOfOffice', { message: 'Gone fishing', isOutOfOffice: true }]);
    });
  });

  function pick(p: PresenceJson): [string, string, PresenceJson['outOfOfficeSettings']] {
    return [p.availability, p.activity, p.outOfOfficeSettings];
  }

  describe('mailboxSettings in the presence: a scheduled window across the DST fall-back', () => {
    // 'Pacific Standard Time' 2026-10-31T18:00 is PDT (UTC-7) → 2026-11-01T01:00Z; 2026-11-01T09:00 is after the
    // 02:00 fall-back, PST (UTC-8) → 2026-11-01T17:00Z. A 15-hour wall-clock window that lasts 16 hours.
    const START = '2026-11-01T01:00:00.000Z';
    const END = '2026-11-01T17:00:00.000Z';
    const ms = (iso: string) => Date.parse(iso);
    const iso = (t: number) => new Date(t).toISOString();

    let s: TestServer;
    let app: string;
    let changes = 0;

    before(async () => {
      s = await startInProcess({ store: backend, clock: 'manual' }, { manualStart: ms('2026-10-31T12:00:00Z') });
      app = await s.appToken(READWRITE);
      s.presently.events.on('presenceChanged', ({ userId, transition }) => {
        if (userId === ADELE && transition.changed) changes++;
      });
    });
    after(() => s?.close());

    /** The stored record, read without going through the API: what the scheduler made of it. */
    const stored = async () => {
      const record = await s.presently.store.getPresence(TENANT, ADELE);
      assert.ok(record);
      return record;
    };
    // A fresh token for each read: the clock moves further than a token lives.
    const presence = async () => readPresence(s, `/v1.0/users/${ADELE}/presence`, await s.userToken(ADELE));

    /** Moves the clock to `at`; checks the stored view (before any read) and then the API's, and the change count. */
    async function expectAt(at: string, isOutOfOffice: boolean, sequenceNumber: string, expectedChanges: number): Promise<void> {
      assert.equal((await moveClock(s, { now: at })).now, `${at.slice(0, 23)}0000Z`);
      const record = await stored();
      assert.equal(record.view.outOfOffice.isOutOfOffice, isOutOfOffice, `stored view at ${at}`);
      assert.equal(record.sequenceNumber, sequenceNumber, `stored sequenceNumber at ${at}`);
      assert.equal(changes, expectedChanges, `changes by ${at}`);
      const p = await presence();
      assert.deepEqual(p.outOfOfficeSettings, { isOutOfOffice, message: isOutOfOffice ? 'On leave' : null }, `presence at ${at}`);
      assert.equal(p.activity, isOutOfOffice ? 'OutOfOffice' : 'PresenceUnknown');
      assert.equal(p.sequenceNumber, sequenceNumber, `read at ${at} does not bump`);
      assert.equal(changes, expectedChanges, `the read at ${at} made no change`);
    }

    it('opens at 01:00Z and closes at 17:00Z to the millisecond, each flip bumping sequenceNumber once, by itself', async () => {
      const body = await patchOk(s, `/v1.0/users/${ADELE}/mailboxSettings/automaticRepliesSetting`, app, {
        status: 'scheduled',
        scheduledStartDateTime: { dateTime: '2026-10-31T18:00:00', timeZone: 'Pacific Standard Time' },
        scheduledEndDateTime: { dateTime: '2026-11-01T09:00:00', timeZone: 'Pacific Standard Time' },
        internalReplyMessage: 'On leave',
      });
      assert.deepEqual(body.scheduledStartDateTime, { dateTime: '2026-10-31T18:00:00.0000000', timeZone: 'Pacific Standard Time' });
      assert.deepEqual(body.scheduledEndDateTime, { dateTime: '2026-11-01T09:00:00.0000000', timeZone: 'Pacific Standard Time' });
      const r0 = await stored();
      assert.equal(r0.dueAt, ms(START), 'the scheduler is due at the start');
      assert.equal(r0.facts.outOfOffice?.startsAt, ms(START));
      assert.equal(r0.facts.outOfOffice?.endsAt, ms(END));
      assert.equal(changes, 0, 'nothing visible changed yet');
      const s0 = r0.sequenceNumber;

      await expectAt(iso(ms(START) - 1), false, s0, 0);

      await moveClock(s, { now: START });
      const s1 = (await stored()).sequenceNumber;
      assert.ok(s1 > s0, `${s1} > ${s0}`);
      assert.equal((await stored()).dueAt, ms(END), 'then due at the end');
      await expectAt(START, true, s1, 1);

      await expectAt(iso(ms(END) - 1), true, s1, 1);

      await moveClock(s, { now: END });
      const s2 = (await stored()).sequenceNumber;
      assert.ok(s2 > s1, `${s2} > ${s1}`);
      await expectAt(END, false, s2, 2);
      assert.equal((await stored()).dueAt, null, 'nothing more is due');

      await moveClock(s, { advance: 'P2D' });
      assert.equal(changes, 2);
      assert.equal((await presence()).sequenceNumber, s2);
    });
  });
});
