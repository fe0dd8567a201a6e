/**
 * Rich notifications for tests that must tell changes apart. A basic item's `resourceData` names the presence only
 * (docs/notifications/delivery.md), so a test that counts bumps or checks order subscribes with
 * `includeResourceData` — as a Graph receiver would — and reads `sequenceNumber` from the decrypted presence.
 */
import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import selfsigned from 'selfsigned';
import { decryptContent, type EncryptedContent } from '../../src/notifications/encryption.ts';

export interface RichKeys {
  /** What a subscription body adds: includeResourceData, the certificate (base64 DER) and its id. */
  subscription: { includeResourceData: true; encryptionCertificate: string; encryptionCertificateId: string };
  key: KeyObject;
}

let shared: Promise<RichKeys> | null = null;

/** One certificate and key for the test process (generating one costs a few hundred ms). */
export function richKeys(): Promise<RichKeys> {
  return shared ??= (async () => {
    const pems = await selfsigned.generate([{ name: 'commonName', value: 'presently test receiver' }], {
      keySize: 2048, algorithm: 'sha256',
      notBeforeDate: new Date(Date.now() - 86_400_000), notAfterDate: new Date(Date.now() + 30 * 86_400_000),
    });
    return {
      subscription: { includeResourceData: true, encryptionCertificate: new X509Certificate(pems.cert).raw.toString('base64'), encryptionCertificateId: 'test-cert' },
      key: createPrivateKey(pems.private),
    };
  })();
}

/** Decrypted items by their `dataKey` (fresh per item): receivers that re-read their items decrypt each once. */
const decrypted = new Map<string, { userId: string; seq: string }>();

/**
 * The user id and sequenceNumber of a rich change item (decrypted), or null for an item without encryptedContent.
 * An RSA decryption costs about a millisecond, so each item is decrypted once however often it is read.
 */
export function richChange(item: { encryptedContent?: EncryptedContent }, key: KeyObject): { userId: string; seq: string } | null {
  if (!item.encryptedContent) return null;
  const known = decrypted.get(item.encryptedContent.dataKey);
  if (known) return known;
  const plain = decryptContent<{ id: string; sequenceNumber: string }>(item.encryptedContent, key);
  const change = { userId: plain.id, seq: plain.sequenceNumber };
  decrypted.set(item.encryptedContent.dataKey, change);
  return change;
}
