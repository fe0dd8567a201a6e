import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { Command } from 'commander';
import { generate } from 'selfsigned';
import { registerTokenCommand, type TokenCommandIo } from '../../src/cli/token.ts';
import { invocation } from '../../src/cli/hints.ts';
import { DevIssuer } from '../../src/auth/devIssuer.ts';
import { mintDevToken, type MintDeps } from '../../src/auth/devTokens.ts';
import { devVerifier, type TokenVerifier } from '../../src/auth/verify.ts';
import { InvalidInput } from '../../src/platform/json/errors.ts';
import { ADELE, CONTOSO, DEV_APP, GRAPH, fakeClock, fakeStore } from './fakes.ts';

let deps: MintDeps;
let verifier: TokenVerifier;
let httpServer: http.Server;
let httpsServer: https.Server;
let httpUrl: string;
let httpsUrl: string;
const bodies: unknown[] = [];

/** A stand-in for the real route: POST /_presently/tokens → mintDevToken, InvalidInput → 400 Graph error. */
const handler: http.RequestListener = (req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', async () => {
    if (req.method !== 'POST' || req.url !== '/_presently/tokens') {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 'ResourceNotFound', message: 'nope' } }));
      return;
    }
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
    bodies.push(body);
    try {
      const result = await mintDevToken(deps, body);
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(result));
    } catch (err) {
      if (!(err instanceof InvalidInput)) throw err;
      res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: err.code, message: err.message } }));
    }
  });
};

function listen(server: http.Server | https.Server, scheme: string): Promise<string> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`${scheme}://127.0.0.1:${(server.address() as AddressInfo).port}`)));
}

before(async () => {
  const clock = fakeClock();
  const store = fakeStore();
  const issuer = await DevIssuer.load(store, clock);
  deps = { issuer, store, audience: GRAPH, defaultTenantId: CONTOSO, defaultAppId: DEV_APP };
  verifier = devVerifier(issuer, clock, [GRAPH]);
  httpServer = http.createServer(handler);
  httpUrl = await listen(httpServer, 'http');
  const pems = await generate([{ name: 'commonName', value: 'localhost' }], { keySize: 2048 });
  httpsServer = https.createServer({ key: pems.private, cert: pems.cert }, handler);
  httpsUrl = await listen(httpsServer, 'https');
});

after(() => {
  httpServer.close();
  httpsServer.close();
});

async function run(...args: string[]): Promise<{ out: string; err: string; code: number }> {
  const result = { out: '', err: '', code: 0 };
  const io: TokenCommandIo = {
    stdout: (t) => void (result.out += t),
    stderr: (t) => void (result.err += t),
    setExitCode: (c) => void (result.code = c),
  };
  const program = new Command('presently').exitOverride().configureOutput({ writeErr: () => {}, writeOut: () => {} });
  registerTokenCommand(program, io);
  await program.parseAsync(['token', ...args], { from: 'user' });
  return result;
}

test('prints the bare token of a delegated request, sending the parsed options', async () => {
  bodies.length = 0;
  const r = await run('--url', httpUrl, '--user', 'AdeleV@contoso.example', '--scopes', 'Presence.Read, Presence.ReadWrite', '--expires-in', '600');
  assert.equal(r.code, 0);
  assert.equal(r.err, '');
  assert.match(r.out, /^[\w-]+\.[\w-]+\.[\w-]+\n$/);
  assert.deepEqual(bodies, [{ userId: 'AdeleV@contoso.example', scopes: ['Presence.Read', 'Presence.ReadWrite'], expiresIn: 600 }]);
  const p = await verifier.verify(`Bearer ${r.out.trim()}`);
  assert.equal(p.userId, ADELE);
  assert.deepEqual([...p.scopes], ['Presence.Read', 'Presence.ReadWrite']);
});

test('application token with --app/--tenant/--roles, and --json prints the whole answer', async () => {
  bodies.length = 0;
  const r = await run('--url', `${httpUrl}/`, '--app', DEV_APP, '--tenant', CONTOSO, '--roles', 'Presence.Read.All', '--json');
  assert.equal(r.code, 0);
  assert.deepEqual(bodies, [{ appId: DEV_APP, tenantId: CONTOSO, roles: ['Presence.Read.All'] }]);
  const json = JSON.parse(r.out) as { access_token: string; expires_in: number; token_type: string };
  assert.equal(json.expires_in, 3600);
  assert.equal(json.token_type, 'Bearer');
  assert.equal((await verifier.verify(`Bearer ${json.access_token}`)).kind, 'application');
});

test('https with a self-signed certificate', async () => {
  const r = await run('--url', httpsUrl, '--user', ADELE);
  assert.equal(r.err, '');
  assert.equal((await verifier.verify(`Bearer ${r.out.trim()}`)).userId, ADELE);
});

test('PRESENTLY_URL is the default --url', async () => {
  process.env.PRESENTLY_URL = httpUrl;
  try {
    const r = await run();
    assert.equal(r.code, 0);
    assert.equal((await verifier.verify(`Bearer ${r.out.trim()}`)).kind, 'application');
  } finally {
    delete process.env.PRESENTLY_URL;
  }
});

test('a 400 prints the Graph error message on stderr and exits 1', async () => {
  const r = await run('--url', httpUrl, '--user', 'nobody@contoso.example');
  assert.equal(r.code, 1);
  assert.equal(r.out, '');
  assert.match(r.err, /^BadRequest: No user 'nobody@contoso\.example' in any tenant\. Create one with POST \/_presently\/tenants\/.*\/users\.\n$/);
});

test('an unreachable server: a clear message and exit 1', async () => {
  const free = http.createServer();
  const url = await listen(free, 'http');
  await new Promise((resolve) => free.close(resolve));
  const r = await run('--url', url);
  assert.equal(r.code, 1);
  assert.equal(r.out, '');
  assert.equal(r.err, `Presently is not running at ${url} — start it with \`${invocation().serve}\`, or pass --url.\n`);
});

test('a bad --url or --expires-in', async () => {
  const r = await run('--url', 'ftp://x');
  assert.equal(r.code, 1);
  assert.match(r.err, /--url must be an http:\/\/ or https:\/\/ URL/);
  await assert.rejects(run('--url', httpUrl, '--expires-in', 'soon'), /whole number of seconds/);
});
