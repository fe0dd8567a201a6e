/**
 * `presently presence get <user…>` and `presently presence watch [user…]` (docs/operations/cli.md#presence). Watch
 * subscribes to change notifications (or polls, --poll) and shows a table that is redrawn on a terminal, or one line
 * per change otherwise (a pipe, a log).
 */
import { Option, type Command } from 'commander';
import { systemClock } from '../../platform/clock/system.ts';
import { call, CommandFailure, EXIT, run } from './client.ts';
import { addPeopleOptions, findUser, listTenants, listUsers, tokenFor, type FoundUser, type PeopleOptions } from './people.ts';
import { parseDuration } from './when.ts';
import { subscribeToChanges, type Notifications } from './watchNotifications.ts';

interface Presence {
  id: string;
  availability: string;
  activity: string;
  statusMessage: { message: { content: string } } | null;
}

const COLOURS: Record<string, string> = {
  Available: '32', AvailableIdle: '32', Busy: '31', BusyIdle: '31', DoNotDisturb: '31;1', Away: '33', BeRightBack: '33', Offline: '90',
};

/** Colour only on a terminal, and never with NO_COLOR set. */
const useColour = () => process.stdout.isTTY === true && !process.env.NO_COLOR;
const paint = (availability: string, text: string) => (useColour() && COLOURS[availability] ? `\x1b[${COLOURS[availability]}m${text}\x1b[0m` : text);
const messageOf = (p: Presence) => p.statusMessage?.message.content ?? '';

function table(users: FoundUser[], presences: Map<string, Presence>): string {
  const rows = users.map((u) => {
    const p = presences.get(u.id);
    return [u.userPrincipalName, p?.availability ?? '?', p?.activity ?? '?', p ? messageOf(p) : ''];
  });
  const header = ['USER', 'AVAILABILITY', 'ACTIVITY', 'MESSAGE'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(header), ...rows.map((r) => paint(r[1]!, line(r)))].join('\n');
}

/** Presences of `users`, read with one app token per tenant. */
async function readAll(opts: PeopleOptions, users: FoundUser[], tokens: Map<string, string>): Promise<Map<string, Presence>> {
  const result = new Map<string, Presence>();
  for (const tenantId of new Set(users.map((u) => u.tenantId))) {
    let token = tokens.get(tenantId);
    if (!token) tokens.set(tenantId, (token = await tokenFor({ ...opts, tenant: tenantId })));
    const ids = users.filter((u) => u.tenantId === tenantId).map((u) => u.id);
    const answer = await call(opts, 'POST', '/v1.0/communications/getPresencesByUserId', { ids }, token);
    for (const p of (answer.json as { value: Presence[] }).value) result.set(p.id, p);
  }
  return result;
}

async function resolveUsers(opts: PeopleOptions, names: string[]): Promise<FoundUser[]> {
  if (names.length > 0) return Promise.all(names.map((n) => findUser(opts, n)));
  const all: FoundUser[] = [];
  for (const tenantId of await listTenants(opts)) all.push(...await listUsers(opts, tenantId));
  return all;
}

/** Prints the table (a terminal) or the lines of what changed (anything else). */
function show(users: FoundUser[], presences: Map<string, Presence>, seen: Map<string, string>, how: string): void {
  if (process.stdout.isTTY) {
    process.stdout.write(`\x1b[H\x1b[2J${table(users, presences)}\n\n(${how}; Ctrl-C to stop)\n`);
    return;
  }
  for (const u of users) {
    const p = presences.get(u.id);
    const shown = p ? `${p.availability} ${p.activity} "${messageOf(p)}"` : 'gone';
    if (seen.get(u.id) !== shown) process.stdout.write(`${new Date(systemClock().now()).toISOString()} ${u.userPrincipalName} ${shown}\n`);
    seen.set(u.id, shown);
  }
}

/**
 * Change notifications to a local receiver (./watchNotifications.ts) redraw at once; without them (--poll, or a
 * server that cannot reach this machine) it reads every --interval. With notifications it still reads every
 * --interval × 30 (a minute by default), so a lost notification is made up for.
 */
async function watch(opts: PeopleOptions & { interval: string; poll?: boolean }, names: string[]): Promise<void> {
  const every = parseDuration(opts.interval);
  if (every < 200) throw new CommandFailure('--interval must be at least 200ms.', EXIT.usage);
  const users = await resolveUsers(opts, names);
  if (users.length === 0) throw new CommandFailure('no users to watch.');
  const tokens = new Map<string, string>();
  const seen = new Map<string, string>();
  let wake: () => void = () => {};
  let notifications: Notifications | null = null;
  if (!opts.poll) {
    notifications = await subscribeToChanges(opts, users, () => wake()).catch((err: Error) => {
      process.stderr.write(`presently presence watch: no change notifications (${err.message}); reading every ${opts.interval}\n`);
      return null;
    });
  }
  const how = notifications ? 'live, from change notifications' : `read every ${opts.interval}`;
  process.once('SIGINT', () => void (notifications?.stop() ?? Promise.resolve()).finally(() => process.exit(EXIT.ok)));
  for (;;) {
    show(users, await readAll(opts, users, tokens), seen, how);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, notifications ? every * 30 : every);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}

export function registerPresenceCommands(program: Command): void {
  const presence = program.command('presence').description('read presence: once, or live');
  addPeopleOptions(presence.command('get')
    .description('show users\' presence (availability, activity, status message)')
    .argument('<user...>', 'userPrincipalName or object id')
    .option('--json', 'print Graph\'s JSON'))
    .action((names: string[], opts: PeopleOptions & { json?: boolean }) => run('presence get', async () => {
      const users = await resolveUsers(opts, names);
      const presences = await readAll(opts, users, new Map());
      process.stdout.write(opts.json ? `${JSON.stringify(users.map((u) => presences.get(u.id)), null, 2)}\n` : `${table(users, presences)}\n`);
    }));
  addPeopleOptions(presence.command('watch')
    .description('a live table of users\' presence, updated as it changes (all users of the tenants when none are named)')
    .argument('[user...]', 'userPrincipalName or object id')
    .addOption(new Option('--interval <duration>', 'with --poll (or when notifications cannot reach this machine): how often to read, 2s, 500ms (at least 200ms)').default('2s'))
    .option('--poll', 'read every --interval instead of subscribing to change notifications'))
    .action((names: string[], opts: PeopleOptions & { interval: string; poll?: boolean }) => run('presence watch', () => watch(opts, names)));
}
