/**
 * The delivery queue port on Redis. Deliveries wait in a zset per shard scored by the instant they can next be
 * claimed. claimDeliveries reads the earliest candidates of every shard, then claims them with a script per shard that
 * re-checks each is still claimable and moves its score to the lease end: a lease is the score, so a delivery leased
 * by a node that died is claimable again when the lease ends — what XAUTOCLAIM's idle time does for a consumer group,
 * with "due later" (retries with back-off) for free, which a stream cannot express. Candidates taken by another node
 * meanwhile are skipped and replaced by reading again, so the result is the earliest `limit` that nobody else holds.
 */
import type { Delivery, NewDelivery } from '../../domain/subscription.ts';
import { decodeDeliveryFixed, encodeDeliveryFixed } from '../codec.ts';
import type { DeliveryQueuePort, DeliveryReschedule } from '../ports/deliveries.ts';
import { SHARDS, byString, groupBy, shardOf, type RedisContext } from './context.ts';
import { CLAIM, COMPLETE, COUNT_LEASED, ENQUEUE, RESCHEDULE } from './scripts.ts';

/** A delivery as the ENQUEUE and DISPATCH scripts take it: fixed fields (JSON), nextAttemptAt, attempt, sub id. */
export function deliveryArgs(d: NewDelivery): string[] {
  return [encodeDeliveryFixed(d), String(d.nextAttemptAt), String(d.attempt), d.subscriptionId];
}

/** `d<shard>-<n>` → the shard, or null. */
function deliveryShard(id: string): number | null {
  const m = /^d(\d{1,3})-\d{1,20}$/.exec(id);
  if (!m) return null;
  const shard = Number(m[1]);
  return shard < SHARDS ? shard : null;
}

interface Candidate { shard: number; id: string; score: number }

export class RedisDeliveries implements DeliveryQueuePort {
  constructor(private readonly ctx: RedisContext) {}

  async enqueueDeliveries(deliveries: readonly NewDelivery[]): Promise<void> {
    const args = deliveries.map((d) => ({ d, args: deliveryArgs(d) }));
    const byShard = groupBy(args, ({ d }) => shardOf(d.subscriptionId));
    await Promise.all([...byShard].map(([k, ds]) => {
      const b = this.ctx.shardBase(k);
      return this.ctx.run(ENQUEUE, [`${b}:dq`, `${b}:ctr`], [b, k, ...ds.flatMap((x) => x.args)]);
    }));
  }

  /** The earliest `want` claimable candidates over every shard. */
  private async candidates(now: number, want: number): Promise<Candidate[]> {
    const { ctx } = this;
    const perShard = await Promise.all(ctx.shards.map((k) =>
      ctx.client.zrangebyscore(`${ctx.shardBase(k)}:dq`, '-inf', now, 'WITHSCORES', 'LIMIT', 0, want)));
    const candidates: Candidate[] = [];
    for (const [k, flat] of perShard.entries()) {
      for (let i = 0; i < flat.length; i += 2) candidates.push({ shard: k, id: flat[i]!, score: Number(flat[i + 1]) });
    }
    return candidates.sort((a, b) => a.score - b.score || byString(a.id, b.id));
  }

  async claimDeliveries(now: number, limit: number, leaseMs: number): Promise<Delivery[]> {
    const claimed: { score: number; delivery: Delivery }[] = [];
    // Read the earliest candidates of every shard, claim the earliest of them; any taken by another claimer in
    // between are replaced by reading again. Stops when `limit` are claimed or no candidate is left.
    for (let round = 0; claimed.length < limit && round < 50; round++) {
      const want = limit - claimed.length;
      const candidates = await this.candidates(now, want);
      if (candidates.length === 0) break;
      const chosen = candidates.slice(0, want);
      const scores = new Map(chosen.map((c) => [c.id, c.score]));
      const results = await Promise.all([...groupBy(chosen, (c) => c.shard)].map(([k, cs]) => {
        const b = this.ctx.shardBase(k);
        return this.ctx.run(CLAIM, [`${b}:dq`], [b, now, now + leaseMs, ...cs.map((c) => c.id)]) as Promise<string[]>;
      }));
      let got = 0;
      for (const flat of results) {
        for (let i = 0; i < flat.length; i += 4) {
          const id = flat[i]!;
          claimed.push({ score: scores.get(id)!, delivery: decodeDeliveryFixed(id, flat[i + 1]!, Number(flat[i + 2]), Number(flat[i + 3])) });
          got++;
        }
      }
      // All of them claimed and fewer than wanted were there: nothing else is claimable.
      if (got === chosen.length && candidates.length < want) break;
    }
    claimed.sort((a, b) => a.score - b.score || byString(a.delivery.id, b.delivery.id));
    return claimed.map((c) => c.delivery);
  }

  async completeDeliveries(ids: readonly string[]): Promise<void> {
    const byShard = groupBy(ids, deliveryShard);
    await Promise.all([...byShard].map(([k, group]) => {
      const b = this.ctx.shardBase(k);
      return this.ctx.run(COMPLETE, [`${b}:dq`], [b, ...group]);
    }));
  }

  async rescheduleDelivery(id: string, nextAttemptAt: number, attempt: number): Promise<void> {
    const k = deliveryShard(id);
    if (k === null) return;
    const b = this.ctx.shardBase(k);
    await this.ctx.run(RESCHEDULE, [`${b}:dq`], [b, id, nextAttemptAt, attempt]);
  }

  async rescheduleDeliveries(items: readonly DeliveryReschedule[]): Promise<void> {
    // Sent together: the client pipelines them into one round trip per node.
    await Promise.all(items.map((d) => this.rescheduleDelivery(d.id, d.nextAttemptAt, d.attempt)));
  }

  async nextDeliveryAt(): Promise<number | null> {
    return this.ctx.earliest('dq');
  }

  async countDeliveries(): Promise<number> {
    const counts = await Promise.all(this.ctx.shards.map((k) => this.ctx.client.zcard(`${this.ctx.shardBase(k)}:dq`)));
    return counts.reduce((a, b) => a + b, 0);
  }

  async countLeasedDeliveries(now: number): Promise<number> {
    const counts = await Promise.all(this.ctx.shards.map((k) => {
      const b = this.ctx.shardBase(k);
      return this.ctx.run(COUNT_LEASED, [`${b}:dq`], [b, now]) as Promise<number>;
    }));
    return counts.reduce((a, b) => a + b, 0);
  }
}
