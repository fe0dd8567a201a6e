/**
 * The README chapter "Change notifications (webhooks)" works as written: a real `presently serve`, the example
 * receivers of examples/ as child processes, and the requests the chapter shows — their bodies are read from the
 * README itself (heredocs expanded as the shell would), so the walkthrough and this test cannot drift apart.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import selfsigned from 'selfsigned';
import { freePort } from '../kit/receiver.ts';
import { ADELE, ALEX, TENANT, startProcess, tempDir, type ServerProcess } from '../kit/server.ts';
import { eventually } from '../kit/time.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const GUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

// ---- reading the chapter ----

const CHAPTER = (() => {
  const start = README.indexOf('\n## Change notifications (webhooks)\n');
  assert.ok(start !== -1, 'README has the chapter');
  const end = README.indexOf('\n## ', start + 1);
  assert.ok(README.indexOf('\n## Running it\n') === end, 'the chapter comes right before "Running it"');
  return README.slice(start, end);
})();

function section(title: string): string {
  const start = CHAPTER.indexOf(`\n### ${title}\n`);
  assert.ok(start !== -1, `README chapter has "### ${title}"`);
  const end = CHAPTER.indexOf('\n### ', start + 1);
  return CHAPTER.slice(start, end === -1 ? undefined : end);
}

const WALKTHROUGH = section('From a subscription to a notification');

/** The bodies of the `-d @- <<EOF … EOF` heredocs, in order. */
const HEREDOCS = [...WALKTHROUGH.matchAll(/-d @- <<EOF\n([\s\S]*?)\nEOF\n/g)].map((m) => m[1]!);
/** The `curl … $G<path> … -d '<json>'` requests with a single-quoted body, in order. */
const INLINE_POSTS = [...WALKTHROUGH.matchAll(/curl -s -X POST \$G(\S+)[^\n]*(?:\\\n[^\n]*)*?-d '([^']*)'/g)]
  .map((m) => ({ path: m[1]!, body: JSON.parse(m[2]!) as unknown }));

/**
 * Expands an unquoted heredoc as bash does for what the walkthrough uses: `$NAME`, `${NAME}`, and `\$` for a
 * literal dollar. A variable the walkthrough does not set (say `$filter` without its backslash) fails the test,
 * as it would silently break the command in a shell.
 */
function expand(text: string, vars: Record<string, string>): string {
  return text.replace(/\\([$`\\])|\$(\w+)|\$\{(\w+)\}|\$\(|`/g, (m, escaped?: string, name?: string, braced?: string) => {
    if (escaped !== undefined) return escaped;
    const key = name ?? braced;
    if (key === undefined) throw new Error(`README heredoc uses shell syntax this test does not expand: ${m}`);
    const value = vars[key];
    if (value === undefined) throw new Error(`README heredoc uses $${key}, which the walkthrough does not set`);
    return value;
  });
}

/** What `date -u -d '+50 min' +%Y-%m-%dT%H:%M:%SZ` prints. */
const inFiftyMinutes = () => new Date(Date.now() + 50 * 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z');

// ---- processes ----

interface Child {
  child: ChildProcess;
  stdout(): string;
  /** The JSON lines printed so far. */
  printed(): Record<string, unknown>[];
}

const children: ChildProcess[] = [];
const dirs: string[] = [];

after(async () => {
  for (const c of children) {
    if (c.exitCode === null && c.signalCode === null) {
      const exited = new Promise((resolve) => c.once('exit', resolve));
      c.kill('SIGTERM');
      await exited;
    }
  }
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Starts `node --import tsx examples/<file> …args` and waits for its "Receiving … on" line. */
function startExample(file: string, args: string[]): Promise<Child> {
  const child = spawn(process.execPath, ['--import', 'tsx', join('examples', file), ...args], {
    cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PORT: '' },
  });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => { out += d; });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => { err += d; });
  const handle: Child = {
    child,
    stdout: () => out,
    printed: () => out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>),
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${file} not ready in 15 s\nstdout: ${out}\nstderr: ${err}`)), 15_000);
    child.stdout!.on('data', () => {
      if (/Receiving (?:rich )?notifications on http:\/\/127\.0\.0\.1:\d+\//.test(out)) {
        clearTimeout(timer);
        resolve(handle);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${file} exited with ${code}\nstdout: ${out}\nstderr: ${err}`));
    });
  });
}

async function serve(args: string[] = []): Promise<ServerProcess> {
  const dataDir = tempDir();
  dirs.push(dataDir);
  const server = await startProcess(['--store', 'memory', '--data', dataDir, ...args]);
  children.push(server.child);
  return server;
}

