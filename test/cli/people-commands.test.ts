/**
 * The commands for people (docs/operations/cli.md): status set/clear, presence get/watch, users list/add/remove,
 * run as a user runs them against a running server.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../kit/cli.ts';
import { startProcess, type ServerProcess } from '../kit/server.ts';
import { until } from '../kit/time.ts';
import { expiryAt, expiryIn, parseDuration } from '../../src/cli/commands/when.ts';

const BIN = new URL('../../bin/presently.js', import.meta.url).pathname;

describe('presently status / presence / users', { timeout: 90_000 }, () => {
  let server: ServerProcess;
  let env: NodeJS.ProcessEnv;
  before(async () => {
    server = await startProcess(['--store', 'memory']);
    env = { PRESENTLY_URL: server.url };
  });
  after(() => server?.stop());
  const cli = (...args: string[]) => runCli(args, { env });

  it('status set with --until and a Windows time zone, seen by presence get; status clear; users by UPN in any case or by id', async () => {
    const set = await cli('status', 'set', 'In a meeting', '--user', 'adelev@CONTOSO.example', '--until', '17:00', '--time-zone', 'Pacific Standard Time');
    assert.equal(set.code, 0, set.stderr);
    assert.match(set.stdout, /"In a meeting" until \d{4}-\d\d-\d\d 17:00:00 \(Pacific Standard Time\)/);
    const got = await cli('presence', 'get', 'fa8bf3dc-eca7-46b7-bad1-db199b62afc3', '--json');
    assert.equal(got.code, 0, got.stderr);
    const [presence] = JSON.parse(got.stdout) as Array<{ statusMessage: { message: { content: string } } }>;
    assert.equal(presence!.statusMessage.message.content, 'In a meeting');
    const table = await cli('presence', 'get', 'AdeleV@contoso.example', 'AlexW@contoso.example');
    assert.match(table.stdout, /^USER +AVAILABILITY +ACTIVITY +MESSAGE\nAdeleV@contoso\.example +PresenceUnknown +PresenceUnknown +In a meeting\nAlexW@contoso\.example +PresenceUnknown +PresenceUnknown\n$/);
    assert.equal((await cli('status', 'clear', '-u', 'AdeleV@contoso.example')).code, 0);
    assert.doesNotMatch((await cli('presence', 'get', 'AdeleV@contoso.example')).stdout, /In a meeting/);
  });

  it('users add, list and remove', async () => {
    const added = await cli('users', 'add', 'patti@contoso.example', '--name', 'Patti Fernandez');
    assert.equal(added.code, 0, added.stderr);
    assert.match(added.stdout, /^added patti@contoso\.example \([0-9a-f-]{36}\) in tenant 2b5f4ac6/);
    assert.match((await cli('users', 'list')).stdout, /patti@contoso\.example +[0-9a-f-]{36} +2b5f4ac6-\S+ +Patti Fernandez/);
    assert.equal((await cli('users', 'remove', 'PATTI@contoso.example')).code, 0);
    assert.doesNotMatch((await cli('users', 'list')).stdout, /patti/);
    const missing = await cli('users', 'remove', 'patti@contoso.example');
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no user 'patti@contoso\.example'/);
  });

  /** Runs `presence watch` with `args`, sets MeganB's status to `content`, and resolves to what watch printed. */
  async function watchChange(args: string[], content: string): Promise<{ out: string; err: string }> {
    const child = spawn(process.execPath, [BIN, 'presence', 'watch', 'MeganB@contoso.example', ...args], { env: { ...process.env, ...env, NO_COLOR: '1' } });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { err += d; });
    const exited = new Promise((resolve) => child.once('exit', (c) => { err += `exit ${c}`; resolve(c); }));
    try {
      await until(() => /MeganB@contoso\.example PresenceUnknown PresenceUnknown "/.test(out), 20_000, `the first line (stdout: ${out} stderr: ${err})`);
      assert.equal((await cli('status', 'set', content, '-u', 'MeganB@contoso.example', '--expires', '1h')).code, 0);
      await until(() => out.includes(`MeganB@contoso.example PresenceUnknown PresenceUnknown "${content}"`), 20_000, 'the change');
      assert.equal(out.trim().split('\n').length, 2, 'one line per change, none while nothing changes');
      return { out, err };
    } finally {
      child.kill('SIGINT');
      await exited;
    }
  }

  it('presence watch shows a change as it happens, from change notifications (not a terminal: one line per change)', async () => {
    // With --interval 60s it reads by itself only every 30 minutes: the line can only come from a notification.
    const { err } = await watchChange(['--interval', '60s'], 'Watching');
    assert.doesNotMatch(err, /no change notifications/);
    const subs = await fetch(`${server.url}/_presently/deliveries`).then((r) => r.json()) as { value: unknown[] };
    assert.ok(subs.value.length >= 1, 'a notification was POSTed to the watch');
  });

  it('presence watch --poll reads every --interval instead', async () => {
    await watchChange(['--poll', '--interval', '300ms'], 'Polled');
  });

  it('usage errors exit 2 (a missing --user, a bad duration, a bad zone); an unknown user exits 1', async () => {
    assert.equal((await cli('status', 'set', 'x')).code, 2);
    const badDuration = await cli('status', 'set', 'x', '-u', 'AdeleV@contoso.example', '--expires', 'soon');
    assert.equal(badDuration.code, 2);
    assert.match(badDuration.stderr, /--expires takes a duration such as 30m, 2h/);
    assert.equal((await cli('status', 'set', 'x', '-u', 'AdeleV@contoso.example', '--until', '17:00', '--time-zone', 'Mars/Olympus')).code, 2);
    assert.equal((await cli('presence', 'get', 'nobody@contoso.example')).code, 1);
  });
});

describe('durations and expiry times', () => {
  const NOW = Date.parse('2026-12-03T16:30:00Z'); // 08:30 in Pacific Standard Time

  it('parses 30m, 2h, 1h30m, 1d, 500ms and PT2H', () => {
    assert.deepEqual(['30m', '2h', '1h30m', '1d', '500ms', 'PT2H'].map(parseDuration), [1_800_000, 7_200_000, 5_400_000, 86_400_000, 500, 7_200_000]);
  });

  it('--until 17:00 is today\'s 17:00 in the zone when still ahead, else tomorrow\'s; --expires is now + duration in the zone', () => {
    assert.deepEqual(expiryAt('17:00', NOW, 'Pacific Standard Time'), { dateTime: '2026-12-03T17:00:00', timeZone: 'Pacific Standard Time' });
    assert.deepEqual(expiryAt('8:00', NOW, 'Pacific Standard Time'), { dateTime: '2026-12-04T08:00:00', timeZone: 'Pacific Standard Time' });
    assert.deepEqual(expiryIn(2 * 3_600_000, NOW), { dateTime: '2026-12-03T18:30:00', timeZone: 'UTC' });
    assert.deepEqual(expiryIn(2 * 3_600_000, NOW, 'Europe/Paris'), { dateTime: '2026-12-03T19:30:00', timeZone: 'Europe/Paris' });
  });
});
