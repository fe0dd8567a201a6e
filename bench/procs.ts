/**
 * Child processes of the bench — Presently and the bare baseline server — and what we read about them from /proc.
 *
 * Every child is tracked; whatever way the bench ends (normal end, error, Ctrl-C, SIGTERM) the `exit` hook SIGKILLs
 * the ones still alive and removes the temporary data directories.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { builtBin } from '../test/kit/build.ts';

const children = new Set<ChildProcess>();
const tempDirs = new Set<string>();
/** Asynchronous clean-ups (deleting a run's Redis keys) run after the children are killed, on a signal too. */
const asyncCleanups = new Set<() => Promise<void>>();
let installed = false;

function track(child: ChildProcess): void {
  children.add(child);
  child.once('exit', () => children.delete(child));
}

/** Children killed only after the asynchronous clean-ups (the bench's own redis-server, which they may need). */
const lateChildren = new Set<ChildProcess>();

/**
 * Tracks a child the bench spawned elsewhere (redis-benchmark, its own redis-server): killed whatever way the bench
 * ends; with `late`, only after the asynchronous clean-ups have run.
 */
export function trackChild(child: ChildProcess, late = false): void {
  if (!late) return track(child);
  lateChildren.add(child);
  child.once('exit', () => lateChildren.delete(child));
}

/**
 * Registers an asynchronous clean-up, run once by `runCleanups` (the bench's normal end) or on SIGINT/SIGTERM/SIGHUP
 * (after the children are killed, for at most 10 s). Returns a function that unregisters it.
 */
export function onCleanup(fn: () => Promise<void>): () => void {
  asyncCleanups.add(fn);
  return () => asyncCleanups.delete(fn);
}

function killChildren(which: Set<ChildProcess> = children): void {
  for (const child of which) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** Kills the children still alive, then runs the registered asynchronous clean-ups (each once). */
export async function runCleanups(): Promise<void> {
  killChildren();
  const fns = [...asyncCleanups];
  asyncCleanups.clear();
  await Promise.allSettled(fns.map((fn) => fn()));
  killChildren(lateChildren);
}

/** Installs the exit / signal hooks that kill every child and remove temp dirs. Idempotent. */
export function installCleanup(): void {
  if (installed) return;
  installed = true;
  process.on('exit', () => {
    killChildren();
    killChildren(lateChildren);
    for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      process.stderr.write(`\nbench: ${signal} — stopping ${children.size} child process(es)\n`);
      const code = signal === 'SIGINT' ? 130 : 143;
      const timer = setTimeout(() => process.exit(code), 10_000);
      void runCleanups().finally(() => {
        clearTimeout(timer);
        process.exit(code);
      });
    });
  }
}

export function tempDataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'presently-bench-'));
  tempDirs.add(dir);
  return dir;
}

export function removeTempDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  tempDirs.delete(dir);
}

/** The bytes of the files in `dir` and its folders (a data folder: the database, its WAL, the presence journal); null if unreadable. */
export function dirBytes(dir: string): number | null {
  try {
    return readdirSync(dir).reduce((sum, name) => {
      const st = statSync(join(dir, name));
      return st.isFile() ? sum + st.size : st.isDirectory() ? sum + (dirBytes(join(dir, name)) ?? 0) : sum;
    }, 0);
  } catch {
    return null;
  }
}

/** Resolves to the exit code, or the name of the signal that ended the process. */
function waitExit(child: ChildProcess): Promise<number | string | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode ?? child.signalCode);
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
}

// ---------------------------------------------------------------------------------------------------------------
// Presently

const STDERR_KEEP = 64 * 1024;

export interface PresentlyProcess {
  url: string;
  pid: number;
  /** Milliseconds from spawn() to the ready line on stdout. */
  startupMs: number;
  /** CPU milliseconds (user + system) the process had used by its ready line: less swayed by a busy machine. */
  startupCpuMs: number;
  stderr(): string;
  /** SIGTERM, wait for exit; resolves to the exit code (0 = clean stop) or the signal that killed it. */
  stop(): Promise<number | string | null>;
  /** SIGKILL, wait for exit. */
  kill9(): Promise<void>;
}

/**
 * Spawns `node [nodeArgs] bin/presently.js serve --port 0 …` (node itself is the child, so its pid is the server's).
 * `nodeArgs` are node's own options, e.g. `--cpu-prof`. `stdoutFile`: every byte of the server's stdout is appended
 * there too (where `--trace-gc` writes).
 */
