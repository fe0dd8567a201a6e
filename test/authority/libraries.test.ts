/**
 * The dev authority with the official libraries, unchanged but for configuration (docs/operations/auth.md#the-dev-authority):
 * @azure/identity (ClientSecretCredential, ClientCertificateCredential), @azure/msal-node (ConfidentialClientApplication,
 * PublicClientApplication by username and password), and both Graph SDKs authenticating through @azure/identity.
 * They run in libraries.worker.ts, which trusts the certificate of `presently serve --https` from process start.
 */
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import selfsigned from 'selfsigned';
import { DEMO_APP_SECRET } from '../../src/authority/registrations.ts';
import { DEV_USER_PASSWORD } from '../../src/authority/grants.ts';
import { ADELE, APP, TENANT, startProcess, tempDir, type ServerProcess } from '../kit/server.ts';
import { WorkerHost, certificatePath } from '../kit/sdkWorker.ts';
import type { LibraryCall, LibraryOutcome } from './libraries.worker.ts';

const WORKER = new URL('./libraries.worker.ts', import.meta.url).pathname;
/** An app registered by the test, with a certificate. */
const CERT_APP = '7a1c0f9e-3b2d-4e5f-8a6b-9c0d1e2f3a4b';

class LibraryWorker extends WorkerHost<LibraryCall, LibraryOutcome> {
  static async start(url: string, certPath: string): Promise<LibraryWorker> {
    const worker = new LibraryWorker(await WorkerHost.fork(WORKER, url, certPath));
    // A worker that never got ready must not keep this process alive (its IPC channel would).
    await worker.ready().catch((err: unknown) => {
      worker.close();
      throw err;
    });
    return worker;
  }

  async ok(call: LibraryCall): Promise<Record<string, unknown>> {
    const o = await this.call(call, 60_000);
    if (!o.ok) assert.fail(`${call.kind} failed: ${JSON.stringify(o.error)}\n${this.output}`);
    return o.value;
  }

  async fails(call: LibraryCall): Promise<{ name: string; message: string; errorCode?: string }> {
    const o = await this.call(call, 60_000);
    if (o.ok) assert.fail(`${call.kind} succeeded but should have failed: ${JSON.stringify(o.value)}`);
    return o.error;
  }
}

