/**
 * The outbox port on Redis: a stream per shard, appended by COMMIT (./presence.ts).
 *
 * readChanges merges the shards' oldest entries by stream id, whose first part is the Redis server time in
 * microseconds: on one Redis, scripts run one at a time, so that is commit order; on a cluster it is commit order as
 * far as the nodes' clocks agree (within one user, it is always exact). Event ids are `s<shard>:<stream id>`.
 * dispatchChanges groups its ids by shard and runs one script per shard that XDELs them and, only if it removed at
 * least one, enqueues the deliveries they produced — into the same shard (a delivery of a change goes to the shard of
 * its user, which is the shard of the event; deliveries with no user go with the first shard's group). So each group
 * is atomic on a cluster too: two dispatchers racing on the same events enqueue each event's deliveries once; a
 * failure part-way leaves the not-yet-dispatched groups' events in the outbox, to be read again.
 */
import type { ChangeEvent, NewDelivery } from '../../domain/subscription.ts';
import { decodeView } from '../codec.ts';
import type { OutboxPort } from '../ports/outbox.ts';
import { SHARDS, groupBy, type RedisContext } from './context.ts';
import { deliveryArgs } from './deliveries.ts';
import { DISPATCH } from './scripts.ts';

/** `s<shard>:<ms>-<seq>` → its parts, or null for an id this store cannot have handed out. */
function parseEventId(id: string): { shard: number; streamId: string } | null {
  const m = /^s(\d{1,3}):(\d{1,20}-\d{1,20})$/.exec(id);
  if (!m) return null;
  const shard = Number(m[1]);
  return shard < SHARDS ? { shard, streamId: m[2]! } : null;
}

/** A stream id `<ms>-<seq>` as the two numbers it orders by (both well within 2^53). */
interface StreamPosition { ms: number; seq: number }

function positionOf(streamId: string): StreamPosition {
  const dash = streamId.indexOf('-');
  return { ms: Number(streamId.slice(0, dash)), seq: Number(streamId.slice(dash + 1)) };
}

/** Orders stream positions numerically. */
function comparePositions(a: StreamPosition, b: StreamPosition): number {
  return a.ms - b.ms || a.seq - b.seq;
}

/** An event read, its stream id parsed once (a sort compares each entry many times). */
interface Entry extends StreamPosition { shard: number; streamId: string; fields: string[] }

function toEvent({ shard, streamId, fields }: Entry): ChangeEvent {
  const f: Record<string, string> = {};
  for (let i = 0; i < fields.length; i += 2) f[fields[i]!] = fields[i + 1]!;
  return { id: `s${shard}:${streamId}`, tenantId: f.t!, userId: f.u!, sequenceNumber: f.s!, view: decodeView(f.v!), at: Number(f.a) };
}

export class RedisOutbox implements OutboxPort {
  constructor(private readonly ctx: RedisContext) {}

  async readChanges(limit: number): Promise<ChangeEvent[]> {
    const { ctx } = this;
    const read: Entry[] = [];
    /** Per shard: the last stream id read, and whether the shard has nothing after it. */
    const cursor = ctx.shards.map(() => ({ last: '-', done: false }));
    // Read a fair share from every shard; read more from shards that may still hold events older than the ones
    // already read, until `limit` events are known to be the oldest.
    let per = Math.min(limit, Math.ceil((2 * limit) / SHARDS) + 4);
    for (;;) {
      const pending = ctx.shards.filter((k) => !cursor[k]!.done);
      const batches = await Promise.all(pending.map((k) => {
        const c = cursor[k]!;
        return ctx.client.xrange(`${ctx.shardBase(k)}:out`, c.last === '-' ? '-' : `(${c.last}`, '+', 'COUNT', per);
      }));
      for (const [i, batch] of batches.entries()) {
        const k = pending[i]!;
        for (const [streamId, fields] of batch) read.push({ shard: k, streamId, fields, ...positionOf(streamId) });
        if (batch.length > 0) cursor[k]!.last = batch[batch.length - 1]![0];
        if (batch.length < per) cursor[k]!.done = true;
      }
      read.sort((a, b) => comparePositions(a, b) || a.shard - b.shard);
      // Everything up to the smallest "last read" of the shards not exhausted is complete.
      const open = ctx.shards.filter((k) => !cursor[k]!.done);
      const bound = open.length === 0 ? null : open.map((k) => positionOf(cursor[k]!.last)).sort(comparePositions)[0]!;
      const safe = bound === null ? read : read.filter((e) => comparePositions(e, bound) <= 0);
      if (safe.length >= limit || bound === null) return safe.slice(0, limit).map(toEvent);
      per = Math.min(limit, per * 2);
    }
  }

  async dispatchChanges(eventIds: readonly string[], deliveries: readonly NewDelivery[]): Promise<boolean> {
    const parsed = eventIds.map(parseEventId).filter((e) => e !== null);
    if (parsed.length === 0) return false;
    // Serialise first: a delivery that cannot be stored fails the call before anything is written.
    const args = deliveries.map((d) => ({ d, args: deliveryArgs(d) }));
    const idsByShard = groupBy(parsed, (e) => e.shard);
    const first = parsed[0]!.shard;
    const deliveriesByShard = groupBy(args, ({ d }) => {
      const k = d.userId === null ? first : this.ctx.userShard(d.tenantId, d.userId);
      return idsByShard.has(k) ? k : first;
    });
    const results = await Promise.all([...idsByShard].map(([k, events]) => {
      const b = this.ctx.shardBase(k);
      const ds = deliveriesByShard.get(k) ?? [];
      return this.ctx.run(DISPATCH, [`${b}:out`, `${b}:dq`, `${b}:ctr`], [
        b, k, events.length, ...events.map((e) => e.streamId), ...ds.flatMap((x) => x.args),
      ]);
    }));
    return results.some((r) => r === 1);
  }
}
