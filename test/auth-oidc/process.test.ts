/**
 * `presently serve` with real identity, as an operator starts it: repeatable flags, the admin key from the
 * environment, a provider that cannot be reached at start (the process starts, says it is not ready and why), and
 * dev auth on a network address (a warning, or with --dev-on-network refuse, no start at all).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { signingKey, startProvider } from '../kit/oidcProvider.ts';
import { startProcess } from '../kit/server.ts';
import { toConfig } from '../../src/cli/options.ts';

const ADMIN_KEY = 'process-test-admin-key-0123456789';

describe('presently serve --auth oidc', () => {
  it('starts while its provider is down, is not ready until the keys load, and takes its flags and PRESENTLY_ADMIN_KEY', async (t) => {
    const provider = await startProvider({ keys: [await signingKey('k1')], down: true });
    t.after(() => provider.close());
    const tenant = randomUUID();
    const p = await startProcess(
      ['--store', 'memory', '--auth', 'oidc', '--issuer', provider.issuer, '--issuer', 'https://issuer.invalid/x',
        '--audience', 'api://presently', '--audience', 'https://graph.microsoft.com', '--tenants', tenant, '--oidc-timeout', '2s'],
      { PRESENTLY_ADMIN_KEY: ADMIN_KEY },
    );
    t.after(() => p.stop());
    assert.match(p.stderr(), /NOT READY: .*could not be reached/);
    assert.match(p.stderr(), /audiences: api:\/\/presently, https:\/\/graph\.microsoft\.com; tenants: /);

    const ready = await fetch(`${p.url}/_presently/ready`);
    assert.equal(ready.status, 503);
    assert.ok(Number(ready.headers.get('retry-after')) >= 1);
    assert.match(((await ready.json()) as { error: { message: string } }).error.message, new RegExp(`issuer '${provider.issuer}'`));

    const info = await fetch(`${p.url}/_presently/info`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
    assert.equal(info.status, 200);
    const body = (await info.json()) as { auth: string; oidc: { issuers: string[]; audiences: string[]; tenants: string[] } };
    assert.deepEqual(body.oidc, { issuers: [provider.issuer, 'https://issuer.invalid/x'], audiences: ['api://presently', 'https://graph.microsoft.com'], tenants: [tenant] });
    assert.equal((await fetch(`${p.url}/_presently/info`)).status, 401);
    assert.equal((await fetch(`${p.url}/_presently/tokens`, { method: 'POST' })).status, 404);
  });

  it('refuses flags that do not go together, and reads lists from flags and the environment', () => {
    assert.throws(() => toConfig({ auth: 'oidc' }, {}), /--auth oidc needs at least one --issuer/);
    assert.throws(() => toConfig({ issuer: ['https://login.microsoftonline.com/{tenantid}/v2.0'] }, {}), /apply to --auth oidc only/);
    assert.throws(() => toConfig({ auth: 'oidc', issuer: ['entra'], adminKey: 'short' }, {}), /at least 16 characters/);
    assert.throws(() => toConfig({ auth: 'oidc', issuer: ['login.microsoftonline.com'] }, {}), /takes an issuer URL/);
    assert.throws(() => toConfig({ auth: 'oidc', issuer: ['entra'], tenants: ['contoso'] }, {}), /tenant ids \(GUIDs\)/);
    const config = toConfig({ auth: 'oidc', issuer: ['entra', 'https://idp.example'] }, {
      PRESENTLY_AUDIENCE: 'api://presently, https://graph.microsoft.com', PRESENTLY_TENANTS: '72F988BF-86F1-41AF-91AB-2D7CD011DB47',
    });
    assert.deepEqual([config.issuers, config.audiences, config.tenants], [
      ['entra', 'https://idp.example'], ['api://presently', 'https://graph.microsoft.com'], ['72f988bf-86f1-41af-91ab-2d7cd011db47'],
    ]);
  });
});

describe('presently serve --auth dev on a network address', () => {
  it('warns that anyone who can reach the port can mint tokens, and says how to refuse', async (t) => {
    const p = await startProcess(['--store', 'memory', '--host', '0.0.0.0']);
    t.after(() => p.stop());
    assert.match(p.stderr(), /WARNING: --auth dev on --host 0\.0\.0\.0: anyone who can reach this port can mint tokens.*--dev-on-network refuse/s);
  });

  it('with --dev-on-network refuse it does not start', async () => {
    await assert.rejects(startProcess(['--store', 'memory', '--host', '0.0.0.0', '--dev-on-network', 'refuse']), /exited with 2[\s\S]*refusing to start/);
  });
});