/** What `probe` finds, once it finds something (within `ms` of real time). */
async function waitFor<T>(what: string, ms: number, probe: () => T | undefined | Promise<T | undefined>): Promise<T> {
  return (await eventually(probe, (found) => found !== undefined, ms, what))!;
}

// ---- HTTP as the walkthrough does it ----

async function token(G: string, user: string): Promise<string> {
  const res = await fetch(`${G}/_presently/tokens`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ userId: user }),
  });
  assert.equal(res.status, 200, await res.clone().text());
  const { access_token } = await res.json() as { access_token: string };
  const claims = JSON.parse(Buffer.from(access_token.split('.')[1]!, 'base64url').toString('utf8')) as { scp: string };
  assert.ok(claims.scp.split(' ').includes('Presence.Read.All'), `a delegated token with Presence.Read.All: ${claims.scp}`);
  return access_token;
}

async function post(url: string, TOKEN: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> | null; text: string }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, text, json: text && /json/.test(res.headers.get('content-type') ?? '') ? JSON.parse(text) as Record<string, unknown> : null };
}

async function presence(G: string, TOKEN: string, id: string): Promise<Record<string, unknown>> {
  const res = await fetch(`${G}/v1.0/users/${id}/presence`, { headers: { authorization: `Bearer ${TOKEN}` } });
  assert.equal(res.status, 200);
  return await res.json() as Record<string, unknown>;
}

/**
 * The key structure of a JSON value: objects' keys recursively, arrays by their first element, values by type —
 * `null` counting as a string (the one nullable value of an item is `clientState`, a string when set).
 */
function shape(v: unknown): unknown {
  if (Array.isArray(v)) return v.length === 0 ? [] : [shape(v[0])];
  if (v === null) return 'string';
  if (typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, shape(x)]).sort());
  return typeof v;
}

// ---- the walkthrough ----

