/**
 * Timed transitions and the durable store (docs/api/timed-changes.md, docs/operations/storage.md): a transition that falls
 * due while Presently runs is made by the scheduler without anybody reading; one that falls due while it is stopped
 * is made at start-up, before the first request.
 *
 * "Without a read" is shown by looking into the sqlite file itself (read-only, beside the running server: WAL allows
 * it) instead of asking the server, because a GET would bring an overdue record up to date by itself.
 *
 * Real processes and real time for status messages (a few seconds of waiting, no more). A PT5M session cannot expire
 * within seconds, so its overdue expiry is shown by restarting in-process on the same data with the manual clock
 * starting six minutes after it was set — what the server sees after being down that long.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { nextSequence, parseSequence } from '../../src/domain/record.ts';
import type { PresenceView } from '../../src/domain/types.ts';
import { ADELE, ALEX, APP, TENANT, startInProcess, startProcess, tempDir, type ServerProcess, type TestServer } from '../kit/server.ts';
import { sleep } from '../kit/time.ts';

const MIN = 60_000;

const live = new Set<ServerProcess>();
const inProcess = new Set<TestServer>();
const dirs: string[] = [];

async function start(dataDir: string): Promise<ServerProcess> {
  // The sqlite store, named: these tests read its file, whatever stores the other suites run on.
  const p = await startProcess(['--store', 'sqlite', '--data', dataDir, '--log-level', 'warn']);
  live.add(p);
  return p;
}

async function stop(p: ServerProcess): Promise<number | null> {
  const code = await p.stop();
  live.delete(p);
  return code;
}

function newDir(): string {
  const d = tempDir();
  dirs.push(d);
  return d;
}

after(async () => {
  for (const s of inProcess) await s.close().catch(() => {});
  for (const p of live) await p.kill9().catch(() => {});
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function call(url: string, method: string, path: string, token?: string, body?: unknown): Promise<{ status: number; text: string }> {
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

async function ok(url: string, path: string, token: string, body: unknown): Promise<void> {
  const res = await call(url, 'POST', path, token, body);
  assert.equal(res.status, 200, `POST ${path}: ${res.text}`);
}

interface Presence {
  availability: string;
  activity: string;
  statusMessage: null | { message: { content: string } };
  sequenceNumber: string;
}

async function read(url: string, userId: string, token: string): Promise<Presence> {
  const res = await call(url, 'GET', `/v1.0/users/${userId}/presence`, token);
  assert.equal(res.status, 200, res.text);
  return JSON.parse(res.text) as Presence;
}

/** The stored row of a user's presence, read straight from the sqlite file. */
function peek(dir: string, userId: string): { view: PresenceView; seq: string; dueAt: number | null } {
  const db = new Database(join(dir, 'presently.db'), { readonly: true, fileMustExist: true });
  try {
    const row = db.prepare('SELECT view, seq, due_at FROM presence WHERE tenant_id = ? AND user_id = ?').get(TENANT, userId) as
      { view: string; seq: string; due_at: number | null } | undefined;
    assert.ok(row, `no presence row for ${userId}`);
    return { view: JSON.parse(row.view) as PresenceView, seq: row.seq, dueAt: row.due_at };
  } finally {
    db.close();
  }
}

/** `YYYY-MM-DDThh:mm:ss.fff` in UTC: a wall time for `timeZone: "UTC"`. */
const utcWall = (ms: number) => new Date(ms).toISOString().slice(0, 23);

