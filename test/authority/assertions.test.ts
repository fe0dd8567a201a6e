/**
 * Client assertions (certificate credentials) checked in process: a certificate from the seed file, assertions
 * signed by hand with jose as MSAL signs them (PS256 with `x5t#S256`, or RS256 with `x5t`), and each way one is
 * refused.
 */
import assert from 'node:assert/strict';
import { X509Certificate, createHash, createPrivateKey } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { SignJWT, decodeJwt } from 'jose';
import selfsigned from 'selfsigned';
import { ASSERTION_TYPE } from '../../src/authority/clientAuth.ts';
import { TENANT, startInProcess, tempDir, type TestServer } from '../kit/server.ts';

const APP_ID = '6e5d4c3b-2a19-4f08-9e7d-6c5b4a392817';
const START = Date.parse('2030-01-01T00:00:00Z');

describe('dev authority: client assertions', () => {
  let s: TestServer;
  let dir: string;
  let key: ReturnType<typeof createPrivateKey>;
  let x5tS256: string;
  let x5t: string;

  before(async () => {
    dir = tempDir();
    const pems = await selfsigned.generate([{ name: 'commonName', value: 'assertion-test' }], { keySize: 2048, algorithm: 'sha256' });
    key = createPrivateKey(pems.private);
    const der = new X509Certificate(pems.cert).raw;
    x5tS256 = createHash('sha256').update(der).digest('base64url');
    x5t = createHash('sha1').update(der).digest('base64url');
    const seedFile = join(dir, 'seed.json');
    writeFileSync(seedFile, JSON.stringify({ apps: [{ id: APP_ID, displayName: 'Cert app', certificates: [pems.cert], roles: ['Presence.Read.All'] }] }));
    s = await startInProcess({ clock: 'manual', seedFile }, { manualStart: START });
  });
  after(async () => {
    await s.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const endpoint = `http://localhost/${TENANT}/oauth2/v2.0/token`;

  function assertion(opts: { alg?: 'PS256' | 'RS256'; aud?: string; iat?: number; sub?: string } = {}) {
    const alg = opts.alg ?? 'PS256';
    const iat = opts.iat ?? Math.floor(START / 1000);
    return new SignJWT({ jti: crypto.randomUUID() })
      .setProtectedHeader(alg === 'PS256' ? { alg, typ: 'JWT', 'x5t#S256': x5tS256 } : { alg, typ: 'JWT', x5t })
      .setIssuer(APP_ID).setSubject(opts.sub ?? APP_ID).setAudience(opts.aud ?? endpoint)
      .setIssuedAt(iat).setNotBefore(iat).setExpirationTime(iat + 600)
      .sign(key);
  }

  const redeem = async (clientAssertion: string) => s.inject({
    method: 'POST', url: `/${TENANT}/oauth2/v2.0/token`, headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({
      grant_type: 'client_credentials', client_id: APP_ID, scope: 'https://graph.microsoft.com/.default',
      client_assertion_type: ASSERTION_TYPE, client_assertion: clientAssertion,
    }).toString(),
  });

  async function refused(clientAssertion: string, code: number) {
    const res = await redeem(clientAssertion);
    assert.equal(res.statusCode, 401, res.body);
    assert.deepEqual((res.json() as { error_codes: number[] }).error_codes, [code], res.body);
  }

  test('a certificate from the seed file: PS256 with x5t#S256 and RS256 with x5t both get a token with the app\'s roles', async () => {
    for (const alg of ['PS256', 'RS256'] as const) {
      const res = await redeem(await assertion({ alg }));
      assert.equal(res.statusCode, 200, res.body);
      assert.deepEqual(decodeJwt((res.json() as { access_token: string }).access_token).roles, ['Presence.Read.All']);
    }
  });

  test('refused: another audience, another subject, expired on the server clock, tampered', async () => {
    await refused(await assertion({ aud: 'https://login.microsoftonline.com/x/oauth2/v2.0/token' }), 700021);
    await refused(await assertion({ sub: '00000000-0000-4000-8000-000000000000' }), 50027);
    await refused(await assertion({ iat: Math.floor(START / 1000) - 3600 }), 700024);
    const good = await assertion();
    await refused(`${good.slice(0, -4)}AAAA`, 700027);
  });
});
