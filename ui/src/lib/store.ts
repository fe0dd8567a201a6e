/**
 * A value that components watch: `set` replaces it and tells every subscriber; `useStore` re-renders a component
 * when the part of the value it selects changes (compared with Object.is).
 */
import { useEffect, useReducer, useRef } from 'preact/hooks';

export class Store<T> {
  private readonly listeners = new Set<(value: T) => void>();

  constructor(private value: T) {}

  get(): T {
    return this.value;
  }

  set(next: T): void {
    if (Object.is(next, this.value)) return;
    this.value = next;
    for (const listener of [...this.listeners]) listener(next);
  }

  update(change: (value: T) => T): void {
    this.set(change(this.value));
  }

  subscribe(listener: (value: T) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

export function useStore<T, S = T>(store: Store<T>, select: (value: T) => S = (v) => v as unknown as S): S {
  const selected = select(store.get());
  const latest = useRef({ select, selected });
  latest.current = { select, selected };
  const [, rerender] = useReducer((n: number) => n + 1, 0);
  useEffect(() => store.subscribe((value) => {
    if (!Object.is(latest.current.select(value), latest.current.selected)) rerender(0);
  }), [store]);
  return selected;
}
