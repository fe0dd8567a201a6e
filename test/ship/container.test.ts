/**
 * The container image's install and start steps, run in a clean folder as the Dockerfile runs them. No container
 * runtime here can pull base images, so the image itself is not built (the README says so): this test reads the
 * Dockerfile and runs its runtime stage — the RUN lines after WORKDIR, verbatim through `sh -c`, in an empty folder
 * standing for WORKDIR, with the stage's ENV; then ENTRYPOINT + CMD, then the HEALTHCHECK command. What it cannot
 * do as Docker would, and does instead: the base image's OS steps before WORKDIR (apt-get, /data) are not run; the
 * build stage's tarball is the same `npm pack` run here (test/kit/pack.ts); the init (tini) is left out of the
 * command line; it runs as this user, not `node`; installs are offline (test/kit/pack.ts).
 */
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { ROOT, emptyDir, offlineInstallEnv, packTarball, sh, startCommand } from '../kit/pack.ts';

interface Instruction {
  op: string;
  args: string;
}

/** The Dockerfile's instructions (continuation lines joined, comments dropped), split into stages at FROM. */
function stages(): Instruction[][] {
  const text = readFileSync(join(ROOT, 'Dockerfile'), 'utf8').replace(/\\\n/g, ' ');
  const result: Instruction[][] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*([A-Z]+)\s+(.*)$/.exec(line);
    if (!m || line.trim().startsWith('#')) continue;
    if (m[1] === 'FROM') result.push([]);
    result.at(-1)!.push({ op: m[1]!, args: m[2]!.trim() });
  }
  return result;
}

/** `KEY=VALUE KEY2=VALUE2` (no quoting: the Dockerfile uses none). */
function envOf(args: string): Record<string, string> {
  return Object.fromEntries(args.split(/\s+/).map((pair) => pair.split('=') as [string, string]));
}

const all = stages();
const runtime = all.at(-1)!;
const build = all[0]!;
const find = (op: string) => runtime.filter((i) => i.op === op);
const workdirAt = runtime.findIndex((i) => i.op === 'WORKDIR');

describe('the Dockerfile', () => {
  it('builds in two stages and runs as a non-root user behind an init, with a volume for the data folder and a health check by node', () => {
    assert.ok(all.length >= 2, 'a build stage and a runtime stage');
    assert.match(build.find((i) => i.op === 'RUN' && i.args.includes('npm pack'))?.args ?? '', /npm run build && npm pack --ignore-scripts && mv presently-\*\.tgz presently\.tgz/,
      'the build stage makes presently.tgz as test/kit/pack.ts does (npm pack of the built tree)');
    assert.equal(find('USER').at(-1)?.args, 'node');
    assert.deepEqual(find('VOLUME').map((i) => i.args), ['/data']);
    const entrypoint = JSON.parse(find('ENTRYPOINT')[0]!.args) as string[];
    assert.deepEqual(entrypoint.slice(0, 3), ['/usr/bin/tini', '--', 'node'], 'tini is PID 1 and runs node');
    const health = find('HEALTHCHECK')[0]!.args;
    assert.match(health, /CMD \["node", "-e", .*\/_presently\/ready/);
    assert.doesNotMatch(runtime.map((i) => i.args).join('\n'), /curl|wget/);
    for (const i of runtime.slice(workdirAt + 1).filter((step) => step.op === 'RUN')) {
      assert.match(i.args, /--omit=dev|tar |rebuild/, `an install step of production dependencies only: ${i.args}`);
    }
  });

  describe('its runtime stage, run in a clean folder', () => {
    let app: string;
    const env: Record<string, string> = {};

    before(async () => {
      app = emptyDir('app');
      const tarball = await packTarball();
      for (const i of runtime.slice(workdirAt + 1)) {
        if (i.op === 'ENV') Object.assign(env, envOf(i.args));
        if (i.op === 'COPY') {
          const parts = i.args.split(/\s+/).filter((p) => !p.startsWith('--'));
          assert.match(i.args, /^--from=build /);
          for (const source of parts.slice(0, -1)) {
            const name = source.split('/').pop()!;
            copyFileSync(name === 'presently.tgz' ? tarball : join(ROOT, name), join(app, name));
          }
        }
        if (i.op === 'RUN') await sh(i.args.replace(/^(--\S+\s+)+/, ''), app, { ...env, ...offlineInstallEnv() });
      }
    });

    it('installs the production dependencies only, and serves: /_presently/ready answers, the HEALTHCHECK passes, SIGTERM stops it with exit 0', async () => {
      for (const dev of ['typescript', 'tsx', 'esbuild', 'eslint']) assert.ok(!existsSync(join(app, 'node_modules', dev)), `${dev} is not installed`);
      assert.ok(existsSync(join(app, 'dist', 'cli', 'main.js')));
      assert.ok(!existsSync(join(app, 'src')), 'no TypeScript sources');

      const entrypoint = JSON.parse(find('ENTRYPOINT')[0]!.args) as string[];
      const cmd = JSON.parse(find('CMD').at(-1)!.args) as string[];
      const command = [...entrypoint.slice(entrypoint.indexOf('--') + 1), ...cmd];
      const data = emptyDir('container-data');
      assert.equal(env.PRESENTLY_DATA, '/data', 'the data folder is the volume');
      const server = await startCommand(command[0]!, command.slice(1), app, { ...env, PRESENTLY_DATA: data, PRESENTLY_PORT: '0' });
      const port = new URL(server.url).port;
      assert.equal(env.PRESENTLY_HOST, '0.0.0.0', 'the container listens on every interface');

      const ready = await fetch(`http://127.0.0.1:${port}/_presently/ready`);
      assert.equal(ready.status, 200);
      assert.ok(existsSync(join(data, 'presently.db')), 'the database is in the data folder');
      const health = JSON.parse(find('HEALTHCHECK')[0]!.args.replace(/^.*?CMD\s+/, '')) as string[];
      const healthcheck = health.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
      await sh(healthcheck, app, { ...env, PRESENTLY_PORT: port });

      server.child.kill('SIGTERM');
      assert.equal(await server.exited, 0);
      await assert.rejects(sh(healthcheck, app, { ...env, PRESENTLY_PORT: port }), /exited 1/,
        'the health check fails once the server is gone');
    });
  });
});
