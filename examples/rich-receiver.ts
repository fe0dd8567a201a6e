/**
 * A webhook receiver for rich notifications (`includeResourceData: true`): it decrypts each item's
 * `encryptedContent` with the certificate's private key — node:crypto only, as Microsoft documents it — and prints
 * the presence it carries.
 *
 *   node --import tsx examples/rich-receiver.ts key.pem [port]      (default: $PORT, else 3000)
 */
import { constants, createDecipheriv, createHmac, createPrivateKey, privateDecrypt, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';

interface EncryptedContent { data: string; dataKey: string; dataSignature: string }

const privateKey = createPrivateKey(readFileSync(process.argv[2] ?? 'key.pem'));
const port = Number(process.argv[3] ?? process.env.PORT ?? 3000);

function decrypt({ data, dataKey, dataSignature }: EncryptedContent): unknown {
  // 1. The item's AES key, wrapped with RSA-OAEP (SHA-1) for the subscription's certificate.
  const key = privateDecrypt({ key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' }, Buffer.from(dataKey, 'base64'));
  // 2. HMAC-SHA256 of the ciphertext with that key: check it before decrypting anything.
  const ciphertext = Buffer.from(data, 'base64');
  const mac = createHmac('sha256', key).update(ciphertext).digest();
  const signature = Buffer.from(dataSignature, 'base64');
  if (signature.length !== mac.length || !timingSafeEqual(signature, mac)) throw new Error('dataSignature does not match: not decrypting');
  // 3. AES-256-CBC, PKCS7 padding, IV = the key's first 16 bytes.
  const decipher = createDecipheriv('aes-256-cbc', key, key.subarray(0, 16));
  return JSON.parse(Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString('utf8'));
}

http.createServer((req, res) => {
  const token = new URL(req.url ?? '/', 'http://receiver').searchParams.get('validationToken');
  if (token !== null) return void res.writeHead(200, { 'Content-Type': 'text/plain' }).end(token);

  let body = '';
  req.setEncoding('utf8').on('data', (chunk: string) => { body += chunk; }).on('end', () => {
    res.writeHead(202).end();
    try {
      const { value = [] } = JSON.parse(body) as { value?: { subscriptionId: string; encryptedContent?: EncryptedContent }[] };
      for (const { subscriptionId, encryptedContent } of value) {
        if (encryptedContent) console.log(JSON.stringify({ subscriptionId, presence: decrypt(encryptedContent) }));
      }
    } catch (err) {
      console.error(`could not read a notification: ${(err as Error).message}`);
    }
  });
}).listen(port, '127.0.0.1', () => console.log(`Receiving rich notifications on http://127.0.0.1:${port}/`));
