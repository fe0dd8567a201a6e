/**
 * A realistic afternoon in the demo tenant, made through the APIs a user would call (admin API for users and tokens,
 * Graph for everything else), for the dashboard's screenshots (scripts/screenshots.ts): two dozen people with
 * presence sessions from two apps, status messages expiring in their own time zones, preferred presences, out of
 * office (one away now, one from Friday), work locations, a subscription delivering to the built-in sink and one
 * to a receiver that keeps failing; then the manual clock moves, so timelines show timed changes and the failing
 * deliveries their retries.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

const TENANT = '2b5f4ac6-0f43-4b31-8a3c-2d8b8e4f5c01';
const DEV_APP = '22553876-f5ab-4529-bffb-cfe50aa89f87';
/** A second app with presence sessions (a meeting-room system, say). */
const ROOM_APP = '6f1c2d3e-4a5b-4c6d-8e7f-9a0b1c2d3e4f';
export const ADELE = 'fa8bf3dc-eca7-46b7-bad1-db199b62afc3';
const ALEX = '66825e03-7ef5-42da-9069-724602c31f6b';
const MEGAN = '48d31887-5fad-4d73-a9f5-3c356e68a038';
const LEE = '5f7c2a10-3b9e-4d1a-8e2f-6a4b9c1d2e30';
const NESTOR = 'c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e5f';

const PEOPLE = [
  'Patti Fernandez', 'Isaiah Langer', 'Johanna Lorenz', 'Lidia Holloway', 'Lynne Robbins', 'Miriam Graham', 'Pradeep Gupta',
  'Grady Archie', 'Diego Siciliani', 'Irvin Sayers', 'Henrietta Mueller', 'Joni Sherman', 'Christie Cline', 'Allan Deyoung',
  'Emily Braun', 'Enrico Cattaneo', 'Debra Berger', 'Brian Johnson', 'Cameron White',
];

type Json = Record<string, unknown>;

export class DemoClient {
  private readonly tokens = new Map<string, string>();

  constructor(readonly url: string) {}

  async call(method: string, path: string, body?: unknown, token?: string): Promise<Json> {
    const headers: Record<string, string> = {};
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${this.url}${path}`, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text.slice(0, 300)}`);
    return text ? (JSON.parse(text) as Json) : {};
  }

  /** A dev token, minted once per kind. */
  async token(body: Json): Promise<string> {
    const key = JSON.stringify(body);
    let token = this.tokens.get(key);
    if (!token) {
      token = String((await this.call('POST', '/_presently/tokens', body)).access_token);
      this.tokens.set(key, token);
    }
    return token;
  }

  user = (userId: string, scopes?: string[]) => this.token({ userId, ...(scopes ? { scopes } : {}) });
  app = (appId: string) => this.token({ appId, roles: ['Presence.ReadWrite.All'] });

  session(userId: string, appId: string, availability: string, activity: string, expirationDuration = 'PT1H'): Promise<Json> {
    return this.app(appId).then((t) => this.call('POST', `/v1.0/users/${userId}/presence/setPresence`, { sessionId: appId, availability, activity, expirationDuration }, t));
  }

  status(userId: string, content: string, expiry?: { dateTime: string; timeZone: string }): Promise<Json> {
    const statusMessage = { message: { content, contentType: 'text' }, ...(expiry ? { expiryDateTime: expiry } : {}) };
    return this.user(userId).then((t) => this.call('POST', `/v1.0/users/${userId}/presence/setStatusMessage`, { statusMessage }, t));
  }

  preferred(userId: string, availability: string, activity: string, expirationDuration?: string): Promise<Json> {
    return this.user(userId).then((t) => this.call('POST', `/v1.0/users/${userId}/presence/setUserPreferredPresence`, { availability, activity, ...(expirationDuration ? { expirationDuration } : {}) }, t));
  }

  location(userId: string, workLocationType: string): Promise<Json> {
    return this.user(userId).then((t) => this.call('POST', `/v1.0/users/${userId}/presence/setManualLocation`, { workLocationType }, t));
  }

  outOfOffice(userId: string, message: string, start: string, end: string): Promise<Json> {
    const zone = 'GMT Standard Time';
    return this.user(userId, ['MailboxSettings.ReadWrite', 'Presence.Read']).then((t) => this.call('PATCH', `/v1.0/users/${userId}/mailboxSettings`, {
      automaticRepliesSetting: {
        status: 'scheduled', internalReplyMessage: message,
        scheduledStartDateTime: { dateTime: start, timeZone: zone }, scheduledEndDateTime: { dateTime: end, timeZone: zone },
      },
    }, t));
  }

  subscribe(creator: string, userId: string, notificationUrl: string, expires: string): Promise<Json> {
    return this.user(creator).then((t) => this.call('POST', '/v1.0/subscriptions', {
      changeType: 'updated', notificationUrl, resource: `/communications/presences/${userId}`, expirationDateTime: expires,
    }, t));
  }

  advance(duration: string): Promise<Json> {
    return this.call('POST', '/_presently/clock', { advance: duration });
  }
}

