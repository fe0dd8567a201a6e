/**
 * `GET /_presently/clock` and `POST /_presently/clock` (`{"advance": "PT10M"}` or `{"now": "…Z"}`): read and move
 * the manual clock. Behind the admin guard (./guard.ts) like the rest of the admin API: moving the clock expires
 * tokens and subscriptions, and it never moves back.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Clock } from '../platform/clock/clock.ts';
import type { ManualClock } from '../platform/clock/manual.ts';
import { parseDuration } from '../domain/duration.ts';
import { formatUtc } from '../domain/timezones.ts';
import { readBody } from '../platform/json/body.ts';
import { InvalidInput } from '../platform/json/errors.ts';
import { readString } from '../platform/json/validate.ts';
import { GraphError } from '../http/errors.ts';
import { resource } from '../http/wire.ts';

export interface ClockRouteDeps {
  clock: Clock;
  /** Runs every timed transition due by the clock's new time (manual clock). */
  settle: () => Promise<void>;
}

/**
 * A manual clock shared by several nodes (redis): brings this node's copy up to date first, so a move made on
 * another node is seen here as soon as that node answered it. If the store does not answer, the copy stands.
 */
export async function syncedClock(clock: Clock): Promise<void> {
  if (clock.mode === 'manual') await (clock as ManualClock).sync().catch(() => {});
}

export function clockRoutes(app: FastifyInstance, deps: ClockRouteDeps): void {
  const { clock } = deps;
  resource(app, '/_presently/clock', {
    GET: async function readClock() {
      await syncedClock(clock);
      return clockJson(clock);
    },
    POST: async function moveClock(request: FastifyRequest) {
      if (clock.mode !== 'manual') {
        throw new GraphError(409, 'Conflict', 'The clock is the system clock; start Presently with --clock manual to move it.');
      }
      // The new time is computed from the clock's current time inside `update`: on a clock shared by several nodes,
      // that is the shared time, and the move is a compare-and-set, so concurrent moves on several nodes all count.
      await (clock as ManualClock).update(parseClockMove(request.body));
      await deps.settle();
      return clockJson(clock);
    },
  });
}

/** The body of a move: the new time as a function of the current one; only forward. */
export function parseClockMove(body: unknown): (current: number) => number {
  const obj = readBody(body, { allowed: ['advance', 'now'], whenAbsent: 'empty-object' });
  const advance = readString(obj, 'advance', '');
  const now = readString(obj, 'now', '');
  if ((advance == null) === (now == null)) {
    throw new InvalidInput("Give exactly one of 'advance' (an ISO-8601 duration such as PT10M) or 'now' (an ISO-8601 instant).");
  }
  if (advance != null) {
    const ms = parseDuration(advance, 'advance');
    if (ms < 0) throw new InvalidInput("Property 'advance' must not be negative: the clock only moves forward.", 'advance');
    return (current) => current + ms;
  }
  const t = Date.parse(now!);
  if (!/^\d{4}-\d{2}-\d{2}T.*(?:Z|[+-]\d{2}:\d{2})$/i.test(now!) || Number.isNaN(t)) {
    throw new InvalidInput(`Property 'now' must be an ISO-8601 instant such as 2026-11-28T08:00:00Z, not '${now!.slice(0, 64)}'.`, 'now');
  }
  return (current) => {
    if (t < current) {
      throw new InvalidInput(`Property 'now' is before the clock's current time ${new Date(current).toISOString()}: the clock only moves forward.`, 'now');
    }
    return t;
  };
}

function clockJson(clock: Clock) {
  return { mode: clock.mode, now: formatUtc(clock.now()) };
}
