/**
 * The endpoint health port: the data behind the deliverer's slow-endpoint rule, shared by every node on the store.
 * Only data: what counts as slow, when an endpoint is throttled or dropped and how old a sample may be are decided
 * by the notifications feature. Endpoints are keyed by their URL, exactly.
 */

/** One POST to a webhook endpoint. */
export interface EndpointSample {
  /** When it was recorded (the server Clock, epoch ms). */
  at: number;
  /** How long the POST took (real time, ms). */
  ms: number;
}

export interface EndpointHealthPort {
  /**
   * Appends the duration of a POST to the endpoint's samples, keeping only its latest `keep` (at least 1); resolves
   * to the kept samples, in the order they were recorded (oldest first).
   */
  recordEndpointDuration(url: string, durationMs: number, at: number, keep: number): Promise<EndpointSample[]>;
  /** The endpoint's kept samples, oldest first; [] for an endpoint never recorded. */
  endpointDurations(url: string): Promise<EndpointSample[]>;
  /**
   * The turn of a throttled endpoint (one POST per period, over all nodes): when the endpoint's current turn ends at
   * or before `now` (or it has none), a new one is taken, ending at `until`. Resolves to whether this call took it,
   * and when the endpoint's current turn ends.
   */
  takeEndpointTurn(url: string, now: number, until: number): Promise<{ taken: boolean; until: number }>;
}
