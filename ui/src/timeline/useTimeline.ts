/**
 * A user's timeline: read once, then live — each `presence` event of the user adds its entry at the top (entries
 * already shown are not added twice); a `resync` reads it again.
 */
import { useEffect, useState } from 'preact/hooks';
import { getTimeline } from '../api/endpoints.ts';
import type { TimelineEntry } from '../api/types.ts';
import { onStream } from '../state/live.ts';

export interface TimelineState {
  status: 'loading' | 'ready' | 'error';
  error: string | null;
  entries: TimelineEntry[];
  /** Keys of the entries that arrived live, to highlight them. */
  fresh: Set<string>;
}

export const entryKey = (e: TimelineEntry) => `${e.sequenceNumber ?? ''}|${e.at}`;

function prepend(state: TimelineState, entry: TimelineEntry): TimelineState {
  const key = entryKey(entry);
  if (state.entries.some((e) => entryKey(e) === key)) return state;
  return { ...state, entries: [entry, ...state.entries], fresh: new Set(state.fresh).add(key) };
}

export function useTimeline(tenantId: string | null, userId: string): [TimelineState, () => void] {
  const [state, setState] = useState<TimelineState>({ status: 'loading', error: null, entries: [], fresh: new Set() });
  const [generation, setGeneration] = useState(0);
  useEffect(() => {
    if (!tenantId) return;
    const controller = new AbortController();
    const early: TimelineEntry[] = [];
    let loaded = false;
    setState({ status: 'loading', error: null, entries: [], fresh: new Set() });
    const off = onStream('presence', (event) => {
      if (event.userId !== userId) return;
      if (loaded) setState((s) => prepend(s, event.entry));
      else early.push(event.entry);
    });
    const offResync = onStream('resync', () => setGeneration((g) => g + 1));
    getTimeline(tenantId, userId, controller.signal).then((res) => {
      loaded = true;
      setState(early.reduce(prepend, { status: 'ready', error: null, entries: res.value, fresh: new Set() }));
    }, (err: Error) => {
      if (!controller.signal.aborted) setState({ status: 'error', error: err.message, entries: [], fresh: new Set() });
    });
    return () => {
      controller.abort();
      off();
      offResync();
    };
  }, [tenantId, userId, generation]);
  return [state, () => setGeneration((g) => g + 1)];
}
