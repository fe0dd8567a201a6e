/**
 * The webhook URL policy (docs/notifications/url-policy.md) as unit tests: development and production modes, the private-address
 * check with an injected resolver (no real DNS), the allow-list, and Presently's own sink; plus the flags.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidInput } from '../../src/platform/json/errors.ts';
import { checkWebhookUrl, isBlockedAddress, type Resolver, type UrlPolicy } from '../../src/subscriptions/urlPolicy.ts';
import { UsageError, toConfig } from '../../src/cli/options.ts';

/** A resolver from a fixed table; unknown names fail like ENOTFOUND. It records what it was asked. */
function table(entries: Record<string, string[]>): Resolver & { asked: string[] } {
  const asked: string[] = [];
  const resolve = async (host: string) => {
    asked.push(host);
    const found = entries[host];
    if (!found) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
    return found;
  };
  return Object.assign(resolve, { asked });
}

const DNS = table({
  'hooks.example': ['93.184.216.34', '2606:2800:220:1:248:1893:25c8:1946'],
  'internal.example': ['10.1.2.3'],
  'mixed.example': ['93.184.216.34', '192.168.1.10'],
  'metadata.example': ['169.254.169.254'],
  'v6local.example': ['fd00::1'],
  'loop.example': ['127.0.0.1'],
  'empty.example': [],
});

async function allowed(url: string, policy: UrlPolicy): Promise<void> {
  await checkWebhookUrl(url, 'notificationUrl', policy);
}

async function refused(url: string, policy: UrlPolicy, why?: RegExp): Promise<void> {
  await assert.rejects(checkWebhookUrl(url, 'notificationUrl', policy), (err: unknown) => {
    assert.ok(err instanceof InvalidInput, String(err));
    assert.equal(err.property, 'notificationUrl');
    assert.match(err.message, /^Property 'notificationUrl'/);
    if (why) assert.match(err.message, why);
    return true;
  }, url);
}

describe('urlPolicy: development mode', () => {
  const dev: UrlPolicy = { mode: 'development', allowHosts: [], resolve: DNS };

  it('http to localhost, 127.0.0.1 and [::1] (any port, path, query) is allowed', async () => {
    for (const url of ['http://localhost/h', 'http://127.0.0.1:3000/hooks?x=1', 'http://[::1]:8080/', 'HTTP://LOCALHOST:1/h']) {
      await allowed(url, dev);
    }
  });

  it('any https URL is allowed, without resolving it', async () => {
    const before = DNS.asked.length;
    for (const url of ['https://hooks.example/h', 'https://10.0.0.1/h', 'https://localhost:8443/h', 'https://unknown.example/h']) {
      await allowed(url, dev);
    }
    assert.equal(DNS.asked.length, before);
  });

  it('http elsewhere is refused, saying why', async () => {
    await refused('http://hooks.example/h', dev, /plain http is allowed only for localhost, 127\.0\.0\.1 and \[::1\]/);
    await refused('http://10.0.0.1/h', dev);
    await refused('http://127.0.0.2/h', dev);
  });

  it('not a URL, other schemes, credentials, over 2048 characters: refused', async () => {
    for (const url of ['hooks', '/relative', 'ftp://localhost/x', 'file:///etc/passwd', 'javascript:alert(1)',
      'http://user:secret@localhost/h', `https://hooks.example/${'x'.repeat(2048)}`]) {
      await refused(url, dev);
    }
  });
});

