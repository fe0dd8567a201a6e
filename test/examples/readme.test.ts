/**
 * Every code block of README.md that a user is meant to run — curl, the CLI, the SDK examples — runs as written
 * against a started `presently serve`, and what the README says it prints is what it prints.
 *
 * How: the README is read into its fenced blocks, each named by its section (`## …` / `### …`) and its number in
 * that section. Every block whose language is one a user runs (sh, js, ts) must be listed here, in exactly one of:
 *
 * - SCENARIOS: the blocks run, in README order, in one bash session per scenario (so variables set by one block —
 *   `ADELE=$(…)`, `G=…` — reach the next), against a server started for the scenario with the flags the README gives.
 *   Only the server's address is changed: `127.0.0.1:8080` and `localhost:8080` become the test server's, and the
 *   CLI's default `--url` comes from PRESENTLY_URL. A `js` block is saved under the name the README gives it
 *   ("Save as `example.mjs`") in the checkout, where the SDK packages resolve, and run by the block after it.
 * - ELSEWHERE: blocks another test runs as written (the webhook chapter: test/examples/receiver.test.ts).
 * - EXEMPT: blocks that cannot run here, each with the reason.
 *
 * A runnable block in none of them fails the test, naming its section and line: a new README chapter (auth, say) is
 * added here by listing its blocks. Blocks in other languages (json, nginx, haproxy, plain text) are shown output or
 * configuration, not run; a language this test does not know fails it too.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { startProcess, tempDir, type ServerProcess } from '../kit/server.ts';
import { tokenHint } from '../../src/cli/serve.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

interface Block {
  /** `Section title #n`: the block's number (from 1) within its `##`/`###` section. */
  id: string;
  lang: string;
  code: string;
  /** 1-based line of the opening fence. */
  line: number;
  /** The prose between the previous block (or the heading) and this one. */
  before: string;
}

function readBlocks(text: string): Block[] {
  const lines = text.split('\n');
  const out: Block[] = [];
  let section = '(top)';
  let n = 0;
  let prose: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const heading = /^#{2,3} (.+)$/.exec(lines[i]!);
    if (heading) {
      section = heading[1]!;
      n = 0;
      prose = [];
      continue;
    }
    const fence = /^```(\w*)\s*$/.exec(lines[i]!);
    if (!fence) {
      prose.push(lines[i]!);
      continue;
    }
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && lines[i] !== '```'; i++) body.push(lines[i]!);
    out.push({ id: `${section} #${++n}`, lang: fence[1]!, code: body.join('\n'), line: start + 1, before: prose.join('\n') });
    prose = [];
  }
  return out;
}

const BLOCKS = readBlocks(README);
const RUNNABLE = new Set(['sh', 'js', 'ts']);
const SHOWN = new Set(['', 'json', 'nginx', 'haproxy']);

interface Scenario {
  /** What the scenario shows. */
  name: string;
  /** `presently serve` flags (besides --port 0 and --data). */
  serve: string[];
  blocks: string[];
}

const SCENARIOS: Scenario[] = [
  {
    name: "the three examples of Graph's setStatusMessage page",
    serve: ['--store', 'memory'],
    blocks: [
      "Try it: the three examples of Graph's setStatusMessage page #1",
      "Try it: the three examples of Graph's setStatusMessage page #2",
      "Try it: the three examples of Graph's setStatusMessage page #3",
      "Try it: the three examples of Graph's setStatusMessage page #4",
      // #5 is Example 3's output (json), compared below.
      'Presence sessions and aggregation #1',
    ],
  },
  {
    name: 'graph-client v3 over --https',
    serve: ['--store', 'memory', '--https'],
    blocks: ['With the Graph SDKs #1', 'With the Graph SDKs #2'],
  },
  {
    name: 'the Kiota SDK over http',
    serve: ['--store', 'memory'],
    blocks: ['With the Graph SDKs #3', 'With the Graph SDKs #4'],
  },
  {
    name: 'out of office',
    serve: ['--store', 'memory'],
    blocks: ['Try it: the three examples of Graph\'s setStatusMessage page #1', 'Out of office (mailboxSettings) #1'],
  },
  {
    name: 'tokens',
    serve: ['--store', 'memory'],
    blocks: ['Tokens (dev auth) #1', 'Tokens (dev auth) #2'],
  },
];

/** Blocks whose `npm start -- …` flags start a scenario's server: run by starting one with exactly those flags. */
const SERVER_STARTS: Record<string, string> = {
  'Throttling #1': 'the throttling walkthrough: its fourth read is 429 with Retry-After: 30',
  'Moving the clock in tests #1': 'then block #2 moves the clock',
  'The dashboard #1': 'the printed dashboard address serves the web app',
};

