/**
 * Calls to Presently from the page: JSON in and out, the admin key on admin calls, and Graph's error shape turned
 * into an ApiError that says what went wrong.
 */
import { adminHeaders } from './adminKey.ts';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Listeners told when an admin call answers 401 (the key is wrong or was revoked). */
const unauthorisedListeners = new Set<() => void>();

export function onUnauthorised(listener: () => void): () => void {
  unauthorisedListeners.add(listener);
  return () => unauthorisedListeners.delete(listener);
}

/** Tells the listeners that the admin key was refused (by an admin call, or by the stream). */
export function reportUnauthorised(): void {
  for (const listener of [...unauthorisedListeners]) listener();
}

async function errorOf(res: Response): Promise<ApiError> {
  const text = await res.text().catch(() => '');
  try {
    const body = JSON.parse(text) as { error?: { code?: string; message?: string } };
    if (body.error) return new ApiError(res.status, body.error.code ?? 'Error', body.error.message ?? res.statusText);
  } catch {
    // not JSON: the status says it
  }
  return new ApiError(res.status, String(res.status), text.slice(0, 300) || res.statusText || `HTTP ${res.status}`);
}

/** A call to the admin API (`/_presently/…`) with the admin key; resolves to the parsed JSON body. */
export async function adminJson<T>(path: string, init: { method?: string; body?: unknown; signal?: AbortSignal } = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json', ...adminHeaders() };
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, {
    method: init.method ?? 'GET',
    headers,
    ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
    ...(init.signal ? { signal: init.signal } : {}),
  });
  if (!res.ok) {
    const err = await errorOf(res);
    if (res.status === 401) reportUnauthorised();
    throw err;
  }
  return (await res.json()) as T;
}

/** What a Graph call answered, as the controls show it. */
export interface GraphAnswer {
  status: number;
  body: unknown;
}

/** A call to the Graph API with a bearer token, exactly as an SDK makes it; any status resolves. */
export async function graphCall(method: string, path: string, token: string, body?: unknown): Promise<GraphAnswer> {
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    // shown as text
  }
  return { status: res.status, body: parsed };
}
