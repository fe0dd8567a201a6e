/**
 * `presently serve`: starts the server, prints the ready line, and drains and stops on SIGINT/SIGTERM (./shutdown.ts).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import v8 from 'node:v8';
import type { Command } from 'commander';
import { newDevSigningKey } from '../auth/devIssuer.ts';
import type { Config } from '../config/config.ts';
import { devOnNetworkWarning } from '../config/exposure.ts';
import { VERSION } from '../config/version.ts';
import type { Presently } from '../server.ts';
import { keepTickShape } from '../platform/tickShape.ts';
import { DB_FILE } from '../store/files.ts';
import { addServeOptions, commandLineOptions } from './flags.ts';
import { invocation } from './hints.ts';
import { stopOnSignals } from './shutdown.ts';
import { UsageError, toConfig } from './options.ts';
import { DEFAULT_URL } from './token.ts';

export function registerServeCommand(program: Command): void {
  const serve = addServeOptions(program.command('serve').description('start the Presently server'));
  serve.action(async (_options: Record<string, unknown>, command: Command) => {
    let config;
    try {
      config = toConfig(commandLineOptions(command));
    } catch (err) {
      if (err instanceof UsageError) {
        process.stderr.write(`presently serve: ${err.message}\n`);
        process.exit(2);
      }
      throw err;
    }
    const exposed = devOnNetworkWarning(config);
    if (exposed !== null) process.stderr.write(`WARNING: ${exposed}\n`);
    const started = performance.now();
    let presently;
    try {
      presently = await startServer(config);
    } catch (err) {
      process.stderr.write(`presently serve: could not start: ${(err as Error).message}\n`);
      process.exit(1);
    }
    stopOnSignals(() => presently.close());
    let url: string;
    try {
      url = await presently.listen();
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      const why = e.code === 'EADDRINUSE' ? `port ${config.port} on ${config.host} is already in use (try --port 0)` : e.message;
      process.stderr.write(`presently serve: could not listen: ${why}\n`);
      await presently.close();
      process.exit(1);
    }
    const info = startupLines(config, presently, url, started);
    process.stderr.write(`${info.join('\n')}\n`);
    process.stdout.write(`Presently listening on ${url}\n`);

  });
}

/** What the server prints on stderr once it listens. */
function startupLines(config: Config, presently: Presently, url: string, started: number): string[] {
  const info = [
    `  Presently ${VERSION}, node ${process.version}`,
    `  store: ${describeStore(config)}; auth: ${config.auth}; clock: ${config.clock}; cloud: ${config.cloud}`,
  ];
  for (const notice of presently.store.notices ?? []) info.push(`  ${notice}`);
  if (presently.tls) info.push(`  TLS certificate: ${presently.tls.certPath}${presently.tls.created ? ' (new, self-signed for localhost)' : ''}`);
  if (config.auth === 'oidc') {
    const ready = presently.oidc?.readiness();
    info.push(`  issuers: ${presently.oidc?.issuers.join(', ')}; ${ready?.ready ? 'signing keys loaded' : `NOT READY: ${ready?.reason ?? ''} (retried with back-off; see /_presently/ready)`}`);
    info.push(`  audiences: ${presently.oidc?.audiences.join(', ')}${config.tenants.length > 0 ? `; tenants: ${config.tenants.join(', ')}` : ''}`);
  }
  if (config.auth !== 'dev' && config.adminKey === null) info.push('  admin API: off (no --admin-key)');
  if (config.auth === 'dev') info.push(`  get a token: ${tokenHint(url)}`);
  info.push(`  dashboard: ${dashboardUrl(url)}${config.auth === 'dev' ? '' : config.adminKey === null ? ' (its data needs --admin-key)' : ' (asks for the admin key)'}`);
  info.push(`  started in ${Math.round(performance.now() - started)} ms`);
  return info;
}

/**
 * The token command that works against this server as it was started (./hints.ts: through npm from a checkout, npx,
 * or the installed `presently`); with `--url` unless the server is at the command's default, http://127.0.0.1:8080.
 */
export function tokenHint(url: string, env: NodeJS.ProcessEnv = process.env): string {
  return `${invocation(env).run} token --user AdeleV@contoso.example${url === DEFAULT_URL ? '' : ` --url ${url}`}`;
}

/**
 * Builds the server for `serve` and `exec`. Its modules are imported only now (the other commands never load them),
 * and a fresh store's dev signing key (100–300 ms to generate, on a thread of its own) is made meanwhile.
 */
export async function startServer(config: Config): Promise<Presently> {
  // [P: d-no-pretenuring] A long request (a bulk creation) must not make V8 allocate every later request's objects in
  // the old generation: after a million users created in bulk, reads ran at two thirds of their speed.
  v8.setFlagsFromString('--no-allocation-site-pretenuring');
  // [P: d-keep-tick-shape] Every request queues several process.nextTick objects; their shape must outlive full
  // collections, or nextTick goes through V8's runtime for good after a few of them.
  keepTickShape();
  const devSigningKey = needsNewKey(config) ? newDevSigningKey() : undefined;
  devSigningKey?.catch(() => {});
  const { buildPresently } = await import('../server.ts');
  return buildPresently(config, devSigningKey ? { devSigningKey } : {});
}

/** Dev auth on a store that cannot hold a signing key yet: memory, or a data folder without a database. */
function needsNewKey(config: Config): boolean {
  if (config.auth !== 'dev') return false;
  if (config.store === 'memory') return true;
  return config.store === 'sqlite' && !existsSync(path.join(config.dataDir, DB_FILE));
}

/** The dashboard's address (docs/operations/dashboard.md); a server on every interface is opened as localhost. */
export function dashboardUrl(url: string): string {
  const u = new URL(url);
  if (u.hostname === '0.0.0.0' || u.hostname === '[::]') u.hostname = 'localhost';
  return `${u.origin}/_presently/ui`;
}

function describeStore(config: Config): string {
  if (config.store === 'sqlite') return `sqlite in ${config.dataDir}`;
  if (config.store === 'redis') return `redis at ${config.redisUrl.replace(/\/\/[^@/]*@/, '//***@')}, prefix '${config.redisPrefix}'`;
  return 'memory (nothing is kept)';
}
