/**
 * The webhook receiver of the tests: a local HTTP server on 127.0.0.1 that records every request and, by default,
 * behaves as a correct endpoint — the validation handshake echoed as text/plain, notifications accepted with 202.
 * `answer` decides how each notification POST is answered (a status, after a delay if it returns a promise, or
 * 'hang': held open until the sender gives up or the receiver closes); `respond` takes over every request (the
 * handshake tests). `waitFor` and `eventually` (./time.ts) wait for what arrives.
 */
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { eventually } from './time.ts';

export interface Received {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** When it arrived (Date.now()). */
  at: number;
  /** The status it was answered with, once answered (not for `respond`); undefined while held or if given up on. */
  status?: number;
  /** When it was answered (Date.now()). */
  answeredAt?: number;
  /** A held ('hang') request: when its connection closed (the sender gave up or died), Date.now(). */
  closedAt?: number;
}

/** A notification POST's body. */
export interface NotificationBody {
  value: Record<string, unknown>[];
  validationTokens?: string[];
}

/** How a notification POST is answered: a status code, or held open and never answered. */
export type Answer = number | 'hang';
export type Respond = (req: Received, res: ServerResponse) => void;

export interface ReceiverOptions {
  /** Appended to `url` (the origin by default), e.g. '/hooks'. */
  path?: string;
  /** A fixed port (a receiver that comes back where a sender had failed to reach). */
  port?: number;
  /** How the n-th notification POST (from 0) is answered; by default 202. */
  answer?: (n: number, req: Received) => Answer | Promise<Answer>;
  /** Answers the validation handshakes (default: `echo`, as a correct endpoint does). */
  handshake?: Respond;
  /** Answers every request itself, handshakes included (replaces the default behaviour and `answer`). */
  respond?: Respond;
}

export interface Receiver {
  /** The origin and `path`. */
  url: string;
  port: number;
  /** Every request, handshakes included, in order of arrival. */
  received: Received[];
  /** The notification POSTs (every request but the validation handshakes; none with `respond`), in order of arrival. */
  posts: Received[];
  /** How many POSTs were answered while the sender still listened. */
  answered: number;
  /** The parsed bodies of the notification POSTs. */
  bodies(): NotificationBody[];
  /** The items of every notification POST, in order of arrival; `accepted` keeps only those answered 2xx. */
  items(opts?: { accepted?: boolean }): Record<string, unknown>[];
  /** Waits until `cond()` holds, for at most `ms` of real time. */
  waitFor(cond: () => boolean, ms: number, what: string): Promise<void>;
  close(): Promise<void>;
}

/** The `validationToken` of a handshake request, decoded, or null for any other request. */
export const tokenOf = (req: Received) => new URL(req.url, 'http://receiver').searchParams.get('validationToken');

/** A correct endpoint: 200, text/plain, the decoded token for the handshake; 202 for notifications. */
export const echo: Respond = (req, res) => {
  const token = tokenOf(req);
  if (token === null) {
    res.writeHead(202).end();
    return;
  }
  res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end(token);
};

const ok = (r: Received) => r.status !== undefined && r.status >= 200 && r.status < 300;

export async function startReceiver(respondOrOptions: Respond | ReceiverOptions = {}): Promise<Receiver> {
  const opts: ReceiverOptions = typeof respondOrOptions === 'function' ? { respond: respondOrOptions } : respondOrOptions;
  const received: Received[] = [];
  const posts: Received[] = [];
  const held = new Set<ServerResponse>();
  let answered = 0;
  const notify = async (r: Received, res: ServerResponse) => {
    const n = posts.length;
    posts.push(r);
    const answer = opts.answer ? await opts.answer(n, r) : 202;
    if (answer === 'hang') {
      held.add(res);
      res.on('close', () => {
        r.closedAt = Date.now();
        held.delete(res);
      });
      return;
    }
    if (res.destroyed) return;
    r.status = answer;
    r.answeredAt = Date.now();
    answered++;
    res.writeHead(answer).end();
  };
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => { body += d; });
    req.on('end', () => {
      const r: Received = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body, at: Date.now() };
      received.push(r);
      if (opts.respond) opts.respond(r, res);
      else if (tokenOf(r) !== null) (opts.handshake ?? echo)(r, res);
      else void notify(r, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const bodies = (list: Received[]) => list.map((p) => JSON.parse(p.body) as NotificationBody);
  return {
    url: `http://127.0.0.1:${port}${opts.path ?? ''}`,
    port,
    received,
    posts,
    get answered() {
      return answered;
    },
    bodies: () => bodies(posts),
    items: (o = {}) => bodies(o.accepted ? posts.filter(ok) : posts).flatMap((b) => b.value),
    waitFor: async (cond, ms, what) => {
      await eventually(() => cond(), Boolean, ms, `${what} (${posts.length} POSTs so far)`);
    },
    close: () => new Promise((resolve) => {
      for (const res of held) res.destroy();
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/** A port of 127.0.0.1 nothing listens on (yet): for a receiver or a server that is to appear there later. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
