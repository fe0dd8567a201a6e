/**
 * `POST /_presently/tokens` (docs/operations/auth.md, dev mode only): mints a dev token.
 *
 * Body: `{"userId"?, "appId"?, "tenantId"?, "scopes"?: [...], "roles"?: [...], "expiresIn"?: seconds}`.
 * - With `userId` (an object id GUID or a userPrincipalName of an existing user): a delegated token for that user, in
 *   the user's tenant, for `appId` (default: the dev app); scopes default to Presence.Read.All + Presence.ReadWrite.
 * - Without: an application token for `appId` (default: the dev app) in `tenantId` (default: the demo tenant);
 *   roles default to Presence.ReadWrite.All. Apps need not be registered.
 * `scopes`/`roles` are arrays of names; a single space- (or comma-) separated string is accepted too.
 */
import { InvalidInput } from '../platform/json/errors.ts';
import { readBody } from '../platform/json/body.ts';
import { isGuid, readString, typeName, type Json, type JsonObject } from '../platform/json/validate.ts';
import type { Store, User } from '../store/types.ts';
import type { DevIssuer, IssuedToken } from './devIssuer.ts';

export interface MintDeps {
  issuer: DevIssuer;
  store: Store;
  /** The audience stamped on tokens: the cloud's Graph root. */
  audience: string;
  defaultTenantId: string;
  defaultAppId: string;
}

export const DEFAULT_DELEGATED_SCOPES = ['Presence.Read.All', 'Presence.ReadWrite'];
export const DEFAULT_APP_ROLES = ['Presence.ReadWrite.All'];
export const MIN_EXPIRES_IN = 60;
export const MAX_EXPIRES_IN = 86400;
const MAX_NAMES = 100;
/** RFC 6749 scope-token characters (printable ASCII except space, `"` and `\`). */
const NAME = /^[\x21\x23-\x5b\x5d-\x7e]{1,200}$/;

const ALLOWED = ['userId', 'appId', 'tenantId', 'scopes', 'roles', 'expiresIn'] as const;

/** `issuerBase`: the server's address as the caller reached it (./issuerBase.ts). */
export async function mintDevToken(deps: MintDeps, body: unknown, issuerBase?: string): Promise<IssuedToken> {
  const obj = readBody(body, { allowed: ALLOWED, whenAbsent: 'empty-object' });

  const userRef = readString(obj, 'userId', '');
  const appId = readGuid(obj, 'appId') ?? deps.defaultAppId.toLowerCase();
  const tenantId = readGuid(obj, 'tenantId');
  const scopes = readNames(obj, 'scopes');
  const roles = readNames(obj, 'roles');
  const expiresIn = readExpiresIn(obj);

  if (userRef === undefined || userRef === null) {
    if (scopes !== undefined) {
      throw new InvalidInput(
        "Property 'scopes' applies only to delegated tokens (with 'userId'); an application token carries 'roles'.",
        'scopes',
      );
    }
    return deps.issuer.issue({
      tenantId: tenantId ?? deps.defaultTenantId.toLowerCase(),
      userId: null,
      appId,
      roles: roles ?? DEFAULT_APP_ROLES,
      expiresIn,
      audience: deps.audience,
      ...(issuerBase !== undefined ? { issuerBase } : {}),
    });
  }

  const user = await findUser(deps, userRef, tenantId);
  return deps.issuer.issue({
    tenantId: user.tenantId,
    userId: user.id,
    appId,
    scopes: scopes ?? DEFAULT_DELEGATED_SCOPES,
    ...(roles !== undefined ? { roles } : {}),
    expiresIn,
    audience: deps.audience,
    upn: user.userPrincipalName,
    name: user.displayName,
    ...(issuerBase !== undefined ? { issuerBase } : {}),
  });
}

function readGuid(obj: JsonObject, key: 'appId' | 'tenantId'): string | undefined {
  const value = readString(obj, key, '');
  if (value === undefined || value === null) return undefined;
  const shown = value.slice(0, 100);
  if (!isGuid(value)) {
    const what = key === 'appId' ? 'an application (client) id' : 'a tenant id';
    throw new InvalidInput(`Property '${key}' must be a GUID (${what}), not '${shown}'.`, key);
  }
  return value.toLowerCase();
}

function readNames(obj: JsonObject, key: 'scopes' | 'roles'): string[] | undefined {
  const value: Json | undefined = obj[key];
  if (value === undefined || value === null) return undefined;
  let parts: string[];
  if (typeof value === 'string') {
    parts = value.split(/[\s,]+/);
  } else if (Array.isArray(value)) {
    parts = [];
    for (const item of value) {
      if (typeof item !== 'string') throw new InvalidInput(`Property '${key}' must be an array of strings.`, key);
      parts.push(...item.split(/[\s,]+/));
    }
  } else {
    throw new InvalidInput(`Property '${key}' must be an array of strings.`, key);
  }
  const names = [...new Set(parts.filter((p) => p !== ''))];
  if (names.length > MAX_NAMES) throw new InvalidInput(`Property '${key}' has more than ${MAX_NAMES} entries.`, key);
  for (const name of names) {
    if (!NAME.test(name)) throw new InvalidInput(`Property '${key}' has an invalid name '${name.slice(0, 100)}'.`, key);
  }
  return names;
}

function readExpiresIn(obj: JsonObject): number {
  const value = obj.expiresIn;
  if (value === undefined || value === null) return 3600;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < MIN_EXPIRES_IN || value > MAX_EXPIRES_IN) {
    throw new InvalidInput(
      `Property 'expiresIn' must be a whole number of seconds from ${MIN_EXPIRES_IN} to ${MAX_EXPIRES_IN}, not ${typeof value === 'number' ? value : typeName(value)}.`,
      'expiresIn',
    );
  }
  return value;
}

/** The user a `userId` (GUID or UPN) names, in `tenantId` when given. */
async function findUser(deps: MintDeps, ref: string, tenantId: string | undefined): Promise<User> {
  const trimmed = ref.trim();
  if (trimmed === '') throw new InvalidInput("Property 'userId' must be a user's object id (GUID) or userPrincipalName, not empty.", 'userId');
  const shown = trimmed.slice(0, 200);
  const where = tenantId ?? deps.defaultTenantId.toLowerCase();
  const notFound = (): InvalidInput =>
    new InvalidInput(
      `No user '${shown}' ${tenantId === undefined ? 'in any tenant' : `in tenant '${where}'`}. ` +
        `Create one with POST /_presently/tenants/${where}/users.`,
      'userId',
    );

  if (isGuid(trimmed)) {
    const id = trimmed.toLowerCase();
    const user = await deps.store.getUser(where, id);
    if (user) return user;
    if (tenantId === undefined) {
      // No tenant given: the user may live in a tenant other than the default one.
      for (const tenant of await deps.store.listTenants()) {
        if (tenant.id.toLowerCase() === where) continue;
        const other = await deps.store.getUser(tenant.id, id);
        if (other) return other;
      }
    }
    throw notFound();
  }

  const user = await deps.store.findUserByUpn(trimmed);
  if (!user) throw notFound();
  if (tenantId !== undefined && user.tenantId.toLowerCase() !== tenantId) {
    throw new InvalidInput(`User '${shown}' belongs to tenant '${user.tenantId}', not '${tenantId}'.`, 'tenantId');
  }
  return user;
}
