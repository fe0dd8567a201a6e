/**
 * The baseline for `npm run bench`: a bare `node:http` server that answers every request with one canned response.
 *
 * It runs in its own child process (forked by bench/run.ts with an IPC channel), so it never shares an event loop or
 * a core with autocannon. Before each scenario the bench sends it the response Presently gave to that scenario's
 * sample request (status, content-type, body), so both servers put the same bytes on the wire; the bare server does
 * no routing, no auth, no JSON and no storage — only reads the request body and writes the canned answer.
 *
 * Protocol (process.send): child → parent `{ type: 'ready', port }` once listening; parent → child
 * `{ type: 'respond', status, headers, body }` (body base64) → child answers `{ type: 'ok' }`. The child exits when
 * the IPC channel closes, so it never outlives the bench.
 */
import { createServer } from 'node:http';

interface Canned {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

interface RespondMessage {
  type: 'respond';
  status: number;
  headers: Record<string, string>;
  body: string;
}

// Fixed ids of the same length as the ones Presently stamps on every response.
const STATIC_HEADERS = {
  'request-id': '00000000-0000-4000-8000-000000000000',
  'client-request-id': '00000000-0000-4000-8000-000000000000',
};

function canned(status: number, headers: Record<string, string>, body: Buffer): Canned {
  return { status, headers: { ...STATIC_HEADERS, ...headers, 'content-length': String(body.length) }, body };
}

let current = canned(200, { 'content-type': 'application/json' }, Buffer.from('{}'));

const server = createServer((req, res) => {
  // Read (and drop) the request body, as any real server must, before answering.
  req.on('data', () => {});
  req.on('end', () => {
    res.writeHead(current.status, current.headers);
    res.end(current.body);
  });
});
server.keepAliveTimeout = 72_000;

process.on('message', (msg: RespondMessage) => {
  if (msg.type === 'respond') {
    current = canned(msg.status, msg.headers, Buffer.from(msg.body, 'base64'));
    process.send!({ type: 'ok' });
  }
});
process.on('disconnect', () => process.exit(0));

server.listen(0, '127.0.0.1', () => {
  const addr = server.address();
  if (addr === null || typeof addr === 'string') throw new Error('bare server: no port');
  process.send!({ type: 'ready', port: addr.port });
});
