/**
 * Durability of the sqlite store through real `presently serve` processes (docs/operations/README.md, docs/operations/storage.md): clean restarts,
 * kill -9 under write load, expiries that pass while the server is down, schema migration on start, and the exit
 * codes of `presently serve`'s usage errors.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { SCHEMA_VERSION } from '../../src/store/sqlite/migrations.ts';
import { ADELE, ALEX, MEGAN, TENANT, startProcess, tempDir, type ServerProcess } from '../kit/server.ts';
import { builtBin } from '../kit/build.ts';
import { sleep } from '../kit/time.ts';

const LEE = '5f7c2a10-3b9e-4d1a-8e2f-6a4b9c1d2e30';
const NESTOR = 'c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e5f';
const DEMO_USERS = [ADELE, ALEX, MEGAN, LEE, NESTOR];

// ---- bookkeeping: every process and folder a test makes is cleaned up, even when an assertion fails ----

const live = new Set<ServerProcess>();
const dirs: string[] = [];

async function start(dataDir: string, extra: string[] = []): Promise<ServerProcess> {
  // The sqlite store, named: these tests read its file, whatever stores the other suites run on.
  const p = await startProcess(['--store', 'sqlite', '--data', dataDir, '--log-level', 'warn', ...extra]);
  live.add(p);
  return p;
}

async function stop(p: ServerProcess): Promise<number | null> {
  const code = await p.stop();
  live.delete(p);
  return code;
}

async function kill9(p: ServerProcess): Promise<void> {
  await p.kill9();
  live.delete(p);
}

function newDir(): string {
  const d = tempDir();
  dirs.push(d);
  return d;
}

after(async () => {
  for (const p of live) await p.kill9().catch(() => {});
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

// ---- HTTP helpers ----

interface Res {
  status: number;
  text: string;
}

async function call(url: string, method: string, path: string, token?: string, body?: unknown): Promise<Res> {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${url}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: res.status, text: await res.text() };
}

async function mint(url: string, body: object): Promise<string> {
  const res = await call(url, 'POST', '/_presently/tokens', undefined, body);
  assert.equal(res.status, 200, res.text);
  return (JSON.parse(res.text) as { access_token: string }).access_token;
}

interface Presence {
  id: string;
  statusMessage: null | {
    message: { content: string; contentType: string };
    expiryDateTime?: { dateTime: string; timeZone: string };
    publishedDateTime?: string;
  };
  sequenceNumber: string;
}

/** GET of a presence; asserts 200 and returns the raw text (with the server's own URL replaced) and the JSON. */
async function getPresence(url: string, path: string, token: string): Promise<{ text: string; json: Presence }> {
  const res = await call(url, 'GET', path, token);
  assert.equal(res.status, 200, `GET ${path}: ${res.text}`);
  return { text: res.text.split(url).join('<base>'), json: JSON.parse(res.text) as Presence };
}

async function setStatus(url: string, path: string, token: string, statusMessage: unknown): Promise<void> {
  const res = await call(url, 'POST', path, token, { statusMessage });
  assert.equal(res.status, 200, `POST ${path}: ${res.text}`);
  assert.equal(res.text, '');
}

