/**
 * `bin/presently.js` runs the compiled code in dist/, so the tests and the bench that start real processes run what
 * ships. `builtBin()` makes sure dist/ is not older than what it is built from (src/, package.json, the tsconfigs,
 * and for the dashboard in dist/ui/ also ui/ and scripts/build-ui.mjs): a clone's `npm install`/`npm ci` builds it
 * through `prepare`, but a worktree sharing node_modules or an edit since does not. When stale, it runs `npm run
 * build` once (incremental tsc and esbuild, a few seconds), under a lock so that concurrent test processes build it
 * once. `builtUi()` does the same for the dashboard alone (an in-process server serves dist/ui/ too).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, utimesSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = new URL('../../', import.meta.url).pathname;
const STAMP = join(ROOT, 'dist', '.tsbuildinfo');
/** The dashboard's page, written last by scripts/build-ui.mjs. */
const UI_STAMP = join(ROOT, 'dist', 'ui', 'index.html');
const LOCK = join(ROOT, '.scratch', 'build.lock');
const BUILD_TIMEOUT_MS = 180_000;

/** The newest modification time (ms) of `files` and of every file under `dirs` (relative to the root). */
function newest(dirs: string[], files: string[]): number {
  let latest = 0;
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else latest = Math.max(latest, statSync(path).mtimeMs);
    }
  };
  for (const dir of dirs) walk(join(ROOT, dir));
  for (const file of files) latest = Math.max(latest, statSync(join(ROOT, file)).mtimeMs);
  return latest;
}

const newestSource = () => newest(['src'], ['package.json', 'tsconfig.json', 'tsconfig.build.json']);
const newestUiSource = () => newest(['ui'], ['package.json', 'scripts/build-ui.mjs']);

function uiFresh(): boolean {
  return existsSync(UI_STAMP) && existsSync(join(ROOT, 'dist', 'ui', 'assets', 'app.js')) && statSync(UI_STAMP).mtimeMs >= newestUiSource();
}

function fresh(): boolean {
  return existsSync(join(ROOT, 'dist', 'cli', 'main.js')) && existsSync(STAMP) && statSync(STAMP).mtimeMs >= newestSource() && uiFresh();
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

/**
 * Runs `command` under the build lock unless `isFresh()` (checked again once the lock is held), then `built()`
 * while the lock is still held.
 */
function buildUnlessFresh(isFresh: () => boolean, command: string[], what: string, built: () => void = () => {}): void {
  if (isFresh()) return;
  lock();
  try {
    if (isFresh()) return;
    const run = spawnSync(command[0]!, command.slice(1), { cwd: ROOT, encoding: 'utf8', timeout: BUILD_TIMEOUT_MS });
    if (run.status !== 0) throw new Error(`${what} is out of date and \`${command.join(' ')}\` failed (exit ${run.status ?? run.signal}):\n${run.stdout}${run.stderr}`);
    built();
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}

let checked = false;

/** The path of bin/presently.js, once dist/ is up to date (built now if needed). */
export function builtBin(): string {
  if (!checked) {
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    buildUnlessFresh(fresh, [npm, 'run', '-s', 'build'], 'dist/', () => {
      // tsc leaves files whose output did not change alone: the stamp says this build saw every source.
      const now = new Date();
      utimesSync(STAMP, now, now);
    });
  }
  checked = true;
  return join(ROOT, 'bin', 'presently.js');
}

let uiChecked = false;

/** The folder of the built dashboard (dist/ui/), once it is up to date with ui/ (built now if needed). */
export function builtUi(): string {
  if (!uiChecked) buildUnlessFresh(uiFresh, [process.execPath, join(ROOT, 'scripts', 'build-ui.mjs'), '--quiet'], 'dist/ui/');
  uiChecked = true;
  return join(ROOT, 'dist', 'ui');
}
