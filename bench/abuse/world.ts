/**
 * Set-up shared by the abuse phases, all through Presently's own HTTP API: a server process on loopback (SQLite, dev
 * auth), users, tokens, subscriptions, and the server's memory read from /proc.
 */
import { randomUUID } from 'node:crypto';
import { readMemory, startPresently, tempDataDir, type PresentlyProcess } from '../procs.ts';
import { Client, mapLimit } from './client.ts';
import type { RichKeys } from '../../test/kit/rich.ts';

export const TENANT = '2b5f4ac6-0f43-4b31-8a3c-2d8b8e4f5c01';
export const DEV_APP = '22553876-f5ab-4529-bffb-cfe50aa89f87';
export const ALL_SCOPES = ['Presence.Read.All', 'Presence.ReadWrite', 'MailboxSettings.ReadWrite'];

export interface Server {
  proc: PresentlyProcess;
  client: Client;
  dataDir: string;
  /** Highest VmHWM seen of every process that served this data dir, MiB. */
  peakRssMb(): number;
  /** Starts a new process on the same data dir (after a kill -9). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Node options for every server the run starts, from ABUSE_NODE_ARGS (space-separated), e.g.
 * `ABUSE_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof"` to profile a phase.
 */
const NODE_ARGS = (process.env.ABUSE_NODE_ARGS ?? '').split(/\s+/).filter((a) => a !== '');

/** Starts `presently serve` on 127.0.0.1 with a fresh SQLite data dir. */
export async function startServer(extra: string[] = [], dataDir = tempDataDir()): Promise<Server> {
  // A watcher holds many subscriptions here: more than Graph's one per user and app, which this run does not exercise.
  const args = ['--host', '127.0.0.1', '--data', dataDir, '--store', 'sqlite', '--auth', 'dev', '--log-level', 'error',
    '--max-subscriptions-per-user', '100000', ...extra];
  let peak = 0;
  const sample = () => {
    const m = readMemory(server.proc.pid);
    if (m && Number.isFinite(m.peakMb)) peak = Math.max(peak, m.peakMb);
  };
  const server: Server = {
    proc: await startPresently(args, 30_000, NODE_ARGS),
    client: null as unknown as Client,
    dataDir,
    peakRssMb: () => {
      sample();
      return peak;
    },
    async restart() {
      sample();
      server.proc = await startPresently(args, 30_000, NODE_ARGS);
      server.client.close();
      server.client = new Client(server.proc.url);
    },
    async stop() {
      sample();
      server.client.close();
      // SIGTERM, then SIGKILL after 10 s (a frozen server ignores SIGTERM).
      await server.proc.stop();
    },
  };
  server.client = new Client(server.proc.url);
  // Peak RSS is read every second too, so a server that dies of memory still has its peak recorded.
  const timer = setInterval(sample, 1_000);
  timer.unref();
  return server;
}

export async function mint(c: Client, body: object): Promise<string> {
  const a = await c.must({ method: 'POST', path: '/_presently/tokens', body: { expiresIn: 86_400, ...body } });
  return (a.json as { access_token: string }).access_token;
}

/**
 * A delegated token of a new user of the demo tenant, for subscriptions (presence subscriptions take delegated
 * permissions only).
 */
export async function watcherToken(c: Client): Promise<string> {
  const [watcher] = await makeUsers(c, 1);
  return mint(c, { userId: watcher!, scopes: ALL_SCOPES });
}

/** `count` new users in `tenant`; returns their ids. */
export async function makeUsers(c: Client, count: number, tenant = TENANT, tag = randomUUID().slice(0, 8)): Promise<string[]> {
  return mapLimit(Array.from({ length: count }, (_, i) => i), 8, async (i) => {
    const a = await c.must({
      method: 'POST', path: `/_presently/tenants/${tenant}/users`,
      body: { userPrincipalName: `abuse${i}-${tag}@${tenant.slice(0, 8)}.example`, displayName: `Abuse ${i}` },
    }, 201);
    return (a.json as { id: string }).id;
  });
}

/** The server's clock now (the manual clock's time, or the system's). */
export async function serverNow(c: Client): Promise<number> {
  const a = await c.must({ method: 'GET', path: '/_presently/info' });
  return Date.parse((a.json as { clock: { now: string } }).clock.now);
}

/** The subscription resource watching `ids` (1 to 650). */
export function resourceFor(ids: string[]): string {
  return ids.length === 1 ? `/communications/presences/${ids[0]}` : `/communications/presences?$filter=id in (${ids.map((id) => `'${id}'`).join(',')})`;
}

/**
 * A subscription body; `rich` adds includeResourceData with the run's certificate, for a phase that must tell changes
 * apart (a basic item names the presence only; the decrypted presence carries its sequenceNumber).
 */
export function subscriptionBody(url: string, ids: string[], now: number, minutes = 55, rich?: RichKeys): object {
  return {
    changeType: 'updated', notificationUrl: url, resource: resourceFor(ids),
    expirationDateTime: new Date(now + minutes * 60_000).toISOString(), clientState: 'abuse',
    ...(rich ? rich.subscription : {}),
  };
}
