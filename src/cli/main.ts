/**
 * The `presently` command line: `serve` and `token`.
 */
import { Command } from 'commander';
import { VERSION } from '../server.ts';
import { registerServeCommand } from './serve.ts';
import { registerTokenCommand } from './token.ts';

const program = new Command('presently')
  .description('A presence server that speaks the Microsoft Graph presence API.')
  .version(VERSION);
registerServeCommand(program);
registerTokenCommand(program);
await program.parseAsync(process.argv);
