/**
 * Test harnesses: an in-process Presently driven with fastify.inject (fast, no port), and a real `presently serve`
 * process (for restarts, kill -9, TLS and the official SDKs).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { DEFAULTS, type Config } from '../../src/config/config.ts';
import { buildPresently, type Presently } from '../../src/server.ts';
import { DEMO_TENANT_ID, DEV_APP_ID } from '../../src/service/seed.ts';

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
  inject(opts: InjectOptions): Promise<LightMyRequestResponse>;
  /** A delegated token for a user of the demo tenant (default scopes: Presence.Read.All Presence.ReadWrite). */
  userToken(userId: string, scopes?: string[]): Promise<string>;
  /** An application token (default role: Presence.ReadWrite.All). */
  appToken(roles?: string[], appId?: string): Promise<string>;
  close(): Promise<void>;
}

export async function startInProcess(overrides: Partial<Config> = {}, opts: { manualStart?: number } = {}): Promise<TestServer> {
  const dataDir = overrides.dataDir ?? tempDir();
  const presently = await buildPresently({ ...DEFAULTS, store: 'memory', logLevel: 'silent', ...overrides, dataDir }, opts);
  const mint = async (body: object) => {
    const res = await presently.app.inject({ method: 'POST', url: '/_presently/tokens', payload: body });
    if (res.statusCode !== 200) throw new Error(`token: ${res.statusCode} ${res.body}`);
    return (res.json() as { access_token: string }).access_token;
  };
  return {
    presently,
    dataDir,
    inject: (o) => presently.app.inject(o),
    userToken: (userId, scopes) => mint({ userId, ...(scopes ? { scopes } : {}) }),
    appToken: (roles, appId) => mint({ ...(roles ? { roles } : {}), ...(appId ? { appId } : {}) }),
    async close() {
      await presently.close();
      if (!overrides.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface ServerProcess {
  url: string;
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** SIGTERM and wait for exit; resolves to the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL and wait for exit. */
  kill9(): Promise<void>;
}

const BIN = new URL('../../bin/presently.js', import.meta.url).pathname;

/** Starts `presently serve --port 0 …` and waits for its ready line. */
export function startProcess(args: string[], env: NodeJS.ProcessEnv = {}): Promise<ServerProcess> {
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8');
  child.stderr!.setEncoding('utf8');
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
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
