/**
 * The package as it ships, for the tests of test/ship/: `npm pack` of the current build, and installs of it into
 * clean folders without the network.
 *
 * Installs run with `npm_config_offline=true`, from the npm cache that installed this clone, at the versions of
 * package-lock.json. better-sqlite3's install script runs as it does anywhere (prebuild-install, then node-gyp), but
 * finds its native module as a local prebuild: a tarball of the module this clone's install built for the same node
 * (`npm_config_better_sqlite3_local_prebuilds`), instead of downloading one (no network here) or compiling SQLite for
 * two minutes.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { builtBin } from './build.ts';

export const ROOT = new URL('../../', import.meta.url).pathname;
const INSTALL_TIMEOUT_MS = 240_000;

interface PackageJson {
  name: string;
  version: string;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  files: string[];
  bin: Record<string, string>;
  scripts: Record<string, string>;
  license: string;
}

export function packageJson(): PackageJson {
  return JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as PackageJson;
}

let work: string | null = null;

/** A folder of this test process, removed when the process exits. */
export function workDir(): string {
  if (!work) {
    work = mkdtempSync(join(tmpdir(), 'presently-ship-'));
    const dir = work;
    // Not node:test's after(): called from a hook, that would run when the hook ends.
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  return work;
}

/** A new empty folder inside workDir(). */
export function emptyDir(name: string): string {
  const dir = join(workDir(), name);
  mkdirSync(dir, { recursive: true });
  return dir;
}

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a shell command to its end; rejects when it exits non-zero (with its output). */
export function sh(command: string, cwd: string, env: NodeJS.ProcessEnv = {}, timeoutMs = INSTALL_TIMEOUT_MS): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', command], { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve({ code, stdout, stderr });
      else reject(new Error(`\`${command}\` in ${cwd} exited ${code}\nstdout: ${stdout}\nstderr: ${stderr}`));
    });
  });
}

let tarball: Promise<string> | null = null;

/**
 * `npm pack` of this clone, once per test process: the path of presently-<version>.tgz. dist/ is brought up to date
 * first (./build.ts), so pack's own `prepare` build is skipped (--ignore-scripts): it would compile the same files.
 */
export function packTarball(): Promise<string> {
  return tarball ??= (async () => {
    builtBin();
    const dest = emptyDir('pack');
    const { stdout } = await sh(`npm pack --ignore-scripts --silent --pack-destination ${JSON.stringify(dest)}`, ROOT);
    return join(dest, stdout.trim().split('\n').pop()!);
  })();
}

let prebuilds: string | null = null;

/** The environment of an offline install (see the top of this file). */
export function offlineInstallEnv(): NodeJS.ProcessEnv {
  if (!prebuilds) {
    prebuilds = emptyDir('prebuilds');
    const pkg = join(ROOT, 'node_modules', 'better-sqlite3');
    const { version } = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8')) as { version: string };
    const name = `better-sqlite3-v${version}-node-v${process.versions.modules}-${process.platform}-${process.arch}.tar.gz`;
    const tar = spawnSync('tar', ['-czf', join(prebuilds, name), '-C', pkg, 'build/Release/better_sqlite3.node'], { encoding: 'utf8' });
    if (tar.status !== 0) throw new Error(`could not pack better-sqlite3's native module from ${pkg} (npm install it first): ${tar.stderr}`);
  }
  return {
    npm_config_offline: 'true',
    npm_config_audit: 'false',
    npm_config_fund: 'false',
    npm_config_update_notifier: 'false',
    npm_config_better_sqlite3_local_prebuilds: prebuilds,
  };
}

/**
 * Writes a package.json that depends on the tarball and a package-lock.json that pins its dependencies at the
 * versions of this clone's lock (what CI tested), so `npm ci` installs it without asking the registry anything.
 */
export function writeConsumerProject(dir: string, tarballPath: string): void {
  const spec = `file:${tarballPath}`;
  const own = packageJson();
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> };
  const packages: Record<string, unknown> = {
    '': { dependencies: { [own.name]: spec } },
    [`node_modules/${own.name}`]: {
      version: own.version, resolved: spec, license: own.license, dependencies: own.dependencies, bin: own.bin,
    },
  };
  for (const [path, entry] of Object.entries(lock.packages)) {
    if (path.startsWith('node_modules/') && !entry.dev) packages[path] = entry;
  }
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify({ private: true, dependencies: { [own.name]: spec } }, null, 2)}\n`);
  writeFileSync(join(dir, 'package-lock.json'), `${JSON.stringify({ lockfileVersion: 3, requires: true, packages }, null, 2)}\n`);
}

export interface Started {
  url: string;
  child: ReturnType<typeof spawn>;
  stdout: () => string;
  stderr: () => string;
  /** Resolves to the exit code (or signal name) once the child has exited. */
  exited: Promise<number | string | null>;
}

/** Spawns `command args` and waits for the ready line `Presently listening on <url>`. */
export function startCommand(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<Started> {
  const child = spawn(command, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8').on('data', (d: string) => { err += d; });
  const exited = new Promise<number | string | null>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
  // Whatever a test left running: the child and everything under it (npx runs the server as a grandchild, whose
  // open stdout would keep this test process alive).
  after(() => {
    killTree(child.pid!, 'SIGKILL');
    child.stdout.destroy();
    child.stderr.destroy();
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} ${args.join(' ')} did not print its ready line in 60 s\nstdout: ${out}\nstderr: ${err}`));
    }, 60_000);
    child.stdout.on('data', (d: string) => {
      out += d;
      const m = /Presently listening on (\S+)/.exec(out);
      if (!m) return;
      clearTimeout(timer);
      resolve({ url: m[1]!, child, stdout: () => out, stderr: () => err, exited });
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${command} ${args.join(' ')} exited with ${code} before it was ready\nstdout: ${out}\nstderr: ${err}`));
    });
  });
}

/** The pids of `pid`'s descendants, nearest first (from /proc). */
/** Signals `pid`'s descendants (deepest last listed first) and then `pid`; a process already gone is skipped. */
export function killTree(pid: number, signal: NodeJS.Signals): void {
  for (const each of [...descendants(pid).reverse(), pid]) {
    try {
      process.kill(each, signal);
    } catch {
      // gone meanwhile
    }
  }
}

export function descendants(pid: number): number[] {
  const parents = new Map<number, number>();
  for (const entry of readdirSyncSafe('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // gone meanwhile
    }
  }
  const found: number[] = [];
  let level = [pid];
  while (level.length) {
    level = [...parents].filter(([, ppid]) => level.includes(ppid)).map(([child]) => child);
    found.push(...level);
  }
  return found;
}

function readdirSyncSafe(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
