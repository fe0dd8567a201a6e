/**
 * `presently users list | add <upn> | remove <upn|id>`: the users of a tenant, through the admin API
 * (docs/operations/cli.md#users).
 */
import type { Command } from 'commander';
import { DEMO_TENANT_ID } from '../../directory/seed.ts';
import { call, run } from './client.ts';
import { addPeopleOptions, findUser, listTenants, listUsers, type PeopleOptions } from './people.ts';

export function registerUsersCommands(program: Command): void {
  const users = program.command('users').description('list, add and remove users');
  addPeopleOptions(users.command('list')
    .description('list users: of --tenant, or of every tenant')
    .option('--json', 'print JSON'))
    .action((opts: PeopleOptions & { json?: boolean }) => run('users list', async () => {
      const all = [];
      for (const tenantId of await listTenants(opts)) all.push(...await listUsers(opts, tenantId));
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(all, null, 2)}\n`);
        return;
      }
      const width = Math.max(4, ...all.map((u) => u.userPrincipalName.length));
      process.stdout.write(`${'USER'.padEnd(width)}  ID                                    TENANT                                NAME\n`);
      for (const u of all) process.stdout.write(`${u.userPrincipalName.padEnd(width)}  ${u.id}  ${u.tenantId}  ${u.displayName}\n`);
    }));
  addPeopleOptions(users.command('add')
    .description('create a user (or rename one that exists)')
    .argument('<upn>', 'userPrincipalName, name@domain')
    .option('--name <displayName>', 'display name (default: the userPrincipalName)')
    .option('--id <guid>', 'object id (default: a new GUID)'))
    .action((upn: string, opts: PeopleOptions & { name?: string; id?: string }) => run('users add', async () => {
      const tenantId = opts.tenant ?? DEMO_TENANT_ID;
      const body = { userPrincipalName: upn, ...(opts.name ? { displayName: opts.name } : {}), ...(opts.id ? { id: opts.id } : {}) };
      const answer = await call(opts, 'POST', `/_presently/tenants/${encodeURIComponent(tenantId)}/users`, body);
      const user = answer.json as { id: string; userPrincipalName: string };
      process.stdout.write(`${answer.status === 201 ? 'added' : 'updated'} ${user.userPrincipalName} (${user.id}) in tenant ${tenantId}\n`);
    }));
  addPeopleOptions(users.command('remove')
    .description('remove a user, their presence, and the subscriptions they made')
    .argument('<user>', 'userPrincipalName or object id'))
    .action((name: string, opts: PeopleOptions) => run('users remove', async () => {
      const user = await findUser(opts, name);
      await call(opts, 'DELETE', `/_presently/tenants/${user.tenantId}/users/${user.id}`);
      process.stdout.write(`removed ${user.userPrincipalName} (${user.id})\n`);
    }));
}