describe('urlPolicy: production mode', () => {
  const prod: UrlPolicy = { mode: 'production', allowHosts: [], resolve: DNS };

  it('https to a host with only public addresses is allowed', async () => {
    await allowed('https://hooks.example/h', prod);
    await allowed('https://93.184.216.34/h', prod);
    await allowed('https://[2606:2800:220:1:248:1893:25c8:1946]/h', prod);
  });

  it('http is refused, even to localhost', async () => {
    await refused('http://hooks.example/h', prod, /must be an https URL in production mode/);
    await refused('http://localhost/h', prod, /https/);
    await refused('http://127.0.0.1/h', prod, /https/);
  });

  it('https to loopback, private, link-local addresses is refused (literals and names; every address counts)', async () => {
    await refused('https://127.0.0.1/h', prod, /resolves to 127\.0\.0\.1, a loopback, link-local or private address/);
    await refused('https://[::1]/h', prod);
    await refused('https://[::ffff:127.0.0.1]/h', prod);
    await refused('https://10.0.0.8/h', prod);
    await refused('https://internal.example/h', prod, /'internal\.example' resolves to 10\.1\.2\.3/);
    await refused('https://mixed.example/h', prod, /192\.168\.1\.10/);
    await refused('https://metadata.example/h', prod);
    await refused('https://v6local.example/h', prod);
    await refused('https://loop.example/h', prod, /--webhook-allow/);
  });

  it('a host that does not resolve is refused', async () => {
    await refused('https://unknown.example/h', prod, /could not be resolved \(ENOTFOUND\)/);
    await refused('https://empty.example/h', prod, /could not be resolved/);
  });

  it('the allow-list exempts the hosts it names (case-insensitive; IPv6 with or without brackets), https still required', async () => {
    const policy: UrlPolicy = { ...prod, allowHosts: ['127.0.0.1', 'Internal.Example', '::1'] };
    await allowed('https://127.0.0.1:8443/h', policy);
    await allowed('https://internal.example/h', policy);
    await allowed('https://[::1]/h', policy);
    await refused('http://127.0.0.1/h', policy, /https/);
    await refused('https://mixed.example/h', policy);
    await refused('https://127.0.0.2/h', policy);
  });

  it("Presently's own sink is always allowed, even over http", async () => {
    const policy: UrlPolicy = {
      ...prod,
      isOwnSink: (url) => url.origin === 'http://127.0.0.1:8080' && url.pathname.startsWith('/_presently/sink/'),
    };
    await allowed('http://127.0.0.1:8080/_presently/sink/ci', policy);
    await refused('http://127.0.0.1:8080/other', policy);
    await refused('http://127.0.0.1:8081/_presently/sink/ci', policy);
  });
});

describe('urlPolicy: isBlockedAddress', () => {
  const cases: Array<[string, boolean]> = [
    ['127.0.0.1', true], ['127.255.0.9', true], ['10.0.0.1', true], ['172.16.0.1', true], ['172.31.255.255', true],
    ['172.32.0.1', false], ['192.168.0.1', true], ['169.254.169.254', true], ['100.64.0.1', true], ['0.0.0.0', true],
    ['224.0.0.1', true], ['255.255.255.255', true], ['8.8.8.8', false], ['93.184.216.34', false],
    ['::1', true], ['::', true], ['fe80::1', true], ['fe80::1%eth0', true], ['fc00::1', true], ['fd12:3456::1', true],
    ['::ffff:10.0.0.1', true], ['::ffff:7f00:1', true], ['::ffff:8.8.8.8', false], ['64:ff9b::a00:1', true],
    ['2001:4860:4860::8888', false], ['[::1]', true], ['not-an-ip', true],
  ];
  for (const [address, blocked] of cases) {
    it(`${address}: ${blocked ? 'blocked' : 'public'}`, () => assert.equal(isBlockedAddress(address), blocked));
  }
});

describe('flags: --webhook-allow, --handshake-timeout', () => {
  it('defaults: no hosts, 10 s', () => {
    const config = toConfig({}, {});
    assert.deepEqual(config.webhookAllow, []);
    assert.equal(config.handshakeTimeoutMs, 10_000);
  });

  it('a comma-separated list, from the flag or PRESENTLY_WEBHOOK_ALLOW', () => {
    assert.deepEqual(toConfig({ webhookAllow: 'hooks.internal, 127.0.0.1 ,[::1],Build.Local.' }, {}).webhookAllow,
      ['hooks.internal', '127.0.0.1', '::1', 'build.local']);
    assert.deepEqual(toConfig({}, { PRESENTLY_WEBHOOK_ALLOW: 'a.example,b.example' }).webhookAllow, ['a.example', 'b.example']);
    assert.deepEqual(toConfig({ webhookAllow: 'flag.example' }, { PRESENTLY_WEBHOOK_ALLOW: 'env.example' }).webhookAllow, ['flag.example']);
    assert.throws(() => toConfig({ webhookAllow: 'https://hooks.example/x' }, {}), UsageError);
  });

  it('--handshake-timeout / PRESENTLY_HANDSHAKE_TIMEOUT in ms, 100 to 60000', () => {
    assert.equal(toConfig({ handshakeTimeout: '500' }, {}).handshakeTimeoutMs, 500);
    assert.equal(toConfig({}, { PRESENTLY_HANDSHAKE_TIMEOUT: '2500' }).handshakeTimeoutMs, 2500);
    assert.throws(() => toConfig({ handshakeTimeout: '50' }, {}), UsageError);
    assert.throws(() => toConfig({ handshakeTimeout: 'soon' }, {}), UsageError);
  });
});
