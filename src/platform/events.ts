/**
 * The one way features tell each other what happened: a typed, in-process event bus. A feature declares the events
 * it emits as a map from name to payload (presence/events.ts, directory/events.ts, subscriptions/events.ts,
 * notifications/events.ts) and takes an `Emitter` of that map; the composition root (src/server.ts) makes one bus
 * for the union of the maps and subscribes the loops that react. So an emitter never knows who listens, and the
 * whole wiring is readable in one place.
 *
 * Delivery is synchronous and in subscription order: `emit` calls every listener before it returns (a listener that
 * has slow work to do starts it and returns). A listener that throws, or returns a promise that rejects, is reported
 * to the bus's `onError` and never to the emitter: one broken listener cannot fail a committed write. `emitAndWait`
 * is for the few events whose emitter must not go on before the reactions are done (a deleted user's subscriptions
 * end before the DELETE answers): it awaits each listener in turn, errors reported the same way.
 */

/** A listener; what it returns (a promise, say) is awaited only by `emitAndWait`. */
export type Listener<T> = (payload: T) => unknown;

/** The emitting side, all an emitting feature needs. */
export interface Emitter<M> {
  emit<K extends keyof M>(name: K, payload: M[K]): void;
  emitAndWait<K extends keyof M>(name: K, payload: M[K]): Promise<void>;
}

/** An emitter that tells nobody (a feature used on its own, in a test). */
export function silentEmitter<M>(): Emitter<M> {
  return { emit() {}, emitAndWait: async () => {} };
}

export class EventBus<M> implements Emitter<M> {
  private readonly listeners = new Map<keyof M, Listener<never>[]>();

  /** `onError` gets what a listener threw or rejected with, and the event's name. */
  constructor(private readonly onError: (err: unknown, event: string) => void = () => {}) {}

  /** Subscribes `listener` to `name`; resolves to a function that unsubscribes it. */
  on<K extends keyof M>(name: K, listener: Listener<M[K]>): () => void {
    const list = this.listeners.get(name) ?? [];
    list.push(listener as Listener<never>);
    this.listeners.set(name, list);
    return () => {
      const at = list.indexOf(listener as Listener<never>);
      if (at >= 0) list.splice(at, 1);
    };
  }

  emit<K extends keyof M>(name: K, payload: M[K]): void {
    for (const listener of this.current(name)) {
      try {
        const result = listener(payload);
        if (result instanceof Promise) result.catch((err: unknown) => this.onError(err, String(name)));
      } catch (err) {
        this.onError(err, String(name));
      }
    }
  }

  async emitAndWait<K extends keyof M>(name: K, payload: M[K]): Promise<void> {
    for (const listener of this.current(name)) {
      try {
        await listener(payload);
      } catch (err) {
        this.onError(err, String(name));
      }
    }
  }

  /** A copy: a listener that subscribes or unsubscribes during an emit changes the next emit, not this one. */
  private current<K extends keyof M>(name: K): Listener<M[K]>[] {
    return [...(this.listeners.get(name) ?? [])] as Listener<M[K]>[];
  }
}