/** Runs `presently serve …` to its exit (for the usage errors, which never get to the ready line). */
function runServe(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stderr: string; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [builtBin(), 'serve', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`presently serve ${args.join(' ')} did not exit in 20 s\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, 20_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr, stdout });
    });
  });
}

// ---- the tests ----

describe('durability: a clean restart keeps everything', { timeout: 60_000 }, () => {
  it('status messages, expiries, publishedDateTime, sequenceNumbers, deletions and tokens survive SIGTERM + restart, twice', async () => {
    const dir = newDir();
    const p1 = await start(dir);
    const url1 = p1.url;

    const userTokens = new Map<string, string>();
    for (const id of DEMO_USERS) userTokens.set(id, await mint(url1, { userId: id }));
    const appToken = await mint(url1, {});
    const keys1 = (await call(url1, 'GET', '/_presently/keys')).text;

    // A user created through the admin API, to show that added users persist as well as seeded ones.
    const DIEGO = randomUUID();
    const created = await call(url1, 'POST', `/_presently/tenants/${TENANT}/users`, undefined, {
      id: DIEGO, displayName: 'Diego Siciliani', userPrincipalName: 'DiegoS@contoso.example',
    });
    assert.equal(created.status, 201, created.text);
    userTokens.set(DIEGO, await mint(url1, { userId: DIEGO }));

    const adeleExpiry = { dateTime: '2031-10-18T17:05:33.2079781', timeZone: 'Pacific Standard Time' };
    const meganExpiry = { dateTime: '9999-12-31T23:59:59.9999999', timeZone: 'UTC' };
    const leeExpiry = { dateTime: '2032-03-01T08:00:00.5', timeZone: 'Europe/Berlin' };
    await setStatus(url1, '/v1.0/me/presence/setStatusMessage', userTokens.get(ADELE)!, {
      message: { content: "Hey I'm currently in a meeting. 🗓️", contentType: 'text' }, expiryDateTime: adeleExpiry,
    });
    await setStatus(url1, '/beta/me/presence/setStatusMessage', userTokens.get(ALEX)!, { message: { content: 'first, replaced below' } });
    await setStatus(url1, '/v1.0/me/presence/setStatusMessage', userTokens.get(ALEX)!, { message: { content: 'Working from home' } });
    await setStatus(url1, `/v1.0/communications/presences/${MEGAN}/setStatusMessage`, appToken, {
      message: { content: 'Back soon <pinnednote></pinnednote>', contentType: 'TEXT' }, expiryDateTime: meganExpiry,
    });
    await setStatus(url1, `/v1.0/users/${LEE.toUpperCase()}/presence/setStatusMessage`, appToken, {
      message: { content: 'Ünïcødé ✓ \u0000 "quoted" \\ back' }, expiryDateTime: leeExpiry,
    });
    await setStatus(url1, '/v1.0/me/presence/setStatusMessage', userTokens.get(DIEGO)!, { message: { content: 'new here' } });
    await setStatus(url1, '/v1.0/me/presence/setStatusMessage', userTokens.get(NESTOR)!, { message: { content: 'about to be deleted' } });

    const del = await call(url1, 'DELETE', `/_presently/tenants/${TENANT}/users/${NESTOR}`);
    assert.equal(del.status, 204, del.text);

    const kept = [ADELE, ALEX, MEGAN, LEE, DIEGO];
    const snapshot = async (url: string) => {
      const owner = new Map<string, string>();
      for (const id of kept) owner.set(id, (await getPresence(url, '/v1.0/me/presence', userTokens.get(id)!)).text);
      const many = await call(url, 'POST', '/beta/communications/getPresencesByUserId', appToken, { ids: [...kept, NESTOR] });
      assert.equal(many.status, 200, many.text);
      const users = await call(url, 'GET', `/_presently/tenants/${TENANT}/users`);
      assert.equal(users.status, 200, users.text);
      return { owner, many: many.text.split(url).join('<base>'), users: users.text };
    };

    let before = await snapshot(url1);
    // Sanity: what was stored is what the contract says (expiry as sent, normalised to 7 digits; timeZone as sent).
    const adele = JSON.parse(before.owner.get(ADELE)!) as Presence;
    assert.deepEqual(adele.statusMessage?.expiryDateTime, adeleExpiry);
    assert.match(adele.statusMessage?.publishedDateTime ?? '', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{7}Z$/);
    const megan = JSON.parse(before.owner.get(MEGAN)!) as Presence;
    assert.deepEqual(megan.statusMessage?.expiryDateTime, meganExpiry);
    assert.equal(megan.statusMessage?.message.content, 'Back soon <pinnednote></pinnednote>');
    const lee = JSON.parse(before.owner.get(LEE)!) as Presence;
    assert.deepEqual(lee.statusMessage?.expiryDateTime, { dateTime: '2032-03-01T08:00:00.5000000', timeZone: 'Europe/Berlin' });
    assert.equal((JSON.parse(before.owner.get(ALEX)!) as Presence).statusMessage?.message.content, 'Working from home');
    assert.ok(!before.users.includes(NESTOR), 'the deleted user is gone before the restart');

    const code1 = await stop(p1);
    assert.equal(code1, 0, `exit code after SIGTERM; stderr: ${p1.stderr()}`);
    assert.match(p1.stderr(), /stopping \(SIGTERM\)/i);

    for (const round of [2, 3]) {
      const p = await start(dir);
      const after = await snapshot(p.url);
      for (const id of kept) assert.equal(after.owner.get(id), before.owner.get(id), `restart ${round}: owner view of ${id}`);
      assert.equal(after.many, before.many, `restart ${round}: getPresencesByUserId`);
      assert.equal(after.users, before.users, `restart ${round}: the users of the demo tenant (no re-seeding)`);

      // The deleted user stays deleted: not re-seeded, not addressable, no token for them.
      const gone = await call(p.url, 'GET', `/v1.0/users/${NESTOR}/presence`, appToken);
      assert.equal(gone.status, 404, gone.text);
      const noToken = await call(p.url, 'POST', '/_presently/tokens', undefined, { userId: NESTOR });
      assert.equal(noToken.status, 400, noToken.text);
      // Nestor's old token still verifies (same key) but names a user that no longer exists.
      const nestorMe = await call(p.url, 'GET', '/v1.0/me/presence', userTokens.get(NESTOR)!);
      assert.equal(nestorMe.status, 404, nestorMe.text);

      // The signing key persisted: the same JWKS, and tokens minted before the restart work for writes too.
      assert.equal((await call(p.url, 'GET', '/_presently/keys')).text, keys1);
      const write = await call(p.url, 'POST', '/v1.0/me/presence/setStatusMessage', userTokens.get(DIEGO)!, {
        statusMessage: { message: { content: `written after restart ${round}` } },
      });
      assert.equal(write.status, 200, write.text);
      // That write is part of what the next restart must keep.
      before = await snapshot(p.url);
      assert.equal((JSON.parse(before.owner.get(DIEGO)!) as Presence).statusMessage?.message.content, `written after restart ${round}`);

      const code = await stop(p);
      assert.equal(code, 0, `exit code after SIGTERM (restart ${round}); stderr: ${p.stderr()}`);
      assert.match(p.stderr(), /stopping \(SIGTERM\)/i);
    }
  });
});

// Both places a data folder may keep presence records in (docs/operations/storage.md#presence-journal).
for (const where of ['table', 'journal'] as const) describe(`durability: kill -9 under write load, presence in the ${where}`, { timeout: 60_000 }, () => {
  const startWhere = (dataDir: string) => start(dataDir, ['--presence-store', where]);
  interface Write {
    user: string;
    content: string;
    /** Logical time at which the request was sent. */
    sentAt: number;
    /** Logical time at which the 200 arrived, or null (not acknowledged: in flight at the kill, or failed). */
    ackedAt: number | null;
  }

  const USERS = [ADELE, ALEX, MEGAN, LEE, NESTOR];
  const WRITERS = 8;

  it('never loses an acknowledged write (3 kills at different moments)', async () => {
    const dir = newDir();
    let p = await startWhere(dir);
    // Minted once, before the first kill: it must stay valid through every restart.
    const appToken = await mint(p.url, {});
    const owners = new Map<string, string>();
    for (const id of USERS) owners.set(id, await mint(p.url, { userId: id }));
    let lastSeq = new Map<string, string>();
    for (const id of USERS) lastSeq.set(id, (await getPresence(p.url, '/v1.0/me/presence', owners.get(id)!)).json.sequenceNumber);

    const moments = [300, 170, 460];
    for (const [round, killAt] of moments.entries()) {
      const url = p.url;
      const writes: Write[] = [];
      const unexpected: string[] = [];
      let tick = 0;
      let acks = 0;
      let killing: Promise<void> | null = null;
      const victim = p;

      // Each writer goes on until the dead server refuses it, so writes are in flight at the kill and just after it.
      const writer = async (w: number) => {
        for (let i = 0; ; i++) {
          const user = USERS[(w * 3 + i) % USERS.length]!;
          const rec: Write = { user, content: `round ${round} writer ${w} #${i} ${randomUUID()}`, sentAt: tick++, ackedAt: null };
          writes.push(rec);
          const address = i % 2 === 0 ? `/v1.0/users/${user}/presence` : `/beta/communications/presences/${user}`;
          try {
            const res = await fetch(`${url}${address}/setStatusMessage`, {
              method: 'POST',
              headers: { authorization: `Bearer ${appToken}`, 'content-type': 'application/json' },
              body: JSON.stringify({ statusMessage: { message: { content: rec.content, contentType: 'text' } } }),
            });
            await res.arrayBuffer();
            if (res.status !== 200) {
              unexpected.push(`${res.status} for ${rec.content}`);
              return;
            }
            rec.ackedAt = tick++;
            acks++;
            // The other writers' requests are in flight right now.
            if (acks >= killAt && killing === null) killing = kill9(victim);
          } catch {
            // The connection died with the server: the outcome of this write is unknown, and that is allowed.
            if (killing === null) unexpected.push(`network error before the kill for ${rec.content}`);
            return;
          }
        }
      };
      const started = performance.now();
      await Promise.all(Array.from({ length: WRITERS }, (_, w) => writer(w)));
      await killing;
      const loadMs = performance.now() - started;
      assert.deepEqual(unexpected, [], `round ${round}: every answer before the kill is a 200`);
      assert.ok(acks >= killAt, `round ${round}: ${acks} acks`);
      assert.ok(writes.some((w) => w.ackedAt === null), `round ${round}: some writes were in flight at the kill`);

      p = await startWhere(dir);
      const seqNow = new Map(lastSeq);
      for (const user of USERS) {
        const { json } = await getPresence(p.url, `/v1.0/users/${user}/presence`, appToken);
        const stored = json.statusMessage?.message.content ?? null;
        const mine = writes.filter((w) => w.user === user);
        const acked = mine.filter((w) => w.ackedAt !== null).sort((a, b) => a.ackedAt! - b.ackedAt!);
        const last = acked[acked.length - 1];
        if (!last) continue; // (not expected with these numbers, but then there is nothing to check)
        const found = mine.find((w) => w.content === stored);
        assert.ok(found, `round ${round}, user ${user}: stored '${stored}' is not a write of this round; last ack was '${last.content}'`);
        // Anything acknowledged before the last acknowledged write was even sent was committed before it, so it
        // can never be what is stored; the last ack itself, a write concurrent with it, or a later one can.
        assert.ok(
          !(found.ackedAt !== null && found.ackedAt < last.sentAt),
          `round ${round}, user ${user}: stored '${stored}' (acked at ${found.ackedAt}) is older than the last ack '${last.content}' (sent at ${last.sentAt})`,
        );
        // Owners see the same, and the sequenceNumber moved on from the previous round.
        const owner = await getPresence(p.url, '/v1.0/me/presence', owners.get(user)!);
        assert.equal(owner.json.statusMessage?.message.content ?? null, stored);
        assert.ok(owner.json.sequenceNumber > lastSeq.get(user)!, `round ${round}, user ${user}: sequenceNumber ${owner.json.sequenceNumber} after ${lastSeq.get(user)}`);
        seqNow.set(user, owner.json.sequenceNumber);
      }
      lastSeq = seqNow;
      process.stderr.write(`# kill -9 round ${round}: ${acks} acks, ${writes.filter((w) => w.ackedAt === null).length} unacknowledged, load ${Math.round(loadMs)} ms\n`);
    }
    const code = await stop(p);
    assert.equal(code, 0, p.stderr());
  });
});

