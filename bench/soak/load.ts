/**
 * The soak's mixed load (bench/soak/main.ts): reads and writes of the bench users, open loop at a fixed rate (each
 * request is due at its instant whatever the others do, and its latency counts from that instant, so a server that
 * falls behind shows it instead of slowing the client down), or closed loop with `--rate 0` (`connections` requests
 * in flight, each sent when one is answered).
 *
 * Of every 20 requests: 11 `GET /users/{id}/presence` (a random user), 1 getPresencesByUserId of 100 users (a random
 * window), 4 setStatusMessage (a random user, a new message expiring 1–10 s later: timed expiries keep happening), 4
 * setPresence (the dev app's session, `expirationDuration` PT5M, the next of the five allowed pairs; the users
 * written move on by 10 every 10 s, so each user's session is left alone for minutes and expires 5 min after its last
 * write: session expiries begin 5 min into the run).
 */
import http from 'node:http';
import { DEV_APP } from '../scenarios.ts';

export const KINDS = ['get', 'getPresences', 'setStatusMessage', 'setPresence'] as const;
export type Kind = (typeof KINDS)[number];
const MIX: Kind[] = [...Array<Kind>(11).fill('get'), 'getPresences', ...Array<Kind>(4).fill('setStatusMessage'), ...Array<Kind>(4).fill('setPresence')];

const SESSION_PAIRS = [['Available', 'Available'], ['Busy', 'InACall'], ['Busy', 'InAConferenceCall'], ['Away', 'Away'], ['DoNotDisturb', 'Presenting']] as const;
/** setPresence writes these many users at a time, for this long, then the next ones. */
const SESSION_SLOT_USERS = 10;
const SESSION_SLOT_MS = 10_000;
const IDS_PER_READ = 100;
/** Open loop: requests due but not sent because this many are already waiting or in flight are counted as skipped. */
const MAX_PENDING = 5_000;
const TIMEOUT_MS = 10_000;

export interface LoadContext {
  url: string;
  adeleToken: string;
  appToken: string;
  users: string[];
}

/** What one interval of the load did. */
export interface LoadInterval {
  /** Latencies of the answered requests (2xx or not), ms, by kind. */
  latencies: Record<Kind, number[]>;
  answered: number;
  non2xx: number;
  errors: number;
  /** Open loop: due but not sent, because MAX_PENDING were waiting already. */
  skipped: number;
  statuses: Record<string, number>;
}

const emptyInterval = (): LoadInterval => ({
  latencies: { get: [], getPresences: [], setStatusMessage: [], setPresence: [] }, answered: 0, non2xx: 0, errors: 0, skipped: 0, statuses: {},
});

/** `YYYY-MM-DDThh:mm:ss.fff` in UTC: setStatusMessage's dateTime with timeZone UTC. */
export const utcDateTime = (ms: number) => new Date(ms).toISOString().slice(0, 23);

interface Built {
  method: 'GET' | 'POST';
  path: string;
  token: string;
  body?: string;
}

export class MixedLoad {
  private readonly agent: http.Agent;
  private readonly target: URL;
  private current = emptyInterval();
  private counts = { setPresence: 0, n: 0 };
  private pending = 0;
  private running = false;
  private t0 = 0;
  private done: Promise<void> = Promise.resolve();

  constructor(private readonly ctx: LoadContext, private readonly rate: number, private readonly connections: number) {
    this.agent = new http.Agent({ keepAlive: true, maxSockets: connections });
    this.target = new URL(ctx.url);
  }

  /** Starts sending; runs until stop(). */
  start(): void {
    this.running = true;
    this.t0 = performance.now();
    this.done = this.rate > 0 ? this.openLoop() : Promise.all(Array.from({ length: this.connections }, () => this.worker())).then(() => {});
  }