describe('README: from a subscription to a notification', () => {
  let server: ServerProcess;
  let G: string;
  let TOKEN: string;
  let EXPIRES: string;
  let receiver: Child;
  let receiverPort: number;

  before(async () => {
    server = await serve();
    G = server.url;
    // Step 1: `node --import tsx examples/receiver.ts 3000`, on a free port instead of 3000.
    const cmd = /node --import tsx examples\/receiver\.ts (\d+)\n# Receiving notifications on http:\/\/127\.0\.0\.1:\1\//.exec(WALKTHROUGH);
    assert.ok(cmd, 'step 1 starts examples/receiver.ts on a port and shows its ready line');
    receiverPort = await freePort();
    receiver = await startExample('receiver.ts', [String(receiverPort)]);
    // Step 2: a token for the user the README names.
    const user = /TOKEN=\$\(npm run -s presently -- token --user (\S+)\)/.exec(WALKTHROUGH);
    assert.ok(user, 'step 2 gets a user token');
    TOKEN = await token(G, user[1]!);
    EXPIRES = inFiftyMinutes();
  });

  it('the chapter has the requests this test replays', () => {
    assert.equal(HEREDOCS.length, 2, 'two subscription bodies: the receiver and the sink');
    assert.deepEqual(INLINE_POSTS.map((p) => p.path), ['/v1.0/me/presence/setStatusMessage', '/v1.0/me/presence/setStatusMessage']);
    assert.match(WALKTHROUGH, /curl -s -X POST \$G\/v1\.0\/subscriptions /);
    assert.match(WALKTHROUGH, /EXPIRES=\$\(date -u -d '\+50 min' \+%Y-%m-%dT%H:%M:%SZ\)/);
  });

  it('steps 3–5: subscribe, set a status message, and the receiver prints the notification within 2 s', async () => {
    const body = JSON.parse(expand(HEREDOCS[0]!, { G, EXPIRES, TOKEN })) as Record<string, string>;
    assert.equal(body.notificationUrl, 'http://127.0.0.1:3000/notifications');
    body.notificationUrl = body.notificationUrl.replace(':3000/', `:${receiverPort}/`);
    assert.equal(body.resource, `/communications/presences?$filter=id in ('${ADELE}','${ALEX}')`);

    const created = await post(`${G}/v1.0/subscriptions`, TOKEN, body);
    assert.equal(created.status, 201, created.text);
    const sub = created.json!;
    assert.match(String(sub.id), GUID_RE);
    assert.equal(sub.clientState, 'secretClientValue');
    assert.equal(sub.notificationUrl, body.notificationUrl);
    assert.equal(sub.expirationDateTime, EXPIRES.replace(/Z$/, '.0000000Z'));

    const [step4] = INLINE_POSTS;
    const t0 = Date.now();
    const set = await post(`${G}${step4!.path}`, TOKEN, step4!.body);
    assert.equal(set.status, 200, set.text);
    const line = await waitFor('the receiver to print the notification', 2000,
      () => receiver.printed().find((p) => p.subscriptionId === sub.id));
    assert.ok(Date.now() - t0 < 2000);

    // Who changed, not how: the item names the presence only (Graph's basic notifications since June 2024).
    assert.deepEqual(line, {
      subscriptionId: sub.id,
      resource: `communications/presences/${ADELE}`,
      userId: ADELE,
      clientState: 'secretClientValue',
    });
    // The line the README shows has exactly these fields, in this order.
    const shown = /\n```\n(\{"subscriptionId"[^\n]*\})\n```\n/.exec(WALKTHROUGH);
    assert.ok(shown, 'step 5 shows the printed line');
    assert.deepEqual(Object.keys(JSON.parse(shown[1]!) as object), Object.keys(line));

    // The receiver answered 202, once: /_presently/deliveries says so (once the server has read that answer: the
    // receiver prints the line before it answers).
    const outcomes = await waitFor('the delivery log to record the answer', 2000, async () => {
      const log = await (await fetch(`${G}/_presently/deliveries?subscriptionId=${String(sub.id)}`)).json() as { value: Record<string, unknown>[] };
      return log.value.length > 0 ? log.value.map((e) => [e.kind, e.status, e.outcome, e.attempt]) : undefined;
    });
    assert.deepEqual(outcomes, [['change', 202, 'delivered', 1]]);
  });

  it('no receiver at hand: the sink gets the notification, shaped as the POST body the README shows', async () => {
    const body = JSON.parse(expand(HEREDOCS[1]!, { G, EXPIRES, TOKEN })) as Record<string, string>;
    assert.equal(body.notificationUrl, `${G}/_presently/sink/demo`);
    // One presence subscription per user and application: the README subscribes to the sink as Alex.
    const alex = /ALEX_TOKEN=\$\(npm run -s presently -- token --user (\S+)\)/.exec(WALKTHROUGH);
    assert.ok(alex, 'the sink subscription is made with another user\'s token');
    assert.match(WALKTHROUGH, /curl -s -X POST \$G\/v1\.0\/subscriptions -H "Authorization: Bearer \$ALEX_TOKEN"/);
    const again = await post(`${G}/v1.0/subscriptions`, TOKEN, body);
    assert.equal(again.status, 403, 'a second subscription of the same user and app is refused, as in Graph');
    const created = await post(`${G}/v1.0/subscriptions`, await token(G, alex[1]!), body);
    assert.equal(created.status, 201, created.text);
    const id = created.json!.id;

    const [, inSink] = INLINE_POSTS;
    assert.equal((await post(`${G}${inSink!.path}`, TOKEN, inSink!.body)).status, 200);
    assert.match(WALKTHROUGH, /\ncurl -s \$G\/_presently\/sink\/demo\n/);
    const record = await waitFor('the sink to record the POST', 2000, async () => {
      const res = await fetch(`${G}/_presently/sink/demo`);
      assert.equal(res.status, 200);
      return ((await res.json()) as { value: { method: string; url: string; body: { value: Record<string, unknown>[] } }[] }).value[0];
    });
    assert.equal(record.method, 'POST');
    assert.equal(record.url, '/_presently/sink/demo');
    const item = record.body.value[0]!;
    assert.equal(item.subscriptionId, id);
    assert.equal(item.tenantId, TENANT);
    assert.deepEqual(item.resourceData, { '@odata.id': `users/${ADELE}/presence`, '@odata.type': '#microsoft.graph.presence', id: ADELE });

    // The POST body the README shows (step 5) has the shape of a real one.
    const json = /printed from the POST Presently sent:\n\n```json\n([\s\S]*?)\n```/.exec(WALKTHROUGH);
    assert.ok(json, 'step 5 shows the POST body');
    const shown = JSON.parse(json[1]!) as { value: Record<string, unknown>[] };
    assert.deepEqual(shape(record.body), shape(shown));
    assert.equal(shown.value[0]!.tenantId, TENANT);
  });
});

