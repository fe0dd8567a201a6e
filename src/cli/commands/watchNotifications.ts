/**
 * How `presently presence watch` learns of changes as they happen: a change-notification subscription per tenant
 * (Graph's presence subscriptions, delegated) whose notificationUrl is a small receiver this command runs on
 * 127.0.0.1. It answers the validation handshake, and calls `onChange` for every notification. Subscriptions are
 * renewed before they expire and deleted on stop. It needs the server to reach 127.0.0.1 of this machine and to
 * allow an http:// localhost webhook (the development webhook policy); when it cannot, `start` rejects and watch polls.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { systemClock } from '../../platform/clock/system.ts';
import { call } from './client.ts';
import { tokenFor, type FoundUser, type PeopleOptions } from './people.ts';

/** Graph's longest presence subscription is an hour; renewed well before. */
const LIFETIME_MS = 55 * 60_000;
const RENEW_MS = 40 * 60_000;
/** Users one subscription may watch. */
const PER_SUBSCRIPTION = 650;

export interface Notifications {
  stop(): Promise<void>;
}

function receiver(onChange: () => void): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const token = new URL(req.url ?? '/', 'http://x').searchParams.get('validationToken');
    req.resume();
    req.on('end', () => {
      if (token !== null) {
        res.writeHead(200, { 'content-type': 'text/plain' }).end(token);
        return;
      }
      res.writeHead(202).end();
      onChange();
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

export async function subscribeToChanges(opts: PeopleOptions, users: FoundUser[], onChange: () => void): Promise<Notifications> {
  const server = await receiver(onChange);
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  const made: Array<{ id: string; token: string }> = [];
  const stop = async () => {
    clearInterval(timer);
    await Promise.allSettled(made.map((s) => call(opts, 'DELETE', `/v1.0/subscriptions/${s.id}`, undefined, s.token)));
    await new Promise((resolve) => server.close(resolve));
  };
  const expiry = () => new Date(systemClock().now() + LIFETIME_MS).toISOString();
  const timer = setInterval(() => {
    for (const s of made) void call(opts, 'PATCH', `/v1.0/subscriptions/${s.id}`, { expirationDateTime: expiry() }, s.token).catch(() => {});
  }, RENEW_MS);
  try {
    for (const tenantId of new Set(users.map((u) => u.tenantId))) {
      const inTenant = users.filter((u) => u.tenantId === tenantId);
      // A delegated token: presence subscriptions are made by a signed-in user.
      const token = await tokenFor(opts, inTenant[0]);
      for (let i = 0; i < inTenant.length; i += PER_SUBSCRIPTION) {
        const ids = inTenant.slice(i, i + PER_SUBSCRIPTION).map((u) => `'${u.id}'`).join(',');
        const body = { changeType: 'updated', notificationUrl: url, resource: `/communications/presences?$filter=id in (${ids})`, expirationDateTime: expiry() };
        const answer = await call(opts, 'POST', '/v1.0/subscriptions', body, token);
        made.push({ id: (answer.json as { id: string }).id, token });
      }
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { stop };
}