  /** Stops sending and waits (at most TIMEOUT_MS) for the requests in flight. */
  async stop(): Promise<void> {
    this.running = false;
    await this.done;
    const until = performance.now() + TIMEOUT_MS;
    while (this.pending > 0 && performance.now() < until) await new Promise((r) => setTimeout(r, 20));
    this.agent.destroy();
  }

  /** What happened since the previous take(). */
  take(): LoadInterval {
    const out = this.current;
    this.current = emptyInterval();
    return out;
  }

  private async openLoop(): Promise<void> {
    let sent = 0;
    while (this.running) {
      const due = Math.floor(((performance.now() - this.t0) * this.rate) / 1000);
      for (; sent < due; sent++) {
        if (this.pending >= MAX_PENDING) this.current.skipped++;
        else void this.send(this.t0 + (sent * 1000) / this.rate);
      }
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  private async worker(): Promise<void> {
    while (this.running) await this.send(performance.now());
  }

  /** Sends the next request of the mix; its latency counts from `dueAt`. */
  private send(dueAt: number): Promise<void> {
    const n = this.counts.n++;
    const kind = MIX[n % MIX.length]!;
    const req = this.build(kind, n);
    this.pending++;
    return new Promise<void>((resolve) => {
      const finish = (status: number | null) => {
        this.pending--;
        const iv = this.current;
        if (status === null) iv.errors++;
        else {
          iv.answered++;
          iv.latencies[kind].push(performance.now() - dueAt);
          iv.statuses[status] = (iv.statuses[status] ?? 0) + 1;
          if (status < 200 || status > 299) iv.non2xx++;
        }
        resolve();
      };
      const headers: Record<string, string> = { authorization: `Bearer ${req.token}` };
      if (req.body !== undefined) headers['content-type'] = 'application/json';
      const r = http.request({ host: this.target.hostname, port: this.target.port, method: req.method, path: req.path, headers, agent: this.agent, timeout: TIMEOUT_MS }, (res) => {
        res.on('data', () => {}).on('end', () => finish(res.statusCode ?? 0)).on('error', () => finish(null));
      });
      r.on('timeout', () => r.destroy(new Error('timeout'))).on('error', () => finish(null));
      r.end(req.body);
    });
  }

  private build(kind: Kind, n: number): Built {
    const { users, adeleToken, appToken } = this.ctx;
    const random = () => users[Math.floor(Math.random() * users.length)]!;
    switch (kind) {
      case 'get':
        return { method: 'GET', path: `/v1.0/users/${random()}/presence`, token: adeleToken };
      case 'getPresences': {
        const start = Math.floor(Math.random() * users.length);
        const ids = Array.from({ length: Math.min(IDS_PER_READ, users.length) }, (_, i) => users[(start + i) % users.length]!);
        return { method: 'POST', path: '/v1.0/communications/getPresencesByUserId', token: adeleToken, body: JSON.stringify({ ids }) };
      }
      case 'setStatusMessage': {
        const expiry = utcDateTime(Date.now() + 1000 + Math.random() * 9000);
        const statusMessage = { message: { content: `soak-${n}`, contentType: 'text' }, expiryDateTime: { dateTime: expiry, timeZone: 'UTC' } };
        return { method: 'POST', path: `/v1.0/users/${random()}/presence/setStatusMessage`, token: appToken, body: JSON.stringify({ statusMessage }) };
      }
      case 'setPresence': {
        const k = this.counts.setPresence++;
        const slot = Math.floor((performance.now() - this.t0) / SESSION_SLOT_MS);
        const user = users[(slot * SESSION_SLOT_USERS + (k % SESSION_SLOT_USERS)) % users.length]!;
        const [availability, activity] = SESSION_PAIRS[Math.floor(k / SESSION_SLOT_USERS) % SESSION_PAIRS.length]!;
        const body = JSON.stringify({ sessionId: DEV_APP, availability, activity, expirationDuration: 'PT5M' });
        return { method: 'POST', path: `/v1.0/users/${user}/presence/setPresence`, token: appToken, body };
      }
    }
  }
}