describe('durability: time passes while the server is down', { timeout: 30_000 }, () => {
  it('a status message whose expiry passed while stopped reads as null after restart, with a new sequenceNumber', async () => {
    const dir = newDir();
    const p1 = await start(dir);
    const token = await mint(p1.url, { userId: ALEX });
    const appToken = await mint(p1.url, {});

    const expiresAt = Date.now() + 2_000;
    const dateTime = new Date(expiresAt).toISOString().slice(0, 23); // UTC wall time, ms precision, no 'Z'
    await setStatus(p1.url, '/v1.0/me/presence/setStatusMessage', token, {
      message: { content: 'gone in two seconds' }, expiryDateTime: { dateTime, timeZone: 'UTC' },
    });
    const before = (await getPresence(p1.url, '/v1.0/me/presence', token)).json;
    assert.deepEqual(before.statusMessage?.expiryDateTime, { dateTime: `${dateTime}0000`, timeZone: 'UTC' });

    assert.equal(await stop(p1), 0, p1.stderr());
    assert.ok(Date.now() < expiresAt, 'the server stopped before the expiry (else this test proves nothing)');
    await sleep(expiresAt - Date.now() + 300);

    const p2 = await start(dir);
    const after = (await getPresence(p2.url, '/v1.0/me/presence', token)).json;
    assert.equal(after.statusMessage, null);
    assert.ok(after.sequenceNumber > before.sequenceNumber, `sequenceNumber ${after.sequenceNumber} must sort after ${before.sequenceNumber}`);
    // The expiry was made once (on start): reading again shows the same sequenceNumber, for watchers too.
    assert.equal((await getPresence(p2.url, '/v1.0/me/presence', token)).json.sequenceNumber, after.sequenceNumber);
    const watcher = (await getPresence(p2.url, `/v1.0/users/${ALEX}/presence`, appToken)).json;
    assert.equal(watcher.statusMessage, null);
    assert.equal(watcher.sequenceNumber, after.sequenceNumber);
    assert.equal(await stop(p2), 0, p2.stderr());
  });
});

