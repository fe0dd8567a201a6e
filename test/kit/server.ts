/**
 * Test harnesses: an in-process Presently driven with fastify.inject (fast, no port; `listen()` gives it a real
 * socket when a test needs one), and a real `presently serve` process (for restarts, kill -9, TLS and the official
 * SDKs), which runs the compiled code of dist/ as the package does (./build.ts builds it when out of date).
 *
 * The store: what the test asks for (`store` override, `--store` flag — a suite of the backend matrix passes its
 * backend, ./backends.ts); otherwise memory in process and sqlite in the data folder for a process. On Redis each
 * server gets a key prefix of its own (./redis.ts says how long its keys live).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { DEFAULTS, type Config } from '../../src/config/config.ts';
import { buildPresently, type Presently } from '../../src/server.ts';
import { newDevSigningKey } from '../../src/auth/devIssuer.ts';
import { DEMO_TENANT_ID, DEV_APP_ID } from '../../src/directory/seed.ts';
import { builtBin } from './build.ts';
import { TEST_REDIS_URL, deleteRedisPrefix, newRedisPrefix, redisPrefixFor } from './redis.ts';

export const ADELE = 'fa8bf3dc-eca7-46b7-bad1-db199b62afc3';
export const ALEX = '66825e03-7ef5-42da-9069-724602c31f6b';
export const MEGAN = '48d31887-5fad-4d73-a9f5-3c356e68a038';
export const TENANT = DEMO_TENANT_ID;
export const APP = DEV_APP_ID;

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'presently-test-'));
}

export interface TestServer {
  presently: Presently;
  dataDir: string;
  /** The kind of store the server runs on (`presently.store` is the store itself). */
  storeKind: Config['store'];
  /** With the Redis store: the server's key prefix; else null. */
  redisPrefix: string | null;
  inject(opts: InjectOptions): Promise<LightMyRequestResponse>;
  /** Listens on a free port of 127.0.0.1 (the first call; later calls return the same) and resolves to its URL. */
  listen(): Promise<string>;
  /** A delegated token for a user of the demo tenant (default scopes: Presence.Read.All Presence.ReadWrite). */
  userToken(userId: string, scopes?: string[]): Promise<string>;
  /** An application token (default role: Presence.ReadWrite.All). */
  appToken(roles?: string[], appId?: string): Promise<string>;
  close(): Promise<void>;
}

/**
 * An in-process server. With the Redis store, the key prefix is `overrides.redisPrefix` if given (the test's own
 * keys), else the one bound to `overrides.dataDir` if given (restarts on the same data find it; deleted when the test
 * process ends), else a fresh one whose keys close() deletes.
 */
/** One dev signing key for every in-process server of this test process (generating one costs ~130 ms of CPU). */
let sharedSigningKey: Promise<string> | null = null;

