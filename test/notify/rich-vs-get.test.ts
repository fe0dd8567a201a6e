/**
 * Rich notifications against a real `presently serve`, checked the way a receiver would, independently of
 * src/notifications/encryption.ts and src/notifications/validationTokens.ts (docs/notifications/resource-data.md):
 *
 * - every item's `encryptedContent` is decrypted here with node:crypto alone (RSA-OAEP-SHA1 unwrap, HMAC-SHA256
 *   check over the ciphertext, AES-256-CBC with IV = key[0..16]) and must deep-equal what
 *   `GET /users/{id}/presence` answers a watcher at that moment, minus `@odata.context` — after each of several
 *   kinds of change (session, status message with an expiry, work location, out of office), so every property of
 *   the presence and the privacy rule (no owner-only fields) are covered;
 * - `validationTokens` are verified with jose against the server's published JWKS (`createRemoteJWKSet`), with the
 *   audience, issuer and tenant a receiver would expect.
 *
 * test/notify/delivery.test.ts checks rich items in process with decryptContent and a few fields; this one compares
 * the whole decrypted presence with GET over the network.
 */
import assert from 'node:assert/strict';
import {
  X509Certificate, constants, createDecipheriv, createHash, createHmac, createPrivateKey, privateDecrypt, timingSafeEqual,
  type KeyObject,
} from 'node:crypto';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { createRemoteJWKSet, errors as joseErrors, jwtVerify } from 'jose';
import selfsigned from 'selfsigned';
import { startReceiver, type Receiver } from '../kit/receiver.ts';
import { ADELE, ALEX, APP, TENANT, startProcess, tempDir, type ServerProcess } from '../kit/server.ts';
import { eventually } from '../kit/time.ts';

/** "Microsoft Graph Change Tracking", the publisher identity in Graph's validation tokens. */
const CHANGE_TRACKING_APP = '0bf30f3b-4a52-48df-9a82-234910c4a086';
const CERT_ID = 'rich-vs-get-cert';

interface EncryptedContent {
  data: string;
  dataKey: string;
  dataSignature: string;
  encryptionCertificateId: string;
  encryptionCertificateThumbprint: string;
}
interface Item {
  subscriptionId: string;
  resource: string;
  resourceData: Record<string, string>;
  encryptedContent: EncryptedContent;
}
interface Post {
  value: Item[];
  validationTokens?: string[];
}

