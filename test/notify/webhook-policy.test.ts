/**
 * --webhook-policy production (docs/notifications/url-policy.md): https only, and no receiver on a loopback or private address
 * unless --webhook-allow names its host.
 */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { ADELE, ALEX, startInProcess, type TestServer } from '../kit/server.ts';
import { forEachBackend } from '../kit/backends.ts';

forEachBackend(['memory', 'redis'], (backend) => {
  let strict: TestServer;
  let allowing: TestServer;

  before(async () => {
    strict = await startInProcess({ store: backend, webhookPolicy: 'production', handshakeTimeoutMs: 500 });
    allowing = await startInProcess({ store: backend, webhookPolicy: 'production', webhookAllow: ['localhost'], handshakeTimeoutMs: 500 });
  });

  after(async () => {
    await strict.close();
    await allowing.close();
  });

  async function subscribe(server: TestServer, notificationUrl: string) {
    const token = await server.userToken(ALEX);
    const res = await server.inject({
      method: 'POST', url: '/v1.0/subscriptions', headers: { authorization: `Bearer ${token}` },
      payload: {
        changeType: 'updated', notificationUrl, resource: `/communications/presences/${ADELE}`,
        expirationDateTime: new Date(server.presently.clock.now() + 50 * 60_000).toISOString(),
      },
    });
    return { status: res.statusCode, error: (res.json() as { error?: { code: string; message: string } }).error };
  }

  it('production: a plain-http receiver is refused, naming notificationUrl', async () => {
    const { status, error } = await subscribe(strict, 'http://localhost:3000/hook');
    assert.equal(status, 400);
    assert.match(error!.message, /notificationUrl/);
    assert.match(error!.message, /https/i);
  });

  it('production: an https receiver on a loopback address is refused', async () => {
    const { status, error } = await subscribe(strict, 'https://127.0.0.1:3443/hook');
    assert.equal(status, 400);
    assert.match(error!.message, /notificationUrl/);
    assert.notEqual(error!.code, 'ValidationError', 'refused by policy, before any handshake');
  });

  it('production with --webhook-allow localhost: the policy lets it through (the handshake then decides)', async () => {
    const { status, error } = await subscribe(allowing, 'https://localhost:1/hook');
    assert.equal(status, 400);
    assert.equal(error!.code, 'ValidationError', 'the handshake was attempted, so the policy allowed the URL');
  });
});
