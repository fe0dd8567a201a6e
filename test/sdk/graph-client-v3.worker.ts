/**
 * The @microsoft/microsoft-graph-client v3 side of graph-client-v3.test.ts, run as a child process.
 *
 * Why a child process: Graph client v3 only sends the token over https, and on Node 20 it calls the global `fetch`
 * (Node's bundled undici), which offers no supported way to trust one extra CA from inside a running process —
 * `undici` is not installed to build an Agent for `fetchOptions.dispatcher`, and `tls.setDefaultCACertificates` is
 * Node 22+. The one documented switch is `NODE_EXTRA_CA_CERTS`, read once at process start. So the test starts
 * Presently with `--https`, reads the certificate path it prints, and starts this script with
 * `NODE_EXTRA_CA_CERTS=<that path>`: the SDK then runs exactly as a user's app would — default middleware chain,
 * global fetch, real certificate verification (no NODE_TLS_REJECT_UNAUTHORIZED) — with nothing patched or replaced.
 *
 * Protocol (IPC, advanced serialization so Dates survive): the parent sends `{ id, call: SdkCall }`; this script
 * answers `{ id, outcome: SdkOutcome }`. It sends `{ ready: true }` once it has checked it can reach the server over
 * verified TLS, and exits when the parent disconnects.
 */
import { Client, GraphError } from '@microsoft/microsoft-graph-client';

/** Who calls: a delegated user (`userId`, optional `scopes`) or an application (`roles`, optional `appId`: default the dev app). */
export type SdkAuth = { userId: string; scopes?: string[] } | { roles: string[]; appId?: string };

export interface SdkCall {
  auth: SdkAuth;
  /** Path as given to `client.api(path)`, e.g. `/users/{id}/presence`. */
  path: string;
  method: 'get' | 'post';
  body?: unknown;
  /** `.version(v)`; without it the client's default (`beta`) applies. */
  version?: string;
  /** `.select(props)` */
  select?: string[];
  /**
   * Whether the Client is told about Presently's host with `customHosts` (default true). Without it the SDK treats
   * the host as "not Graph" and silently drops the Authorization header — the mistake a user would make.
   */
  customHosts?: boolean;
}

export interface SdkError {
  /** The constructor name of what the SDK threw. */
  name: string;
  isGraphError: boolean;
  statusCode?: number;
  code?: string | null;
  message: string;
  requestId?: string | null;
  date?: Date;
  /** The SDK's `body` (for a GraphError: the JSON of the `error` object). */
  body?: unknown;
  /** Response headers the SDK kept on the error (lower-case names). */
  headers?: Record<string, string>;
}

/** A successful call: the SDK's resolved value; a response stream (empty-bodied 200s) is read to `{ streamText }`. */
export type SdkOutcome = { ok: true; value: unknown } | { ok: false; error: SdkError };

const baseUrl = process.env.PRESENTLY_URL;
if (!baseUrl || !process.send) {
  process.stderr.write('graph-client-v3.worker: run by graph-client-v3.test.ts (needs PRESENTLY_URL and an IPC channel)\n');
  process.exit(2);
}
const host = new URL(baseUrl).hostname;

const tokens = new Map<string, string>();
async function token(auth: SdkAuth): Promise<string> {
  const key = JSON.stringify(auth);
  let t = tokens.get(key);
  if (!t) {
    const res = await fetch(`${baseUrl}/_presently/tokens`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: key,
    });
    if (res.status !== 200) throw new Error(`token: ${res.status} ${await res.text()}`);
    t = ((await res.json()) as { access_token: string }).access_token;
    tokens.set(key, t);
  }
  return t;
}

async function run(call: SdkCall): Promise<unknown> {
  const accessToken = await token(call.auth);
  const client = Client.init({
    authProvider: (done) => done(null, accessToken),
    baseUrl: `${baseUrl}/`,
    defaultVersion: 'beta',
    ...(call.customHosts === false ? {} : { customHosts: new Set([host]) }),
  });
  let req = client.api(call.path);
  if (call.version) req = req.version(call.version);
  if (call.select) req = req.select(call.select);
  const value: unknown = call.method === 'get' ? await req.get() : await req.post(call.body);
  if (value instanceof ReadableStream) return { streamText: await new Response(value).text() };
  return value;
}

function describeError(err: unknown): SdkError {
  if (err instanceof GraphError) {
    const headers: Record<string, string> = {};
    err.headers?.forEach((v, k) => { headers[k] = v; });
    return {
      name: err.constructor.name,
      isGraphError: true,
      statusCode: err.statusCode,
      code: err.code,
      message: err.message,
      requestId: err.requestId,
      date: err.date,
      body: err.body,
      headers,
    };
  }
  const e = err as Error;
  return { name: e?.constructor?.name ?? typeof err, isGraphError: false, message: String(e?.message ?? err) };
}

process.on('message', (msg: { id: number; call: SdkCall }) => {
  void run(msg.call).then(
    (value): SdkOutcome => ({ ok: true, value }),
    (err: unknown): SdkOutcome => ({ ok: false, error: describeError(err) }),
  ).then((outcome) => {
    try {
      process.send!({ id: msg.id, outcome });
    } catch (err) {
      const error: SdkError = { name: 'DataCloneError', isGraphError: false, message: `the SDK's result could not be sent back: ${String(err)}` };
      process.send!({ id: msg.id, outcome: { ok: false, error } });
    }
  });
});
process.on('disconnect', () => process.exit(0));

// Prove the trust is real before saying ready: a plain fetch over verified TLS to the server.
const health = await fetch(`${baseUrl}/_presently/health`);
process.send({ ready: true, health: health.status });