/** The receiver's decryption, written from Microsoft's documentation, sharing no code with the server. */
function decrypt(content: Pick<EncryptedContent, 'data' | 'dataKey' | 'dataSignature'>, privateKey: KeyObject): Record<string, unknown> {
  const key = privateDecrypt({ key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' }, Buffer.from(content.dataKey, 'base64'));
  assert.equal(key.length, 32, 'a 32-byte AES key');
  const ciphertext = Buffer.from(content.data, 'base64');
  const mac = createHmac('sha256', key).update(ciphertext).digest();
  const signature = Buffer.from(content.dataSignature, 'base64');
  if (signature.length !== mac.length || !timingSafeEqual(signature, mac)) throw new Error('dataSignature mismatch');
  const decipher = createDecipheriv('aes-256-cbc', key, key.subarray(0, 16));
  return JSON.parse(Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString('utf8')) as Record<string, unknown>;
}

let server: ServerProcess;
let dataDir: string;
let receiver: Receiver;
let receiverUrl: string;
const posts = () => receiver.bodies() as unknown as Post[];
let privateKey: KeyObject;
let certBase64: string;
let certDer: Buffer;
const tokens: Record<'alex' | 'adele' | 'adeleMailbox' | 'app', string> = { alex: '', adele: '', adeleMailbox: '', app: '' };

async function mint(body: object): Promise<string> {
  const res = await fetch(`${server.url}/_presently/tokens`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  assert.equal(res.status, 200, await res.clone().text());
  return ((await res.json()) as { access_token: string }).access_token;
}

async function call(method: string, path: string, token: string, body?: unknown): Promise<Response> {
  return fetch(`${server.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

async function ok(method: string, path: string, token: string, body?: unknown): Promise<void> {
  const res = await call(method, path, token, body);
  assert.ok(res.status >= 200 && res.status < 300, `${method} ${path}: ${res.status} ${await res.text()}`);
}

async function presenceAs(token: string, version = 'v1.0'): Promise<Record<string, unknown>> {
  const res = await call('GET', `/${version}/users/${ADELE}/presence`, token);
  assert.equal(res.status, 200);
  return await res.json() as Record<string, unknown>;
}

/**
 * The item whose decrypted presence has `sequenceNumber`, once it arrived (and the POST it came in): the way a
 * receiver of rich notifications orders changes, as `resourceData` carries only the presence's identity.
 */
async function itemFor(sequenceNumber: string): Promise<{ item: Item; post: Post }> {
  const find = () => {
    for (const post of posts()) {
      const item = post.value.find((i) => decrypt(i.encryptedContent, privateKey).sequenceNumber === sequenceNumber);
      if (item) return { item, post };
    }
    return null;
  };
  const found = await eventually(find, (f) => f !== null, 2000, `the notification with sequenceNumber ${sequenceNumber}`);
  return found!;
}

before(async () => {
  dataDir = tempDir();
  server = await startProcess(['--store', 'memory', '--data', dataDir]);

  const pems = await selfsigned.generate([{ name: 'commonName', value: 'rich-vs-get receiver' }], {
    keySize: 2048, algorithm: 'sha256',
    notBeforeDate: new Date(Date.now() - 86_400_000), notAfterDate: new Date(Date.now() + 30 * 86_400_000),
  });
  certDer = new X509Certificate(pems.cert).raw;
  certBase64 = certDer.toString('base64');
  privateKey = createPrivateKey(pems.private);

  receiver = await startReceiver({ path: '/rich' });
  receiverUrl = receiver.url;

  tokens.alex = await mint({ userId: ALEX });
  tokens.adele = await mint({ userId: ADELE });
  tokens.adeleMailbox = await mint({ userId: ADELE, scopes: ['MailboxSettings.ReadWrite'] });
  tokens.app = await mint({ roles: ['Presence.ReadWrite.All'] });
});

after(async () => {
  await receiver?.close();
  await server?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe('rich notifications: decrypted content equals what GET shows a watcher', () => {
  let subscriptionId: string;

  it('Alex subscribes to Adele with includeResourceData (RSA 2048 certificate, base64 DER)', async () => {
    const res = await call('POST', '/v1.0/subscriptions', tokens.alex, {
      changeType: 'updated',
      notificationUrl: receiverUrl,
      resource: `/communications/presences/${ADELE}`,
      expirationDateTime: new Date(Date.now() + 55 * 60_000).toISOString(),
      clientState: 'rich-vs-get',
      includeResourceData: true,
      encryptionCertificate: certBase64,
      encryptionCertificateId: CERT_ID,
    });
    assert.equal(res.status, 201, await res.clone().text());
    const sub = await res.json() as { id: string; includeResourceData: boolean; encryptionCertificateId: string; applicationId: string };
    assert.equal(sub.includeResourceData, true);
    assert.equal(sub.encryptionCertificateId, CERT_ID);
    assert.equal(sub.applicationId, APP);
    subscriptionId = sub.id;
  });

  const changes: Array<[string, () => Promise<void>]> = [
    ['a session (app token): Busy/InACall', () => ok('POST', `/v1.0/users/${ADELE}/presence/setPresence`, tokens.app,
      { sessionId: APP, availability: 'Busy', activity: 'InACall', expirationDuration: 'PT1H' })],
    ['a status message with an expiry (owner-only fields must not appear)', () => ok('POST', '/v1.0/me/presence/setStatusMessage', tokens.adele, {
      statusMessage: {
        message: { content: 'Heads down until tomorrow <pinnednote></pinnednote>', contentType: 'text' },
        expiryDateTime: { dateTime: `${new Date().getUTCFullYear() + 1}-03-10T17:00:00.1234567`, timeZone: 'Pacific Standard Time' },
      },
    })],
    ['a manual work location', () => ok('POST', '/v1.0/me/presence/setManualLocation', tokens.adele, { workLocationType: 'office', placeId: 'building-7' })],
    ['a calmer session, then out of office', async () => {
      await ok('POST', `/v1.0/users/${ADELE}/presence/setPresence`, tokens.app,
        { sessionId: APP, availability: 'Available', activity: 'Available', expirationDuration: 'PT1H' });
      await ok('PATCH', '/v1.0/me/mailboxSettings', tokens.adeleMailbox,
        { automaticRepliesSetting: { status: 'alwaysEnabled', internalReplyMessage: 'On leave, back Monday' } });
    }],
  ];

  for (const [what, change] of changes) {
    it(`after ${what}`, async () => {
      assert.ok(subscriptionId, 'the subscription was created');
      await change();
      const owner = await presenceAs(tokens.adele);
      const { item, post } = await itemFor(String(owner.sequenceNumber));

      assert.equal(item.subscriptionId, subscriptionId);
      assert.equal(item.resource, `communications/presences/${ADELE}`);
      const content = item.encryptedContent;
      assert.equal(content.encryptionCertificateId, CERT_ID);
      assert.equal(content.encryptionCertificateThumbprint, createHash('sha1').update(certDer).digest('hex').toUpperCase());

      // Graph's basic resourceData: the presence's identity, nothing of its state.
      assert.deepEqual(item.resourceData, { '@odata.id': `users/${ADELE}/presence`, '@odata.type': '#microsoft.graph.presence', id: ADELE });
      const plain = decrypt(content, privateKey);
      // Graph's decrypted presence starts with @odata.id and @odata.type, then the presence a watcher reads.
      const { '@odata.id': odataId, '@odata.type': odataType, ...presence } = plain;
      assert.deepEqual(Object.keys(plain).slice(0, 3), ['@odata.id', '@odata.type', 'id']);
      assert.deepEqual([odataId, odataType], [`users/${ADELE}/presence`, '#microsoft.graph.presence']);
      for (const version of ['v1.0', 'beta']) {
        const { '@odata.context': context, ...watcher } = await presenceAs(tokens.alex, version);
        assert.match(String(context), /\/\$metadata#users\('.+'\)\/presence\/\$entity$/);
        assert.deepEqual(presence, watcher, `decrypted content = GET /${version} as a watcher`);
      }

      // The privacy rule is what makes the two differ from the owner's view.
      const ownerMessage = owner.statusMessage as Record<string, unknown> | null;
      if (ownerMessage) {
        assert.ok('publishedDateTime' in ownerMessage, 'the owner sees publishedDateTime');
        assert.deepEqual(Object.keys(plain.statusMessage as object), ['message'], 'no owner-only fields in the notification');
      }

      // One validation token for the one (app, tenant) of the POST.
      assert.equal(post.validationTokens?.length, 1);
    });
  }

  it('the status message with expiry: the owner sees the expiry, the notification does not', async () => {
    const owner = await presenceAs(tokens.adele);
    const ownerMessage = owner.statusMessage as { expiryDateTime?: unknown; publishedDateTime?: unknown };
    assert.ok(ownerMessage.expiryDateTime, 'the owner sees expiryDateTime');
    const { item } = await itemFor(String(owner.sequenceNumber));
    const plain = decrypt(item.encryptedContent, privateKey);
    assert.deepEqual(plain.statusMessage, { message: { content: 'Heads down until tomorrow <pinnednote></pinnednote>', contentType: 'text' } });
    assert.deepEqual(plain.outOfOfficeSettings, { message: 'On leave, back Monday', isOutOfOffice: true });
    assert.deepEqual([plain.availability, plain.activity], ['Available', 'OutOfOffice']);
    assert.deepEqual(plain.workLocation, { workLocationType: 'office', source: 'manual', placeId: 'building-7' });
  });

  it('every item of every POST decrypts, carries its own key, and a tampered item is refused before decryption', async () => {
    const items = posts().flatMap((p) => p.value);
    assert.ok(items.length >= changes.length);
    for (const item of items) {
      const plain = decrypt(item.encryptedContent, privateKey);
      assert.equal(plain.id, ADELE);
      assert.match(String(plain.sequenceNumber), /^C\d{20}$/);
      assert.deepEqual(Object.keys(item.resourceData), ['@odata.id', '@odata.type', 'id']);
    }
    assert.equal(new Set(items.map((i) => i.encryptedContent.dataKey)).size, items.length, 'a fresh key per item');

    const { data, dataKey, dataSignature } = items[0]!.encryptedContent;
    const flipped = Buffer.from(data, 'base64');
    flipped[0]! ^= 1;
    assert.throws(() => decrypt({ data: flipped.toString('base64'), dataKey, dataSignature }, privateKey), /dataSignature mismatch/);
  });
});

describe('rich notifications: validation tokens verify with jose against /_presently/keys', () => {
  it('signature (remote JWKS), aud = the app id, iss, tid, azp, lifetime', async () => {
    const all = posts().flatMap((p) => p.validationTokens ?? []);
    assert.ok(all.length >= 1, 'rich POSTs carry validation tokens');
    const jwks = createRemoteJWKSet(new URL(`${server.url}/_presently/keys`));
    const issuer = `https://presently.local/${TENANT}/v2.0`;
    for (const token of all) {
      const { payload, protectedHeader } = await jwtVerify(token, jwks, { audience: APP, issuer, algorithms: ['RS256'] });
      assert.equal(protectedHeader.alg, 'RS256');
      assert.equal(payload.tid, TENANT);
      assert.equal(payload.azp, CHANGE_TRACKING_APP);
      assert.ok(typeof payload.exp === 'number' && payload.exp * 1000 > Date.now(), 'not expired');
      assert.ok(typeof payload.iat === 'number' && Math.abs(payload.iat * 1000 - Date.now()) < 5 * 60_000, 'issued just now');
    }
  });

  it('another audience or issuer is refused', async () => {
    const token = posts().find((p) => p.validationTokens)!.validationTokens![0]!;
    const jwks = createRemoteJWKSet(new URL(`${server.url}/_presently/keys`));
    await assert.rejects(jwtVerify(token, jwks, { audience: '5d9c2b1a-0e8f-4d7c-a6b5-4c3d2e1f0a9b' }), joseErrors.JWTClaimValidationFailed);
    await assert.rejects(jwtVerify(token, jwks, { issuer: 'https://login.microsoftonline.com/x/v2.0' }), joseErrors.JWTClaimValidationFailed);
  });
});