describe('README: rich notifications with examples/rich-receiver.ts', () => {
  it('subscribed "as in step 3" with the extra properties, the receiver prints what GET shows a watcher', async () => {
    const server = await serve();
    const G = server.url;
    const dir = tempDir();
    dirs.push(dir);
    const pems = await selfsigned.generate([{ name: 'commonName', value: 'receiver' }], {
      keySize: 2048, algorithm: 'sha256', notBeforeDate: new Date(Date.now() - 86_400_000), notAfterDate: new Date(Date.now() + 30 * 86_400_000),
    });
    writeFileSync(join(dir, 'key.pem'), pems.private);
    const CERT = new X509Certificate(pems.cert).raw.toString('base64');

    const rich = section('Rich notifications');
    assert.match(rich, /\nnode --import tsx examples\/rich-receiver\.ts key\.pem 3001\n/);
    const port = await freePort();
    const rx = await startExample('rich-receiver.ts', [join(dir, 'key.pem'), String(port)]);

    assert.match(rich, /after deleting the step-3 subscription\s+\(one per user and application\)/);
    const extra = /Subscribe as in step 3 with `([^`]+)`/.exec(rich);
    assert.ok(extra, 'the rich section names the properties to add');
    const TOKEN = await token(G, 'AdeleV@contoso.example');
    const EXPIRES = inFiftyMinutes();
    const body = {
      ...JSON.parse(expand(HEREDOCS[0]!, { G, EXPIRES, TOKEN })) as object,
      ...JSON.parse(`{${expand(extra[1]!.replace(/\n/g, ' '), { CERT })}}`) as Record<string, unknown>,
    } as Record<string, unknown>;
    assert.equal(body.notificationUrl, 'http://127.0.0.1:3001/notifications');
    body.notificationUrl = `http://127.0.0.1:${port}/notifications`;
    assert.equal(body.includeResourceData, true);
    const created = await post(`${G}/v1.0/subscriptions`, TOKEN, body);
    assert.equal(created.status, 201, created.text);

    // An owner-only field (the expiry) must not reach the receiver.
    const set = await post(`${G}/v1.0/me/presence/setStatusMessage`, TOKEN, {
      statusMessage: { message: { content: 'Back in 5 minutes', contentType: 'text' }, expiryDateTime: { dateTime: '2030-01-01T00:00:00', timeZone: 'UTC' } },
    });
    assert.equal(set.status, 200, set.text);
    const line = await waitFor('the rich receiver to print the presence', 2000,
      () => rx.printed().find((p) => p.subscriptionId === created.json!.id));
    const { '@odata.context': _context, ...watcher } = await presence(G, await token(G, 'AlexW@contoso.example'), ADELE);
    // Graph's decrypted presence: @odata.id and @odata.type, then what GET shows a watcher.
    assert.deepEqual(line.presence, { '@odata.id': `users/${ADELE}/presence`, '@odata.type': '#microsoft.graph.presence', ...watcher });
    assert.deepEqual(Object.keys((watcher.statusMessage ?? {}) as object), ['message']);
  });
});

describe('README: testing notifications with the manual clock', () => {
  it('advance PT45M on a subscription that expires in 50 minutes: its reauthorizationRequired is in the sink when the call returns', async () => {
    assert.match(section('Testing notifications'), /Advance `PT45M` on a subscription that expires in 50\s+minutes, and its `reauthorizationRequired` is in the sink when the call returns\./);
    const server = await serve(['--clock', 'manual']);
    const G = server.url;
    const TOKEN = await token(G, 'AdeleV@contoso.example');
    const info = await (await fetch(`${G}/_presently/info`)).json() as { clock: { now: string } };
    const expires = new Date(Date.parse(info.clock.now) + 50 * 60_000).toISOString();
    const created = await post(`${G}/v1.0/subscriptions`, TOKEN, {
      changeType: 'updated',
      notificationUrl: `${G}/_presently/sink/changes`,
      lifecycleNotificationUrl: `${G}/_presently/sink/lifecycle`,
      resource: `/communications/presences/${ADELE}`,
      expirationDateTime: expires,
      clientState: 'lifecycle-demo',
    });
    assert.equal(created.status, 201, created.text);
    const sink = async () => ((await (await fetch(`${G}/_presently/sink/lifecycle`)).json()) as { value: { body: { value: Record<string, unknown>[] } }[] }).value;
    assert.deepEqual(await sink(), []);

    const moved = await fetch(`${G}/_presently/clock`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"advance": "PT45M"}' });
    assert.equal(moved.status, 200);
    const records = await sink();
    assert.equal(records.length, 1, 'the notification arrived before POST /_presently/clock returned');
    assert.deepEqual(records[0]!.body.value, [{
      subscriptionId: created.json!.id,
      subscriptionExpirationDateTime: created.json!.expirationDateTime,
      tenantId: TENANT,
      clientState: 'lifecycle-demo',
      lifecycleEvent: 'reauthorizationRequired',
    }]);
  });
});
