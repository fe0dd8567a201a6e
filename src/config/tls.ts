/**
 * TLS material: given files, or (`--https`) a self-signed certificate for localhost made once and kept in the data
 * folder, so clients can trust it once.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';

export interface TlsMaterial {
  cert: string;
  key: string;
  /** The certificate's path, printed at start so clients can trust it. */
  certPath: string;
  created: boolean;
}

export async function loadTls(opts: { dataDir: string; certFile: string | null; keyFile: string | null }): Promise<TlsMaterial> {
  if (opts.certFile || opts.keyFile) {
    if (!opts.certFile || !opts.keyFile) throw new Error('--cert and --key go together: give both files.');
    return { cert: readFileSync(opts.certFile, 'utf8'), key: readFileSync(opts.keyFile, 'utf8'), certPath: opts.certFile, created: false };
  }
  const certPath = join(opts.dataDir, 'dev-cert.pem');
  const keyPath = join(opts.dataDir, 'dev-key.pem');
  if (existsSync(certPath) && existsSync(keyPath)) {
    const cert = readFileSync(certPath, 'utf8');
    // Reuse it while it is valid for at least another day; an expired one is replaced.
    if (Date.parse(new X509Certificate(cert).validTo) > new Date().getTime() + 86_400_000) {
      return { cert, key: readFileSync(keyPath, 'utf8'), certPath, created: false };
    }
  }
  // Loaded only to make a certificate: it costs ~15 MB and a good part of a start that does not need it.
  const { default: selfsigned } = await import('selfsigned');
  const pems = await selfsigned.generate([{ name: 'commonName', value: 'localhost' }], {
    keySize: 2048,
    algorithm: 'sha256',
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }, { type: 7, ip: '::1' }] },
    ],
  });
  mkdirSync(opts.dataDir, { recursive: true });
  writeFileSync(keyPath, pems.private, { mode: 0o600 });
  writeFileSync(certPath, pems.cert);
  return { cert: pems.cert, key: pems.private, certPath, created: true };
}
