/**
 * In the US Government clouds a presence has a limited shape (presence-api.md §9); the encrypted resource data of a
 * rich notification must not carry more than a GET shows.
 */
import assert from 'node:assert/strict';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, it } from 'node:test';
import selfsigned from 'selfsigned';
import { decryptContent } from '../../src/notifications/encryption.ts';
import { ADELE, ALEX, startInProcess, type TestServer } from '../helpers/server.ts';

let server: TestServer;
let receiver: http.Server;
const posts: Array<{ value: Array<{ encryptedContent: { data: string; dataKey: string; dataSignature: string } }> }> = [];

before(async () => {
  server = await startInProcess({ cloud: 'usgov' });
  receiver = http.createServer((req, res) => {
    const token = new URL(req.url ?? '/', 'http://x').searchParams.get('validationToken');
    if (token !== null) return void res.writeHead(200, { 'content-type': 'text/plain' }).end(token);
    let body = '';
    req.setEncoding('utf8').on('data', (c: string) => { body += c; }).on('end', () => {
      posts.push(JSON.parse(body));
      res.writeHead(202).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
});

after(async () => {
  receiver.closeAllConnections();
  await new Promise<void>((resolve) => receiver.close(() => resolve()));
  await server.close();
});

it('usgov: the decrypted content has only id, availability, activity and statusMessage, exactly as GET', async () => {
  const pems = await selfsigned.generate([{ name: 'commonName', value: 'usgov receiver' }], {
    keySize: 2048, algorithm: 'sha256',
    notBeforeDate: new Date(Date.now() - 86_400_000), notAfterDate: new Date(Date.now() + 86_400_000),
  });
  const alex = await server.userToken(ALEX);
  const adele = await server.userToken(ADELE);
  const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  const created = await server.inject({
    method: 'POST', url: '/v1.0/subscriptions', headers: { authorization: `Bearer ${alex}` },
    payload: {
      changeType: 'updated', notificationUrl: url, resource: `/communications/presences/${ADELE}`,
      expirationDateTime: new Date(server.presently.clock.now() + 50 * 60_000).toISOString(),
      includeResourceData: true, encryptionCertificateId: 'usgov',
      encryptionCertificate: new X509Certificate(pems.cert).raw.toString('base64'),
    },
  });
  assert.equal(created.statusCode, 201, created.body);

  const set = await server.inject({
    method: 'POST', url: `/v1.0/users/${ADELE}/presence/setStatusMessage`, headers: { authorization: `Bearer ${adele}` },
    payload: { statusMessage: { message: { content: 'Briefing the agency', contentType: 'text' } } },
  });
  assert.equal(set.statusCode, 200, set.body);

  const until = Date.now() + 2000;
  while (posts.length === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
  assert.equal(posts.length, 1, 'one notification POST');
  const content = decryptContent(posts[0]!.value[0]!.encryptedContent, createPrivateKey(pems.private));

  const read = await server.inject({ url: `/v1.0/users/${ADELE}/presence`, headers: { authorization: `Bearer ${alex}` } });
  const { '@odata.context': _context, ...watcherView } = read.json() as Record<string, unknown>;
  assert.deepEqual(Object.keys(watcherView).sort(), ['activity', 'availability', 'id', 'statusMessage']);
  assert.deepEqual(content, watcherView);
});