export function startPresently(args: string[], timeoutMs = 20_000, nodeArgs: string[] = [], stdoutFile?: string): Promise<PresentlyProcess> {
  const t0 = performance.now();
  const child = spawn(process.execPath, [...nodeArgs, builtBin(), 'serve', '--port', '0', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env },
  });
  track(child);
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8');
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (d: string) => {
    err += d;
    if (err.length > STDERR_KEEP * 2) err = err.slice(-STDERR_KEEP);
  });
  const exited = waitExit(child);
  return new Promise((resolve, reject) => {
    let ready = false;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`Presently did not print its ready line in ${timeoutMs} ms\nstdout: ${out}\nstderr: ${err}`));
    }, timeoutMs);
    child.stdout!.on('data', (d: string) => {
      if (stdoutFile !== undefined) appendFileSync(stdoutFile, d);
      if (ready) return;
      out += d;
      const m = /Presently listening on (\S+)/.exec(out);
      if (!m) return;
      ready = true;
      const startupMs = performance.now() - t0;
      clearTimeout(timer);
      resolve({
        url: m[1]!,
        pid: child.pid!,
        startupMs,
        startupCpuMs: (readCpuSeconds(child.pid!) ?? NaN) * 1000,
        stderr: () => err,
        stop: async () => {
          child.kill('SIGTERM');
          const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
          const code = await exited;
          clearTimeout(kill);
          return code;
        },
        kill9: async () => {
          child.kill('SIGKILL');
          await exited;
        },
      });
    });
    void exited.then((code) => {
      clearTimeout(timer);
      if (!ready) reject(new Error(`Presently exited with ${code} before it was ready\nstdout: ${out}\nstderr: ${err}`));
    });
  });
}

// ---------------------------------------------------------------------------------------------------------------
// The bare baseline server

export interface CannedResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

export interface BareServer {
  url: string;
  pid: number;
  respond(res: CannedResponse): Promise<void>;
  stop(): Promise<void>;
}

const BARE = new URL('./bare-server.ts', import.meta.url).pathname;

export function startBare(): Promise<BareServer> {
  const child = fork(BARE, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  track(child);
  const exited = waitExit(child);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error('bare server did not start in 20 s'));
    }, 20_000);
    void exited.then((code) => reject(new Error(`bare server exited with ${code}`)));
    child.once('message', (msg: { type: string; port: number }) => {
      clearTimeout(timer);
      if (msg.type !== 'ready') return reject(new Error(`bare server: unexpected message ${JSON.stringify(msg)}`));
      resolve({
        url: `http://127.0.0.1:${msg.port}`,
        pid: child.pid!,
        respond: (res) =>
          new Promise<void>((ok, fail) => {
            const t = setTimeout(() => fail(new Error('bare server did not acknowledge')), 5_000);
            child.once('message', () => {
              clearTimeout(t);
              ok();
            });
            child.send({ type: 'respond', status: res.status, headers: res.headers, body: res.body.toString('base64') });
          }),
        stop: async () => {
          child.disconnect();
          const kill = setTimeout(() => child.kill('SIGKILL'), 5_000);
          await exited;
          clearTimeout(kill);
        },
      });
    });
  });
}

// ---------------------------------------------------------------------------------------------------------------
// /proc readers (Linux; elsewhere they return null)

export interface Memory {
  /** Resident set size now, MiB. */
  rssMb: number;
  /** Peak resident set size ("high water mark") since start, MiB. */
  peakMb: number;
}

export function readMemory(pid: number): Memory | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    return { rssMb: kb('VmRSS') / 1024, peakMb: kb('VmHWM') / 1024 };
  } catch {
    return null;
  }
}

const CLOCK_TICKS = 100; // USER_HZ; 100 on every mainstream Linux

/** CPU seconds (user + system) the process has used so far. */
export function readCpuSeconds(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces; fields after it are space-separated.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS; // utime, stime (fields 14, 15)
  } catch {
    return null;
  }
}

/**
 * ms the process's main thread (the event loop) has spent waiting in a run queue for a CPU so far
 * (/proc/<pid>/schedstat, field 2): time it was ready to run while other processes had the cores.
 */
export function readRunQueueWaitMs(pid: number): number | null {
  try {
    const n = Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[1]);
    return Number.isFinite(n) ? n / 1e6 : null;
  } catch {
    return null;
  }
}

/** CPU seconds (user + system) used so far by each thread of a process, by thread id, with the thread's name. */
export function readThreadCpu(pid: number): Map<string, { name: string; seconds: number }> | null {
  try {
    const out = new Map<string, { name: string; seconds: number }>();
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
        const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        out.set(tid, { name, seconds: (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS });
      } catch {
        // the thread ended
      }
    }
    return out;
  } catch {
    return null;
  }
}
