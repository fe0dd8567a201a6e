/**
 * The notifications view's data: subscriptions, deliveries and sinks, read for the tenant and the filters, and read
 * again — at most twice a second — while `delivery` and `subscription` events arrive, or after a `resync`.
 */
import { useEffect, useState } from 'preact/hooks';
import { getNotifications } from '../api/endpoints.ts';
import type { Notifications } from '../api/types.ts';
import { onStream } from '../state/live.ts';

export interface NotificationsState {
  status: 'loading' | 'ready' | 'error';
  error: string | null;
  data: Notifications;
}

const EMPTY: Notifications = { subscriptions: [], deliveries: [], sinks: [] };
const MIN_INTERVAL_MS = 500;

export function useNotifications(tenantId: string | null, filter: { subscription: string | null; user: string | null }): NotificationsState {
  const [state, setState] = useState<NotificationsState>({ status: 'loading', error: null, data: EMPTY });
  useEffect(() => {
    if (!tenantId) return;
    let controller: AbortController | null = null;
    let timer: ReturnType<typeof setTimeout> | null = null;
    let lastRead = 0;
    const read = () => {
      timer = null;
      lastRead = performance.now();
      controller?.abort();
      const mine = (controller = new AbortController());
      const params = { ...(filter.subscription ? { subscription: filter.subscription } : {}), ...(filter.user ? { user: filter.user } : {}) };
      getNotifications(tenantId, params, mine.signal).then(
        (data) => setState({ status: 'ready', error: null, data }),
        (err: Error) => { if (!mine.signal.aborted) setState((s) => ({ ...s, status: 'error', error: err.message })); },
      );
    };
    const soon = () => {
      if (timer === null) timer = setTimeout(read, Math.max(0, lastRead + MIN_INTERVAL_MS - performance.now()));
    };
    setState({ status: 'loading', error: null, data: EMPTY });
    read();
    const offs = [onStream('delivery', soon), onStream('subscription', soon), onStream('resync', soon)];
    return () => {
      offs.forEach((off) => off());
      controller?.abort();
      if (timer !== null) clearTimeout(timer);
    };
  }, [tenantId, filter.subscription, filter.user]);
  return state;
}