/** A webhook receiver that answers the handshake and then fails every notification with 503. */
export async function failingReceiver(): Promise<{ url: string; close: () => void }> {
  const server: Server = createServer((req, res) => {
    const token = new URL(req.url ?? '/', 'http://x').searchParams.get('validationToken');
    req.resume();
    if (token !== null) res.writeHead(200, { 'content-type': 'text/plain' }).end(token);
    else res.writeHead(503).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/presence`, close: () => server.close() };
}

async function addPeople(c: DemoClient): Promise<string[]> {
  const ids: string[] = [];
  for (const name of PEOPLE) {
    const upn = `${name.split(' ')[0]}${name.split(' ')[1]![0]}@contoso.example`;
    ids.push(String((await c.call('POST', `/_presently/tenants/${TENANT}/users`, { userPrincipalName: upn, displayName: name })).id));
  }
  return ids;
}

const STATES: Array<[string, string, string]> = [
  ['Available', 'Available', 'PT4H'], ['Busy', 'InACall', 'PT1H'], ['Busy', 'InAConferenceCall', 'PT1H'], ['Available', 'Available', 'PT4H'],
  ['DoNotDisturb', 'Presenting', 'PT30M'], ['Away', 'Away', 'PT1H'], ['Available', 'Available', 'PT4H'], ['Busy', 'InACall', 'PT4H'],
];

/** Sessions for most people (a few stay offline or unknown), two apps on some. */
async function sessions(c: DemoClient, people: string[]): Promise<void> {
  for (const [i, id] of people.entries()) {
    if (i % 7 === 6) continue;
    const [availability, activity, duration] = STATES[i % STATES.length]!;
    await c.session(id, DEV_APP, availability, activity, duration);
    if (i % 5 === 1) await c.session(id, ROOM_APP, 'Busy', 'InAConferenceCall', 'PT30M');
  }
}

/** The afternoon (the manual clock starts at 14:30 UTC on a Tuesday). */
export async function populate(c: DemoClient, failingUrl: string): Promise<void> {
  const people = await addPeople(c);
  await c.subscribe(MEGAN, ADELE, `${c.url}/_presently/sink/demo`, '2026-11-24T15:25:00Z');
  await c.subscribe(ALEX, LEE, failingUrl, '2026-11-24T15:20:00Z');
  await sessions(c, [ADELE, ALEX, MEGAN, LEE, NESTOR, ...people]);
  await c.status(ADELE, 'Reviewing the Q4 plan, back at 3', { dateTime: '2026-11-24T14:35:00', timeZone: 'GMT Standard Time' });
  await c.status(ALEX, 'At the Seattle office this week', { dateTime: '2026-11-27T17:00:00', timeZone: 'Pacific Standard Time' });
  await c.status(MEGAN, 'Presenting at the all-hands until 4', { dateTime: '2026-11-24T16:00:00', timeZone: 'GMT Standard Time' });
  await c.status(people[2]!, 'Heads down: ping me if it is urgent');
  await c.status(people[4]!, 'Interviewing candidates', { dateTime: '2026-11-24T17:30:00', timeZone: 'W. Europe Standard Time' });
  await c.status(people[9]!, 'Travelling to Tokyo', { dateTime: '2026-11-26T09:00:00', timeZone: 'Tokyo Standard Time' });
  await c.status(LEE, 'Customer call, Teams only');
  await c.preferred(MEGAN, 'DoNotDisturb', 'DoNotDisturb', 'PT4H');
  await c.preferred(people[5]!, 'BeRightBack', 'BeRightBack', 'PT1H');
  await c.outOfOffice(NESTOR, 'On leave until Monday: for anything urgent ask Megan', '2026-11-24T09:00:00', '2026-11-30T09:00:00');
  await c.outOfOffice(people[7]!, 'At the partner summit', '2026-11-27T09:00:00', '2026-11-28T18:00:00');
  for (const [i, id] of [ADELE, ALEX, MEGAN, LEE, ...people].entries()) if (i % 3 !== 2) await c.location(id, i % 2 ? 'remote' : 'office');
  // Time passes: Adele's message expires and unrefreshed Available sessions fade; the failing receiver is retried.
  await c.advance('PT6M');
  await c.session(ADELE, DEV_APP, 'Busy', 'InACall', 'PT1H');
  await c.status(ADELE, 'In the design review', { dateTime: '2026-11-24T16:00:00', timeZone: 'GMT Standard Time' });
  await c.advance('PT2M');
  await c.session(ALEX, DEV_APP, 'Available', 'Available', 'PT4H');
}