describe('durability: schema migration on start', { timeout: 60_000 }, () => {
  it('starting on the same data dir twice is fine, and the schema is at the current version', async () => {
    const dir = newDir();
    const p1 = await start(dir);
    const token = await mint(p1.url, { userId: MEGAN });
    await setStatus(p1.url, '/v1.0/me/presence/setStatusMessage', token, { message: { content: 'still here' } });
    assert.equal(await stop(p1), 0, p1.stderr());

    const p2 = await start(dir);
    assert.equal((await getPresence(p2.url, '/v1.0/me/presence', token)).json.statusMessage?.message.content, 'still here');
    assert.equal(await stop(p2), 0, p2.stderr());

    const db = new Database(join(dir, 'presently.db'), { readonly: true });
    try {
      assert.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
      assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    } finally {
      db.close();
    }
  });

  it('an empty database file and a data dir that does not exist yet are both set up on start', async () => {
    const dir = newDir();
    writeFileSync(join(dir, 'presently.db'), '');
    const p1 = await start(dir);
    assert.equal((await call(p1.url, 'GET', '/_presently/ready')).status, 200);
    assert.equal(await stop(p1), 0, p1.stderr());

    const nested = join(newDir(), 'a', 'b');
    const p2 = await start(nested);
    const token = await mint(p2.url, { userId: ADELE });
    assert.equal((await getPresence(p2.url, '/v1.0/me/presence', token)).json.statusMessage, null);
    assert.equal(await stop(p2), 0, p2.stderr());
  });

  it('a database from a newer Presently is refused (exit 1, a message naming the schema version) and left untouched', async () => {
    const dir = newDir();
    const db = new Database(join(dir, 'presently.db'));
    db.pragma(`user_version = ${SCHEMA_VERSION + 5}`);
    db.close();
    const r = await runServe(['--port', '0', '--data', dir]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /schema version/i);
    assert.doesNotMatch(r.stdout, /listening/i);
    const again = new Database(join(dir, 'presently.db'), { readonly: true });
    try {
      assert.equal(again.pragma('user_version', { simple: true }), SCHEMA_VERSION + 5);
    } finally {
      again.close();
    }
  });
});

describe('presently serve: usage errors', { timeout: 60_000 }, () => {
  it('--port abc exits 2 naming the flag', async () => {
    const r = await runServe(['--port', 'abc', '--data', newDir()]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /--port/);
    assert.match(r.stderr, /abc/);
  });

  it('--store nope exits 2 naming the flag', async () => {
    const r = await runServe(['--port', '0', '--store', 'nope', '--data', newDir()]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /--store/);
    assert.match(r.stderr, /nope/);
  });

  it('the environment equivalents are checked the same way', async () => {
    const r = await runServe(['--data', newDir()], { PRESENTLY_PORT: '70000' });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /--port|PRESENTLY_PORT/);
  });

  it('a port in use exits 1 with a message saying so', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    try {
      const port = (blocker.address() as net.AddressInfo).port;
      const r = await runServe(['--port', String(port), '--data', newDir()]);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /already in use/i);
      assert.match(r.stderr, new RegExp(String(port)));
      assert.doesNotMatch(r.stdout, /listening/i);
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });
});
