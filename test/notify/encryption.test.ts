import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate, constants, createDecipheriv, createHmac, privateDecrypt } from 'node:crypto';
import selfsigned from 'selfsigned';
import { InvalidInput } from '../../src/platform/json/errors.ts';
import { decryptContent, encryptContent, parseEncryptionCertificate, type EncryptedContent } from '../../src/notifications/encryption.ts';

const NOW = Date.parse('2026-11-28T08:00:00Z');
const DAY = 86_400_000;

interface TestCert {
  b64: string;
  pem: string;
  privateKey: string;
}

async function makeCert(opts: { keySize?: number; keyType?: 'rsa' | 'ec'; notBefore?: number; notAfter?: number } = {}): Promise<TestCert> {
  const pems = await selfsigned.generate([{ name: 'commonName', value: 'presently-receiver' }], {
    keyType: opts.keyType ?? 'rsa',
    ...(opts.keyType === 'ec' ? {} : { keySize: opts.keySize ?? 2048 }),
    algorithm: 'sha256',
    notBeforeDate: new Date(opts.notBefore ?? NOW - DAY),
    notAfterDate: new Date(opts.notAfter ?? NOW + 365 * DAY),
  });
  return { b64: new X509Certificate(pems.cert).raw.toString('base64'), pem: pems.cert, privateKey: pems.private };
}

// Generated once, in parallel; the larger keys take a second or two.
const certs = {
  rsa2048: makeCert(),
  rsa4096: makeCert({ keySize: 4096 }),
  rsa1024: makeCert({ keySize: 1024 }),
  // Over the 4096-bit limit; stands in for 8192 (same branch) because an 8192-bit key takes seconds to generate.
  rsa4160: makeCert({ keySize: 4160 }),
  ec: makeCert({ keyType: 'ec' }),
  expired: makeCert({ notBefore: NOW - 400 * DAY, notAfter: NOW - DAY }),
};

const PRESENCE = {
  id: 'fa8bf3dc-eca7-46b7-bad1-db199b62afc3',
  availability: 'Busy',
  activity: 'InACall',
  statusMessage: { message: { content: 'In a workshop — back at 3 ✨', contentType: 'text' } },
  outOfOfficeSettings: { message: null, isOutOfOffice: false },
  workLocation: { workLocationType: 'office', source: 'manual', placeId: null },
  sequenceNumber: 'C2D9F3A1',
};

function invalid(property: string, message: RegExp) {
  return (err: unknown): boolean => {
    assert.ok(err instanceof InvalidInput, `expected InvalidInput, got ${String(err)}`);
    assert.equal(err.property, property);
    assert.match(err.message, message);
    return true;
  };
}

test('encrypt → decrypt round trip yields the same JSON', async () => {
  const c = await certs.rsa2048;
  const cert = parseEncryptionCertificate(c.b64, NOW);
  const enc = encryptContent(PRESENCE, cert, 'my-cert-1');
  assert.deepEqual(Object.keys(enc).sort(), ['data', 'dataKey', 'dataSignature', 'encryptionCertificateId', 'encryptionCertificateThumbprint']);
  assert.equal(enc.encryptionCertificateId, 'my-cert-1');
  assert.deepEqual(decryptContent(enc, c.privateKey), PRESENCE);
});

