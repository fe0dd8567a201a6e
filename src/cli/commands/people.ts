/**
 * What the commands for people (status, presence, users) share: finding a user by userPrincipalName or id through
 * the admin API, and getting a token to act with — `--token` (PRESENTLY_TOKEN) when given, else a dev token minted
 * by the server (dev auth mode).
 */
import { Option, type Command } from 'commander';
import { addClientOptions, call, CommandFailure, type ClientOptions } from './client.ts';

export interface PeopleOptions extends ClientOptions {
  token?: string;
  tenant?: string;
}

export interface FoundUser {
  tenantId: string;
  id: string;
  displayName: string;
  userPrincipalName: string;
}

/** `--url`, `--admin-key`, `--token` and `--tenant`. */
export function addPeopleOptions(command: Command): Command {
  return addClientOptions(command)
    .addOption(new Option('--token <jwt>', 'act with this token instead of a dev token minted by the server').env('PRESENTLY_TOKEN'))
    .addOption(new Option('--tenant <tid>', 'the tenant (default: the one the user is found in; for a new user, the demo tenant)').env('PRESENTLY_TENANT_ID'));
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export async function listTenants(opts: PeopleOptions): Promise<string[]> {
  if (opts.tenant) return [opts.tenant.toLowerCase()];
  return ((await call(opts, 'GET', '/_presently/tenants')).json as { value: Array<{ id: string }> }).value.map((t) => t.id);
}

/** Every user of the tenant, following the list's pages. */
export async function listUsers(opts: PeopleOptions, tenantId: string): Promise<FoundUser[]> {
  const users: FoundUser[] = [];
  let path: string | undefined = `/_presently/tenants/${encodeURIComponent(tenantId)}/users`;
  while (path !== undefined) {
    const page = (await call(opts, 'GET', path)).json as { value: FoundUser[]; '@odata.nextLink'?: string };
    users.push(...page.value);
    path = page['@odata.nextLink'];
  }
  return users;
}

/** The user named by UPN (any case) or object id, in --tenant or any tenant; a CommandFailure naming it otherwise. */
export async function findUser(opts: PeopleOptions, name: string): Promise<FoundUser> {
  const byId = GUID.test(name);
  for (const tenantId of await listTenants(opts)) {
    const found = (await listUsers(opts, tenantId)).find((u) => (byId ? u.id === name.toLowerCase() : u.userPrincipalName.toLowerCase() === name.toLowerCase()));
    if (found) return found;
  }
  throw new CommandFailure(`no user '${name}'${opts.tenant ? ` in tenant ${opts.tenant}` : ''} (give a userPrincipalName or an object id; \`presently users list\` shows them).`);
}

/** --token, else a dev token: delegated for `user`, or an application token without one. */
export async function tokenFor(opts: PeopleOptions, user?: FoundUser): Promise<string> {
  if (opts.token) return opts.token;
  const body = user ? { userId: user.id, tenantId: user.tenantId } : opts.tenant ? { tenantId: opts.tenant } : {};
  try {
    return ((await call(opts, 'POST', '/_presently/tokens', body)).json as { access_token: string }).access_token;
  } catch (err) {
    if (err instanceof CommandFailure) throw new CommandFailure(`${err.message} (outside dev auth mode, give a token with --token or PRESENTLY_TOKEN)`);
    throw err;
  }
}
