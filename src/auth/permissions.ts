/**
 * Who may do what: the table of docs/api/permissions.md, as code. Each check returns normally or throws an AuthError
 * (403 `Forbidden`, or 400 for `/me` with an app token). Scope and role names are compared case-insensitively.
 * User ids are compared case-insensitively (principals carry lower-case ids).
 */
import { AuthError, type Principal } from './types.ts';

export const PRESENCE_READ = 'Presence.Read';
export const PRESENCE_READ_ALL = 'Presence.Read.All';
export const PRESENCE_READWRITE = 'Presence.ReadWrite';
export const PRESENCE_READWRITE_ALL = 'Presence.ReadWrite.All';

/**
 * Names compared lower-case, without lowercasing on every request: a principal's granted set is lowered once (a
 * principal is kept with its verified token, so its set is the same object request after request), and the required
 * names, a handful of constants, once each.
 */
const loweredSets = new WeakMap<ReadonlySet<string>, ReadonlySet<string>>();
const loweredNames = new Map<string, string>();

function lowerSet(names: ReadonlySet<string>): ReadonlySet<string> {
  let set = loweredSets.get(names);
  if (!set) loweredSets.set(names, (set = new Set(Array.from(names, (n) => n.toLowerCase()))));
  return set;
}

function lowerName(name: string): string {
  let lower = loweredNames.get(name);
  if (lower === undefined) {
    lower = name.toLowerCase();
    if (loweredNames.size < 1_000) loweredNames.set(name, lower);
  }
  return lower;
}

function hasAny(granted: ReadonlySet<string>, required: readonly string[]): boolean {
  const have = lowerSet(granted);
  for (const name of required) if (have.has(lowerName(name))) return true;
  return false;
}

const READ_OWN = [PRESENCE_READ, PRESENCE_READ_ALL, PRESENCE_READWRITE] as const;
const READ_OTHERS = [PRESENCE_READ_ALL] as const;
const READ_ROLES = [PRESENCE_READ_ALL, PRESENCE_READWRITE_ALL] as const;

function insufficient(required: readonly string[]): AuthError {
  return new AuthError(403, 'Forbidden', `Insufficient privileges to complete the operation. Requires one of: ${required.join(', ')}.`);
}

function requireScopes(p: Principal, required: readonly string[]): void {
  if (!hasAny(p.scopes, required)) throw insufficient(required);
}

function requireRoles(p: Principal, required: readonly string[]): void {
  if (!hasAny(p.roles, required)) throw insufficient(required);
}

function isSelf(p: Principal, targetUserId: string): boolean {
  return p.kind === 'delegated' && p.userId !== null && p.userId.toLowerCase() === targetUserId.toLowerCase();
}

/** The user `/me` names: the signed-in user. An app token has no `/me`: 400. */
export function resolveMe(p: Principal): string {
  if (p.kind !== 'delegated' || p.userId === null) {
    throw new AuthError(400, 'BadRequest', '/me request is only valid with delegated authentication flow.');
  }
  return p.userId;
}

/** The scopes (delegated) or roles (application) of which a GET of one presence needs one. */
function presenceReadNeeds(p: Principal, targetUserId: string): readonly string[] {
  if (p.kind !== 'delegated') return READ_ROLES;
  return isSelf(p, targetUserId) ? READ_OWN : READ_OTHERS;
}

/** GET of one presence. */
export function authorizePresenceRead(p: Principal, targetUserId: string): void {
  if (!mayReadPresence(p, targetUserId)) throw insufficient(presenceReadNeeds(p, targetUserId));
}

/** Whether authorizePresenceRead lets the GET through, without an error to throw. */
export function mayReadPresence(p: Principal, targetUserId: string): boolean {
  return hasAny(p.kind === 'delegated' ? p.scopes : p.roles, presenceReadNeeds(p, targetUserId));
}

/** getPresencesByUserId. */
export function authorizeReadMany(p: Principal): void {
  if (p.kind === 'delegated') requireScopes(p, [PRESENCE_READ_ALL]);
  else requireRoles(p, [PRESENCE_READ_ALL, PRESENCE_READWRITE_ALL]);
}

/** Any presence write except work location (setStatusMessage, setPresence, clearPresence, preferred presence). */
export function authorizePresenceWrite(p: Principal, targetUserId: string): void {
  if (p.kind === 'delegated') {
    if (!isSelf(p, targetUserId)) throw new AuthError(403, 'Forbidden', 'Cannot set the presence of another user.');
    requireScopes(p, [PRESENCE_READWRITE]);
  } else {
    requireRoles(p, [PRESENCE_READWRITE_ALL]);
  }
}

/** setManualLocation, setAutomaticLocation, clearAutomaticLocation, clearLocation. */
export function authorizeWorkLocationWrite(p: Principal, targetUserId: string): void {
  if (p.kind !== 'delegated') {
    throw new AuthError(403, 'Forbidden', 'Work location updates are not supported with application permissions; use a delegated token of the user.');
  }
  if (!isSelf(p, targetUserId)) throw new AuthError(403, 'Forbidden', 'Cannot set the work location of another user.');
  requireScopes(p, [PRESENCE_READWRITE]);
}

/**
 * Presence subscriptions: a delegated caller with Presence.Read.All. Application tokens are 403 (Graph has no
 * app-only presence subscriptions).
 */
export function authorizeSubscriptions(p: Principal): Principal & { userId: string } {
  if (p.kind !== 'delegated' || p.userId === null) {
    throw new AuthError(403, 'Forbidden',
      `Presence subscriptions require delegated permissions: application permissions are not supported for presence change notifications. Use a delegated token with ${PRESENCE_READ_ALL}.`);
  }
  requireScopes(p, [PRESENCE_READ_ALL]);
  return p as Principal & { userId: string };
}

export const MAILBOX_SETTINGS_READ = 'MailboxSettings.Read';
export const MAILBOX_SETTINGS_READWRITE = 'MailboxSettings.ReadWrite';

/** GET of mailboxSettings: delegated for oneself only, application (roles of the same names) for anyone. */
export function authorizeMailboxSettingsRead(p: Principal, targetUserId: string): void {
  const required = [MAILBOX_SETTINGS_READ, MAILBOX_SETTINGS_READWRITE];
  if (p.kind === 'delegated') {
    if (!isSelf(p, targetUserId)) throw new AuthError(403, 'Forbidden', 'Cannot read the mailbox settings of another user with delegated permissions.');
    requireScopes(p, required);
  } else {
    requireRoles(p, required);
  }
}

/** PATCH of mailboxSettings (out of office): delegated for oneself only, application for anyone. */
export function authorizeMailboxSettingsWrite(p: Principal, targetUserId: string): void {
  if (p.kind === 'delegated') {
    if (!isSelf(p, targetUserId)) throw new AuthError(403, 'Forbidden', 'Cannot change the mailbox settings of another user with delegated permissions.');
    requireScopes(p, [MAILBOX_SETTINGS_READWRITE]);
  } else {
    requireRoles(p, [MAILBOX_SETTINGS_READWRITE]);
  }
}
