/**
 * The soak's view of the notification backlog (bench/soak/main.ts): change events not yet dispatched (the outbox, the
 * `changes` table, docs/contributing/store.md) and deliveries not yet completed (the `deliveries` table), read through
 * a read-only connection of the bench's own to the server's database (WAL mode: reading never blocks its writes).
 *
 * Read about every READ_EVERY_MS, not only when a sample is taken, because one reading says little. Each probe write fans
 * out to every subscription at once (400 items in the 100,000-user soak) and those items are in the tables for the
 * 50–150 ms they take to be sent and completed; at 5 probe writes a second a reading at any instant finds either
 * nearly nothing or a whole fan-out, so one reading every 5 s flips between the two as the delivery time moves by a
 * few ms (a 4-minute soak was judged GROWING on medians of 11–36 → 255–427 items while its probes' latency held,
 * 2026-12-07). A queue that grows holds items at every instant: the interval's *lowest* reading rises with it, and a
 * fan-out that drains between writes leaves it at 0. The verdict judges the lowest (bench/soak/report.ts).
 */
import Database from 'better-sqlite3';
import { join } from 'node:path';

/**
 * How often the backlog is read between samples: every 125–375 ms at random, 250 on average. A fixed period would
 * stay in step with the probe writes' (200 ms at 5 a second) and could read each fan-out at the same point of it.
 */
const READ_EVERY_MS = 250;

export interface BacklogInterval {
  /** The lowest and the highest outbox + deliveries read since the last take(); null when no reading succeeded. */
  low: number | null;
  high: number | null;
  readings: number;
}

export class BacklogWatch {
  private readonly db: Database.Database | null;
  private readonly stmt: Database.Statement<[], { outbox: number; queue: number }> | null;
  private timer: NodeJS.Timeout | null = null;
  private current: BacklogInterval = { low: null, high: null, readings: 0 };

  constructor(dataDir: string) {
    try {
      this.db = new Database(join(dataDir, 'presently.db'), { readonly: true, fileMustExist: true });
      this.stmt = this.db.prepare('SELECT (SELECT count(*) FROM changes) AS outbox, (SELECT count(*) FROM deliveries) AS queue');
    } catch {
      this.db = null;
      this.stmt = null;
    }
  }

  /** The outbox and the deliveries now, or null when the database cannot be read. */
  read(): { outbox: number; queue: number } | null {
    try {
      return this.stmt?.get() ?? null;
    } catch {
      return null;
    }
  }

  /** Starts reading, about every READ_EVERY_MS. */
  start(): void {
    const next = () => {
      this.timer = setTimeout(() => {
        this.note();
        next();
      }, READ_EVERY_MS * (0.5 + Math.random()));
    };
    next();
  }

  private note(): void {
    const r = this.read();
    if (r === null) return;
    const n = r.outbox + r.queue;
    const c = this.current;
    c.low = c.low === null ? n : Math.min(c.low, n);
    c.high = c.high === null ? n : Math.max(c.high, n);
    c.readings++;
  }

  /** What was read since the last take(), and starts a new interval. */
  take(): BacklogInterval {
    const c = this.current;
    this.current = { low: null, high: null, readings: 0 };
    return c;
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.db?.close();
  }
}
