/**
 * `presently exec [serve options] -- <command> [args…]`: the whole CI set-up for an app that calls Graph presence
 * (docs/operations/state.md#presently-exec). Starts a server on a free port (memory store by default), puts its URL and
 * ready-made dev tokens in the command's environment, runs the command, stops the server, and exits with the
 * command's exit code.
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import type { Command } from 'commander';
import type { Presently } from '../../server.ts';
import { DEMO, DEMO_TENANT_ID, DEV_APP_ID } from '../../directory/seed.ts';
import { addServeOptions, commandLineOptions } from '../flags.ts';
import { UsageError, toConfig } from '../options.ts';
import { startServer } from '../serve.ts';
import { EXIT } from './client.ts';

/** Adele Vance, the demo tenant's first user: whose delegated token PRESENTLY_USER_TOKEN is. */
const DEMO_USER_ID = DEMO.tenants[0]!.users[0]!.id;
/** Tokens for a CI run: a day, the longest a dev token lives. */
const TOKEN_SECONDS = 86_400;

/** What exec changes from serve's defaults, unless a flag or the environment says otherwise. */
const EXEC_DEFAULTS: NodeJS.ProcessEnv = { PRESENTLY_STORE: 'memory', PRESENTLY_PORT: '0', PRESENTLY_LOG_LEVEL: 'error' };

async function mint(presently: Presently, body: object): Promise<string> {
  const res = await presently.app.inject({ method: 'POST', url: '/_presently/tokens', payload: body });
  if (res.statusCode !== 200) throw new Error(`could not mint a dev token: ${res.statusCode} ${res.body}`);
  return (res.json() as { access_token: string }).access_token;
}

/** The variables the command gets (docs/operations/state.md#presently-exec). */
export async function execEnvironment(presently: Presently, url: string, authMode: string): Promise<Record<string, string>> {
  const env: Record<string, string> = {
    PRESENTLY_URL: url, PRESENTLY_GRAPH_URL: `${url}/v1.0`, PRESENTLY_TENANT_ID: DEMO_TENANT_ID, PRESENTLY_APP_ID: DEV_APP_ID,
    PRESENTLY_USER_ID: DEMO_USER_ID,
  };
  if (authMode !== 'dev') return env;
  env.PRESENTLY_APP_TOKEN = await mint(presently, { expiresIn: TOKEN_SECONDS });
  env.PRESENTLY_USER_TOKEN = await mint(presently, { userId: DEMO_USER_ID, expiresIn: TOKEN_SECONDS });
  return env;
}

/** Runs the command; resolves to its exit code (128 + n when killed by signal n, 127 when it cannot be started). */
function runChild(command: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(command[0]!, command.slice(1), { stdio: 'inherit', env });
    const forward = (signal: NodeJS.Signals) => () => child.kill(signal);
    const onInt = forward('SIGINT');
    const onTerm = forward('SIGTERM');
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onTerm);
    const done = (code: number) => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      resolve(code);
    };
    child.once('error', (err: NodeJS.ErrnoException) => {
      process.stderr.write(`presently exec: cannot run '${command[0]}': ${err.code === 'ENOENT' ? 'no such command' : err.message}\n`);
      done(127);
    });
    child.once('exit', (code, signal) => done(code ?? 128 + (signal ? constants.signals[signal] : 0)));
  });
}

export function registerExecCommand(program: Command): void {
  const exec = addServeOptions(program.command('exec')
    .description('start a server on a free port (memory store unless --store), run <command> with PRESENTLY_URL and dev tokens in its environment, stop the server, exit with the command\'s code')
    .argument('<command...>', 'the command and its arguments, after --: presently exec -- npm test')
    .usage('[serve options] -- <command> [args...]'), { store: 'memory', port: 0, logLevel: 'error' });
  exec.action(async (command: string[], _options: Record<string, unknown>, self: Command) => {
    let config;
    try {
      config = toConfig(commandLineOptions(self), { ...EXEC_DEFAULTS, ...process.env });
    } catch (err) {
      if (!(err instanceof UsageError)) throw err;
      process.stderr.write(`presently exec: ${err.message}\n`);
      process.exit(EXIT.usage);
    }
    let presently: Presently;
    let env: Record<string, string>;
    try {
      presently = await startServer(config);
      env = await execEnvironment(presently, await presently.listen(), config.auth);
    } catch (err) {
      process.stderr.write(`presently exec: could not start the server: ${(err as Error).message}\n`);
      process.exit(EXIT.failure);
    }
    const code = await runChild(command, { ...process.env, ...env });
    await presently.close().catch((err: Error) => process.stderr.write(`presently exec: error while stopping the server: ${err.message}\n`));
    process.exit(code);
  });
}