test('the encryption follows Graph exactly: RSA-OAEP-SHA1 key, IV = key[0..16], HMAC-SHA256 over the ciphertext', async () => {
  const c = await certs.rsa2048;
  const enc = encryptContent(PRESENCE, parseEncryptionCertificate(c.b64, NOW), 'id');
  const key = privateDecrypt({ key: c.privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' }, Buffer.from(enc.dataKey, 'base64'));
  assert.equal(key.length, 32);
  // 2048-bit RSA: the wrapped key is 256 bytes.
  assert.equal(Buffer.from(enc.dataKey, 'base64').length, 256);
  const ciphertext = Buffer.from(enc.data, 'base64');
  assert.equal(ciphertext.length % 16, 0);
  assert.equal(createHmac('sha256', key).update(ciphertext).digest('base64'), enc.dataSignature);
  const decipher = createDecipheriv('aes-256-cbc', key, key.subarray(0, 16));
  const json = Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString('utf8');
  assert.equal(json, JSON.stringify(PRESENCE));
  // The key is not wrapped with SHA-256 OAEP (a receiver using that would fail).
  assert.throws(() =>
    privateDecrypt({ key: c.privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, Buffer.from(enc.dataKey, 'base64')),
  );
});

test('tampering with data, the signature or the key is detected before decryption', async () => {
  const c = await certs.rsa2048;
  const cert = parseEncryptionCertificate(c.b64, NOW);
  const enc = encryptContent(PRESENCE, cert, 'id');
  const data = Buffer.from(enc.data, 'base64');
  data[0]! ^= 1;
  const tampered: EncryptedContent = { ...enc, data: data.toString('base64') };
  assert.throws(() => decryptContent(tampered, c.privateKey), /dataSignature does not match/);
  const sig = Buffer.from(enc.dataSignature, 'base64');
  sig[5]! ^= 0x80;
  assert.throws(() => decryptContent({ ...enc, dataSignature: sig.toString('base64') }, c.privateKey), /dataSignature does not match/);
  assert.throws(() => decryptContent({ ...enc, dataSignature: '' }, c.privateKey), /dataSignature does not match/);
  // Another item's key does not verify this item's data.
  const other = encryptContent(PRESENCE, cert, 'id');
  assert.throws(() => decryptContent({ ...enc, dataKey: other.dataKey }, c.privateKey), /dataSignature does not match/);
});

test('every encryption uses a fresh key', async () => {
  const c = await certs.rsa2048;
  const cert = parseEncryptionCertificate(c.b64, NOW);
  const a = encryptContent(PRESENCE, cert, 'id');
  const b = encryptContent(PRESENCE, cert, 'id');
  const unwrap = (e: EncryptedContent) =>
    privateDecrypt({ key: c.privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' }, Buffer.from(e.dataKey, 'base64'));
  assert.notDeepEqual(unwrap(a), unwrap(b));
  assert.notEqual(a.data, b.data);
  assert.notEqual(a.dataSignature, b.dataSignature);
  assert.deepEqual(decryptContent(a, c.privateKey), decryptContent(b, c.privateKey));
});

test('the thumbprint is the SHA-1 fingerprint of the DER, upper-case hex without colons', async () => {
  const c = await certs.rsa2048;
  const cert = parseEncryptionCertificate(c.b64, NOW);
  const expected = new X509Certificate(Buffer.from(c.b64, 'base64')).fingerprint.replace(/:/g, '').toUpperCase();
  assert.equal(cert.thumbprint, expected);
  assert.match(cert.thumbprint, /^[0-9A-F]{40}$/);
  assert.equal(encryptContent({}, cert, 'x').encryptionCertificateThumbprint, expected);
});

test('a PEM block or base64 broken by whitespace and line breaks is accepted', async () => {
  const c = await certs.rsa2048;
  const thumbprint = parseEncryptionCertificate(c.b64, NOW).thumbprint;
  assert.equal(parseEncryptionCertificate(c.pem, NOW).thumbprint, thumbprint);
  const wrapped = `  ${c.b64.replace(/(.{64})/g, '$1\r\n')}\n `;
  assert.equal(parseEncryptionCertificate(wrapped, NOW).thumbprint, thumbprint);
});

test('parsed certificates are cached by their text', async () => {
  const c = await certs.rsa2048;
  assert.equal(parseEncryptionCertificate(c.b64, NOW), parseEncryptionCertificate(c.b64, NOW + 1000));
});

test('RSA keys of 2048 and 4096 bits are accepted', async () => {
  for (const c of [await certs.rsa2048, await certs.rsa4096]) {
    const cert = parseEncryptionCertificate(c.b64, NOW);
    assert.deepEqual(decryptContent(encryptContent(PRESENCE, cert, 'id'), c.privateKey), PRESENCE);
  }
});

test('input that is not base64 or not a certificate is refused, naming the property', () => {
  assert.throws(() => parseEncryptionCertificate('', NOW), invalid('encryptionCertificate', /must not be empty/));
  assert.throws(() => parseEncryptionCertificate('   \n', NOW), invalid('encryptionCertificate', /must not be empty/));
  assert.throws(() => parseEncryptionCertificate('not*base64!', NOW), invalid('encryptionCertificate', /not valid base64/));
  assert.throws(() => parseEncryptionCertificate('QUJD=DEF', NOW), invalid('encryptionCertificate', /not valid base64/));
  assert.throws(() => parseEncryptionCertificate('aGVsbG8gd29ybGQ=', NOW), invalid('encryptionCertificate', /not an X\.509 certificate/));
  assert.throws(() => parseEncryptionCertificate('aGVsbG8gd29ybGQ=', NOW, 'value.encryptionCertificate'), invalid('value.encryptionCertificate', /^value\.encryptionCertificate is not/));
});

test('a certificate with an EC key is refused', async () => {
  const c = await certs.ec;
  assert.throws(() => parseEncryptionCertificate(c.b64, NOW), invalid('encryptionCertificate', /must have an RSA public key.*\bec\b/));
});

test('RSA keys under 2048 or over 4096 bits are refused', async () => {
  const small = await certs.rsa1024;
  const large = await certs.rsa4160;
  assert.throws(() => parseEncryptionCertificate(small.b64, NOW), invalid('encryptionCertificate', /1024-bit RSA key.*between 2048 and 4096 bits/));
  assert.throws(() => parseEncryptionCertificate(large.b64, NOW), invalid('encryptionCertificate', /4160-bit RSA key.*between 2048 and 4096 bits/));
});

test('an expired certificate is refused; validity is judged at the given time', async () => {
  const expired = await certs.expired;
  assert.throws(() => parseEncryptionCertificate(expired.b64, NOW), invalid('encryptionCertificate', /expired at 2026-11-27T08:00:00\.000Z/));
  const c = await certs.rsa2048;
  assert.ok(parseEncryptionCertificate(c.b64, NOW + 364 * DAY));
  // The same (cached) certificate, later: refused.
  assert.throws(() => parseEncryptionCertificate(c.b64, NOW + 366 * DAY), invalid('encryptionCertificate', /expired/));
});
