/**
 * A webhook receiver for tests: a local HTTP server that records every request and answers as `respond` says
 * (by default, as a correct endpoint: the validation handshake echoed, notifications accepted with 202).
 */
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received { method: string; url: string; headers: IncomingHttpHeaders; body: string }
export type Respond = (req: Received, res: ServerResponse) => void;
export interface Receiver { url: string; received: Received[]; close(): Promise<void> }

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

export async function startReceiver(respond: Respond = echo): Promise<Receiver> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => { body += d; });
    req.on('end', () => {
      const r = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body };
      received.push(r);
      respond(r, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