const ELSEWHERE: Record<string, string> = {
  'From a subscription to a notification #1': 'test/examples/receiver.test.ts (npm start: the test starts the server)',
  'From a subscription to a notification #2': 'test/examples/receiver.test.ts starts examples/receiver.ts',
  'From a subscription to a notification #3': 'test/examples/receiver.test.ts (the token)',
  'From a subscription to a notification #4': 'test/examples/receiver.test.ts replays the subscription body',
  'From a subscription to a notification #5': 'test/examples/receiver.test.ts replays the setStatusMessage',
  'From a subscription to a notification #8': 'test/examples/receiver.test.ts replays the sink subscription',
  'Rich notifications #1': 'test/examples/receiver.test.ts runs examples/rich-receiver.ts with a certificate it makes with selfsigned (openssl is not a test dependency)',
  'As a package (`npx presently`) #1': 'test/ship/package.test.ts packs the tarball, installs it into an empty folder and runs npx presently serve and token',
  'Signing in with MSAL and @azure/identity #1': 'test/examples/signin.test.ts starts presently serve --https and runs each js block with NODE_EXTRA_CA_CERTS',
  'Signing in with MSAL and @azure/identity #2': 'test/examples/signin.test.ts (@azure/identity ClientSecretCredential)',
  'Signing in with MSAL and @azure/identity #3': 'test/examples/signin.test.ts (msal-node ConfidentialClientApplication)',
  'Signing in with MSAL and @azure/identity #4': 'test/examples/signin.test.ts (msal-node PublicClientApplication by password)',
  'Signing in with MSAL and @azure/identity #5': 'test/examples/signin.test.ts (Graph client v3 through @azure/identity)',
  'Signing in with MSAL and @azure/identity #6': 'test/examples/signin.test.ts (Kiota through @azure/identity)',
  'The command line for people #1': 'test/cli/people-commands.test.ts runs status set/clear, presence get and watch, and users list/add/remove',
  'State controls for test pipelines #1': 'test/cli/state-commands.test.ts runs presently exec, export, reset and import',
};

const EXEMPT: Record<string, string> = {
  'Quick start #1': 'npm install and npm start: this test runs in the installed checkout and starts its own servers',
  'Quick start #3': 'npm test: the whole suite, which runs this test',
  'Rich notifications #2': "a fragment of a receiver (`body` is the POST it received); test/notify/rich-vs-get.test.ts verifies validation tokens the same way with jose",
  'In a container #1': 'docker: no container runtime here can pull base images; test/ship/container.test.ts runs the Dockerfile\'s install and start steps in a clean folder',
  'Start it #1': 'a production start against Entra ID (a real tenant and API registration); test/auth-oidc/process.test.ts starts presently serve --auth oidc with these flags against a local provider',
  'Running several nodes #2': 'a production start: needs the Redis host redis.internal and a public URL behind a balancer; test/multinode/ starts nodes on a test Redis',
};

function listed(id: string): 'scenario' | 'start' | 'elsewhere' | 'exempt' | null {
  if (SCENARIOS.some((s) => s.blocks.includes(id))) return 'scenario';
  if (id in SERVER_STARTS) return 'start';
  if (id in ELSEWHERE) return 'elsewhere';
  if (id in EXEMPT) return 'exempt';
  return null;
}

function block(id: string): Block {
  const found = BLOCKS.find((b) => b.id === id);
  assert.ok(found, `README has the block "${id}" this test lists; update the lists in test/examples/readme.test.ts`);
  return found;
}

// ---- running ----

const cleanups: Array<() => Promise<void> | void> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function serve(flags: string[]): Promise<{ server: ServerProcess; dataDir: string }> {
  const dataDir = tempDir();
  cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
  const server = await startProcess([...flags, '--data', dataDir]);
  cleanups.push(async () => { await server.stop(); });
  return { server, dataDir };
}

