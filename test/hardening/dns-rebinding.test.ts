/**
 * SSRF under `--webhook-policy production`, closed at connect time: every connection the webhook client makes
 * (handshake, notification, lifecycle notification) resolves the host with the server's resolver — here one the test
 * controls — and refuses a non-public address before connecting. The receiver is a TCP listener on 127.0.0.1 that
 * counts connections: a name that resolved to a public address when it was checked and to 127.0.0.1 when connected
 * to (DNS rebinding) must never reach it.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import net, { type AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { DEFAULTS } from '../../src/config/config.ts';
import type { Subscription } from '../../src/domain/subscription.ts';
import { buildPresently, type Presently } from '../../src/server.ts';
import { ADELE, ALEX, APP, TENANT, tempDir } from '../kit/server.ts';

const T0 = Date.parse('2026-11-28T08:00:00Z');
const MIN = 60_000;
const PUBLIC = '93.184.216.34';

describe('DNS rebinding is refused at connect time (production policy)', () => {
  let presently: Presently;
  let dataDir: string;
  let listener: net.Server;
  let port: number;
  let connections = 0;
  /** The test's resolver answers `localhost` with these in turn (the last one from then on); it records each question. */
  let answers: string[][] = [];
  const asked: string[] = [];

  before(async () => {
    listener = net.createServer((socket) => {
      connections++;
      socket.destroy();
    });
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    port = (listener.address() as AddressInfo).port;
    dataDir = tempDir();
    const resolve = async (host: string) => {
      asked.push(host);
      if (host !== 'localhost') throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
      return (answers.length > 1 ? answers.shift() : answers[0]) ?? [];
    };
    presently = await buildPresently({
      ...DEFAULTS, logLevel: 'silent', store: 'memory', dataDir, clock: 'manual', webhookPolicy: 'production', handshakeTimeoutMs: 2000,
    }, { manualStart: T0, resolve });
  });
  after(async () => {
    await presently.close();
    listener.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const token = async (body: object) => {
    const res = await presently.app.inject({ method: 'POST', url: '/_presently/tokens', payload: body });
    return (res.json() as { access_token: string }).access_token;
  };
  const advance = (by: string) => presently.app.inject({ method: 'POST', url: '/_presently/clock', payload: { advance: by } });

  it('handshake: public when checked, loopback when connecting: 400 ValidationError, nothing reached', async () => {
    answers = [[PUBLIC], ['127.0.0.1']];
    asked.length = 0;
    const res = await presently.app.inject({
      method: 'POST', url: '/v1.0/subscriptions', headers: { authorization: `Bearer ${await token({ userId: ALEX })}` },
      payload: {
        changeType: 'updated', notificationUrl: `https://localhost:${port}/hook`, resource: `/communications/presences/${ADELE}`,
        expirationDateTime: new Date(T0 + 50 * MIN).toISOString(),
      },
    });
    assert.equal(res.statusCode, 400, res.body);
    assert.equal((res.json() as { error: { code: string } }).error.code, 'ValidationError', 'the policy check passed; the connection was refused');
    assert.deepEqual(asked, ['localhost', 'localhost'], 'checked once, resolved again to connect');
    assert.equal(connections, 0);
  });

  it('notification and lifecycle deliveries to a name now pointing at loopback are refused, nothing reached', async () => {
    answers = [['127.0.0.1']];
    // Created while the name pointed at a public address (the handshake passed then).
    const sub: Subscription = {
      id: randomUUID(), tenantId: TENANT, applicationId: APP, creatorId: ALEX, changeType: 'updated',
      resource: `/communications/presences/${ADELE}`, userIds: [ADELE], lifecycleNotificationUrl: `https://localhost:${port}/life`,
      expiresAt: T0 + 30 * MIN, clientState: null, includeResourceData: false, encryptionCertificate: null,
      encryptionCertificateId: null, latestSupportedTlsVersion: 'v1_2', reauthorizationNotifiedAt: null, createdAt: T0,
      notificationUrl: `https://localhost:${port}/hook`,
    };
    await presently.store.putSubscription(sub);
    const set = await presently.app.inject({
      method: 'POST', url: `/v1.0/users/${ADELE}/presence/setStatusMessage`,
      headers: { authorization: `Bearer ${await token({ userId: ADELE })}` },
      payload: { statusMessage: { message: { content: 'rebound', contentType: 'text' } } },
    });
    assert.equal(set.statusCode, 200, set.body);
    assert.equal((await advance('PT1S')).statusCode, 200);
    assert.equal((await advance('PT21M')).statusCode, 200); // into the reauthorizationRequired window
    const entries = presently.notifications.log.entries({ subscriptionId: sub.id });
    for (const kind of ['change', 'lifecycle'] as const) {
      const attempts = entries.filter((e) => e.kind === kind);
      assert.ok(attempts.length > 0, `a ${kind} attempt: ${JSON.stringify(entries)}`);
      for (const e of attempts) {
        assert.equal(e.status, 0);
        assert.equal(e.error, 'EADDRBLOCKED');
      }
    }
    assert.equal(connections, 0);
  });
});
