/**
 * `presently export`, `presently import` and `presently reset`: the state controls of a running server
 * (docs/operations/state.md) from the command line.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { addClientOptions, call, CommandFailure, EXIT, run, type ClientOptions } from './client.ts';

const counts = (json: unknown) => {
  const c = json as { tenants: number; users: number; apps: number; subscriptions: number };
  return `${c.tenants} tenant(s), ${c.users} user(s), ${c.apps} app(s), ${c.subscriptions} subscription(s)`;
};

function readInput(file: string): string {
  try {
    return readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (err) {
    throw new CommandFailure(`cannot read ${file === '-' ? 'standard input' : file}: ${(err as Error).message}`);
  }
}

export function registerStateCommands(program: Command): void {
  addClientOptions(program.command('export')
    .description('write the server\'s whole state (tenants, users, presence, mailbox settings, apps, subscriptions) as one JSON document; up to 100,000 users (back up the store for more: docs/operations/storage.md#backups)')
    .option('-o, --out <file>', 'write to this file instead of standard output'))
    .action((opts: ClientOptions & { out?: string }) => run('export', async () => {
      const answer = await call(opts, 'GET', '/_presently/export');
      const text = `${JSON.stringify(answer.json, null, 2)}\n`;
      if (opts.out) writeFileSync(opts.out, text);
      else process.stdout.write(text);
    }));

  addClientOptions(program.command('import')
    .description('replace the server\'s whole state with a document written by `presently export` (checked whole first: nothing changes if any of it is wrong)')
    .argument('<file>', 'the document; - reads standard input'))
    .action((file: string, opts: ClientOptions) => run('import', async () => {
      const text = readInput(file);
      try {
        JSON.parse(text);
      } catch (err) {
        throw new CommandFailure(`${file} is not JSON: ${(err as Error).message}`, EXIT.usage);
      }
      const answer = await call(opts, 'POST', '/_presently/import', text);
      process.stderr.write(`imported ${counts(answer.json)}\n`);
    }));

  addClientOptions(program.command('reset')
    .description('put the server back to its seed: the demo tenant and the --seed file; everything else is removed'))
    .action((opts: ClientOptions) => run('reset', async () => {
      const answer = await call(opts, 'POST', '/_presently/reset');
      process.stderr.write(`reset to ${counts(answer.json)}\n`);
    }));
}
