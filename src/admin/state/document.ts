/**
 * The state document of `GET /_presently/export` and `POST /_presently/import` (docs/operations/state.md): every
 * tenant with its users (each with their presence facts and mailbox settings), the apps, and the subscriptions, with
 * a version. Parsing checks the whole document — every property, every id, unique UPNs, subscriptions of users that
 * are in it — before an import changes anything.
 */
import { mergeOutOfOffice, parseMailboxSettingsPatch, type MailboxSettings } from '../../domain/outOfOffice.ts';
import type { Subscription } from '../../domain/subscription.ts';
import type { OutOfOfficeFact } from '../../domain/types.ts';
import { guid, parseUser } from '../../directory/directory.ts';
import { InvalidInput } from '../../platform/json/errors.ts';
import { readArray, readObject, readString, type JsonObject } from '../../platform/json/validate.ts';
import type { App, User } from '../../store/types.ts';
import { parseFacts, type DocumentFacts } from './facts.ts';
import { parseSubscription } from './subscriptionJson.ts';

/** The version this Presently writes and reads. */
export const STATE_VERSION = 1;

export interface DocumentUser extends Omit<User, 'tenantId'> {
  presence: DocumentFacts;
  mailboxSettings: MailboxSettings;
}

export interface StateDocument {
  version: typeof STATE_VERSION;
  exportedAt?: string;
  tenants: Array<{ id: string; displayName: string; users: DocumentUser[] }>;
  apps: App[];
  subscriptions: Subscription[];
}

/** A user of a parsed document: their out-of-office fact already built from the mailbox settings (so checked). */
export interface ParsedUser extends Omit<User, 'tenantId'> {
  presence: DocumentFacts;
  outOfOffice: OutOfOfficeFact;
}

export interface ParsedState {
  tenants: Array<{ id: string; displayName: string; users: ParsedUser[] }>;
  apps: App[];
  subscriptions: Subscription[];
}

const list = (obj: JsonObject, key: string, path: string) => (obj[key] === undefined ? [] : readArray(obj, key, path));

function unique(seen: Set<string>, key: string, what: string): void {
  if (seen.has(key)) throw new InvalidInput(`${what} appears twice.`);
  seen.add(key);
}

/** Mailbox settings in Graph's shape, read by Graph's PATCH parser; `path` prefixes its messages. */
function outOfOffice(value: unknown, path: string): OutOfOfficeFact {
  try {
    return mergeOutOfOffice(null, value === undefined || value === null ? {} : parseMailboxSettingsPatch(value));
  } catch (err) {
    if (err instanceof InvalidInput) throw new InvalidInput(`${path}: ${err.message}`, path);
    throw err;
  }
}

function parseUsers(tenant: JsonObject, path: string, upns: Set<string>): ParsedUser[] {
  const ids = new Set<string>();
  return list(tenant, 'users', path).map((u, j) => {
    const p = `${path}.users[${j}]`;
    const raw = readObject(u, p, ['id', 'displayName', 'userPrincipalName', 'presence', 'mailboxSettings']);
    const { presence, mailboxSettings, ...names } = raw;
    const user = parseUser(names, p);
    unique(ids, user.id, `User id '${user.id}' (${p})`);
    unique(upns, user.userPrincipalName.toLowerCase(), `The userPrincipalName '${user.userPrincipalName}' (${p})`);
    return { ...user, presence: parseFacts(presence, `${p}.presence`), outOfOffice: outOfOffice(mailboxSettings, `${p}.mailboxSettings`) };
  });
}

function parseSubscriptions(root: JsonObject, tenants: ParsedState['tenants']): Subscription[] {
  const users = new Map(tenants.map((t) => [t.id, new Set(t.users.map((u) => u.id))]));
  const ids = new Set<string>();
  return list(root, 'subscriptions', '').map((v, i) => {
    const path = `subscriptions[${i}]`;
    const sub = parseSubscription(v, path);
    unique(ids, sub.id, `Subscription id '${sub.id}' (${path})`);
    const known = users.get(sub.tenantId);
    if (!known) throw new InvalidInput(`Property '${path}.tenantId': no tenant '${sub.tenantId}' in the document.`, `${path}.tenantId`);
    const missing = sub.userIds.find((id) => !known.has(id));
    if (missing) throw new InvalidInput(`Property '${path}.userIds': no user '${missing}' in tenant '${sub.tenantId}' of the document.`, `${path}.userIds`);
    return sub;
  });
}

/** Checks a whole document; throws InvalidInput naming the first property that is wrong. */
export function parseStateDocument(json: unknown): ParsedState {
  const root = readObject(json, '', ['version', 'exportedAt', 'tenants', 'apps', 'subscriptions']);
  if (root.version !== STATE_VERSION) {
    throw new InvalidInput(`Property 'version' must be ${STATE_VERSION} (the state document version this Presently reads), not ${JSON.stringify(root.version ?? null)}.`, 'version');
  }
  readString(root, 'exportedAt', '');
  const tenantIds = new Set<string>();
  const upns = new Set<string>();
  const tenants = list(root, 'tenants', '').map((t, i) => {
    const path = `tenants[${i}]`;
    const tenant = readObject(t, path, ['id', 'displayName', 'users']);
    const id = guid(readString(tenant, 'id', path, { required: true }), `${path}.id`);
    unique(tenantIds, id, `Tenant id '${id}' (${path})`);
    return { id, displayName: readString(tenant, 'displayName', path) ?? id, users: parseUsers(tenant, path, upns) };
  });
  const appIds = new Set<string>();
  const apps = list(root, 'apps', '').map((a, i) => {
    const path = `apps[${i}]`;
    const app = readObject(a, path, ['id', 'displayName']);
    const id = guid(readString(app, 'id', path, { required: true }), `${path}.id`);
    unique(appIds, id, `App id '${id}' (${path})`);
    return { id, displayName: readString(app, 'displayName', path) ?? id };
  });
  return { tenants, apps, subscriptions: parseSubscriptions(root, tenants) };
}
