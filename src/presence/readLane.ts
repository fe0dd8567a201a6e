/**
 * The express lane of a GET of one presence (src/http/front.ts, docs/contributing/express-lanes.md): the request
 * answered before the framework sees it when everything it needs is already in memory and nothing about it is
 * unusual. It makes the same decisions as the route (./routes.ts readPresence) with the same functions, and declines
 * (null) wherever the route could answer anything but 200 or would have to wait:
 *
 * - a path other than the exact `/{version}/me/presence`, `/{version}/users/{GUID}/presence` or
 *   `/{version}/communications/presences/{GUID}` (other spellings, trailing slashes, escapes, any query: `$select`);
 * - a version this cloud does not offer;
 * - a token not verified before and still valid (`TokenVerifier.known`), `/me` with an application token, or a
 *   caller without the permission (the route answers 400, 401 or 403 with Graph's message);
 * - a user the tenant does not have, or whose snapshot has a timed change due (the route's read makes it: a lane
 *   never writes).
 *
 * A snapshot in the read cache is answered at once (`PresenceService.known`); any other is read from the store first
 * (`PresenceService.lookUp`: on Redis, every one), and a store that fails that read has its error answered by the
 * framework (src/http/front.ts `Lane`).
 */
import type { PresenceSnapshot } from '../store/types.ts';
import type { Lane, LaneAnswer } from '../http/front.ts';
import { rawBaseUrl, type ApiVersion } from '../http/odata.ts';
import { mayReadPresence } from '../auth/permissions.ts';
import type { TokenVerifier } from '../auth/verify.ts';
import { isGuid } from '../platform/json/validate.ts';
import type { Address } from './actions.ts';
import { audienceOf, type PresenceAddressing } from './addressing.ts';
import type { PresenceJson } from './render.ts';
import type { PresenceService } from './service.ts';

export interface ReadLaneDeps {
  presence: PresenceService;
  verifier: TokenVerifier;
  publicUrl: string | null;
}

const GUID_LENGTH = 36;
const USERS = '/users/';
const USERS_END = '/presence';
const COMMUNICATIONS = '/communications/presences/';

/** The lane for one API version; `routes` are the paths its GETs are registered at (the metrics' route label). */
export function presenceReadLane(
  version: ApiVersion, api: PresenceAddressing, json: PresenceJson, routes: Record<Address, string>, deps: ReadLaneDeps,
): Lane {
  const prefix = `/${version}`;
  const me = `${prefix}/me/presence`;
  const users = `${prefix}${USERS}`;
  const communications = `${prefix}${COMMUNICATIONS}`;

  /** The address and the user id in the path (null for /me), or null when the path is not one the lane takes. */
  function parse(url: string): { address: Address; id: string | null } | null {
    if (url === me) return { address: 'me', id: null };
    if (url.length === users.length + GUID_LENGTH + USERS_END.length && url.startsWith(users) && url.endsWith(USERS_END)) {
      return { address: 'users', id: url.slice(users.length, users.length + GUID_LENGTH) };
    }
    if (url.length === communications.length + GUID_LENGTH && url.startsWith(communications)) {
      return { address: 'communications', id: url.slice(communications.length) };
    }
    return null;
  }

  return (request) => {
    const url = request.url ?? '';
    if (!url.startsWith(prefix)) return null;
    const path = parse(url);
    if (path === null || (path.id !== null && !isGuid(path.id)) || !api.offered()) return null;
    const principal = deps.verifier.known(request.headers.authorization);
    if (!principal) return null;
    const userId = path.id?.toLowerCase() ?? (principal.kind === 'delegated' ? principal.userId : null);
    if (userId === null || !mayReadPresence(principal, userId)) return null;
    const { tenantId } = principal;
    const route = routes[path.address];
    const answer = (snap: PresenceSnapshot): LaneAnswer => {
      const context = api.contextUrlAt(rawBaseUrl(request, deps.publicUrl), path.address, userId, null);
      return { route, body: json.entity(context, userId, snap, audienceOf(principal, userId)) };
    };
    const known = deps.presence.known(tenantId, userId);
    if (known) return answer(known);
    return deps.presence.lookUp(tenantId, userId).then((snap) => (snap ? answer(snap) : null));
  };
}
