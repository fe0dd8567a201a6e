/**
 * The package as a user gets it: `npm pack`, installed into an empty folder, run with `npx presently serve` and
 * `npx presently token` (test/kit/pack.ts installs without the network).
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { emptyDir, killTree, offlineInstallEnv, packTarball, packageJson, sh, startCommand, writeConsumerProject } from '../kit/pack.ts';

const pkg = packageJson();

describe('the npm package', () => {
  let tarball: string;
  let project: string;

  before(async () => {
    tarball = await packTarball();
    project = emptyDir('consumer');
    writeConsumerProject(project, tarball);
    await sh('npm ci', project, offlineInstallEnv());
  });

  it('holds only what runs: bin/, compiled dist/ with the built dashboard, package.json, README, LICENSE, CHANGELOG — no sources, no tests', async () => {
    const { stdout } = await sh(`tar -tzf ${JSON.stringify(tarball)}`, project);
    const files = stdout.trim().split('\n').map((f) => f.replace(/^package\//, ''));
    assert.ok(files.includes('bin/presently.js'));
    assert.ok(files.includes('dist/cli/main.js') && files.includes('dist/server.js'), 'the compiled code');
    for (const file of ['dist/ui/index.html', 'dist/ui/assets/app.js', 'dist/ui/assets/app.css']) assert.ok(files.includes(file), `the dashboard: ${file}`);
    for (const file of ['package.json', 'README.md', 'LICENSE', 'CHANGELOG.md']) assert.ok(files.includes(file), file);
    const others = files.filter((f) => !/^(bin\/presently\.js|dist\/.+\.js|dist\/ui\/(index\.html|assets\/app\.css)|package\.json|README\.md|LICENSE|CHANGELOG\.md)$/.test(f));
    assert.deepEqual(others, [], 'nothing else in the tarball');
  });

  it('needs neither tsx nor esbuild at run time, and its LICENSE is the license package.json names', () => {
    assert.equal(pkg.dependencies.tsx, undefined);
    assert.equal(pkg.dependencies.esbuild, undefined);
    assert.ok(!existsSync(join(project, 'node_modules', 'tsx')), 'tsx is not installed with the package');
    assert.ok(!existsSync(join(project, 'node_modules', 'esbuild')), 'esbuild is not installed with the package');
    assert.ok(!existsSync(join(project, 'node_modules', 'typescript')), 'typescript is not installed with the package');
    assert.equal(pkg.license, 'MIT');
    assert.match(readFileSync(join(project, 'node_modules', pkg.name, 'LICENSE'), 'utf8'), /^MIT License/);
  });

  it('`npx presently --version` prints the version of package.json, the CHANGELOG\'s newest entry', async () => {
    const { stdout } = await sh('npx presently --version', project, offlineInstallEnv());
    assert.equal(stdout.trim(), pkg.version);
    const changelog = readFileSync(join(project, 'node_modules', pkg.name, 'CHANGELOG.md'), 'utf8');
    assert.equal(/^## \[?(\d+\.\d+\.\d+[^\]\s]*)/m.exec(changelog)?.[1], pkg.version);
  });

  it('`npx presently serve` answers, gives its version in the start-up lines and /_presently/info, hints `npx presently token`, `npx presently token` gets a token that works, and the dashboard is served', async (t) => {
    const data = emptyDir('consumer-data');
    const server = await startCommand('npx', ['presently', 'serve', '--port', '0', '--data', data], project, offlineInstallEnv());
    t.after(async () => {
      killTree(server.child.pid!, 'SIGTERM');
      await server.exited;
    });
    assert.match(server.stderr(), new RegExp(`Presently ${pkg.version.replace(/\./g, '\\.')}, node v`));
    assert.match(server.stderr(), /get a token: npx presently token --user AdeleV@contoso\.example --url http:/);
    assert.doesNotMatch(server.stderr(), /npm run/);
    const info = await (await fetch(`${server.url}/_presently/info`)).json() as { version: string };
    assert.equal(info.version, pkg.version);

    const { stdout } = await sh(`npx presently token --user AdeleV@contoso.example --url ${server.url}`, project, offlineInstallEnv());
    const token = stdout.trim();
    const res = await fetch(`${server.url}/v1.0/me/presence`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(res.status, 200, await res.text());
    assert.ok(existsSync(join(data, 'presently.db')), 'the data folder holds the SQLite database');

    // The dashboard ships built: the page and its script are served from the installed package.
    const page = await fetch(`${server.url}/_presently/ui`);
    assert.equal(page.status, 200);
    const script = /src="(\/_presently\/ui\/assets\/app\.js\?v=\w+)"/.exec(await page.text())?.[1];
    assert.ok(script, 'the page names its script');
    assert.equal((await fetch(`${server.url}${script}`)).status, 200);
  });

  it('`presently token` with no server running tells how to start one, in the words of how it was run', async () => {
    await assert.rejects(sh('npx presently token --url http://127.0.0.1:9', project, offlineInstallEnv(), 30_000), /start it with `npx presently serve`/);
  });
});
