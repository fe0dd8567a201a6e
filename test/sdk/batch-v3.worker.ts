/**
 * The @microsoft/microsoft-graph-client v3 side of batch-v3.test.ts, run as a child process started with
 * `NODE_EXTRA_CA_CERTS=<Presently's dev certificate>` (graph-client-v3.worker.ts explains why a child process).
 *
 * It batches the way the SDK documents: `BatchRequestContent` built from `BatchRequestStep`s holding global
 * `Request` objects, `getContent()` posted to `/$batch` with `client.api('/$batch').post(…)`, and the answer read
 * with `BatchResponseContent`.
 *
 * Protocol (IPC): the parent sends `{ id, call: BatchCall | GetCall }`; this script answers `{ id, outcome }`. It sends
 * `{ ready: true, health }` once it has reached the server over verified TLS, and exits when the parent disconnects.
 */
import { BatchRequestContent, BatchResponseContent, Client, GraphError, type BatchRequestStep } from '@microsoft/microsoft-graph-client';

/** Who calls: a delegated user (`userId`, optional `scopes`) or an application (`roles`). */
export type SdkAuth = { userId: string; scopes?: string[] } | { roles: string[] };

export interface BatchStep {
  id: string;
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** Appended to the server's URL to make the `Request`'s absolute URL, e.g. `/users/{id}/presence`. */
  path: string;
  /** Sent as JSON with `Content-Type: application/json`. */
  body?: unknown;
  dependsOn?: string[];
}

export interface BatchCall {
  kind: 'batch';
  auth: SdkAuth;
  /** `.version(v)` of the `/$batch` call; without it the client's default (`beta`). */
  version?: string;
  steps: BatchStep[];
  /** `batch.addDependency(dependent, dependency)` calls made after the steps are added. */
  addDependency?: Array<[string, string]>;
}

/** A plain `client.api(path).get()`, to compare with what the batch answered. */
export interface GetCall {
  kind: 'get';
  auth: SdkAuth;
  path: string;
  version?: string;
}

export interface BatchItemSeen {
  id: string;
  status: number;
  /** The headers of the `Response` BatchResponseContent built (lower-case names). */
  headers: Record<string, string>;
  /** `response.json()` when the Content-Type is JSON, else `response.text()` ('' when there is no body). */
  body: unknown;
}

export interface BatchResult {
  /** What `BatchRequestContent.getContent()` produced and the SDK posted. */
  sent: { requests: Array<Record<string, unknown>> };
  /** `BatchResponseContent.getResponses()`, in its order. */
  responses: BatchItemSeen[];
}

export interface SdkError {
  name: string;
  isGraphError: boolean;
  statusCode?: number;
  code?: string | null;
  message: string;
}

export type SdkOutcome = { ok: true; value: unknown } | { ok: false; error: SdkError };

const baseUrl = process.env.PRESENTLY_URL;
if (!baseUrl || !process.send) {
  process.stderr.write('batch-v3.worker: run by batch-v3.test.ts (needs PRESENTLY_URL and an IPC channel)\n');
  process.exit(2);
}
const host = new URL(baseUrl).hostname;

const tokens = new Map<string, string>();
async function token(auth: SdkAuth): Promise<string> {
  const key = JSON.stringify(auth);
  let t = tokens.get(key);
  if (!t) {
    const res = await fetch(`${baseUrl}/_presently/tokens`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: key });
    if (res.status !== 200) throw new Error(`token: ${res.status} ${await res.text()}`);
    t = ((await res.json()) as { access_token: string }).access_token;
    tokens.set(key, t);
  }
  return t;
}

async function client(auth: SdkAuth): Promise<Client> {
  const accessToken = await token(auth);
  return Client.init({
    authProvider: (done) => done(null, accessToken),
    baseUrl: `${baseUrl}/`,
    defaultVersion: 'beta',
    customHosts: new Set([host]),
  });
}

async function runBatch(call: BatchCall): Promise<BatchResult> {
  const steps: BatchRequestStep[] = call.steps.map((s) => ({
    id: s.id,
    request: new Request(`${baseUrl}${s.path}`, {
      method: s.method,
      ...(s.body === undefined ? {} : { body: JSON.stringify(s.body), headers: { 'Content-Type': 'application/json' } }),
    }),
    ...(s.dependsOn ? { dependsOn: s.dependsOn } : {}),
  }));
  const batch = new BatchRequestContent(steps);
  for (const [dependent, dependency] of call.addDependency ?? []) batch.addDependency(dependent, dependency);
  const sent = (await batch.getContent()) as unknown as BatchResult['sent'];
  let req = (await client(call.auth)).api('/$batch');
  if (call.version) req = req.version(call.version);
  const answer = new BatchResponseContent(await req.post(sent));
  const responses: BatchItemSeen[] = [];
  for (const [id, response] of answer.getResponses()) {
    const headers: Record<string, string> = {};
    response.headers.forEach((v, k) => { headers[k] = v; });
    const json = (headers['content-type'] ?? '').split(';')[0] === 'application/json';
    responses.push({ id, status: response.status, headers, body: json ? await response.json() : await response.text() });
  }
  return { sent, responses };
}

async function runGet(call: GetCall): Promise<unknown> {
  let req = (await client(call.auth)).api(call.path);
  if (call.version) req = req.version(call.version);
  return req.get();
}

function describeError(err: unknown): SdkError {
  if (err instanceof GraphError) {
    return { name: err.constructor.name, isGraphError: true, statusCode: err.statusCode, code: err.code, message: err.message };
  }
  const e = err as Error;
  return { name: e?.constructor?.name ?? typeof err, isGraphError: false, message: String(e?.message ?? err) };
}

process.on('message', (msg: { id: number; call: BatchCall | GetCall }) => {
  const run = msg.call.kind === 'batch' ? runBatch(msg.call) : runGet(msg.call);
  void run.then(
    (value): SdkOutcome => ({ ok: true, value }),
    (err: unknown): SdkOutcome => ({ ok: false, error: describeError(err) }),
  ).then((outcome) => process.send!({ id: msg.id, outcome }));
});
process.on('disconnect', () => process.exit(0));

const health = await fetch(`${baseUrl}/_presently/health`);
process.send({ ready: true, health: health.status });