export async function startInProcess(
  given: Partial<Omit<Config, 'store'>> & { store?: Config['store'] | 'journal' } = {},
  opts: { manualStart?: number; uiDir?: string; expressLanes?: boolean } = {},
): Promise<TestServer> {
  // The backend matrix's `journal` (./backends.ts) is SQLite with its presence records in the journal.
  const overrides: Partial<Config> = given.store === 'journal' ? { ...given, store: 'sqlite', presenceStore: 'journal' } : { ...given, store: given.store };
  const dataDir = overrides.dataDir ?? tempDir();
  const store = overrides.store ?? 'memory';
  const redisUrl = overrides.redisUrl ?? TEST_REDIS_URL;
  const redisPrefix = store !== 'redis' ? null
    : overrides.redisPrefix ?? (overrides.dataDir ? redisPrefixFor(overrides.dataDir) : newRedisPrefix());
  /** The keys close() deletes: those of a prefix made for this server alone. */
  const ownKeys = redisPrefix !== null && !overrides.redisPrefix && !overrides.dataDir ? redisPrefix : null;
  let presently: Presently;
  try {
    presently = await buildPresently({
      ...DEFAULTS, logLevel: 'silent', port: 0, ...overrides, store, dataDir, redisUrl, ...(redisPrefix ? { redisPrefix } : {}),
    }, { ...opts, devSigningKey: await (sharedSigningKey ??= newDevSigningKey()) });
  } catch (err) {
    if (ownKeys) await deleteRedisPrefix(ownKeys, redisUrl).catch(() => {});
    if (!overrides.dataDir) rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
  let listening: Promise<string> | null = null;
  const mint = async (body: object) => {
    const res = await presently.app.inject({ method: 'POST', url: '/_presently/tokens', payload: body });
    if (res.statusCode !== 200) throw new Error(`token: ${res.statusCode} ${res.body}`);
    return (res.json() as { access_token: string }).access_token;
  };
  return {
    presently,
    dataDir,
    storeKind: store,
    redisPrefix,
    inject: (o) => presently.app.inject(o),
    listen: () => listening ??= presently.listen(),
    userToken: (userId, scopes) => mint({ userId, ...(scopes ? { scopes } : {}) }),
    appToken: (roles, appId) => mint({ ...(roles ? { roles } : {}), ...(appId ? { appId } : {}) }),
    async close() {
      await presently.close();
      if (ownKeys) await deleteRedisPrefix(ownKeys, redisUrl);
      if (!overrides.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * One server for the describes of a suite that need no server of their own (each starting one cost a signing key
 * and a store): started by the first that asks, closed when the enclosing suite ends. Call it in the suite's body;
 * its tests keep apart by user, tenant or application, or read only.
 */
export function sharedServer(start: () => Promise<TestServer>): () => Promise<TestServer> {
  let server: Promise<TestServer> | null = null;
  after(async () => {
    if (server) await (await server).close();
  });
  return () => server ??= start();
}

export interface ServerProcess {
  url: string;
  child: ChildProcess;
  /** With the Redis store: the server's key prefix; else null. */
  redisPrefix: string | null;
  stdout: () => string;
  stderr: () => string;
  /** SIGTERM and wait for exit; resolves to the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL and wait for exit. */
  kill9(): Promise<void>;
}

/** The value of `flag` in `args` (`--flag value` or `--flag=value`), or undefined. */
function flagValue(args: string[], flag: string): string | undefined {
  for (let i = 0; i < args.length; i++) {
    if (args[i] === flag) return args[i + 1];
    if (args[i]!.startsWith(`${flag}=`)) return args[i]!.slice(flag.length + 1);
  }
  return undefined;
}

/**
 * What `args` need for their store: nothing unless they name `--store redis`; then `--redis-url` and
 * `--redis-prefix` (each unless given). The prefix is the one
 * bound to `--data` (a restart on the same folder finds its data; the keys are deleted when the test process ends),
 * or a fresh one, `temporary`, deleted once the process exits.
 */
function storeArgs(args: string[]): { extra: string[]; prefix: string | null; url: string; temporary: boolean } {
  const url = flagValue(args, '--redis-url') ?? TEST_REDIS_URL;
  if (flagValue(args, '--store') !== 'redis') return { extra: [], prefix: null, url, temporary: false };
  const extra: string[] = [];
  if (flagValue(args, '--redis-url') === undefined) extra.push('--redis-url', url);
  const own = flagValue(args, '--redis-prefix');
  if (own !== undefined) return { extra, prefix: own, url, temporary: false };
  const dataDir = flagValue(args, '--data');
  const prefix = dataDir !== undefined ? redisPrefixFor(dataDir) : newRedisPrefix();
  extra.push('--redis-prefix', prefix);
  return { extra, prefix, url, temporary: dataDir === undefined };
}

/** Starts `presently serve --port 0 …` and waits for its ready line (`--store journal`: ./backends.ts's `journal`). */
export function startProcess(given: string[], env: NodeJS.ProcessEnv = {}): Promise<ServerProcess> {
  const at = given.indexOf('--store');
  const args = at >= 0 && given[at + 1] === 'journal'
    ? [...given.slice(0, at), '--store', 'sqlite', '--presence-store', 'journal', ...given.slice(at + 2)] : given;
  const redis = storeArgs(args);
  const child = spawn(process.execPath, [builtBin(), 'serve', '--port', '0', ...redis.extra, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8');
  child.stderr!.setEncoding('utf8');
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => {
    if (!redis.temporary || !redis.prefix) return resolve(code);
    void deleteRedisPrefix(redis.prefix, redis.url).catch(() => {}).then(() => resolve(code));
  }));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server did not start in 20 s\nstdout: ${out}\nstderr: ${err}`));
    }, 20_000);
    child.stderr!.on('data', (d: string) => { err += d; });
    child.stdout!.on('data', (d: string) => {
      out += d;
      const m = /Presently listening on (\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({
          url: m[1]!,
          child,
          redisPrefix: redis.prefix,
          stdout: () => out,
          stderr: () => err,
          stop: async () => {
            child.kill('SIGTERM');
            return exited;
          },
          kill9: async () => {
            child.kill('SIGKILL');
            await exited;
          },
        });
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before it was ready\nstdout: ${out}\nstderr: ${err}`));
    });
  });
}