describe('dev authority: the official libraries', () => {
  let server: ServerProcess;
  let worker: LibraryWorker;
  let dataDir: string;
  let pemPath: string;

  before(async () => {
    dataDir = tempDir();
    server = await startProcess(['--https', '--data', dataDir]);
    const certPath = await certificatePath(server);
    // A client certificate (certificate and private key in one PEM, as ClientCertificateCredential reads it), registered
    // for a new app through the admin API.
    const pems = await selfsigned.generate([{ name: 'commonName', value: 'presently-test-client' }], { keySize: 2048, algorithm: 'sha256' });
    pemPath = join(dataDir, 'client.pem');
    writeFileSync(pemPath, `${pems.private}\n${pems.cert}`);
    worker = await LibraryWorker.start(server.url, certPath);
    await register(server.url, certPath, pems.cert);
  });

  after(async () => {
    worker?.close();
    await server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** PUT the app and POST its certificate (from this process: plain https with the server's certificate trusted). */
  async function register(url: string, certPath: string, cert: string): Promise<void> {
    const { readFileSync } = await import('node:fs');
    const { Agent, request } = await import('node:https');
    const agent = new Agent({ ca: readFileSync(certPath, 'utf8') });
    const send = (method: string, path: string, body: unknown) => new Promise<number>((resolve, reject) => {
      const req = request(`${url}${path}`, { method, agent, headers: { 'content-type': 'application/json' } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.end(JSON.stringify(body));
    });
    assert.equal(await send('PUT', `/_presently/apps/${CERT_APP}`, { displayName: 'Certificate app', roles: ['Presence.Read.All'] }), 201);
    assert.equal(await send('POST', `/_presently/apps/${CERT_APP}/certificates`, { certificate: cert }), 201);
  }

  test('@azure/identity ClientSecretCredential gets an app token with the demo app\'s well-known secret', async () => {
    const { claims } = await worker.ok({ kind: 'identity-secret', tenantId: TENANT, clientId: APP, secret: DEMO_APP_SECRET }) as { claims: Record<string, unknown> };
    assert.equal(claims.iss, `${server.url}/${TENANT}/v2.0`);
    assert.equal(claims.aud, 'https://graph.microsoft.com');
    assert.equal(claims.idtyp, 'app');
    assert.equal(claims.appid, APP);
    assert.deepEqual(claims.roles, ['Presence.Read.All', 'Presence.ReadWrite.All']);
  });

  test('a wrong secret: the library reports Entra\'s AADSTS7000215', async () => {
    const error = await worker.fails({ kind: 'identity-secret', tenantId: TENANT, clientId: APP, secret: 'not-the-secret-at-all-000' });
    assert.match(error.message, /AADSTS7000215: Invalid client secret provided/);
  });

  test('@azure/identity ClientCertificateCredential signs an assertion with a certificate registered through the admin API', async () => {
    const { claims } = await worker.ok({ kind: 'identity-certificate', tenantId: TENANT, clientId: CERT_APP, pemPath }) as { claims: Record<string, unknown> };
    assert.equal(claims.appid, CERT_APP);
    assert.deepEqual(claims.roles, ['Presence.Read.All']);
  });

  test('a certificate the app does not have: AADSTS700027', async () => {
    const error = await worker.fails({ kind: 'identity-certificate', tenantId: TENANT, clientId: APP, pemPath });
    assert.match(error.message, /AADSTS700027/);
  });

  test('@azure/msal-node ConfidentialClientApplication by client credentials', async () => {
    const value = await worker.ok({ kind: 'msal-confidential', tenantId: TENANT, clientId: APP, secret: DEMO_APP_SECRET });
    assert.equal((value.claims as Record<string, unknown>).tid, TENANT);
  });

  test('@azure/msal-node PublicClientApplication by username and password, then GET /me/presence', async () => {
    const value = await worker.ok({
      kind: 'msal-public-password', tenantId: TENANT, clientId: APP, username: 'AdeleV@contoso.example', password: DEV_USER_PASSWORD,
      scopes: ['Presence.ReadWrite', 'Presence.Read.All'],
    });
    const claims = value.claims as Record<string, unknown>;
    assert.equal(claims.oid, ADELE);
    assert.equal(claims.scp, 'Presence.ReadWrite Presence.Read.All');
    assert.equal(value.account, 'AdeleV@contoso.example');
    const me = value.mePresence as { status: number; body: { id: string } };
    assert.equal(me.status, 200);
    assert.equal(me.body.id, ADELE);
  });

  test('a wrong password: AADSTS50126', async () => {
    const error = await worker.fails({
      kind: 'msal-public-password', tenantId: 'organizations', clientId: APP, username: 'AdeleV@contoso.example', password: 'wrong', scopes: ['Presence.Read'],
    });
    assert.match(error.message, /AADSTS50126/);
  });

  test('Graph client v3 through TokenCredentialAuthenticationProvider reads a presence', async () => {
    const { presence } = await worker.ok({ kind: 'graph-v3', tenantId: TENANT, clientId: APP, secret: DEMO_APP_SECRET, userId: ADELE }) as { presence: { id: string } };
    assert.equal(presence.id, ADELE);
  });

  test('the Kiota Graph SDK through its Azure Identity provider reads a presence', async () => {
    const { presence } = await worker.ok({ kind: 'kiota', tenantId: TENANT, clientId: APP, secret: DEMO_APP_SECRET, userId: ADELE }) as { presence: { id: string } };
    assert.equal(presence.id, ADELE);
  });
});
