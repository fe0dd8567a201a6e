/**
 * OData bits of Graph's responses: the `@odata.context` URL and `$select`.
 */
import type { IncomingMessage } from 'node:http';
import type { FastifyRequest } from 'fastify';
import { badRequest } from './errors.ts';

export type ApiVersion = 'v1.0' | 'beta';

/** The base URL clients see: the configured public URL, else the one the request came in on. */
export function baseUrl(request: FastifyRequest, publicUrl: string | null): string {
  return publicUrl ?? `${request.protocol}://${request.host}`;
}

/** baseUrl of a request before the framework has it: Fastify's protocol and host, without a trusted proxy (ours). */
export function rawBaseUrl(request: Pick<IncomingMessage, 'headers'> & { socket: object }, publicUrl: string | null): string {
  if (publicUrl !== null) return publicUrl;
  const protocol = (request.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http';
  return `${protocol}://${request.headers.host ?? ''}`;
}

export const PRESENCE_PROPERTIES = ['id', 'availability', 'activity', 'statusMessage', 'outOfOfficeSettings', 'workLocation', 'sequenceNumber'] as const;

/**
 * Parses `$select` (case-insensitive property names) into canonical names, or null when absent. Unknown names are
 * a 400, as in Graph.
 */
export function parseSelect(query: unknown, allowed: readonly string[] = PRESENCE_PROPERTIES): string[] | null {
  const raw = (query as Record<string, unknown> | undefined)?.['$select'];
  if (raw === undefined) return null;
  const text = Array.isArray(raw) ? raw.join(',') : String(raw);
  const names: string[] = [];
  for (const part of text.split(',')) {
    const name = part.trim();
    if (!name) continue;
    const found = allowed.find((p) => p.toLowerCase() === name.toLowerCase());
    if (!found) throw badRequest(`Could not find a property named '${name.slice(0, 64)}' on type 'microsoft.graph.presence'.`);
    if (!names.includes(found)) names.push(found);
  }
  return names.length > 0 ? names : null;
}

/** Keeps `id` and the selected properties. */
export function applySelect<T extends object>(entity: T, select: string[] | null): Partial<T> {
  if (!select) return entity;
  const out: Record<string, unknown> = { id: (entity as Record<string, unknown>).id };
  for (const name of select) out[name] = (entity as Record<string, unknown>)[name];
  return out as Partial<T>;
}
