/**
 * What the client commands (export, import, reset, status, presence, users) share: the server URL and admin key
 * options, one HTTP call with a clear message for every way it can fail, and the exit-code scheme
 * (docs/operations/cli.md#exit-codes): 0 ok, 1 a runtime failure, 2 a usage error.
 */
import http from 'node:http';
import https from 'node:https';
import { Option, type Command } from 'commander';

export const DEFAULT_URL = 'http://127.0.0.1:8080';
const TIMEOUT_MS = 30_000;

export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

/** A failure the command reports in one line and exits with (1 unless `code` says otherwise). */
export class CommandFailure extends Error {
  constructor(message: string, readonly code: number = EXIT.failure) {
    super(message);
    this.name = 'CommandFailure';
  }
}

export interface ClientOptions {
  url: string;
  adminKey?: string;
}

/** `--url` (PRESENTLY_URL) and `--admin-key` (PRESENTLY_ADMIN_KEY) on a client command. */
export function addClientOptions(command: Command): Command {
  return command
    .addOption(new Option('--url <serverUrl>', 'the Presently server').env('PRESENTLY_URL').default(DEFAULT_URL))
    .addOption(new Option('--admin-key <key>', 'key for the admin API outside dev auth mode').env('PRESENTLY_ADMIN_KEY'));
}

export interface Answer {
  status: number;
  text: string;
  json: unknown;
}

const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET', 'EADDRNOTAVAIL']);

function baseUrl(url: string): URL {
  let base: URL;
  try {
    base = new URL(url);
  } catch {
    throw new CommandFailure(`--url must be an http:// or https:// URL, not '${url}' (from --url or PRESENTLY_URL).`, EXIT.usage);
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:') {
    throw new CommandFailure(`--url must be an http:// or https:// URL, not '${url}' (from --url or PRESENTLY_URL).`, EXIT.usage);
  }
  return base;
}

/** One request; for https the (self-signed localhost) certificate is not verified. */
function send(url: URL, method: string, headers: Record<string, string>, payload: Buffer | null): Promise<Answer> {
  const options: https.RequestOptions = { method, headers: { accept: 'application/json', ...headers }, timeout: TIMEOUT_MS };
  return new Promise((resolve, reject) => {
    const onResponse = (res: http.IncomingMessage): void => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = text ? JSON.parse(text) : null;
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, text, json });
      });
      res.on('error', reject);
    };
    const req = url.protocol === 'https:' ? https.request(url, { ...options, rejectUnauthorized: false }, onResponse) : http.request(url, options, onResponse);
    req.on('timeout', () => req.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
    req.on('error', reject);
    req.end(payload ?? undefined);
  });
}

/**
 * Calls the server; resolves to a 2xx answer, else throws CommandFailure with the server's own error message, or
 * "not running at …" when nothing answers.
 */
export async function call(opts: ClientOptions, method: string, path: string, body?: unknown, token?: string): Promise<Answer> {
  const base = baseUrl(opts.url);
  const shown = opts.url.replace(/\/+$/, '');
  const url = new URL(`${base.pathname.replace(/\/+$/, '')}${path}`, base);
  const payload = body === undefined ? null : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
  const headers: Record<string, string> = {};
  if (payload) Object.assign(headers, { 'content-type': 'application/json', 'content-length': String(payload.length) });
  const bearer = token ?? opts.adminKey;
  if (bearer) headers.authorization = `Bearer ${bearer}`;
  let answer: Answer;
  try {
    answer = await send(url, method, headers, payload);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ETIMEDOUT') throw new CommandFailure(`Presently at ${shown} did not answer within ${TIMEOUT_MS / 1000} s.`);
    if (code !== undefined && UNREACHABLE.has(code)) throw new CommandFailure(`Presently is not running at ${shown} — start it with \`presently serve\`, or pass --url (PRESENTLY_URL).`);
    throw new CommandFailure(`Could not reach Presently at ${shown}: ${(err as Error).message}`);
  }
  if (answer.status >= 200 && answer.status < 300) return answer;
  const error = (answer.json as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  if (error && typeof error.message === 'string') throw new CommandFailure(`${typeof error.code === 'string' ? `${error.code}: ` : ''}${error.message}`);
  throw new CommandFailure(`Presently answered ${answer.status}${answer.text ? `: ${answer.text.slice(0, 500)}` : ''}`);
}

/** Runs a command's body: a CommandFailure becomes one line on stderr and its exit code. */
export async function run(name: string, body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (err) {
    if (!(err instanceof CommandFailure)) throw err;
    process.stderr.write(`presently ${name}: ${err.message}\n`);
    process.exitCode = err.code;
  }
}
