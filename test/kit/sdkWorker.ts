/**
 * Drives a forked SDK worker (a `*.worker.ts` file): the official v3 Graph client must run in a process started with
 * NODE_EXTRA_CA_CERTS so it trusts Presently's self-signed certificate with real TLS checks (see
 * graph-client-v3.worker.ts). One message per SDK call; the worker answers `{ id, outcome }`.
 */
import assert from 'node:assert/strict';
import { fork, type ChildProcess } from 'node:child_process';
import type { ServerProcess } from './server.ts';
import { eventually } from './time.ts';

const ROOT = new URL('../../', import.meta.url).pathname;

export class WorkerHost<Call, Outcome> {
  private next = 1;
  private readonly pending = new Map<number, (o: Outcome) => void>();
  /** The worker's output, shown when it fails. */
  output = '';

  protected constructor(private readonly child: ChildProcess) {
    child.on('message', (msg: { id?: number; outcome?: Outcome }) => {
      if (msg.id === undefined || !msg.outcome) return;
      this.pending.get(msg.id)?.(msg.outcome);
      this.pending.delete(msg.id);
    });
    child.on('exit', (code) => {
      const outcome = { ok: false, error: { name: 'WorkerExited', isGraphError: false, message: `SDK worker exited with ${code}\n${this.output}` } };
      for (const settle of this.pending.values()) settle(outcome as Outcome);
      this.pending.clear();
    });
    for (const stream of [child.stdout!, child.stderr!]) {
      stream.setEncoding('utf8');
      stream.on('data', (d: string) => { this.output += d; });
    }
  }

  /**
   * Forks `workerPath` against the server at `url`, trusting `certPath`, and resolves once the worker's own health
   * check over verified TLS answered 200.
   */
  protected static async fork(workerPath: string, url: string, certPath: string): Promise<ChildProcess> {
    return fork(workerPath, [], {
      cwd: ROOT,
      execArgv: ['--import', 'tsx'],
      env: { ...process.env, PRESENTLY_URL: url, NODE_EXTRA_CA_CERTS: certPath },
      serialization: 'advanced',
      // Not 'inherit': under `node --test` this process's stdout carries the runner's protocol.
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
  }

  /** Resolves when the worker reports ready with a 200 health check. */
  protected ready(): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`SDK worker not ready in 15 s\n${this.output}`)), 15_000);
      this.child.on('message', (msg: { ready?: boolean; health?: number }) => {
        if (!msg.ready) return;
        clearTimeout(timer);
        if (msg.health === 200) resolve();
        else reject(new Error(`worker health check answered ${msg.health}`));
      });
      this.child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`SDK worker exited with ${code} before it was ready\n${this.output}`));
      });
    });
  }

  call(call: Call, timeoutMs = 15_000): Promise<Outcome> {
    const id = this.next++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`SDK call timed out: ${JSON.stringify(call)}\n${this.output}`));
      }, timeoutMs);
      this.pending.set(id, (o) => { clearTimeout(timer); resolve(o); });
      this.child.send({ id, call });
    });
  }

  close(): void {
    if (this.child.connected) this.child.disconnect();
  }
}

/**
 * The path of the self-signed certificate a `presently serve --https` process printed on stderr (the line goes to
 * stderr just before the ready line goes to stdout: the pipe may need a moment).
 */
export async function certificatePath(server: ServerProcess): Promise<string> {
  const found = await eventually(() => /TLS certificate: (\S+)/.exec(server.stderr()), (m) => m !== null, 1000,
    'the certificate path printed on stderr').catch(() => null);
  assert.ok(found, `no certificate path printed on stderr:\n${server.stderr()}`);
  return found[1]!;
}
