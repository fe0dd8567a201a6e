/**
 * The express lane of the two commonest writes, `setPresence` and `setStatusMessage` (src/http/front.ts `BodyLane`,
 * docs/contributing/express-lanes.md): the request answered before the framework sees it, with the route's decisions
 * made by the route's functions, in the route's order (./routes.ts runPresenceAction, ./write.ts commitWrite). It
 * claims a request only when everything the route would check before the body passes, and takes its body only when
 * the body reads and parses; anything else goes to the framework, which then answers exactly as without the lane:
 *
 * - a path other than the exact `/{version}/me/presence/{action}`, `/{version}/users/{GUID}/presence/{action}` or
 *   `/{version}/communications/presences/{GUID}/{action}` with `{action}` spelt as Graph spells it; a version this
 *   cloud does not offer;
 * - a token not verified before and still valid (`TokenVerifier.known`), `/me` with an application token, a caller
 *   without the permission (the action's own `authorize`);
 * - a body that is not JSON, is nested too deeply, or that the action's parser refuses (the route's 400 names it);
 * - a user the tenant does not have (nothing was written: the route writes again, and answers 404).
 *
 * A store that fails the write has its error answered by the framework (as a read lane's: src/http/front.ts `Lane`).
 * Only writes whose answer is 200 with no body are here: the lane never renders a presence.
 */
import type { BodyLane } from '../http/front.ts';
import { parseJsonBody } from '../http/wire.ts';
import type { ApiVersion } from '../http/odata.ts';
import type { TokenVerifier } from '../auth/verify.ts';
import { presentBody } from '../platform/json/body.ts';
import { isGuid } from '../platform/json/validate.ts';
import { ACTION_PATHS, findAction, type Address, type AnyPresenceAction } from './actions.ts';
import type { PresenceAddressing } from './addressing.ts';
import type { PresenceService } from './service.ts';
import { applyWrite } from './write.ts';

export interface WriteLaneDeps {
  presence: PresenceService;
  verifier: TokenVerifier;
  maxStatusLength: number;
}

/** The actions the lane takes: the frequent ones. Every other action, or another spelling, goes to the framework. */
const LANE_ACTIONS = ['setPresence', 'setStatusMessage'];
const GUID_LENGTH = 36;

/** The lane's actions by address, as the routes find them (one not offered at an address is not in its map: the framework's 404). */
function actionsByAddress(): Record<Address, Map<string, AnyPresenceAction>> {
  return Object.fromEntries(Object.keys(ACTION_PATHS).map((address) => [address, new Map(LANE_ACTIONS.flatMap((name) => {
    const action = findAction(name, address as Address);
    return action ? [[name, action] as const] : [];
  }))])) as Record<Address, Map<string, AnyPresenceAction>>;
}

/** The lane for one API version; `routes` are the paths its actions are registered at (the metrics' route label). */
export function presenceWriteLane(version: ApiVersion, api: PresenceAddressing, routes: Record<Address, string>, deps: WriteLaneDeps): BodyLane {
  const actions = actionsByAddress();
  const me = `/${version}/me/presence/`;
  const users = `/${version}/users/`;
  const usersMiddle = '/presence/';
  const communications = `/${version}/communications/presences/`;

  /** The address, the user id in the path (null for /me) and the action, or null when the lane does not take the path. */
  function parse(url: string): { address: Address; id: string | null; action: AnyPresenceAction } | null {
    let address: Address;
    let id: string | null = null;
    let rest: string;
    if (url.startsWith(me)) {
      address = 'me';
      rest = url.slice(me.length);
    } else if (url.startsWith(users) && url.startsWith(usersMiddle, users.length + GUID_LENGTH)) {
      address = 'users';
      id = url.slice(users.length, users.length + GUID_LENGTH);
      rest = url.slice(users.length + GUID_LENGTH + usersMiddle.length);
    } else if (url.startsWith(communications) && url.charAt(communications.length + GUID_LENGTH) === '/') {
      address = 'communications';
      id = url.slice(communications.length, communications.length + GUID_LENGTH);
      rest = url.slice(communications.length + GUID_LENGTH + 1);
    } else {
      return null;
    }
    const action = actions[address].get(rest);
    if (action === undefined || (id !== null && !isGuid(id))) return null;
    return { address, id, action };
  }

  return (request) => {
    const path = parse(request.url ?? '');
    if (path === null || !api.offered()) return null;
    const principal = deps.verifier.known(request.headers.authorization);
    if (!principal) return null;
    const userId = path.id?.toLowerCase() ?? (principal.kind === 'delegated' ? principal.userId : null);
    if (userId === null) return null;
    const { action } = path;
    try {
      action.authorize(principal, userId);
    } catch {
      return null;
    }
    return {
      route: routes[path.address],
      take(text) {
        let input: unknown;
        try {
          input = action.parse(presentBody(parseJsonBody(text), action.whenAbsent), { appId: principal.appId, maxStatusLength: deps.maxStatusLength });
        } catch {
          return null;
        }
        return applyWrite(deps.presence, action, principal, userId, input).then((committed) => (committed ? true : null));
      },
    };
  };
}
