/**
 * The `presently` command line: `serve`, `token`, the state controls (`export`, `import`, `reset`, `exec`) and the
 * commands for people (`status`, `presence`, `users`); docs/operations/cli.md.
 */
import { Command } from 'commander';
import { VERSION } from '../config/version.ts';
import { registerServeCommand } from './serve.ts';
import { registerTokenCommand } from './token.ts';
import { registerExecCommand } from './commands/exec.ts';
import { registerStateCommands } from './commands/state.ts';
import { registerPresenceCommands } from './commands/presence.ts';
import { registerStatusCommands } from './commands/status.ts';
import { registerUsersCommands } from './commands/users.ts';

const program = new Command('presently')
  .description('A presence server that speaks the Microsoft Graph presence API.')
  .version(VERSION)
  // One exit-code scheme (docs/operations/cli.md#exit-codes): commander's usage errors exit 2, not 1 (1 is a runtime failure).
  .exitOverride((err) => process.exit(err.exitCode === 1 ? 2 : err.exitCode));
registerServeCommand(program);
registerTokenCommand(program);
registerStateCommands(program);
registerExecCommand(program);
registerStatusCommands(program);
registerPresenceCommands(program);
registerUsersCommands(program);
await program.parseAsync(process.argv);
