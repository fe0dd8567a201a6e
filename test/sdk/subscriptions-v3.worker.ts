/**
 * The @microsoft/microsoft-graph-client v3 side of subscriptions-v3.test.ts, run as a child process started with
 * `NODE_EXTRA_CA_CERTS=<Presently's dev certificate>` (see graph-client-v3.worker.ts for why: on Node 20 that is the
 * one supported way to make the SDK's global fetch trust it). The SDK runs as a user's app would: default
 * middleware chain, real certificate verification, nothing patched.
 *
 * Protocol (IPC, advanced serialization): the parent sends `{ id, call: SubscriptionCall }`; this script answers
 * `{ id, outcome: CallOutcome }`. It sends `{ ready: true, health }` once it has reached the server over verified
 * TLS, and exits when the parent disconnects.
 */
import { Client, GraphError, PageIterator, type PageCollection } from '@microsoft/microsoft-graph-client';

export interface SubscriptionCall {
  /** A delegated user (`userId`), or an application (`roles`). */
  auth: { userId: string } | { roles: string[] };
  /** As given to `client.api(path)`, e.g. `/subscriptions/{id}`. */
  path: string;
  /** `iterate`: GET the collection, then follow every `@odata.nextLink` with the SDK's PageIterator; the ids seen. */
  method: 'get' | 'post' | 'patch' | 'delete' | 'iterate';
  body?: unknown;
  /** `.version(v)`; without it the client's default (`beta`). */
  version?: string;
}

export interface CallError {
  name: string;
  isGraphError: boolean;
  statusCode?: number;
  code?: string | null;
  message: string;
  requestId?: string | null;
}

export type CallOutcome = { ok: true; value: unknown } | { ok: false; error: CallError };

const baseUrl = process.env.PRESENTLY_URL;
if (!baseUrl || !process.send) {
  process.stderr.write('subscriptions-v3.worker: run by subscriptions-v3.test.ts (needs PRESENTLY_URL and an IPC channel)\n');
  process.exit(2);
}
const host = new URL(baseUrl).hostname;

const tokens = new Map<string, string>();
async function token(auth: SubscriptionCall['auth']): Promise<string> {
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

async function run(call: SubscriptionCall): Promise<unknown> {
  const accessToken = await token(call.auth);
  const client = Client.init({
    authProvider: (done) => done(null, accessToken),
    baseUrl: `${baseUrl}/`,
    defaultVersion: 'beta',
    customHosts: new Set([host]),
  });
  let req = client.api(call.path);
  if (call.version) req = req.version(call.version);
  let value: unknown;
  switch (call.method) {
    case 'get': value = await req.get(); break;
    case 'post': value = await req.post(call.body); break;
    case 'patch': value = await req.patch(call.body); break;
    case 'delete': value = await req.delete(); break;
    case 'iterate': {
      const ids: string[] = [];
      const iterator = new PageIterator(client, (await req.get()) as PageCollection, (item: { id: string }) => {
        ids.push(item.id);
        return true;
      });
      await iterator.iterate();
      value = ids;
      break;
    }
  }
  if (value instanceof ReadableStream) return { streamText: await new Response(value).text() };
  return value;
}

function describeError(err: unknown): CallError {
  if (err instanceof GraphError) {
    return { name: err.constructor.name, isGraphError: true, statusCode: err.statusCode, code: err.code, message: err.message, requestId: err.requestId };
  }
  const e = err as Error;
  return { name: e?.constructor?.name ?? typeof err, isGraphError: false, message: String(e?.message ?? err) };
}

process.on('message', (msg: { id: number; call: SubscriptionCall }) => {
  void run(msg.call).then(
    (value): CallOutcome => ({ ok: true, value }),
    (err: unknown): CallOutcome => ({ ok: false, error: describeError(err) }),
  ).then((outcome) => process.send!({ id: msg.id, outcome }));
});
process.on('disconnect', () => process.exit(0));

const health = await fetch(`${baseUrl}/_presently/health`);
process.send({ ready: true, health: health.status });
