/**
 * The `presently serve` flags (./options.ts SERVE_FLAGS) declared through commander's option API, so `--help` shows
 * each flag's default, its choices and its environment variable. Commander only describes and checks them here: the
 * values come from toConfig (./options.ts), which reads the flags given on the command line and the PRESENTLY_*
 * variables itself and names the variable in its error when a bad value came from one.
 */
import { Option, type Command } from 'commander';
import { CLOUDS } from '../config/clouds.ts';
import { DEFAULTS, type Config } from '../config/config.ts';
import { SERVE_FLAGS, envName } from './options.ts';

/** Flags with a fixed set of values. */
const CHOICES: Partial<Record<keyof Config, readonly string[]>> = {
  store: ['sqlite', 'memory', 'redis'],
  auth: ['dev', 'oidc'],
  devOnNetwork: ['warn', 'refuse'],
  clock: ['system', 'manual'],
  cloud: Object.keys(CLOUDS),
  logLevel: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
  logFormat: ['json', 'pretty'],
  throttle: ['off', 'graph'],
  webhookPolicy: ['development', 'production'],
};

/** A default worth showing: not null, false, or an empty list. */
function shown(value: unknown): string | undefined {
  if (value === null || value === false || value === undefined || (Array.isArray(value) && value.length === 0)) return undefined;
  return String(value);
}

/** Adds every serve flag to `command`; `defaults` overrides what --help shows as defaults (exec's memory store). */
export function addServeOptions(command: Command, defaults: Partial<Config> = {}): Command {
  const all = { ...DEFAULTS, ...defaults };
  for (const spec of SERVE_FLAGS) {
    const option = new Option(spec.arg ? `${spec.flag} ${spec.arg}` : spec.flag, spec.help).env(envName(spec.flag));
    const choices = CHOICES[spec.key];
    if (choices) option.choices(choices);
    // A repeatable flag collects every value given (toConfig joins them).
    if (spec.repeatable) option.argParser((value: string, previous: unknown) => [...(Array.isArray(previous) ? previous : []), value]);
    const value = shown(all[spec.key]);
    // Shown by --help; toConfig never sees it (commandLineOptions passes on only what the command line gave).
    if (value !== undefined) option.default(value);
    command.addOption(option);
  }
  return command;
}

/** The options given on the command line itself (not from the environment or a default): what toConfig takes. */
export function commandLineOptions(command: Command): Record<string, unknown> {
  const options = command.opts();
  return Object.fromEntries(Object.keys(options).filter((k) => command.getOptionValueSource(k) === 'cli').map((k) => [k, options[k]]));
}
