/**
 * The HTTP client Presently uses to call webhook receivers: the validation handshake and notification POSTs
 * (lifecycle notifications included). node:http/https with keep-alive connection pooling; every call has a hard
 * timeout and never throws: the outcome says what happened, for the caller's retry logic and the deliveries log.
 *
 * Two guarantees against hostile receivers:
 * - At most MAX_BODY bytes of a response are read; past that the connection is dropped, so a receiver answering an
 *   endless body costs 64 KiB, not memory without bound.
 * - With a `guard` (the production URL policy), every connection checks the addresses it is about to connect to —
 *   each one the name resolves to, through `resolve` — and the address it did connect to. A name that resolved to a
 *   public address when the subscription was created and to loopback now (DNS rebinding) is refused before any
 *   byte is sent.
 */
import http from 'node:http';
import https from 'node:https';
import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP, type LookupFunction, type Socket } from 'node:net';

export interface WebhookOutcome {
  /** HTTP status, or 0 when no response arrived (connection refused, timeout, TLS failure…). */
  status: number;
  /** Milliseconds from the start of the request to the end of the response body (or to the failure). */
  durationMs: number;
  /** The response body as text (at most 64 KiB of it), '' when none. */
  body: string;
  contentType: string | null;
  /** Why no usable response arrived: 'timeout', or the network error's code or message. */
  error: string | null;
}

/** All addresses a host name resolves to (IPv4 and IPv6). Rejects when it does not resolve. */
export type Resolver = (hostname: string) => Promise<string[]>;

export const systemResolver: Resolver = async (hostname) => {
  const found = await dnsLookup(hostname, { all: true, verbatim: true });
  return found.map((a) => a.address);
};

/** True when the client must not connect to `address` for a request to `url`. */
export type AddressGuard = (url: URL, address: string) => boolean;

export interface WebhookClientOptions {
  /** Refuses addresses per connection; none: any address (development policy). */
  guard?: AddressGuard | null;
  /** Name resolution; defaults to the system resolver. Tests inject their own. */
  resolve?: Resolver;
}

export type PostJson = (url: string, body: unknown, timeoutMs: number) => Promise<WebhookOutcome>;
export type PostText = (url: string, text: string, timeoutMs: number) => Promise<WebhookOutcome>;

export interface WebhookClient {
  /** POSTs JSON (a notification batch). */
  postJson: PostJson;
  /** POSTs plain text (the validation handshake). */
  postText: PostText;
}

/** The most of a response body that is read. */
export const MAX_BODY = 64 * 1024;

/** The error a refused address fails with; its code is what the outcome reports. */
class BlockedAddress extends Error {
  readonly code = 'EADDRBLOCKED';
  constructor(address: string) {
    super(`refused to connect to ${address}: not a public address`);
  }
}

function failure(started: number, error: string): WebhookOutcome {
  return { status: 0, durationMs: performance.now() - started, body: '', contentType: null, error };
}

/** A `lookup` for net.connect that resolves with `resolve` and refuses the connection if any address is guarded. */
function guardedLookup(url: URL, resolve: Resolver, guard: AddressGuard | null): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname).then((found) => {
      const wanted = options.family === 4 || options.family === 6 ? found.filter((a) => isIP(a) === options.family) : found;
      if (wanted.length === 0) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
      const blocked = guard ? found.find((a) => guard(url, a)) : undefined;
      if (blocked !== undefined) throw new BlockedAddress(blocked);
      if (options.all) callback(null, wanted.map((address) => ({ address, family: isIP(address) })));
      else callback(null, wanted[0]!, isIP(wanted[0]!));
    }).catch((err: NodeJS.ErrnoException) => callback(err, '', 0));
  };
}

/** Reads at most MAX_BODY bytes of the response; destroys it (and its connection) when there is more. */
function readCapped(res: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    res.on('data', (chunk: Buffer) => {
      const room = MAX_BODY - size;
      chunks.push(chunk.length > room ? chunk.subarray(0, room) : chunk);
      size += Math.min(chunk.length, room);
      if (size >= MAX_BODY) {
        res.destroy();
        resolve(Buffer.concat(chunks).toString('utf8'));
      }
    });
    res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.on('error', reject);
    res.on('close', () => {
      if (res.complete || size >= MAX_BODY) resolve(Buffer.concat(chunks).toString('utf8'));
      else reject(Object.assign(new Error('the response was cut off'), { code: 'ECONNRESET' }));
    });
  });
}

