/**
 * `presently status set "In a meeting" [--expires 2h | --until 17:00] [--time-zone "Pacific Standard Time"] --user U`
 * and `presently status clear --user U`: a user's status message, through Graph's setStatusMessage with the user's
 * own (dev) token (docs/operations/cli.md#status).
 */
import { Option, type Command } from 'commander';
import { systemClock } from '../../platform/clock/system.ts';
import { call, CommandFailure, EXIT, run } from './client.ts';
import { addPeopleOptions, findUser, tokenFor, type PeopleOptions } from './people.ts';
import { expiryAt, expiryIn, parseDuration } from './when.ts';

interface StatusOptions extends PeopleOptions {
  user: string;
  expires?: string;
  until?: string;
  timeZone?: string;
}

const userOption = () => new Option('-u, --user <upn|id>', 'whose status: userPrincipalName or object id').env('PRESENTLY_USER').makeOptionMandatory();

async function setStatus(opts: StatusOptions, statusMessage: unknown): Promise<Record<string, unknown>> {
  const user = await findUser(opts, opts.user);
  const token = await tokenFor(opts, user);
  await call(opts, 'POST', '/v1.0/me/presence/setStatusMessage', { statusMessage }, token);
  return (await call(opts, 'GET', '/v1.0/me/presence', undefined, token)).json as Record<string, unknown>;
}

export function registerStatusCommands(program: Command): void {
  const status = program.command('status').description('set or clear a user\'s status message');
  addPeopleOptions(status.command('set')
    .description('set the status message (Graph\'s setStatusMessage), optionally expiring')
    .argument('<message>', 'the text')
    .addOption(userOption())
    .addOption(new Option('--expires <duration>', 'expire after this long: 30m, 2h, 1h30m, 1d or PT2H').conflicts('until'))
    .addOption(new Option('--until <time>', 'expire at this time: 17:00 (the next one) or 2026-12-01T09:00'))
    .addOption(new Option('--time-zone <zone>', 'zone of --until and of the expiry shown (Windows or IANA name; default: this computer\'s for --until, UTC for --expires)')))
    .action((message: string, opts: StatusOptions) => run('status set', async () => {
      if (message.trim() === '') throw new CommandFailure('the message is empty: use `presently status clear` to clear it.', EXIT.usage);
      const now = systemClock().now();
      const expiry = opts.expires !== undefined ? expiryIn(parseDuration(opts.expires), now, opts.timeZone)
        : opts.until !== undefined ? expiryAt(opts.until, now, opts.timeZone) : null;
      const presence = await setStatus(opts, { message: { content: message, contentType: 'text' }, ...(expiry ? { expiryDateTime: expiry } : {}) });
      const shown = expiry ? ` until ${expiry.dateTime.replace('T', ' ')} (${expiry.timeZone})` : '';
      process.stdout.write(`${opts.user}: "${message}"${shown}; ${String(presence.availability)}, ${String(presence.activity)}\n`);
    }));
  addPeopleOptions(status.command('clear')
    .description('clear the status message')
    .addOption(userOption()))
    .action((opts: StatusOptions) => run('status clear', async () => {
      await setStatus(opts, { message: { content: '', contentType: 'text' } });
      process.stdout.write(`${opts.user}: status message cleared\n`);
    }));
}
