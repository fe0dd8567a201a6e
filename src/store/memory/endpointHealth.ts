/**
 * The endpoint health port kept in this process's memory: for a store with one writer (sqlite, memory), where no
 * other node needs the samples. It is what the deliverer kept in memory before it moved behind the store: forgotten
 * on restart, as an endpoint's health an hour old is anyway. A shared backend keeps the same data in the store
 * (redis/endpoints.ts); the contract suite (test/store/contract/endpoints.ts) holds both to the same behaviour.
 */
import { BoundedMap } from '../../platform/recency.ts';
import type { EndpointHealthPort, EndpointSample } from '../ports/endpoints.ts';

/** Endpoints kept at most; past it, the endpoint recorded longest ago is forgotten. */
export const MAX_ENDPOINTS = 10_000;

interface Endpoint {
  samples: EndpointSample[];
  turnUntil: number;
}

export class LocalEndpointHealth implements EndpointHealthPort {
  /** By URL; most recently recorded last, so eviction takes the stalest endpoint. */
  private readonly endpoints = new BoundedMap<string, Endpoint>(MAX_ENDPOINTS);

  private endpoint(url: string): Endpoint {
    let ep = this.endpoints.get(url);
    if (!ep) this.endpoints.set(url, (ep = { samples: [], turnUntil: -Infinity }));
    return ep;
  }

  async recordEndpointDuration(url: string, durationMs: number, at: number, keep: number): Promise<EndpointSample[]> {
    const ep = this.endpoint(url);
    this.endpoints.set(url, ep);
    ep.samples.push({ at, ms: durationMs });
    const excess = ep.samples.length - keep;
    if (excess > 0) ep.samples.splice(0, excess);
    return ep.samples.map((s) => ({ ...s }));
  }

  async endpointDurations(url: string): Promise<EndpointSample[]> {
    return (this.endpoints.get(url)?.samples ?? []).map((s) => ({ ...s }));
  }

  async takeEndpointTurn(url: string, now: number, until: number): Promise<{ taken: boolean; until: number }> {
    const ep = this.endpoint(url);
    if (ep.turnUntil > now) return { taken: false, until: ep.turnUntil };
    ep.turnUntil = until;
    return { taken: true, until };
  }
}
