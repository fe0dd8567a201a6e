/**
 * `presently token`: asks a running Presently (dev auth) for a token through `POST /_presently/tokens` and prints
 * the bare token, so that `curl -H "Authorization: Bearer $(presently token --user AdeleV@contoso.example)"` works (in a clone,
 * `npm run -s presently -- token …`).
 */
import http from 'node:http';
import https from 'node:https';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { invocation } from './hints.ts';

export const DEFAULT_URL = 'http://127.0.0.1:8080';
const TIMEOUT_MS = 10_000;

export interface TokenCommandIo {
  stdout(text: string): void;
  stderr(text: string): void;
  /** Called with 1 on failure. */
  setExitCode(code: number): void;
}

const processIo: TokenCommandIo = {
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
  setExitCode: (code) => {
    process.exitCode = code;
  },
};

interface TokenOptions {
  user?: string;
  app?: string;
  tenant?: string;
  scopes?: string[];
  roles?: string[];
  expiresIn?: number;
  url: string;
  json?: boolean;
}

function parseList(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), ...value.split(/[\s,]+/).filter((s) => s !== '')];
}

function parseSeconds(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n)) throw new InvalidArgumentError('Expected a whole number of seconds.');
  return n;
}

export function registerTokenCommand(program: Command, io: TokenCommandIo = processIo): void {
  program
    .command('token')
    .description(
      'Get a dev token from a running Presently and print it. With --user: a delegated token for that user; ' +
        'without: an application token for --app.',
    )
    .option('--user <id|upn>', "the signed-in user: object id (GUID) or userPrincipalName (delegated token)")
    .option('--app <appId>', 'the calling application id (default: the dev app)')
    .option('--tenant <tid>', "tenant id (default: the user's tenant, or the demo tenant for an app token)")
    .option('--scopes <list>', 'delegated scopes, space- or comma-separated (default: "Presence.Read.All Presence.ReadWrite")', parseList)
    .option('--roles <list>', 'application roles, space- or comma-separated (default: Presence.ReadWrite.All)', parseList)
    .option('--expires-in <seconds>', 'lifetime in seconds, 60..86400 (default: 3600)', parseSeconds)
    .addOption(new Option('--url <serverUrl>', 'the Presently server').env('PRESENTLY_URL').default(DEFAULT_URL))
    .option('--json', 'print the whole JSON response instead of the bare token')
    .action(async (opts: TokenOptions) => {
      await runToken(opts, io);
    });
}

async function runToken(opts: TokenOptions, io: TokenCommandIo): Promise<void> {
  const fail = (message: string): void => {
    io.stderr(`${message}\n`);
    io.setExitCode(1);
  };

  let base: URL;
  try {
    base = new URL(opts.url);
  } catch {
    return fail(`--url must be an http:// or https:// URL, not '${opts.url}'.`);
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:') return fail(`--url must be an http:// or https:// URL, not '${opts.url}'.`);
  const shownUrl = opts.url.replace(/\/+$/, '');
  const endpoint = new URL(`${base.pathname.replace(/\/+$/, '')}/_presently/tokens`, base);

  const body: Record<string, unknown> = {};
  if (opts.user !== undefined) body.userId = opts.user;
  if (opts.app !== undefined) body.appId = opts.app;
  if (opts.tenant !== undefined) body.tenantId = opts.tenant;
  if (opts.scopes !== undefined) body.scopes = opts.scopes;
  if (opts.roles !== undefined) body.roles = opts.roles;
  if (opts.expiresIn !== undefined) body.expiresIn = opts.expiresIn;

  let res: { status: number; text: string };
  try {
    res = await postJson(endpoint, body);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ETIMEDOUT') return fail(`Presently at ${shownUrl} did not answer within ${TIMEOUT_MS / 1000} s.`);
    if (code !== undefined && UNREACHABLE.has(code)) {
      return fail(`Presently is not running at ${shownUrl} — start it with \`${invocation().serve}\`, or pass --url.`);
    }
    return fail(`Could not reach Presently at ${shownUrl}: ${(err as Error).message}`);
  }

  let parsed: unknown;
  try {
    parsed = JSON.parse(res.text);
  } catch {
    parsed = undefined;
  }
  if (res.status < 200 || res.status >= 300) {
    const error = (parsed as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
    if (error && typeof error.message === 'string') {
      return fail(`${typeof error.code === 'string' ? `${error.code}: ` : ''}${error.message}`);
    }
    return fail(`Presently answered ${res.status}${res.text ? `: ${res.text.slice(0, 500)}` : ''}`);
  }
  const token = (parsed as { access_token?: unknown } | undefined)?.access_token;
  if (typeof token !== 'string') return fail(`Presently answered without an access_token: ${res.text.slice(0, 500)}`);
  io.stdout(opts.json ? `${JSON.stringify(parsed, null, 2)}\n` : `${token}\n`);
}

const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET', 'EADDRNOTAVAIL']);

/** POSTs JSON; for https the (self-signed localhost) certificate is not verified. */
function postJson(url: URL, body: unknown): Promise<{ status: number; text: string }> {
  const payload = Buffer.from(JSON.stringify(body));
  const options: https.RequestOptions = {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', 'content-length': payload.length },
    timeout: TIMEOUT_MS,
  };
  return new Promise((resolve, reject) => {
    const onResponse = (res: http.IncomingMessage): void => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    };
    const req =
      url.protocol === 'https:'
        ? https.request(url, { ...options, rejectUnauthorized: false }, onResponse)
        : http.request(url, options, onResponse);
    req.on('timeout', () => req.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
    req.on('error', reject);
    req.end(payload);
  });
}
