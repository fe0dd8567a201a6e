/**
 * `bin/presently.js` runs the compiled code in dist/, so the tests and the bench that start real processes run what
 * ships. `builtBin()` makes sure dist/ is not older than what it is built from (src/, package.json, the tsconfigs):
 * a clone's `npm install`/`npm ci` builds it through `prepare`, but a worktree sharing node_modules or an edit since
 * does not. When stale, it runs `npm run build` once (incremental tsc, a few seconds), under a lock so that
 * concurrent test processes build it once.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, utimesSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = new URL('../../', import.meta.url).pathname;
const STAMP = join(ROOT, 'dist', '.tsbuildinfo');
const LOCK = join(ROOT, '.scratch', 'build.lock');
const BUILD_TIMEOUT_MS = 180_000;

/** The newest modification time (ms) of the files dist/ is built from. */
function newestSource(): number {
  let newest = 0;
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else newest = Math.max(newest, statSync(path).mtimeMs);
    }
  };
  walk(join(ROOT, 'src'));
  for (const file of ['package.json', 'tsconfig.json', 'tsconfig.build.json']) newest = Math.max(newest, statSync(join(ROOT, file)).mtimeMs);
  return newest;
}

function fresh(): boolean {
  return existsSync(join(ROOT, 'dist', 'cli', 'main.js')) && existsSync(STAMP) && statSync(STAMP).mtimeMs >= newestSource();
}

function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Takes the build lock (waiting for another process's build, and clearing a lock left by a killed one). */
function lock(): void {
  mkdirSync(join(ROOT, '.scratch'), { recursive: true });
  const deadline = Date.now() + BUILD_TIMEOUT_MS;
  for (;;) {
    try {
      mkdirSync(LOCK);
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const held = statSync(LOCK, { throwIfNoEntry: false });
    if (held && Date.now() - held.mtimeMs > BUILD_TIMEOUT_MS) rmSync(LOCK, { recursive: true, force: true });
    if (Date.now() > deadline) throw new Error(`waited ${BUILD_TIMEOUT_MS / 1000} s for another process's build of dist/ (${LOCK})`);
    sleep(200);
  }
}

let checked = false;

/** The path of bin/presently.js, once dist/ is up to date (built now if needed). */
export function builtBin(): string {
  if (!checked && !fresh()) {
    lock();
    try {
      if (!fresh()) {
        const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
        const run = spawnSync(npm, ['run', '-s', 'build'], { cwd: ROOT, encoding: 'utf8', timeout: BUILD_TIMEOUT_MS });
        if (run.status !== 0) throw new Error(`dist/ is out of date and \`npm run build\` failed (exit ${run.status ?? run.signal}):\n${run.stdout}${run.stderr}`);
        // tsc leaves files whose output did not change alone: the stamp says this build saw every source.
        const now = new Date();
        utimesSync(STAMP, now, now);
      }
    } finally {
      rmSync(LOCK, { recursive: true, force: true });
    }
  }
  checked = true;
  return join(ROOT, 'bin', 'presently.js');
}
