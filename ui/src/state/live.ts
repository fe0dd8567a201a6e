/**
 * The page's one stream (of the tenant it shows) and who listens to it: the board, the clock, and whichever view is
 * open. A listener gets the event's data and its stream position; `resync` tells listeners to read again what they
 * show, because the server could not replay everything they missed.
 */
import { UI_API } from '../api/endpoints.ts';
import { adminHeaders } from '../api/adminKey.ts';
import { reportUnauthorised } from '../api/http.ts';
import type { StreamEvents, StreamEventType } from '../api/types.ts';
import { Store } from '../lib/store.ts';
import { LiveStream, type StreamStatus } from '../live/stream.ts';
import { setClock } from './clock.ts';

type Listener<K extends StreamEventType> = (data: StreamEvents[K], position: number) => void;

const listeners: { [K in StreamEventType]: Set<Listener<K>> } = {
  presence: new Set(), delivery: new Set(), subscription: new Set(), clock: new Set(), resync: new Set(),
};

export const streamStatus = new Store<StreamStatus>('stopped');

let current: { tenant: string; stream: LiveStream } | null = null;

export function onStream<K extends StreamEventType>(type: K, listener: Listener<K>): () => void {
  const set = listeners[type] as Set<Listener<K>>;
  set.add(listener);
  return () => set.delete(listener);
}

function dispatch(type: string, data: string, id: string | null): void {
  if (!(type in listeners)) return;
  let parsed: unknown;
  try {
    parsed = JSON.parse(data);
  } catch {
    return;
  }
  const position = id === null ? 0 : Number(id);
  if (type === 'clock') setClock(parsed as StreamEvents['clock']);
  for (const listener of listeners[type as StreamEventType]) (listener as Listener<StreamEventType>)(parsed as never, position);
}

/** Follows `tenantId`'s stream from `after` (the board's cursor); a stream of another tenant is closed first. */
export function follow(tenantId: string, after: number): void {
  if (current?.tenant === tenantId) return;
  unfollow();
  const stream = new LiveStream({
    url: `${UI_API}/stream?tenant=${encodeURIComponent(tenantId)}`,
    headers: adminHeaders,
    after,
    onEvent: (e) => dispatch(e.type, e.data, e.id),
    onStatus: (s) => {
      streamStatus.set(s);
      if (s === 'unauthorised') reportUnauthorised();
    },
  });
  current = { tenant: tenantId, stream };
  stream.start();
}

export function unfollow(): void {
  current?.stream.stop();
  current = null;
}