/** What one client's requests share. */
interface ClientContext {
  guard: AddressGuard | null;
  resolve: Resolver;
  agents: Record<'http:' | 'https:', http.Agent>;
}

/** Checks a fresh connection's peer, the address actually connected to; a reused one was checked when it opened. */
function checkPeer(ctx: ClientContext, url: URL, socket: Socket, fail: (err: Error) => void): void {
  const check = () => {
    const address = socket.remoteAddress;
    if (ctx.guard && address !== undefined && ctx.guard(url, address)) fail(new BlockedAddress(address));
  };
  if (socket.connecting) socket.once('connect', check);
}

/** One POST with a hard timeout over the whole exchange. Never rejects. */
function send(ctx: ClientContext, raw: string, headers: Record<string, string>, payload: string, timeoutMs: number): Promise<WebhookOutcome> {
  return new Promise<WebhookOutcome>((done) => {
    const started = performance.now();
    const url = URL.canParse(raw) ? new URL(raw) : null;
    if (url === null) return done(failure(started, 'invalid URL'));
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return done(failure(started, `unsupported protocol ${url.protocol}`));
    const host = url.hostname.replace(/^\[|\]$/g, '');
    // An IP literal is connected to without a lookup: guard it here.
    if (ctx.guard && isIP(host) !== 0 && ctx.guard(url, host)) return done(failure(started, new BlockedAddress(host).code));
    const request = (url.protocol === 'https:' ? https : http).request({
      method: 'POST', protocol: url.protocol, hostname: host, port: url.port || undefined, path: `${url.pathname}${url.search}`,
      headers: { ...headers, 'content-length': String(Buffer.byteLength(payload)) },
      agent: ctx.agents[url.protocol], lookup: guardedLookup(url, ctx.resolve, ctx.guard),
    });
    let settled = false;
    const finish = (outcome: WebhookOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      done(outcome);
    };
    const timer = setTimeout(() => {
      finish(failure(started, 'timeout'));
      request.destroy();
    }, timeoutMs);
    request.on('socket', (socket) => checkPeer(ctx, url, socket, (err) => request.destroy(err)));
    request.on('error', (err: NodeJS.ErrnoException) => finish(failure(started, err.code ?? err.message)));
    request.on('response', (res) => {
      readCapped(res).then((body) => finish({
        status: res.statusCode ?? 0,
        durationMs: performance.now() - started,
        body,
        contentType: typeof res.headers['content-type'] === 'string' ? res.headers['content-type'] : null,
        error: null,
      }), (err: NodeJS.ErrnoException) => finish(failure(started, err.code ?? err.message)));
    });
    request.end(payload);
  });
}

/** Creates a client; each has its own connection pools. */
export function webhookClient(opts: WebhookClientOptions = {}): WebhookClient {
  const ctx: ClientContext = {
    guard: opts.guard ?? null,
    resolve: opts.resolve ?? systemResolver,
    agents: { 'http:': new http.Agent({ keepAlive: true }), 'https:': new https.Agent({ keepAlive: true }) },
  };
  return {
    postJson: (url, body, timeoutMs) => send(ctx, url, { 'content-type': 'application/json' }, JSON.stringify(body), timeoutMs),
    postText: (url, text, timeoutMs) => send(ctx, url, { 'content-type': 'text/plain; charset=utf-8' }, text, timeoutMs),
  };
}

/** The unguarded client (development policy, and callers that bring no policy). */
const open = webhookClient();

/** POSTs JSON (a notification batch). */
export const postJson: PostJson = (url, body, timeoutMs) => open.postJson(url, body, timeoutMs);

/** POSTs plain text (the validation handshake). */
export const postText: PostText = (url, text, timeoutMs) => open.postText(url, text, timeoutMs);
