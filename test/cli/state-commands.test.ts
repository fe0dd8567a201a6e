/**
 * `presently export`, `import`, `reset` and `exec` (docs/operations/state.md), run as a user runs them.
 */
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../kit/cli.ts';
import { ADELE, startProcess, tempDir, type ServerProcess } from '../kit/server.ts';

const dir = tempDir();
after(() => rmSync(dir, { recursive: true, force: true }));

describe('presently export / import / reset', { timeout: 60_000 }, () => {
  let server: ServerProcess;
  let token: string;
  before(async () => {
    server = await startProcess(['--store', 'memory']);
    const minted = await fetch(`${server.url}/_presently/tokens`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ userId: ADELE }) });
    token = (await minted.json() as { access_token: string }).access_token;
  });
  after(() => server?.stop());

  const setStatus = (content: string) => fetch(`${server.url}/v1.0/me/presence/setStatusMessage`, {
    method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ statusMessage: { message: { content } } }),
  });
  const status = async () => (await (await fetch(`${server.url}/v1.0/me/presence`, { headers: { authorization: `Bearer ${token}` } })).json() as { statusMessage: { message: { content: string } } | null }).statusMessage?.message.content ?? null;

  it('export writes the state document; reset empties it; import brings it back', async () => {
    assert.equal((await setStatus('saved by export')).status, 200);
    const file = join(dir, 'state.json');
    const exported = await runCli(['export', '--url', server.url, '--out', file]);
    assert.equal(exported.code, 0, exported.stderr);
    const doc = JSON.parse(readFileSync(file, 'utf8')) as { version: number };
    assert.equal(doc.version, 1);

    const reset = await runCli(['reset'], { env: { PRESENTLY_URL: server.url } });
    assert.equal(reset.code, 0, reset.stderr);
    assert.match(reset.stderr, /reset to 1 tenant\(s\), 5 user\(s\), 1 app\(s\), 0 subscription\(s\)/);
    assert.equal(await status(), null);

    const imported = await runCli(['import', file, '--url', server.url]);
    assert.equal(imported.code, 0, imported.stderr);
    assert.match(imported.stderr, /imported 1 tenant\(s\), 5 user\(s\)/);
    assert.equal(await status(), 'saved by export');

    const toStdout = await runCli(['export', '--url', server.url]);
    assert.equal(JSON.parse(toStdout.stdout).version, 1);
    const fromStdin = await runCli(['import', '-', '--url', server.url], { input: toStdout.stdout });
    assert.equal(fromStdin.code, 0, fromStdin.stderr);
  });

  it('failures: a document the server refuses is exit 1 with its message, nothing changed; bad JSON and a bad URL are exit 2; no server is exit 1', async () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ version: 7 }));
    const refused = await runCli(['import', bad, '--url', server.url]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /^presently import: BadRequest: Property 'version' must be 1/);
    assert.equal(await status(), 'saved by export');

    writeFileSync(bad, '{not json');
    assert.equal((await runCli(['import', bad, '--url', server.url])).code, 2);
    const badUrl = await runCli(['export'], { env: { PRESENTLY_URL: 'ftp://x' } });
    assert.equal(badUrl.code, 2);
    assert.match(badUrl.stderr, /--url must be an http:\/\/ or https:\/\/ URL, not 'ftp:\/\/x' \(from --url or PRESENTLY_URL\)/);
    const down = await runCli(['export', '--url', 'http://127.0.0.1:9']);
    assert.equal(down.code, 1);
    assert.match(down.stderr, /Presently is not running at http:\/\/127\.0\.0\.1:9/);
  });
});

describe('presently exec -- <command>', { timeout: 60_000 }, () => {
  const node = (script: string) => [process.execPath, '-e', script];

  it('runs the command against a fresh server: PRESENTLY_URL and ready-made tokens work, and its exit code is the command\'s', async () => {
    const script = `
      const url = process.env.PRESENTLY_URL;
      const me = await fetch(process.env.PRESENTLY_GRAPH_URL + '/me/presence', { headers: { authorization: 'Bearer ' + process.env.PRESENTLY_USER_TOKEN } });
      const app = await fetch(url + '/v1.0/users/' + process.env.PRESENTLY_USER_ID + '/presence', { headers: { authorization: 'Bearer ' + process.env.PRESENTLY_APP_TOKEN } });
      const info = await (await fetch(url + '/_presently/info')).json();
      console.log(JSON.stringify({ url, me: me.status, app: app.status, store: info.store, tenant: process.env.PRESENTLY_TENANT_ID }));
      process.exit(7);`;
    const r = await runCli(['exec', '--', ...node(script)]);
    assert.equal(r.code, 7, r.stderr);
    const seen = JSON.parse(r.stdout.trim()) as { url: string; me: number; app: number; store: string; tenant: string };
    assert.match(seen.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.deepEqual([seen.me, seen.app, seen.store], [200, 200, 'memory']);
    assert.equal(seen.tenant, '2b5f4ac6-0f43-4b31-8a3c-2d8b8e4f5c01');
    const after = await fetch(`${seen.url}/_presently/health`).catch((err: Error) => err);
    assert.ok(after instanceof Error, 'the server is stopped once the command ends');
  });

  it('exit 0 for a command that succeeds; serve options apply (--clock manual); 127 for a command that does not exist; 2 without a command', async () => {
    const ok = await runCli(['exec', '--clock', 'manual', '--', ...node(`fetch(process.env.PRESENTLY_URL + '/_presently/info').then((r) => r.json()).then((i) => console.log(i.clock.mode))`)]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout.trim(), 'manual');
    const missing = await runCli(['exec', '--', 'no-such-command-presently']);
    assert.equal(missing.code, 127);
    assert.match(missing.stderr, /cannot run 'no-such-command-presently': no such command/);
    assert.equal((await runCli(['exec'])).code, 2, 'a usage error');
  });
});
