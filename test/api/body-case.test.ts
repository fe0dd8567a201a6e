/**
 * Graph reads request body property names case-insensitively ("request body parameters, including any API property
 * names and values, are not case-sensitive": docs/api/wire-format.md), and enumeration values too; values a client
 * assigns are kept as sent. One place reads every body (src/platform/json/validate.ts), so presence actions,
 * mailboxSettings, subscriptions and $batch all follow. A name given twice in two spellings is a 400 naming both
 * [P: d-body-property-case]; an unknown name is still a 400.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ADELE, ALEX, APP, startInProcess, type TestServer } from '../kit/server.ts';
import { assertBadProperty, assertGraphError, bearer, postJson, readPresence } from '../kit/graph.ts';

describe('request body property names are case-insensitive', () => {
  let s: TestServer;
  let adele: string;
  before(async () => {
    s = await startInProcess();
    adele = await s.userToken(ADELE);
  });
  after(() => s.close());

  it('setStatusMessage: {"StatusMessage": {"Message": {"Content", "ContentType": "TEXT"}, "ExpiryDateTime": {"DateTime", "TimeZone"}}}', async () => {
    const res = await postJson(s, '/v1.0/me/presence/setStatusMessage', adele, {
      StatusMessage: {
        Message: { Content: 'Case As Sent', CONTENTTYPE: 'TEXT' },
        expirydatetime: { DateTime: '2030-01-01T09:00:00', TimeZone: 'Pacific Standard Time' },
      },
    });
    assert.equal(res.statusCode, 200, res.body);
    const p = await readPresence(s, '/v1.0/me/presence', adele);
    assert.deepEqual(p.statusMessage, {
      message: { content: 'Case As Sent', contentType: 'text' },
      expiryDateTime: { dateTime: '2030-01-01T09:00:00.0000000', timeZone: 'Pacific Standard Time' },
      publishedDateTime: p.statusMessage!.publishedDateTime,
    });
  });

  it('setPresence: "SessionId", "Availability": "busy", "ACTIVITY": "inacall" — enumeration values match in any case', async () => {
    const app = await s.appToken();
    const res = await postJson(s, `/v1.0/users/${ALEX}/presence/setPresence`, app,
      { SessionId: APP, Availability: 'busy', ACTIVITY: 'inacall', expirationduration: 'PT1H' });
    assert.equal(res.statusCode, 200, res.body);
    const p = await readPresence(s, `/v1.0/users/${ALEX}/presence`, app);
    assert.deepEqual([p.availability, p.activity], ['Busy', 'InACall']);
  });

  it('mailboxSettings PATCH: "AutomaticRepliesSetting": {"Status": "AlwaysEnabled", "InternalReplyMessage"}', async () => {
    const token = await s.userToken(ADELE, ['MailboxSettings.ReadWrite', 'Presence.Read']);
    const res = await s.inject({ method: 'PATCH', url: '/v1.0/me/mailboxSettings', headers: bearer(token),
      payload: { AutomaticRepliesSetting: { Status: 'AlwaysEnabled', InternalReplyMessage: 'Away' } } });
    assert.equal(res.statusCode, 200, res.body);
    const json = res.json() as { automaticRepliesSetting: { status: string; internalReplyMessage: string } };
    assert.deepEqual([json.automaticRepliesSetting.status, json.automaticRepliesSetting.internalReplyMessage], ['alwaysEnabled', 'Away']);
    assertBadProperty(await s.inject({ method: 'PATCH', url: '/v1.0/me/mailboxSettings', headers: bearer(token), payload: { WorkingHours: {} } }), 'workingHours');
  });

  it('subscriptions: "ChangeType", "NotificationUrl", "Resource", "ExpirationDateTime", "ClientState" (kept as sent)', async () => {
    const url = await s.listen();
    const token = await s.userToken(ALEX);
    const res = await s.inject({ method: 'POST', url: '/v1.0/subscriptions', headers: bearer(token), payload: {
      ChangeType: 'Updated', NotificationUrl: `${url}/_presently/sink/case`, RESOURCE: `/communications/presences/${ADELE}`,
      ExpirationDateTime: new Date(s.presently.clock.now() + 50 * 60_000).toISOString(), ClientState: 'MiXeD',
    } });
    assert.equal(res.statusCode, 201, res.body);
    const sub = res.json() as Record<string, unknown>;
    assert.deepEqual([sub.changeType, sub.clientState, sub.resource], ['updated', 'MiXeD', `/communications/presences/${ADELE}`]);
    assertBadProperty(await s.inject({ method: 'PATCH', url: `/v1.0/subscriptions/${String(sub.id)}`, headers: bearer(token),
      payload: { ClientState: 'x' } }), 'clientState');
  });

  it('$batch: "Requests", "Id", "Method", "URL", "Body", "Headers"; the item body is read the same way', async () => {
    const res = await postJson(s, '/v1.0/$batch', adele, { Requests: [{
      ID: '1', Method: 'POST', Url: '/me/presence/setStatusMessage', Headers: { 'Content-Type': 'application/json' },
      BODY: { statusmessage: { message: { content: 'From a batch' } } },
    }] });
    assert.equal(res.statusCode, 200, res.body);
    const [item] = (res.json() as { responses: { id: string; status: number }[] }).responses;
    assert.deepEqual([item!.id, item!.status], ['1', 200]);
    assert.equal((await readPresence(s, '/v1.0/me/presence', adele)).statusMessage?.message.content, 'From a batch');
  });

  it('a name given twice in two spellings is a 400 naming both; an unknown name is still a 400 naming it', async () => {
    const twice = await postJson(s, '/v1.0/me/presence/setStatusMessage', adele,
      { statusMessage: { message: { content: 'a' } }, StatusMessage: { message: { content: 'b' } } });
    assertGraphError(twice, 400, 'BadRequest',
      "Property 'statusMessage' is given twice, as 'statusMessage' and 'StatusMessage'; property names are case-insensitive, so send it once.");
    const nested = await postJson(s, '/v1.0/me/presence/setStatusMessage', adele,
      { statusMessage: { message: { content: 'a', Content: 'b' } } });
    assertBadProperty(nested, 'statusMessage.message.content');
    const batch = await postJson(s, '/v1.0/$batch', adele, { requests: [], Requests: [] });
    assertBadProperty(batch, 'requests');
    assertGraphError(await postJson(s, '/v1.0/me/presence/setStatusMessage', adele, { statusMessage: null, StatusMesage: 1 }), 400, 'BadRequest',
      /^The property 'StatusMesage' does not exist on type 'the request body'\./);
  });
});
