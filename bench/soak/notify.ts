/**
 * The soak's notifications and timers (bench/soak/main.ts):
 *
 * - a receiver (node:http in the bench process) for the subscriptions' POSTs, counting every item;
 * - subscriptions spread over ENDPOINTS URLs of it, each watching a window of the load's users (so each user is
 *   watched by two of them) and all the probe users;
 * - probes: the bench writes a probe user (one no other request touches, no expiry) `probeRate` times a second, round
 *   robin; every subscription watches every probe user, so each probe write makes one item per subscription, and the
 *   k-th item of a subscription naming a probe user is that user's k-th successful write. Its latency (arrival − the
 *   write's answer) is the notification latency of the moment, behind whatever the load's own items queued;
 * - expiry probes: users given a status message expiring 2–5 s ahead, read 1.5 s after the expiry with
 *   getPresencesByUserId: the sequenceNumber of the expiry's transition is its instant in epoch µs
 *   (docs/api/timed-changes.md; `nextSequence` in src/domain/record.ts), so lateness = that instant − the expiry. A
 *   transition the scheduler had not made by the read is made by the read (stamped at the read: counted apart).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { call } from '../http.ts';
import { utcDateTime } from './load.ts';

const ENDPOINTS = 4;
const MAX_IDS = 650;

/** Per subscription and probe user: the arrival times not yet paired with a write, and how many were paired. */
interface Pairing {
  arrivals: number[];
  paired: number;
}

interface ProbeWrite {
  sentAt: number;
  ackedAt?: number;
  ok?: boolean;
}

export class Notifications {
  readonly probeUsers: Set<string>;
  private server: http.Server | null = null;
  private base = '';
  private items = 0;
  private readonly pairing = new Map<string, Pairing>();
  private readonly writes = new Map<string, ProbeWrite[]>();
  /** Probe latencies found since the previous take(), ms. */
  private latencies: number[] = [];
  private probeTimer: NodeJS.Timeout | null = null;
  probeWrites = { sent: 0, failed: 0 };

  constructor(probeUsers: string[]) {
    this.probeUsers = new Set(probeUsers);
    for (const u of probeUsers) this.writes.set(u, []);
  }

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => {
      const token = new URL(req.url ?? '/', 'http://x').searchParams.get('validationToken');
      if (token !== null) return void res.writeHead(200, { 'content-type': 'text/plain' }).end(token);
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c)).on('end', () => {
        const at = performance.now();
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { value: Array<{ subscriptionId: string; resourceData?: { id: string } }> };
        for (const item of body.value) {
          this.items++;
          const user = item.resourceData?.id;
          if (user === undefined || !this.probeUsers.has(user)) continue;
          const key = `${item.subscriptionId} ${user}`;
          const p = this.pairing.get(key) ?? { arrivals: [], paired: 0 };
          p.arrivals.push(at);
          this.pairing.set(key, p);
        }
        res.writeHead(202).end();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Items received so far, all subscriptions. */
  get received(): number {
    return this.items;
  }

  /**
   * Creates `count` subscriptions; subscription i watches `users` from i × users/count on (a window of
   * 2 × users/count, so each user has two watchers) and every probe user. Resolves to their ids.
   */
  async subscribe(url: string, token: string, users: string[], count: number): Promise<string[]> {
    const window = Math.min(MAX_IDS - this.probeUsers.size, Math.ceil((2 * users.length) / count), users.length);
    const expirationDateTime = new Date(Date.now() + 55 * 60_000).toISOString();
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      const start = Math.floor((i * users.length) / count);
      const watched = [...Array.from({ length: window }, (_, k) => users[(start + k) % users.length]!), ...this.probeUsers];
      const resource = `/communications/presences?$filter=id in (${watched.map((id) => `'${id}'`).join(',')})`;
      const res = await call(url, 'POST', '/v1.0/subscriptions', {
        token, expect: 201, body: { changeType: 'updated', notificationUrl: `${this.base}/hook/${i % ENDPOINTS}`, resource, expirationDateTime },
      });
      ids.push((res.json as { id: string }).id);
    }
    return ids;
  }

  /** Writes the probe users, `rate` a second in all, round robin, until stopProbes(). */
  startProbes(url: string, appToken: string, rate: number): void {
    const users = [...this.probeUsers];
    let n = 0;
    this.probeTimer = setInterval(() => {
      const user = users[n % users.length]!;
      const w: ProbeWrite = { sentAt: performance.now() };
      this.writes.get(user)!.push(w);
      this.probeWrites.sent++;
      const body = { statusMessage: { message: { content: `probe-${n++}`, contentType: 'text' } } };
      call(url, 'POST', `/v1.0/users/${user}/presence/setStatusMessage`, { token: appToken, body }).then(
        () => Object.assign(w, { ackedAt: performance.now(), ok: true }),
        () => {
          this.probeWrites.failed++;
          Object.assign(w, { ok: false });
        },
      );
    }, 1000 / rate);
  }

  stopProbes(): void {
    if (this.probeTimer) clearInterval(this.probeTimer);
  }

  /** Pairs the probe items that arrived with their writes; the latencies found since the last take(), ms. */
  take(): number[] {
    for (const [key, p] of this.pairing) {
      const writes = this.writes.get(key.slice(key.indexOf(' ') + 1))!;
      const ok = writes.filter((w) => w.ok !== false);
      while (p.arrivals.length > 0) {
        const w = ok[p.paired];
        if (!w || w.ok === undefined) break; // its write not answered yet (or an item beyond the writes)
        this.latencies.push(p.arrivals.shift()! - w.ackedAt!);
        p.paired++;
      }
    }
    const out = this.latencies;
    this.latencies = [];
    return out;
  }

  /** Probe items expected (successful probe writes × subscriptions) and paired so far, and unpaired arrivals. */
  probeItems(subscriptions: number): { expected: number; paired: number; extra: number } {
    const ok = [...this.writes.values()].reduce((s, ws) => s + ws.filter((w) => w.ok === true).length, 0);
    let paired = 0;
    let extra = 0;
    for (const p of this.pairing.values()) {
      paired += p.paired;
      extra += p.arrivals.length;
    }
    return { expected: ok * subscriptions, paired, extra };
  }

  close(): void {
    this.stopProbes();
    this.server?.closeAllConnections();
    this.server?.close();
  }
}

