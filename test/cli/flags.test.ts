/**
 * The serve flags for people (docs/operations/cli.md): --help shows each flag's default, choices and environment
 * variable; a bad value from the environment names the variable; usage errors exit 2; --log-format pretty.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { prettyLine } from '../../src/platform/prettyLog.ts';
import { runCli } from '../kit/cli.ts';

describe('serve flags', { timeout: 60_000 }, () => {
  it('--help shows defaults, choices and environment variables', async () => {
    const help = (await runCli(['serve', '--help'])).stdout.replace(/\s+/g, ' ');
    assert.match(help, /--port <n> port to listen on; 0 picks a free one \(printed\) \(default: "8080", env: PRESENTLY_PORT\)/);
    assert.match(help, /--store <kind> .* \(choices: "sqlite", "memory", "redis", default: "sqlite", env: PRESENTLY_STORE\)/);
    assert.match(help, /--log-format <format> .* \(choices: "json", "pretty", default: "json", env: PRESENTLY_LOG_FORMAT\)/);
    const exec = (await runCli(['exec', '--help'])).stdout.replace(/\s+/g, ' ');
    assert.match(exec, /--store <kind> .* default: "memory"/, 'exec shows its own default store');
  });

  it('a bad value from an environment variable names the variable; a bad flag names the flag; both exit 2', async () => {
    const fromEnv = await runCli(['serve'], { env: { PRESENTLY_PORT: 'abc' } });
    assert.equal(fromEnv.code, 2);
    assert.match(fromEnv.stderr, /PRESENTLY_PORT \(environment\) must be a whole number from 0 to 65535; got 'abc'/);
    const choice = await runCli(['serve'], { env: { PRESENTLY_STORE: 'disk' } });
    assert.equal(choice.code, 2);
    assert.match(choice.stderr, /value 'disk' from env 'PRESENTLY_STORE' is invalid\. Allowed choices are sqlite, memory, redis/);
    const flag = await runCli(['serve', '--port', 'abc']);
    assert.equal(flag.code, 2);
    assert.match(flag.stderr, /--port must be a whole number/);
    assert.equal((await runCli(['no-such-command'])).code, 2);
    assert.equal((await runCli(['--help'])).code, 0);
  });
});

describe('--log-format pretty', () => {
  it('turns a JSON log line into one readable line: time, level, message, fields', () => {
    const line = JSON.stringify({ level: 40, time: Date.parse('2026-12-03T16:50:01.123Z'), pid: 1, hostname: 'h', reqId: 'r-1', msg: 'webhook validation handshake failed', url: 'http://x/y', detail: 'timed out' });
    assert.equal(prettyLine(line, false), '16:50:01.123 WARN  webhook validation handshake failed reqId=r-1 url=http://x/y detail="timed out"');
    assert.equal(prettyLine('not json', false), 'not json');
  });
});
