/**
 * Rich notifications (docs/notifications/resource-data.md): the `encryptedContent` of a change notification item, exactly as
 * Microsoft Graph builds it, so receivers written for Graph decrypt Presently's notifications unchanged.
 *
 * - a fresh 32-byte symmetric key per item;
 * - `data` = base64(AES-256-CBC, PKCS7 padding, IV = the key's first 16 bytes, of the UTF-8 JSON);
 * - `dataSignature` = base64(HMAC-SHA256(key, the ciphertext bytes));
 * - `dataKey` = base64(RSA-OAEP, SHA-1 and MGF1-SHA1, of the key, with the subscription certificate's public key);
 * - `encryptionCertificateId` echoed; `encryptionCertificateThumbprint` = SHA-1 of the certificate's DER, upper-case
 *   hex.
 *
 * Pure functions: no I/O and no clock reads (time is passed in). The only state is a bounded cache of parsed
 * certificates, since every notification of a subscription uses the same one.
 */
import {
  X509Certificate,
  constants,
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  privateDecrypt,
  publicEncrypt,
  randomBytes,
  timingSafeEqual,
  type KeyLike,
  type KeyObject,
} from 'node:crypto';
import { InvalidInput } from '../platform/json/errors.ts';

export interface EncryptionCertificate {
  /** SHA-1 of the certificate's DER encoding, upper-case hex (Graph's `encryptionCertificateThumbprint`). */
  thumbprint: string;
  /** The certificate's RSA public key (2048–4096 bits). */
  publicKey: KeyObject;
  /** When the certificate stops being valid, epoch milliseconds. */
  validTo: number;
}

/** The `encryptedContent` of a rich notification item (Graph's `changeNotificationEncryptedContent`). */
export interface EncryptedContent {
  data: string;
  dataKey: string;
  dataSignature: string;
  encryptionCertificateId: string;
  encryptionCertificateThumbprint: string;
}

export const MIN_RSA_BITS = 2048;
export const MAX_RSA_BITS = 4096;
const KEY_BYTES = 32;
const IV_BYTES = 16;

/** Parsed certificates by their normalised base64 text; least recently used evicted first. */
const CACHE_LIMIT = 256;
const cache = new Map<string, EncryptionCertificate>();

/**
 * Parses a subscription's `encryptionCertificate`: base64 DER (whitespace and line breaks tolerated, as is a PEM
 * block). Requires an X.509 certificate with an RSA public key of 2048–4096 bits that has not expired at `now`
 * (epoch ms); anything else is `InvalidInput` naming `property`.
 *
 * Only the end of validity is checked: Graph does not verify the issuer (self-signed certificates are fine), and a
 * "not yet valid" check would refuse freshly made certificates whenever the server's (possibly manual) clock runs
 * behind the client's.
 */
export function parseEncryptionCertificate(base64Der: string, now: number, property = 'encryptionCertificate'): EncryptionCertificate {
  if (typeof base64Der !== 'string') throw new InvalidInput(`${property} must be a string: a base64-encoded X.509 certificate.`, property);
  const b64 = normaliseBase64(base64Der);
  let cert = cache.get(b64);
  if (cert) {
    // Refresh its place in the LRU order.
    cache.delete(b64);
    cache.set(b64, cert);
  } else {
    cert = parse(b64, property);
    cache.set(b64, cert);
    if (cache.size > CACHE_LIMIT) {
      const oldest = cache.keys().next();
      if (!oldest.done) cache.delete(oldest.value);
    }
  }
  if (!(now < cert.validTo)) {
    throw new InvalidInput(`${property} expired at ${new Date(cert.validTo).toISOString()}; provide a currently valid certificate.`, property);
  }
  return cert;
}

function normaliseBase64(input: string): string {
  const pem = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/.exec(input);
  return (pem ? pem[1]! : input).replace(/\s+/g, '');
}

