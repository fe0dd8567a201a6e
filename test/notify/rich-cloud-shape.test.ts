/**
 * In the US Government clouds a presence has a limited shape (docs/api/national-clouds.md); the encrypted resource data of a
 * rich notification must not carry more than a GET shows.
 */
import assert from 'node:assert/strict';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { after, before, it } from 'node:test';
import selfsigned from 'selfsigned';
import { decryptContent } from '../../src/notifications/encryption.ts';
import { ADELE, ALEX, startInProcess, type TestServer } from '../kit/server.ts';
import { forEachBackend } from '../kit/backends.ts';
import { startReceiver, type Receiver } from '../kit/receiver.ts';

forEachBackend(['memory', 'redis'], (backend) => {
  let server: TestServer;
  let receiver: Receiver;

  before(async () => {
    server = await startInProcess({ store: backend, cloud: 'usgov' });
    receiver = await startReceiver({ path: '/hook' });
  });

  after(async () => {
    await receiver.close();
    await server.close();
  });

  it('usgov: the decrypted content has only id, availability, activity and statusMessage, exactly as GET', async () => {
    const pems = await selfsigned.generate([{ name: 'commonName', value: 'usgov receiver' }], {
      keySize: 2048, algorithm: 'sha256',
      notBeforeDate: new Date(Date.now() - 86_400_000), notAfterDate: new Date(Date.now() + 86_400_000),
    });
    const alex = await server.userToken(ALEX);
    const adele = await server.userToken(ADELE);
    const url = receiver.url;
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

    await receiver.waitFor(() => receiver.posts.length > 0, 2000, 'the notification');
    assert.equal(receiver.posts.length, 1, 'one notification POST');
    const item = receiver.items()[0] as { encryptedContent: { data: string; dataKey: string; dataSignature: string } };
    const content = decryptContent(item.encryptedContent, createPrivateKey(pems.private));

    const read = await server.inject({ url: `/v1.0/users/${ADELE}/presence`, headers: { authorization: `Bearer ${alex}` } });
    const { '@odata.context': _context, ...watcherView } = read.json() as Record<string, unknown>;
    assert.deepEqual(Object.keys(watcherView).sort(), ['activity', 'availability', 'id', 'statusMessage']);
    assert.deepEqual(content, watcherView);
  });
});
