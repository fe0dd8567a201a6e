/**
 * The presence resource's bound actions, as a table: Graph's name, the addresses it is bound at, who may run it, how
 * its body is read, and the domain command. Routes are generated from the table (./routes.ts) and every action runs
 * through the one write pipeline (./write.ts).
 */
import { authorizePresenceWrite, authorizeWorkLocationWrite } from '../auth/permissions.ts';
import {
  clearPreferred, clearPresence, parseClearPresence, parseSetPreferred, parseSetPresence, setPreferred, setPresence,
} from '../domain/sessions.ts';
import { parseSetStatusMessage, setStatusMessage } from '../domain/statusMessage.ts';
import { clearLocation, parseWorkLocation, setLocationLayer } from '../domain/workLocation.ts';
import { readBody } from '../platform/json/body.ts';
import type { Write } from './write.ts';

/** The three addresses of a user's presence; each action is bound under the address, as `{address}/{action}`. */
export const ACTION_PATHS = {
  me: '/me/presence/:action',
  users: '/users/:id/presence/:action',
  communications: '/communications/presences/:id/:action',
} as const;

export type Address = keyof typeof ACTION_PATHS;

const EVERY_ADDRESS: readonly Address[] = ['me', 'users', 'communications'];

/** What an action's parser may need besides the body. */
export interface ActionContext {
  /** The calling app: presence sessions belong to it. */
  appId: string;
  maxStatusLength: number;
}

export interface PresenceAction<I> extends Write<I, ActionContext> {
  paths: readonly Address[];
}

/** An action of any input type, as the table holds them. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyPresenceAction = PresenceAction<any>;

/**
 * Types one row: its parser's result is what its command takes. Every presence action is bound at every address and
 * takes a missing body as `{}`, unless its row says otherwise.
 */
const action = <I>(row: Omit<PresenceAction<I>, 'paths' | 'whenAbsent'> & Partial<Pick<PresenceAction<I>, 'paths' | 'whenAbsent'>>): AnyPresenceAction =>
  ({ paths: EVERY_ADDRESS, whenAbsent: 'empty-object', ...row });

/** Actions whose body is `{}` or nothing at all. */
function parseNoInput(body: unknown): null {
  readBody(body, { allowed: [] });
  return null;
}

/** Every bound action of the presence resource. */
export const PRESENCE_ACTIONS: readonly AnyPresenceAction[] = [
  action({
    name: 'setStatusMessage', authorize: authorizePresenceWrite,
    parse: (body, context) => parseSetStatusMessage(body, context.maxStatusLength),
    command: setStatusMessage,
  }),
  action({
    name: 'setPresence', authorize: authorizePresenceWrite,
    parse: (body, context) => parseSetPresence(body, context.appId),
    command: setPresence,
  }),
  action({
    name: 'clearPresence', authorize: authorizePresenceWrite,
    parse: (body, context) => parseClearPresence(body, context.appId),
    command: clearPresence,
  }),
  action({
    name: 'setUserPreferredPresence', authorize: authorizePresenceWrite,
    parse: parseSetPreferred,
    command: setPreferred,
  }),
  action({
    name: 'clearUserPreferredPresence', authorize: authorizePresenceWrite,
    parse: parseNoInput,
    command: clearPreferred,
  }),
  action({
    name: 'setManualLocation', authorize: authorizeWorkLocationWrite,
    parse: parseWorkLocation,
    command: (facts, layer) => setLocationLayer(facts, 'manual', layer),
  }),
  action({
    name: 'setAutomaticLocation', authorize: authorizeWorkLocationWrite,
    parse: parseWorkLocation,
    command: (facts, layer) => setLocationLayer(facts, 'automatic', layer),
  }),
  action({
    name: 'clearAutomaticLocation', authorize: authorizeWorkLocationWrite,
    parse: parseNoInput,
    command: (facts) => clearLocation(facts, 'automatic'),
  }),
  action({
    name: 'clearLocation', authorize: authorizeWorkLocationWrite,
    parse: parseNoInput,
    command: (facts) => clearLocation(facts, 'manualAndAutomatic'),
  }),
];

/** The action bound at `address` under `name`, matched case-insensitively as OData matches path segments. */
export function findAction(name: string, address: Address): AnyPresenceAction | undefined {
  const lower = name.toLowerCase();
  return PRESENCE_ACTIONS.find((a) => a.name.toLowerCase() === lower && a.paths.includes(address));
}