function parse(b64: string, property: string): EncryptionCertificate {
  if (b64 === '') throw new InvalidInput(`${property} must not be empty: provide a base64-encoded X.509 certificate.`, property);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64) || b64.length % 4 === 1) {
    throw new InvalidInput(`${property} is not valid base64: provide the certificate's DER encoding in base64.`, property);
  }
  const der = Buffer.from(b64, 'base64');
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(der);
  } catch {
    throw new InvalidInput(`${property} is not an X.509 certificate: provide the certificate's DER encoding in base64.`, property);
  }
  const publicKey = x509.publicKey;
  // 'rsa' only: an RSA-PSS key ('rsa-pss') is restricted to signatures and cannot be used for OAEP encryption.
  if (publicKey.asymmetricKeyType !== 'rsa') {
    throw new InvalidInput(`${property} must have an RSA public key; this certificate's key type is ${publicKey.asymmetricKeyType ?? 'unknown'}.`, property);
  }
  const bits = publicKey.asymmetricKeyDetails?.modulusLength;
  if (bits === undefined || bits < MIN_RSA_BITS || bits > MAX_RSA_BITS) {
    throw new InvalidInput(
      `${property} has a ${bits ?? 'unknown'}-bit RSA key; the key size must be between ${MIN_RSA_BITS} and ${MAX_RSA_BITS} bits.`,
      property,
    );
  }
  const validTo = Date.parse(x509.validTo);
  if (Number.isNaN(validTo)) throw new InvalidInput(`${property} has an unreadable validity period.`, property);
  const thumbprint = createHash('sha1').update(x509.raw).digest('hex').toUpperCase();
  return { thumbprint, publicKey, validTo };
}

/**
 * Encrypts `plain` (serialised as UTF-8 JSON) for a rich notification item. Every call uses a fresh random key, so
 * two encryptions of the same content differ.
 */
export function encryptContent(plain: object, cert: EncryptionCertificate, certificateId: string): EncryptedContent {
  const key = randomBytes(KEY_BYTES);
  const cipher = createCipheriv('aes-256-cbc', key, key.subarray(0, IV_BYTES)); // PKCS7 padding is the default
  const ciphertext = Buffer.concat([cipher.update(JSON.stringify(plain), 'utf8'), cipher.final()]);
  const dataSignature = createHmac('sha256', key).update(ciphertext).digest('base64');
  const dataKey = publicEncrypt({ key: cert.publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' }, key);
  return {
    data: ciphertext.toString('base64'),
    dataKey: dataKey.toString('base64'),
    dataSignature,
    encryptionCertificateId: certificateId,
    encryptionCertificateThumbprint: cert.thumbprint,
  };
}

/**
 * The receiver's side, as Microsoft documents it: unwrap the key with RSA-OAEP (SHA-1), check the HMAC-SHA256 of the
 * ciphertext against `dataSignature` before anything else (throws if it does not match: the payload was tampered
 * with), then AES-256-CBC decrypt with IV = the key's first 16 bytes and parse the JSON.
 */
export function decryptContent<T = unknown>(
  encrypted: Pick<EncryptedContent, 'data' | 'dataKey' | 'dataSignature'>,
  privateKey: KeyLike,
): T {
  const key = privateDecrypt(
    { key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' },
    Buffer.from(encrypted.dataKey, 'base64'),
  );
  if (key.length !== KEY_BYTES) throw new Error(`dataKey unwraps to ${key.length} bytes; expected ${KEY_BYTES}.`);
  const ciphertext = Buffer.from(encrypted.data, 'base64');
  const expected = createHmac('sha256', key).update(ciphertext).digest();
  const actual = Buffer.from(encrypted.dataSignature, 'base64');
  if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) {
    throw new Error('dataSignature does not match the HMAC-SHA256 of data: the payload was tampered with; not decrypting it.');
  }
  const decipher = createDecipheriv('aes-256-cbc', key, key.subarray(0, IV_BYTES));
  const json = Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString('utf8');
  return JSON.parse(json) as T;
}
