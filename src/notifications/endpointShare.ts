/**
 * One endpoint's share of the deliverer: the items it holds (claimed, not yet sent; lifecycle items go first and are
 * never batched with change items), its POSTs in flight, and its health (./endpointHealth.ts).
 */
import type { Delivery } from '../domain/subscription.ts';
import type { EndpointHealth } from './endpointHealth.ts';

export class Endpoint {
  readonly lifecycle: Delivery[] = [];
  readonly change: Delivery[] = [];
  inFlight = 0;

  constructor(readonly health: EndpointHealth) {}

  get url(): string {
    return this.health.url;
  }

  get heldCount(): number {
    return this.lifecycle.length + this.change.length;
  }

  hold(d: Delivery): void {
    (d.kind === 'lifecycle' ? this.lifecycle : this.change).push(d);
  }

  /** Up to `max` held items of one kind, lifecycle first. */
  take(max: number): Delivery[] {
    return (this.lifecycle.length > 0 ? this.lifecycle : this.change).splice(0, max);
  }

  takeAll(): Delivery[] {
    return [...this.lifecycle.splice(0), ...this.change.splice(0)];
  }

  /** True when forgetting it loses nothing: no work (its samples and turn are in the store). */
  idle(): boolean {
    return this.heldCount === 0 && this.inFlight === 0;
  }
}