/** The README's commands aimed at the test server: its address for 8080, its data folder for `.presently/`. */
function aimed(code: string, url: string, dataDir: string): string {
  const port = new URL(url).port;
  return code
    .replace(/(127\.0\.0\.1|localhost):8080/g, `$1:${port}`)
    .replace(/(^|[\s=])\.presently\//g, `$1${dataDir}/`);
}

interface Run { code: number | null; out: string; err: string }

function bash(script: string, env: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn('bash', ['-c', script], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { err += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.once('exit', (code) => { clearTimeout(timer); resolve({ code, out, err }); });
  });
}

const MARK = '@@README-BLOCK@@';

/**
 * Runs the scenario's blocks in one bash session; returns each block's output. A `js` block is saved (in the
 * checkout) under the name the prose before it gives, for the next block to run.
 */
async function runScenario(s: Scenario): Promise<Map<string, string>> {
  const { server, dataDir } = await serve(s.serve);
  const parts: string[] = ['set -e'];
  for (const [index, id] of s.blocks.entries()) {
    const b = block(id);
    if (b.lang === 'js') {
      const name = /Save as `([\w.-]+\.mjs)`/.exec(b.before)?.[1];
      assert.ok(name, `${id} (line ${b.line}): the prose says under which name to save it`);
      const file = join(ROOT, name);
      writeFileSync(file, aimed(b.code, server.url, dataDir));
      cleanups.push(() => rmSync(file, { force: true }));
      continue;
    }
    parts.push(`echo '${MARK} ${index}'`, aimed(b.code, server.url, dataDir));
  }
  const run = await bash(parts.join('\n'), { PRESENTLY_URL: server.url.replace('://localhost', '://127.0.0.1') });
  assert.equal(run.code, 0, `scenario "${s.name}" failed (exit ${run.code})\nstdout:\n${run.out}\nstderr:\n${run.err}`);
  const outputs = new Map<string, string>();
  for (const chunk of run.out.split(`${MARK} `).slice(1)) {
    const nl = chunk.indexOf('\n');
    outputs.set(s.blocks[Number(chunk.slice(0, nl))]!, chunk.slice(nl + 1));
  }
  return outputs;
}

/** What a block's `# …` comments say it prints (the comment lines after the last command). */
function shownOutput(b: Block): string[] {
  return b.code.split('\n').filter((l) => /^# /.test(l)).map((l) => l.slice(2));
}

function assertNoGraphError(id: string, out: string): void {
  assert.doesNotMatch(out, /\{"error":\{"code"/, `${id} printed a Graph error:\n${out}`);
}

describe('README: every block a user runs is run here, or listed with a reason', () => {
  it('each sh/js/ts block is in exactly one list; every other block is shown output or configuration', () => {
    const problems: string[] = [];
    for (const b of BLOCKS) {
      if (RUNNABLE.has(b.lang)) {
        if (listed(b.id) === null) problems.push(`line ${b.line}: "${b.id}" (${b.lang}) is neither run nor exempted`);
      } else if (!SHOWN.has(b.lang)) {
        problems.push(`line ${b.line}: "${b.id}" has the language '${b.lang}', which this test does not know`);
      }
    }
    assert.deepEqual(problems, [], 'add these blocks to SCENARIOS, SERVER_STARTS, ELSEWHERE or EXEMPT in test/examples/readme.test.ts');
    for (const id of [...Object.keys(SERVER_STARTS), ...Object.keys(ELSEWHERE), ...Object.keys(EXEMPT)]) block(id);
  });
});

describe('README: the scenarios run as written', () => {
  it("the three examples of Graph's setStatusMessage page, then a presence session: Example 3 answers the JSON shown", async () => {
    const s = SCENARIOS[0]!;
    const out = await runScenario(s);
    for (const id of s.blocks) assertNoGraphError(id, out.get(id) ?? '');
    for (const id of s.blocks.slice(1, 3)) {
      for (const line of shownOutput(block(id))) assert.ok(out.get(id)!.includes(line), `${id} prints "${line}":\n${out.get(id)}`);
    }
    // Example 3 prints the presence the README shows (the json block right after it), key for key.
    const shown = JSON.parse(block("Try it: the three examples of Graph's setStatusMessage page #5").code) as Record<string, unknown>;
    const got = JSON.parse(out.get(s.blocks[3]!)!) as Record<string, unknown>;
    assert.deepEqual(Object.keys(got), Object.keys(shown));
    const { '@odata.context': context, sequenceNumber, ...rest } = got;
    const { '@odata.context': shownContext, sequenceNumber: _seq, ...shownRest } = shown;
    assert.deepEqual(rest, shownRest);
    assert.match(String(sequenceNumber), /^C\d{20}$/);
    assert.equal(String(context).replace(/^http:\/\/127\.0\.0\.1:\d+/, ''), String(shownContext).replace('http://127.0.0.1:8080', ''));
  });

  for (const s of SCENARIOS.slice(1)) {
    it(`${s.name}: every block runs and prints no Graph error`, async () => {
      const out = await runScenario(s);
      for (const id of s.blocks) if (block(id).lang !== 'js') assertNoGraphError(id, out.get(id) ?? '');
      if (s.name.includes('SDK') || s.name.includes('graph-client')) {
        // The example ends with console.log of the presence: the message it set is in it.
        const printed = out.get(s.blocks[1]!) ?? '';
        assert.match(printed, /Hey I am available now/, `${s.name} printed the presence:\n${printed}`);
      }
      if (s.name === 'tokens') {
        const lines = (out.get(s.blocks[0]!) ?? '').trim().split('\n');
        for (const t of lines.slice(0, 3)) assert.match(t, /^[\w-]+\.[\w-]+\.[\w-]+$/, 'three bare JWTs');
        assert.equal(typeof (JSON.parse(lines.slice(3).join('\n')) as { access_token: unknown }).access_token, 'string', 'then --json');
        assert.match(out.get(s.blocks[1]!) ?? '', /"access_token"/);
      }
    });
  }

  it('Throttling: started with the flags shown, the fourth read is 429 with Retry-After: 30; advancing the clock opens a new window', async () => {
    const b = block('Throttling #1');
    const flags = /^npm start -- (.+)$/.exec(b.code.trim())![1]!.split(/\s+/);
    const { server } = await serve(['--store', 'memory', ...flags]);
    const mint = await fetch(`${server.url}/_presently/tokens`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"userId": "AdeleV@contoso.example"}' });
    const { access_token } = await mint.json() as { access_token: string };
    const read = () => fetch(`${server.url}/v1.0/me/presence`, { headers: { authorization: `Bearer ${access_token}` } });
    for (let i = 0; i < 3; i++) assert.equal((await read()).status, 200);
    const fourth = await read();
    assert.equal(fourth.status, 429);
    assert.equal(fourth.headers.get('retry-after'), '30');
    await fetch(`${server.url}/_presently/clock`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"advance": "PT30S"}' });
    assert.equal((await read()).status, 200);
  });

  it('The dashboard: started with the flags shown, Presently prints the address shown, which serves the web app', async () => {
    const flags = /^npm start -- (.+)$/.exec(block('The dashboard #1').code.trim())![1]!.split(/\s+/);
    const { server } = await serve(['--store', 'memory', ...flags]);
    const printed = /^ {2}dashboard: (\S+)$/m.exec(server.stderr())?.[1];
    assert.equal(printed, `${server.url}/_presently/ui`, server.stderr());
    assert.ok(block('The dashboard #2').code.includes('  dashboard: http://127.0.0.1:8080/_presently/ui'), 'the README shows the line as printed');
    const page = await fetch(printed);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<script type="module" src="\/_presently\/ui\/assets\/app\.js\?v=\w+">/);
    const clock = await (await fetch(`${server.url}/_presently/clock`)).json() as { mode: string };
    assert.equal(clock.mode, 'manual');
  });

  it('Moving the clock in tests: started with the flags shown, the curl moves the clock by an hour', async () => {
    const start = block('Moving the clock in tests #1');
    const [serveLine, curl] = start.code.split('\n');
    const { server, dataDir } = await serve(/^npm start -- (.+)$/.exec(serveLine!)![1]!.split(/\s+/));
    const before = (await (await fetch(`${server.url}/_presently/clock`)).json() as { now: string }).now;
    const run = await bash(aimed(curl!, server.url, dataDir), {});
    assert.equal(run.code, 0, run.err);
    assert.equal(Date.parse((JSON.parse(run.out) as { now: string }).now) - Date.parse(before), 3_600_000);
  });

  it('the start-up hint under --https names a token command that works as printed', async () => {
    const { server } = await serve(['--store', 'memory', '--https']);
    const hint = /get a token: (.+)/.exec(server.stderr())?.[1];
    assert.ok(hint, `the server prints a token hint:\n${server.stderr()}`);
    assert.match(hint, / --url https:\/\/127\.0\.0\.1:\d+$/);
    // Installed, `presently` is on the PATH: a folder with the package's bin stands in for the installation.
    const bin = tempDir();
    cleanups.push(() => rmSync(bin, { recursive: true, force: true }));
    symlinkSync(join(ROOT, 'bin/presently.js'), join(bin, 'presently'));
    const run = await bash(hint, { PRESENTLY_URL: '', PATH: `${bin}:${process.env.PATH ?? ''}` });
    assert.equal(run.code, 0, run.err);
    assert.match(run.out.trim(), /^[\w-]+\.[\w-]+\.[\w-]+$/);
    // From a checkout (npm sets npm_lifecycle_event) the hint goes through npm; installed, it is `presently`.
    assert.equal(tokenHint('http://127.0.0.1:8080', { npm_package_name: 'presently', npm_lifecycle_event: 'start' }), 'npm run -s presently -- token --user AdeleV@contoso.example');
    assert.equal(tokenHint('https://127.0.0.1:8080', {}), 'presently token --user AdeleV@contoso.example --url https://127.0.0.1:8080');
  });
});
