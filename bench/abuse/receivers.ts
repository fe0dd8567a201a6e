/**
 * Local listeners the abuse run points Presently at, all on 127.0.0.1 with a free port:
 * - a good webhook receiver (answers the validation handshake, counts every notification item),
 * - a dead one (answers the handshake, then never answers a notification),
 * - a slow one (answers each notification after a delay),
 * - a trap that only counts hits (the `jku`/`x5u` target of forged tokens: any hit is an outbound fetch).
 */
import http from 'node:http';
import type { KeyObject } from 'node:crypto';
import type { AddressInfo, Socket } from 'node:net';
import type { EncryptedContent } from '../../src/notifications/encryption.ts';
import { richChange } from '../../test/kit/rich.ts';

export type Behaviour = 'good' | 'dead' | 'slow' | 'trap';

export interface Receiver {
  url: string;
  /** Requests received (handshakes included). */
  hits: number;
  /** Notification items received, by `${subscriptionId}|${userId}|${sequenceNumber}` (the number from rich items only). */
  items: Map<string, number>;
  /** The private key that decrypts rich items, when the phase subscribes with resource data. */
  key?: KeyObject;
  /** Notification POSTs left unanswered (dead) so far. */
  held: number;
  close(): Promise<void>;
}

const MAX_BODY = 4 * 1024 * 1024;

export async function startReceiver(behaviour: Behaviour, slowMs = 2_000): Promise<Receiver> {
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const rec: Receiver = { url: '', hits: 0, items: new Map(), held: 0, close: async () => {} };
  const server = http.createServer((req, res) => {
    rec.hits++;
    if (behaviour === 'trap') return void res.writeHead(404).end();
    const token = new URL(req.url ?? '/', 'http://x').searchParams.get('validationToken');
    if (token !== null) return void res.writeHead(200, { 'content-type': 'text/plain' }).end(token);
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY) chunks.push(c);
    });
    req.on('end', () => {
      if (behaviour === 'dead') {
        rec.held++;
        return; // never answered: the connection stays open until the server under test gives up or we close
      }
      count(rec, Buffer.concat(chunks));
      if (behaviour === 'slow') {
        const t = setTimeout(() => {
          timers.delete(t);
          res.writeHead(202).end();
        }, slowMs);
        timers.add(t);
      } else {
        res.writeHead(202).end();
      }
    });
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  rec.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  rec.close = async () => {
    for (const t of timers) clearTimeout(t);
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return rec;
}

function count(rec: Receiver, body: Buffer): void {
  let parsed: { value?: Array<{ subscriptionId?: string; resourceData?: { id?: string }; encryptedContent?: EncryptedContent }> };
  try {
    parsed = JSON.parse(body.toString('utf8')) as typeof parsed;
  } catch {
    return;
  }
  for (const item of parsed.value ?? []) {
    // A basic item names the presence only; a rich one's decrypted presence has the change's sequenceNumber.
    const change = rec.key ? richChange(item, rec.key) : null;
    const key = `${item.subscriptionId}|${change?.userId ?? item.resourceData?.id}|${change?.seq}`;
    rec.items.set(key, (rec.items.get(key) ?? 0) + 1);
  }
}
