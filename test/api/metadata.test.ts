/**
 * `$metadata` (docs/api/metadata.md): a CSDL document at /v1.0/$metadata and /beta/$metadata, per cloud, declaring
 * with Graph's names and types every entity, complex type, enum and action Presently serves; every @odata.context
 * Presently sends resolves in it.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ADELE, startInProcess, type TestServer } from '../kit/server.ts';
import { bearer, message, setStatusOk } from '../kit/graph.ts';
import { PRESENCE_ACTIONS } from '../../src/presence/actions.ts';
import type { ApiVersion } from '../../src/http/odata.ts';
import { subscriptionJson } from '../../src/subscriptions/wire.ts';
import type { Subscription } from '../../src/domain/subscription.ts';

interface El { name: string; attrs: Record<string, string>; children: El[] }

/** A small XML parser for the CSDL (elements and attributes; it has no text content). Throws on bad nesting. */
function parseXml(xml: string): El {
  const root: El = { name: '#root', attrs: {}, children: [] };
  const stack = [root];
  const tag = /<(\/?)([\w:]+)((?:\s+[\w:]+="[^"]*")*)\s*(\/?)>|<\?[^>]*\?>/g;
  let m: RegExpExecArray | null;
  let at = 0;
  while ((m = tag.exec(xml))) {
    assert.equal(xml.slice(at, m.index).trim(), '', `text outside tags at ${at}`);
    at = tag.lastIndex;
    if (!m[2]) continue;
    if (m[1]) {
      assert.equal(stack.pop()?.name, m[2], `closing </${m[2]}>`);
      continue;
    }
    const attrs = Object.fromEntries([...(m[3] ?? '').matchAll(/([\w:]+)="([^"]*)"/g)].map((a) => [a[1]!, a[2]!]));
    const el: El = { name: m[2], attrs, children: [] };
    stack[stack.length - 1]!.children.push(el);
    if (!m[4]) stack.push(el);
  }
  assert.equal(stack.length, 1, 'every element closed');
  return root;
}

class Csdl {
  readonly schema: El;
  constructor(xml: string) {
    const edmx = parseXml(xml).children[0]!;
    assert.equal(edmx.name, 'edmx:Edmx');
    this.schema = edmx.children[0]!.children[0]!;
    assert.equal(this.schema.attrs.Namespace, 'microsoft.graph');
  }
  find(kind: string, name: string): El | undefined {
    return this.schema.children.find((c) => c.name === kind && c.attrs.Name === name);
  }
  /** Property name → type of an entity or complex type, base types included. */
  props(kind: 'EntityType' | 'ComplexType', name: string): Record<string, string> {
    const el = this.find(kind, name);
    assert.ok(el, `${kind} ${name} is declared`);
    const base = el.attrs.BaseType ? this.props('EntityType', el.attrs.BaseType.replace('graph.', '')) : {};
    const own = Object.fromEntries(el.children.filter((c) => c.name === 'Property' || c.name === 'NavigationProperty').map((c) => [c.attrs.Name!, c.attrs.Type!]));
    return { ...base, ...own };
  }
  members(name: string): string[] {
    const el = this.find('EnumType', name);
    assert.ok(el, `EnumType ${name} is declared`);
    return el.children.map((c) => c.attrs.Name!);
  }
  action(name: string): Record<string, string> {
    const el = this.find('Action', name);
    assert.ok(el, `Action ${name} is declared`);
    return Object.fromEntries(el.children.filter((c) => c.name === 'Parameter').map((c) => [c.attrs.Name!, c.attrs.Type!]));
  }
  container(): Record<string, string> {
    const c = this.schema.children.find((e) => e.name === 'EntityContainer')!;
    return Object.fromEntries(c.children.map((e) => [e.attrs.Name!, e.attrs.EntityType ?? e.attrs.Type!]));
  }
}

/** Checks a JSON value against a declared type: every property declared, enums among the members, recursively. */
function assertDeclared(csdl: Csdl, type: string, value: unknown, at: string): void {
  if (value === null || value === undefined) return;
  const name = type.replace('graph.', '');
  if (csdl.find('EnumType', name)) {
    assert.ok(csdl.members(name).includes(String(value)), `${at}: '${String(value)}' is a member of ${name}`);
    return;
  }
  if (!type.startsWith('graph.')) return;
  const kind = csdl.find('EntityType', name) ? 'EntityType' : 'ComplexType';
  const props = csdl.props(kind, name);
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    if (key.startsWith('@odata.')) continue;
    assert.ok(props[key], `${at}.${key} is declared on ${name}`);
    assertDeclared(csdl, props[key]!, v, `${at}.${key}`);
  }
}

describe('$metadata', () => {
  let s: TestServer;
  let token: string;
  const docs: Record<string, Csdl> = {};

  before(async () => {
    s = await startInProcess();
    token = await s.userToken(ADELE, ['Presence.Read.All', 'Presence.ReadWrite', 'MailboxSettings.ReadWrite']);
    for (const version of ['v1.0', 'beta'] as const) {
      const res = await s.inject({ method: 'GET', url: `/${version}/$metadata` });
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.headers['content-type'], 'application/xml;charset=utf-8');
      assert.equal(res.headers['access-control-allow-origin'], '*');
      docs[version] = new Csdl(res.body);
    }
  });
  after(() => s.close());

  it('is served without a token at the service root of v1.0 and beta, as well-formed CSDL', () => {
    assert.deepEqual(Object.keys(docs), ['v1.0', 'beta']);
  });

  it('declares Graph\'s presence: its properties and types, the complex types and enums under it', () => {
    for (const csdl of Object.values(docs)) {
      assert.deepEqual(csdl.props('EntityType', 'presence'), {
        id: 'Edm.String', activity: 'Edm.String', availability: 'Edm.String', outOfOfficeSettings: 'graph.outOfOfficeSettings',
        sequenceNumber: 'Edm.String', statusMessage: 'graph.presenceStatusMessage', workLocation: 'graph.userWorkLocation',
      });
      assert.deepEqual(csdl.props('ComplexType', 'presenceStatusMessage'), {
        expiryDateTime: 'graph.dateTimeTimeZone', message: 'graph.itemBody', publishedDateTime: 'Edm.DateTimeOffset',
      });
      assert.deepEqual(csdl.props('ComplexType', 'itemBody'), { content: 'Edm.String', contentType: 'graph.bodyType' });
      assert.deepEqual(csdl.members('bodyType'), ['text', 'html']);
      assert.deepEqual(csdl.members('workLocationType'), ['unspecified', 'office', 'remote', 'timeOff', 'unknownFutureValue']);
      assert.deepEqual(csdl.members('automaticRepliesStatus'), ['disabled', 'alwaysEnabled', 'scheduled']);
    }
  });

  it('declares every action Presently serves, bound to presence, with Graph\'s parameters', () => {
    for (const csdl of Object.values(docs)) {
      for (const action of PRESENCE_ACTIONS) assert.equal(csdl.action(action.name).bindingParameter, 'graph.presence', action.name);
      assert.deepEqual(csdl.action('setPresence'), {
        bindingParameter: 'graph.presence', sessionId: 'Edm.String', availability: 'Edm.String', activity: 'Edm.String', expirationDuration: 'Edm.Duration',
      });
      assert.deepEqual(csdl.action('setStatusMessage'), { bindingParameter: 'graph.presence', statusMessage: 'graph.presenceStatusMessage' });
      assert.deepEqual(csdl.action('getPresencesByUserId'), { bindingParameter: 'Collection(graph.presence)', ids: 'Collection(Edm.String)' });
    }
  });

  it('every property and enum value Presently answers with is declared (presence, mailboxSettings, subscription)', async () => {
    await setStatusOk(s, ADELE, token, message('Declared'));
    for (const [version, csdl] of Object.entries(docs)) {
      const presence = (await s.inject({ method: 'GET', url: `/${version}/me/presence`, headers: bearer(token) })).json() as Record<string, unknown>;
      assertDeclared(csdl, 'graph.presence', presence, 'presence');
      const mailbox = (await s.inject({ method: 'GET', url: `/${version}/me/mailboxSettings`, headers: bearer(token) })).json() as Record<string, unknown>;
      assertDeclared(csdl, 'graph.mailboxSettings', mailbox, 'mailboxSettings');
      const sub: Subscription = {
        id: '00000000-0000-0000-0000-000000000001', tenantId: 't', applicationId: 'a', creatorId: ADELE, changeType: 'updated',
        resource: `/communications/presences?$filter=id in ('${ADELE}')`, userIds: [ADELE], notificationUrl: 'https://example.org/',
        lifecycleNotificationUrl: null, expiresAt: 0, clientState: null, includeResourceData: false, encryptionCertificate: null,
        encryptionCertificateId: null, latestSupportedTlsVersion: 'v1_2', reauthorizationNotifiedAt: null, createdAt: 0,
      };
      const json = subscriptionJson(sub, { version: version as ApiVersion });
      assertDeclared(csdl, 'graph.subscription', json, 'subscription');
    }
  });

  it('every @odata.context Presently sends points at this server\'s $metadata and names something it declares', async () => {
    const contexts: string[] = [];
    const get = async (url: string) => contexts.push((await s.inject({ method: 'GET', url, headers: bearer(token) })).json()['@odata.context'] as string);
    await get('/v1.0/me/presence');
    await get(`/beta/users/${ADELE}/presence?$select=availability`);
    await get(`/v1.0/communications/presences/${ADELE}`);
    await get('/v1.0/me/mailboxSettings');
    await get('/beta/me/mailboxSettings/automaticRepliesSetting');
    const many = await s.inject({ method: 'POST', url: '/v1.0/communications/getPresencesByUserId', headers: { ...bearer(token), 'content-type': 'application/json' }, payload: { ids: [ADELE] } });
    contexts.push(many.json()['@odata.context'] as string);
    for (const context of contexts) {
      const [doc, fragment] = context.split('#') as [string, string];
      const res = await s.inject({ method: 'GET', url: new URL(doc).pathname });
      assert.equal(res.statusCode, 200, context);
      const csdl = docs[new URL(doc).pathname.split('/')[1]!]!;
      const head = fragment.split(/[/(]/)[0]!;
      const known = csdl.container();
      assert.ok(head === 'Collection' ? csdl.find('EntityType', 'presence') : known[head], `${context}: '${head}' is declared`);
    }
    assert.equal(contexts.length, 6);
  });
});

describe('$metadata per national cloud', () => {
  for (const [cloud, v1, beta] of [['usgov', true, false], ['dod', true, false], ['china', false, false]] as const) {
    it(`${cloud}: presence declared under v1.0 ${v1 ? 'in the limited shape' : 'nowhere'}, under beta ${beta ? '' : 'nowhere'}; mailboxSettings everywhere`, async (t) => {
      const s = await startInProcess({ cloud });
      t.after(() => s.close());
      for (const [version, offered] of [['v1.0', v1], ['beta', beta]] as const) {
        const csdl = new Csdl((await s.inject({ method: 'GET', url: `/${version}/$metadata` })).body);
        assert.ok(csdl.find('ComplexType', 'mailboxSettings'));
        assert.equal(Boolean(csdl.find('EntityType', 'presence')), offered, `${version} presence`);
        assert.equal(Boolean(csdl.find('Action', 'setStatusMessage')), offered, `${version} actions`);
        if (offered) {
          assert.deepEqual(Object.keys(csdl.props('EntityType', 'presence')).sort(), ['activity', 'availability', 'id', 'statusMessage']);
        }
      }
    });
  }
});
