/**
 * The Redis of the tests: PRESENTLY_TEST_REDIS_URL (default redis://127.0.0.1:6379). Every server started on it gets
 * a key prefix of its own, `presently-test-<pid>-<random>:`, whose keys are deleted afterwards. Which suites run on
 * Redis, and what happens when it cannot be reached, is ./backends.ts.
 *
 * Lifetime of a prefix: a server on a data directory the harness made keeps its keys until it closes; a server on
 * a data directory the test passed in (a test that restarts a server on the same data) gets the prefix bound to
 * that directory, so every restart finds its data, and those keys are deleted when the test process ends.
 */
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { resolve } from 'node:path';
import { Redis } from 'ioredis';
import { redact } from '../../src/store/redis/redisStore.ts';

export const TEST_REDIS_URL = process.env.PRESENTLY_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Every prefix of this process starts with this; the sweep at exit deletes everything under it. */
const RUN = `presently-test-${process.pid}-`;
const byDataDir = new Map<string, string>();
let sweepArmed = false;

/** A prefix no other server (of this or another test process) uses. */
export function newRedisPrefix(): string {
  armSweep();
  return `${RUN}${randomBytes(6).toString('hex')}:`;
}

/** The prefix of the data in `dataDir`: the same for every server started on that directory in this process. */
export function redisPrefixFor(dataDir: string): string {
  const key = resolve(dataDir);
  let prefix = byDataDir.get(key);
  if (!prefix) {
    prefix = newRedisPrefix();
    byDataDir.set(key, prefix);
  }
  return prefix;
}

/** Deletes every key starting with `prefix`: SCAN MATCH prefix* and UNLINK. */
export async function deleteRedisPrefix(prefix: string, url = TEST_REDIS_URL): Promise<void> {
  if (!/^[\w.:-]+$/.test(prefix)) throw new Error(`refusing to delete keys under '${prefix}'`);
  const redis = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

/** Once this process made a prefix: delete every key of the run when the process is about to exit. */
function armSweep(): void {
  if (sweepArmed) return;
  sweepArmed = true;
  process.once('beforeExit', () => {
    deleteRedisPrefix(RUN).catch((err: Error) => {
      process.stderr.write(`could not delete the test keys under ${RUN}* in ${redact(TEST_REDIS_URL)}: ${err.message}\n`);
    });
  });
}

/** Null when Redis answers PING, else why not. */
export async function redisUnreachable(url = TEST_REDIS_URL): Promise<string | null> {
  const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 2000 });
  let why: string | null = null;
  probe.on('error', (err: Error) => {
    why = err.message;
  });
  try {
    await probe.connect();
    await probe.ping();
    return null;
  } catch (err) {
    return why ?? (err as Error).message;
  } finally {
    probe.disconnect();
  }
}

/**
 * Redis's MONITOR on a plain socket: every command the server runs from now on, as the line Redis prints for it
 * (`<time> [<db> <client>] "cmd" "arg" …`). Not ioredis's monitor(): while other test processes keep the same Redis
 * busy, its parser can take a monitored line for a command's reply and throw "Command queue state error"
 * (redis/ioredis#1981), which failed a suite and left its process hanging until CI was killed.
 */
export async function monitorRedis(url = TEST_REDIS_URL): Promise<{ lines: string[]; close: () => void }> {
  const { hostname, port, username, password } = new URL(url);
  const socket = net.connect(Number(port || 6379), hostname || '127.0.0.1');
  const lines: string[] = [];
  // MONITOR's +OK, and AUTH's before it when the URL has a password; every +line after them is a command.
  let oksToCome = password ? 2 : 1;
  let buffered = '';
  await new Promise<void>((started, refused) => {
    socket.once('error', refused);
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      for (let end = buffered.indexOf('\r\n'); end >= 0; end = buffered.indexOf('\r\n')) {
        const line = buffered.slice(0, end);
        buffered = buffered.slice(end + 2);
        if (line.startsWith('-')) refused(new Error(`MONITOR refused: ${line.slice(1)}`));
        else if (oksToCome > 0) {
          if (--oksToCome === 0) started();
        } else lines.push(line.slice(1));
      }
    });
    const auth = password ? `AUTH ${username ? `${decodeURIComponent(username)} ` : ''}${decodeURIComponent(password)}\r\n` : '';
    socket.write(`${auth}MONITOR\r\n`);
  });
  return { lines, close: () => socket.destroy() };
}
