/**
 * An app's credentials: client secrets (kept as SHA-256 digests, compared in constant time) and certificates (kept as
 * PEM, found by the thumbprints a client assertion names in `x5t` or `x5t#S256`).
 */
import { X509Certificate, createHash, randomBytes, randomUUID, timingSafeEqual, type KeyObject } from 'node:crypto';
import { InvalidInput } from '../platform/json/errors.ts';

export interface StoredSecret {
  keyId: string;
  /** The first three characters, as Entra shows them. */
  hint: string;
  /** SHA-256 of the secret, base64url. */
  digest: string;
}

export interface StoredCertificate {
  keyId: string;
  /** SHA-1 thumbprint, upper-case hex (Entra's `customKeyIdentifier`). */
  thumbprint: string;
  /** SHA-256 thumbprint, upper-case hex. */
  thumbprintSha256: string;
  pem: string;
  /** ISO 8601. */
  endDateTime: string;
}

const MIN_SECRET = 16;
const MAX_SECRET = 256;

function digestOf(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('base64url');
}

/** A secret as stored; `secretText` must be 16 to 256 printable ASCII characters. */
export function storedSecret(secretText: string, name = 'secretText'): StoredSecret {
  if (secretText.length < MIN_SECRET || secretText.length > MAX_SECRET || !/^[\x21-\x7e]+$/.test(secretText)) {
    throw new InvalidInput(`Property '${name}' must be ${MIN_SECRET} to ${MAX_SECRET} printable ASCII characters without spaces.`, name);
  }
  return { keyId: randomUUID(), hint: secretText.slice(0, 3), digest: digestOf(secretText) };
}

/** A new random secret in Entra's style: 40 characters with `~` as the fourth. */
export function newSecretText(): string {
  const body = randomBytes(30).toString('base64url').replace(/[-_]/g, '.').slice(0, 37);
  return `${body.slice(0, 3)}8Q~${body.slice(3)}`.slice(0, 40);
}

/** True when `presented` is one of the secrets (every digest is compared, in constant time). */
export function secretMatches(secrets: readonly StoredSecret[], presented: string): boolean {
  const digest = Buffer.from(digestOf(presented));
  let found = false;
  for (const s of secrets) {
    const stored = Buffer.from(s.digest);
    if (stored.length === digest.length && timingSafeEqual(stored, digest)) found = true;
  }
  return found;
}

/** A certificate as stored, from PEM (or base64 DER, as Entra's `keyCredentials.key`). */
export function storedCertificate(text: string, name = 'certificate'): StoredCertificate {
  let cert: X509Certificate;
  try {
    const pem = text.includes('-----BEGIN') ? text : `-----BEGIN CERTIFICATE-----\n${text.replace(/\s+/g, '')}\n-----END CERTIFICATE-----\n`;
    cert = new X509Certificate(pem);
  } catch (err) {
    throw new InvalidInput(`Property '${name}' is not a readable X.509 certificate (PEM or base64 DER): ${(err as Error).message}`, name);
  }
  if (cert.publicKey.asymmetricKeyType !== 'rsa') {
    throw new InvalidInput(`Property '${name}' must be a certificate with an RSA key, not ${cert.publicKey.asymmetricKeyType ?? 'unknown'}.`, name);
  }
  return {
    keyId: randomUUID(),
    thumbprint: cert.fingerprint.replace(/:/g, ''),
    thumbprintSha256: cert.fingerprint256.replace(/:/g, ''),
    pem: cert.toString(),
    endDateTime: new Date(cert.validTo).toISOString(),
  };
}

/** The certificate a JWS header names by `x5t#S256` or `x5t` (base64url thumbprints), with its public key. */
export function certificateFor(certs: readonly StoredCertificate[], header: { x5t?: unknown; 'x5t#S256'?: unknown }): { cert: StoredCertificate; key: KeyObject } | null {
  const hex = (value: unknown) => typeof value === 'string' ? Buffer.from(value, 'base64url').toString('hex').toUpperCase() : null;
  const s256 = hex(header['x5t#S256']);
  const s1 = hex(header.x5t);
  const cert = certs.find((c) => (s256 !== null && c.thumbprintSha256 === s256) || (s1 !== null && c.thumbprint === s1));
  return cert ? { cert, key: new X509Certificate(cert.pem).publicKey } : null;
}
