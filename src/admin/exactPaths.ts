/**
 * The admin API is reachable at exactly `/_presently/…`, never at a variant the router would also match: Graph's
 * paths need a case-insensitive router that decodes percent-escapes, so without this check `/_PRESENTLY/tokens` or
 * `/%5Fpresently/tokens` would reach the admin handlers, and a proxy rule that blocks the prefix `/_presently/` would
 * be bypassed. Such variants answer the usual Graph 404, in every auth mode.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { noResourceAt } from '../http/wire.ts';

export const ADMIN_PREFIX = '/_presently';

/** A path that begins with `/_` or its escape: the only ones that can name the admin API. */
const MAYBE_ADMIN = /^\/(?:_|%5f)/i;

/** True when `path` (raw, without its query) names the admin API in any spelling other than the exact one. */
export function isAdminVariant(path: string): boolean {
  if (!MAYBE_ADMIN.test(path)) return false;
  if (path === ADMIN_PREFIX || path.startsWith(`${ADMIN_PREFIX}/`)) return false;
  const lower = decodeLoosely(path).toLowerCase();
  return lower === ADMIN_PREFIX || lower.startsWith(`${ADMIN_PREFIX}/`);
}

/** Percent-escapes decoded where they are valid (the router refuses a path with an invalid one anyway). */
function decodeLoosely(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    return path.replace(/%5f/gi, '_').replace(/%2f/gi, '/');
  }
}

/** Installs the check on every request, before any route's own hooks and handler. */
export function installExactAdminPaths(app: FastifyInstance): void {
  // A callback hook: it runs on every request, and an async hook costs a promise each time.
  app.addHook('onRequest', function exactAdminPath(request: FastifyRequest, _reply: FastifyReply, done: (err?: Error) => void) {
    const url = request.raw.url ?? '';
    // Nearly every request: a path that cannot name the admin API, told by its first characters.
    if (!MAYBE_ADMIN.test(url)) return done();
    const path = url.split('?')[0]!;
    // The same answer as a path nothing is registered at.
    if (isAdminVariant(path)) return done(noResourceAt(request.method, path));
    done();
  });
}