/** Expiry probe errors whose detail the report prints. */
const MAX_REASONS = 5;

/** Timed-expiry lateness, measured on users of its own (see the header). */
export class ExpiryProbes {
  private readonly expiries = new Map<string, number>();
  private lateness: number[] = [];
  private byRead = 0;
  private timer: NodeJS.Timeout | null = null;
  private busy = false;
  errors = 0;
  /** What the first errors were (at most MAX_REASONS), for the report. */
  readonly reasons: string[] = [];

  constructor(private readonly url: string, private readonly readToken: string, private readonly writeToken: string, private readonly users: string[]) {}

  async start(): Promise<void> {
    await Promise.all(this.users.map((u) => this.arm(u)));
    this.timer = setInterval(() => {
      if (this.busy) return;
      this.busy = true;
      this.check()
        .catch((err: Error) => this.error(`a probe's request failed: ${err.message}`))
        .finally(() => (this.busy = false));
    }, 500);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** Lateness of the expiries read since the previous take(), ms, and how many the read made itself. */
  take(): { lateness: number[]; byRead: number } {
    const out = { lateness: this.lateness, byRead: this.byRead };
    this.lateness = [];
    this.byRead = 0;
    return out;
  }

  private error(reason: string): void {
    this.errors++;
    if (this.reasons.length < MAX_REASONS) this.reasons.push(reason);
  }

  private async arm(user: string): Promise<void> {
    const expiry = Math.ceil(Date.now() + 2000 + Math.random() * 3000);
    const statusMessage = { message: { content: `expiry-${expiry}`, contentType: 'text' }, expiryDateTime: { dateTime: utcDateTime(expiry), timeZone: 'UTC' } };
    await call(this.url, 'POST', `/v1.0/users/${user}/presence/setStatusMessage`, { token: this.writeToken, body: { statusMessage } });
    this.expiries.set(user, expiry);
  }

  private async check(): Promise<void> {
    const readAt = Date.now();
    const due = [...this.expiries].filter(([, at]) => at <= readAt - 1500).map(([u]) => u);
    if (due.length === 0) return;
    const res = await call(this.url, 'POST', '/v1.0/communications/getPresencesByUserId', { token: this.readToken, body: { ids: due } });
    const value = (res.json as { value: Array<{ id: string; sequenceNumber: string; statusMessage: unknown }> }).value;
    for (const p of value) {
      const expiry = this.expiries.get(p.id)!;
      const transitionMs = Number(p.sequenceNumber.slice(1)) / 1000;
      if (p.statusMessage !== null || !Number.isFinite(transitionMs) || transitionMs < expiry) {
        const seen = `statusMessage ${JSON.stringify(p.statusMessage)}, sequenceNumber ${p.sequenceNumber}`;
        this.error(`${p.id}, due at ${utcDateTime(expiry)} and read at ${utcDateTime(readAt)}, had ${seen}`);
      } else if (transitionMs >= readAt) this.byRead++;
      else this.lateness.push(transitionMs - expiry);
    }
    await Promise.all(due.map((u) => this.arm(u)));
  }
}
