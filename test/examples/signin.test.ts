/**
 * The README chapter "Signing in with MSAL and @azure/identity" works as written: each of its `js` code blocks is
 * taken from README.md, pointed at a real `presently serve --https` on a free port (the only edit: the port of
 * `localhost:8080`), and run with Node and `NODE_EXTRA_CA_CERTS`, as the chapter tells a reader to.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { ADELE, startProcess, tempDir, type ServerProcess } from '../kit/server.ts';
import { certificatePath } from '../kit/sdkWorker.ts';

const run = promisify(execFile);
const ROOT = new URL('../../', import.meta.url).pathname;
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

const CHAPTER = (() => {
  const start = README.indexOf('\n## Signing in with MSAL and @azure/identity\n');
  assert.ok(start !== -1, 'README has the chapter');
  const end = README.indexOf('\n## ', start + 1);
  return README.slice(start, end === -1 ? undefined : end);
})();

/** The chapter's `js` blocks, each named by the first package it imports. */
const BLOCKS = [...CHAPTER.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => ({
  code: m[1]!,
  name: /import \{ (\w+)/.exec(m[1]!)?.[1] ?? 'block',
}));

describe('README: Signing in with MSAL and @azure/identity', () => {
  let server: ServerProcess;
  let dataDir: string;
  let scripts: string;
  let certPath: string;

  before(async () => {
    dataDir = tempDir();
    server = await startProcess(['--https', '--data', dataDir]);
    certPath = await certificatePath(server);
    // Inside the checkout, so the scripts resolve its node_modules as the reader's example.mjs would.
    scripts = mkdtempSync(join(ROOT, '.readme-examples-'));
  });

  after(async () => {
    await server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
    if (scripts) rmSync(scripts, { recursive: true, force: true });
  });

  test('the chapter has a block for @azure/identity, both MSAL clients and both Graph SDKs', () => {
    assert.equal(BLOCKS.length, 5, BLOCKS.map((b) => b.name).join(', '));
    for (const wanted of ['@azure/identity', '@azure/msal-node', '@microsoft/microsoft-graph-client', '@microsoft/msgraph-sdk']) {
      assert.ok(BLOCKS.some((b) => b.code.includes(`from '${wanted}'`)), `a block uses ${wanted}`);
    }
  });

  test('every block runs against the server and reaches a presence (or a token)', async () => {
    const port = new URL(server.url).port;
    for (const [i, block] of BLOCKS.entries()) {
      const file = join(scripts, `example${i + 1}.mjs`);
      writeFileSync(file, block.code.replaceAll('localhost:8080', `localhost:${port}`));
      const { stdout } = await run(process.execPath, [file], {
        cwd: ROOT, timeout: 60_000, env: { ...process.env, NODE_EXTRA_CA_CERTS: certPath },
      }).catch((err: Error & { stdout?: string; stderr?: string }) => assert.fail(`README block ${i + 1} (${block.name}) failed:\n${err.stderr ?? err.message}\n--- block ---\n${block.code}`));
      if (block.code.includes('acquireTokenByClientCredential')) assert.match(stdout, /^Bearer /, `block ${i + 1}`);
      else assert.match(stdout, new RegExp(ADELE), `block ${i + 1} (${block.name}) printed: ${stdout}`);
    }
  });
});
