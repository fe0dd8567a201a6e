/**
 * Runs the `presently` command as a user would (bin/presently.js in a child process) and collects what it printed
 * and its exit code. For commands that exit by themselves (errors, `export`, `exec`, one-shot commands); a server
 * that keeps running is ./server.ts's startProcess.
 */
import { spawn } from 'node:child_process';

const BIN = new URL('../../bin/presently.js', import.meta.url).pathname;

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  env?: NodeJS.ProcessEnv;
  /** Run as this user id (and group), e.g. 65534 (nobody) to check permissions while the tests run as root. */
  uid?: number;
  /** Written to the command's stdin, which is then closed. */
  input?: string;
  cwd?: string;
  timeoutMs?: number;
}

export function runCli(args: string[], opts: CliOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { ...process.env, NO_COLOR: '1', ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
      ...(opts.cwd ? { cwd: opts.cwd } : {}),
      ...(opts.uid !== undefined ? { uid: opts.uid, gid: opts.uid } : {}),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    child.stdin.end(opts.input ?? '');
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`presently ${args.join(' ')} did not exit in ${(opts.timeoutMs ?? 30_000) / 1000} s\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, opts.timeoutMs ?? 30_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