describe('durability: pending transitions', { timeout: 60_000 }, () => {
  it('status messages: one expiring while the server runs goes by the scheduler with no read; one expiring while it is down goes at start-up', async () => {
    const dir = newDir();
    const p1 = await start(dir);
    const [adele, alex, app] = await Promise.all([mint(p1.url, { userId: ADELE }), mint(p1.url, { userId: ALEX }), mint(p1.url, {})]);

    // Adele: a session (PT5M, the minimum: it outlives this test) and a message expiring while the server runs.
    await ok(p1.url, `/v1.0/users/${ADELE}/presence/setPresence`, app, { sessionId: APP, availability: 'Available', activity: 'Available', expirationDuration: 'PT5M' });
    const t0 = Date.now();
    const soon = t0 + 1_500;
    const later = t0 + 3_500;
    await ok(p1.url, '/v1.0/me/presence/setStatusMessage', adele, { statusMessage: { message: { content: 'gone while running' }, expiryDateTime: { dateTime: utcWall(soon), timeZone: 'UTC' } } });
    // Alex: a message expiring while the server is down.
    await ok(p1.url, '/v1.0/me/presence/setStatusMessage', alex, { statusMessage: { message: { content: 'gone while down' }, expiryDateTime: { dateTime: utcWall(later), timeZone: 'UTC' } } });
    const adele1 = await read(p1.url, ADELE, app);
    const alex1 = await read(p1.url, ALEX, app);
    assert.deepEqual([adele1.availability, adele1.activity, adele1.statusMessage?.message.content], ['Available', 'Available', 'gone while running']);
    assert.equal(alex1.statusMessage?.message.content, 'gone while down');
    assert.equal(peek(dir, ALEX).dueAt, later);

    // No request to the server from here on until the check: the scheduler alone must expire Adele's message.
    await sleep(soon + 500 - Date.now());
    const adeleRow = peek(dir, ADELE);
    assert.equal(adeleRow.view.statusMessage, null, 'the expiry was written by the scheduler, without a read');
    assert.equal(adeleRow.view.availability, 'Available');
    assert.ok(adeleRow.seq > adele1.sequenceNumber, `sequenceNumber ${adeleRow.seq} sorts after ${adele1.sequenceNumber}`);
    // One transition, made at the expiry instant (a real timer may run a few milliseconds late).
    const madeAt = parseSequence(adeleRow.seq) / 1000;
    assert.ok(madeAt >= soon && madeAt < soon + 400, `transition stamped ${madeAt - soon} ms after the expiry instant`);
    assert.ok(adeleRow.dueAt !== null && adeleRow.dueAt > Date.now() + 4 * MIN, 'next due: the session fading, minutes away');

    assert.ok(Date.now() < later - 250, 'the server must stop before Alex\'s expiry, else this test proves nothing (machine too slow?)');
    assert.equal(await stop(p1), 0, p1.stderr());
    const alexStopped = peek(dir, ALEX);
    assert.equal(alexStopped.view.statusMessage?.content, 'gone while down', 'not expired before the server stopped');
    assert.equal(alexStopped.seq, alex1.sequenceNumber);

    await sleep(later + 300 - Date.now());
    const p2 = await start(dir);
    // Before any request to the new process: the overdue expiry is already made and stored.
    const alexRow = peek(dir, ALEX);
    assert.equal(alexRow.view.statusMessage, null, 'made at start-up');
    assert.ok(alexRow.seq > alex1.sequenceNumber, `sequenceNumber ${alexRow.seq} sorts after ${alex1.sequenceNumber}`);
    assert.equal(alexRow.dueAt, null);

    // Reads show exactly what start-up stored: no second transition.
    const alex2 = await read(p2.url, ALEX, app);
    assert.equal(alex2.statusMessage, null);
    assert.equal(alex2.sequenceNumber, alexRow.seq);
    const adele2 = await read(p2.url, ADELE, app);
    assert.deepEqual([adele2.availability, adele2.activity, adele2.statusMessage], ['Available', 'Available', null]);
    assert.equal(adele2.sequenceNumber, adeleRow.seq);
    assert.equal(await stop(p2), 0, p2.stderr());
  });

  it('sessions: a PT5M session that ended while the server was down ends at start-up (Offline/Offline, one transition); then the scheduler fades a new one with no read', async () => {
    const dir = newDir();
    const p1 = await start(dir);
    const app = await mint(p1.url, {});
    await ok(p1.url, `/v1.0/users/${ADELE}/presence/setPresence`, app, { sessionId: APP, availability: 'Busy', activity: 'InACall', expirationDuration: 'PT5M' });
    const before = await read(p1.url, ADELE, app);
    assert.deepEqual([before.availability, before.activity], ['Busy', 'InACall']);
    assert.equal(await stop(p1), 0, p1.stderr());

    // Restart on the same sqlite data, six minutes later.
    const restartAt = Date.now() + 6 * MIN;
    const s = await startInProcess({ store: 'sqlite', dataDir: dir, clock: 'manual' }, { manualStart: restartAt });
    inProcess.add(s);
    assert.equal(s.presently.scheduler.transitions, 1, 'start-up made the one overdue transition');
    const stored = await s.presently.store.getPresence(TENANT, ADELE); // the raw record: no catch-up on this path
    assert.ok(stored);
    assert.deepEqual([stored.view.availability, stored.view.activity], ['Offline', 'Offline']);
    assert.equal(stored.sequenceNumber, nextSequence(before.sequenceNumber, restartAt));
    assert.equal(stored.dueAt, null);
    assert.deepEqual(stored.facts.sessions, []);

    const token = await s.appToken();
    const get = async () => {
      const res = await s.inject({ method: 'GET', url: `/v1.0/users/${ADELE}/presence`, headers: { authorization: `Bearer ${token}` } });
      assert.equal(res.statusCode, 200, res.body);
      return res.json() as Presence;
    };
    const seen = await get();
    assert.deepEqual([seen.availability, seen.activity], ['Offline', 'Offline']);
    assert.equal(seen.sequenceNumber, stored.sequenceNumber);

    // While it runs: a new session; the clock moves past its fade; the scheduler makes the change before any read.
    const set = await s.inject({
      method: 'POST', url: `/v1.0/users/${ADELE}/presence/setPresence`,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      payload: JSON.stringify({ sessionId: APP, availability: 'Available', activity: 'Available', expirationDuration: 'PT1H' }),
    });
    assert.equal(set.statusCode, 200, set.body);
    const fresh = await get();
    const moved = await s.inject({ method: 'POST', url: '/_presently/clock', payload: { advance: 'PT5M' } });
    assert.equal(moved.statusCode, 200, moved.body);
    assert.equal(s.presently.scheduler.transitions, 2);
    const faded = await s.presently.store.getPresence(TENANT, ADELE);
    assert.deepEqual([faded?.view.availability, faded?.view.activity], ['Available', 'AvailableInactive']);
    assert.equal(faded?.sequenceNumber, nextSequence(fresh.sequenceNumber, restartAt + 5 * MIN));
    assert.equal(faded?.dueAt, restartAt + 10 * MIN, 'next: Away');
    assert.equal((await get()).sequenceNumber, faded?.sequenceNumber);

    await s.close();
    inProcess.delete(s);
  });
});
