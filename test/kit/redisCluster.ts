/**
 * A throw-away Redis Cluster for tests: three masters (no replicas) started from the machine's `redis-server` on
 * free ports in a temporary folder, joined with `redis-cli --cluster create`, and stopped (folder removed) by
 * `stop()`. It persists nothing, so it costs a second or two to start and leaves nothing behind.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface RedisCluster {
  /** `redis://127.0.0.1:p1,127.0.0.1:p2,127.0.0.1:p3`, the form `--redis-url` takes for a cluster. */
  url: string;
  stop(): Promise<void>;
}

/** Why a cluster cannot be started here (no redis-server or redis-cli on the PATH), or null. */
export function clusterUnavailable(): string | null {
  for (const tool of ['redis-server', 'redis-cli']) {
    if (spawnSync(tool, ['--version']).status !== 0) return `${tool} is not installed`;
  }
  return null;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function cli(port: number, ...args: string[]): string {
  const r = spawnSync('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], { encoding: 'utf8', timeout: 20_000 });
  if (r.status !== 0) throw new Error(`redis-cli -p ${port} ${args.join(' ')} failed: ${r.stderr || r.stdout}`);
  return r.stdout;
}

async function untilAnswers(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (spawnSync('redis-cli', ['-h', '127.0.0.1', '-p', String(port), 'ping'], { encoding: 'utf8' }).stdout.trim() === 'PONG') return;
    await sleep(50);
  }
  throw new Error(`redis-server on port ${port} did not answer PING`);
}

export async function startRedisCluster(masters = 3): Promise<RedisCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'presently-cluster-'));
  const children: ChildProcess[] = [];
  const stop = async () => {
    await Promise.all(children.map((child) => new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    })));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const ports: number[] = [];
    for (let i = 0; i < masters; i++) ports.push(await freePort());
    for (const port of ports) {
      children.push(spawn('redis-server', [
        '--port', String(port), '--bind', '127.0.0.1', '--cluster-enabled', 'yes',
        '--cluster-config-file', join(dir, `nodes-${port}.conf`), '--dir', dir,
        '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--loglevel', 'warning',
      ], { stdio: 'ignore' }));
    }
    for (const port of ports) await untilAnswers(port);
    cli(ports[0]!, '--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes');
    for (let i = 0; ; i++) {
      if (ports.every((p) => cli(p, 'cluster', 'info').includes('cluster_state:ok'))) break;
      if (i > 200) throw new Error('the Redis Cluster did not reach cluster_state:ok');
      await sleep(50);
    }
    return { url: `redis://${ports.map((p) => `127.0.0.1:${p}`).join(',')}`, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
