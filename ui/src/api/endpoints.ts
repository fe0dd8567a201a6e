/** The dashboard's reads (/_presently/ui/api/…) and the admin calls the controls make. */
import { adminJson } from './http.ts';
import type { Board, ClockState, Notifications, Session, TimelineEntry } from './types.ts';

export const UI_API = '/_presently/ui/api';

const query = (params: Record<string, string | undefined>) => {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v) q.set(k, v);
  return q.toString();
};

export const getSession = () => adminJson<Session>(`${UI_API}/session`);

export const getBoard = (tenant: string, signal?: AbortSignal) =>
  adminJson<Board>(`${UI_API}/board?${query({ tenant })}`, signal ? { signal } : {});

export const getTimeline = (tenant: string, user: string, signal?: AbortSignal) =>
  adminJson<{ value: TimelineEntry[] }>(`${UI_API}/timeline?${query({ tenant, user })}`, signal ? { signal } : {});

export const getNotifications = (tenant: string, filter: { subscription?: string; user?: string }, signal?: AbortSignal) =>
  adminJson<Notifications>(`${UI_API}/notifications?${query({ tenant, ...filter })}`, signal ? { signal } : {});

/** Moves the manual clock: `{"advance": "PT5M"}` or `{"now": ISO}`. */
export const moveClock = (body: { advance: string } | { now: string }) =>
  adminJson<ClockState>('/_presently/clock', { method: 'POST', body });

export interface TokenRequest {
  userId?: string;
  appId?: string;
  tenantId?: string;
  scopes?: string[];
  roles?: string[];
  expiresIn?: number;
}

export interface TokenAnswer {
  access_token: string;
  token_type: string;
  expires_in: number;
}

/** A dev token (dev mode only): POST /_presently/tokens. */
export const mintToken = (body: TokenRequest) => adminJson<TokenAnswer>('/_presently/tokens', { method: 'POST', body });
