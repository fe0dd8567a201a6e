/**
 * The production URL policy's block list, at subscribe time and at connect time: documentation and relay ranges,
 * IPv6 forms that embed a blocked IPv4 address (compatible, mapped, translated, NAT64, 6to4), local-use NAT64,
 * discard-only and documentation IPv6 are all refused; the webhook client refuses them for every connection, names
 * and IP literals alike. And `/_presently/deliveries` outside dev mode does not say why a POST got no response.
 */
import assert from 'node:assert/strict';
import net, { type AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import Fastify from 'fastify';
import { deliveriesRoutes } from '../../src/admin/deliveries.ts';
import { installWire } from '../../src/http/wire.ts';
import { DeliveryLog } from '../../src/notifications/deliveryLog.ts';
import { webhookClient } from '../../src/notifications/webhookClient.ts';
import { checkWebhookUrl, connectGuard, isBlockedAddress, type UrlPolicy } from '../../src/subscriptions/urlPolicy.ts';
import { fakeClock } from '../auth/fakes.ts';

/** Each listed range, by one address in it (and the embedded forms of loopback and private IPv4). */
const BLOCKED = [
  '192.0.2.1', '198.51.100.200', '203.0.113.9', '192.88.99.1',
  '::127.0.0.1', '::ffff:0:127.0.0.1', '::ffff:0:10.0.0.1', '::ffff:127.0.0.1',
  '2002:7f00:1::', '2002:a00:1::1', '2002:c0a8:101:1::1', '2002:a9fe:a9fe::',
  '64:ff9b::127.0.0.1', '64:ff9b::a9fe:a9fe', '64:ff9b:1::808:808', '64:ff9b:1:ffff::1',
  '100::1', '100::ffff:ffff:ffff:ffff', '2001:db8::1', '2001:db8:ffff::1',
  '127.0.0.1', '::1', '10.1.2.3', '169.254.169.254', 'fd00::1', 'fe80::1',
];
/** Public addresses, some in the same embedding forms: still allowed. */
const PUBLIC = ['8.8.8.8', '93.184.216.34', '2002:808:808::1', '64:ff9b::808:808', '::ffff:8.8.8.8', '2606:4700::1111'];

const production = (over: Partial<UrlPolicy> = {}): UrlPolicy => ({ mode: 'production', allowHosts: [], ...over });

describe('block list', () => {
  for (const address of BLOCKED) it(`${address} is blocked`, () => assert.equal(isBlockedAddress(address), true));
  for (const address of PUBLIC) it(`${address} is public`, () => assert.equal(isBlockedAddress(address), false));

  it('a name resolving to any listed address is refused when the subscription is checked', async () => {
    for (const address of BLOCKED) {
      const policy = production({ resolve: async () => [address] });
      await assert.rejects(checkWebhookUrl('https://hooks.example/x', 'notificationUrl', policy), /not allowed/, address);
    }
  });
});

describe('connect-time guard of the webhook client', () => {
  let listener: net.Server;
  let port: number;
  let connections = 0;
  before(async () => {
    listener = net.createServer((socket) => {
      connections++;
      socket.end('HTTP/1.1 204 No Content\r\nconnection: close\r\n\r\n');
    });
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    port = (listener.address() as AddressInfo).port;
  });
  after(() => listener.close());

  it('refuses every listed address a name resolves to, before connecting', async () => {
    for (const address of BLOCKED) {
      const policy = production({ resolve: async () => [address] });
      const client = webhookClient({ guard: connectGuard(policy), resolve: policy.resolve! });
      const outcome = await client.postJson(`https://hooks.example:${port}/x`, {}, 2000);
      assert.equal(outcome.status, 0, address);
      assert.equal(outcome.error, 'EADDRBLOCKED', address);
    }
    assert.equal(connections, 0);
  });

  it('refuses IP literals in every form, and a name with one blocked address among public ones', async () => {
    const client = webhookClient({ guard: connectGuard(production()), resolve: async () => ['8.8.8.8', '127.0.0.1'] });
    for (const host of ['127.0.0.1', '[::ffff:127.0.0.1]', '[::127.0.0.1]', '[2002:7f00:1::]', '[64:ff9b::7f00:1]', 'mixed.example']) {
      const outcome = await client.postJson(`http://${host}:${port}/x`, {}, 2000);
      assert.equal(outcome.error, 'EADDRBLOCKED', host);
    }
    assert.equal(connections, 0);
  });

  it('connects when the host is on the allow-list, and in development mode', async () => {
    const resolve = async () => ['127.0.0.1'];
    for (const policy of [production({ allowHosts: ['hooks.example'], resolve }), { mode: 'development' as const, allowHosts: [], resolve }]) {
      const client = webhookClient({ guard: connectGuard(policy), resolve });
      const outcome = await client.postJson(`http://hooks.example:${port}/x`, {}, 2000);
      assert.equal(outcome.status, 204, JSON.stringify(outcome));
    }
    assert.equal(connections, 2);
  });
});

describe('/_presently/deliveries is no scanning oracle outside dev mode', () => {
  const ADMIN_KEY = 'an-admin-key-of-32-characters-xx';
  const entry = (url: string, error: string | null, status = 0) => ({
    time: '2026-11-28T08:00:00.0000000Z', subscriptionIds: ['s'], url, kind: 'change' as const, items: 1, status, error,
    latencyMs: 1234, attempt: 1, outcome: 'retry' as const, dropped: 0, tenantIds: ['t'], userIds: ['u'], nextAttemptAt: null,
  });

  async function read(authMode: string) {
    const log = new DeliveryLog();
    log.add(entry('https://10.0.0.5:22/x', 'ECONNREFUSED'));
    log.add(entry('https://internal.example/x', 'CERT_HAS_EXPIRED'));
    log.add(entry('https://hooks.example/x', 'HTTP 500', 500));
    log.add({ ...entry('https://hooks.example/x', 'endpoint too slow: …'), latencyMs: 0, outcome: 'dropped', dropped: 1 });
    const app = Fastify();
    installWire(app, fakeClock());
    deliveriesRoutes(app, { log, authMode, adminKey: ADMIN_KEY });
    const res = await app.inject({ method: 'GET', url: '/_presently/deliveries', headers: { authorization: `Bearer ${ADMIN_KEY}` } });
    await app.close();
    assert.equal(res.statusCode, 200, res.body);
    return (res.json() as { value: Array<{ error: string | null; latencyMs: number; status: number }> }).value;
  }

  it('outside dev mode a POST without a response says only "no response", with no timing', async () => {
    const value = await read('oidc');
    assert.deepEqual(value.map((e) => [e.status, e.error, e.latencyMs]), [
      [0, 'no response', 0], [0, 'no response', 0], [500, 'HTTP 500', 1234], [0, 'endpoint too slow: …', 0],
    ]);
  });

  it('in dev mode the network error is shown, as before', async () => {
    const value = await read('dev');
    assert.deepEqual(value.map((e) => e.error), ['ECONNREFUSED', 'CERT_HAS_EXPIRED', 'HTTP 500', 'endpoint too slow: …']);
  });
});
