/**
 * `presently serve`: starts the server, prints the ready line, and drains and stops on SIGINT/SIGTERM (./shutdown.ts).
 */
import type { Command } from 'commander';
import type { Config } from '../config/config.ts';
import { VERSION, buildPresently } from '../server.ts';
import { invocation } from './hints.ts';
import { stopOnSignals } from './shutdown.ts';
import { SERVE_FLAGS, UsageError, envName, toConfig } from './options.ts';

export function registerServeCommand(program: Command): void {
  const serve = program.command('serve').description('start the Presently server');
  for (const spec of SERVE_FLAGS) {
    serve.option(spec.arg ? `${spec.flag} ${spec.arg}` : spec.flag, `${spec.help} [${envName(spec.flag)}]`);
  }
  serve.action(async (options: Record<string, unknown>) => {
    let config;
    try {
      config = toConfig(options);
    } catch (err) {
      if (err instanceof UsageError) {
        process.stderr.write(`presently serve: ${err.message}\n`);
        process.exit(2);
      }
      throw err;
    }
    const started = performance.now();
    let presently;
    try {
      presently = await buildPresently(config);
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
    const info = [
      `  Presently ${VERSION}, node ${process.version}`,
      `  store: ${describeStore(config)}; auth: ${config.auth}; clock: ${config.clock}; cloud: ${config.cloud}`,
    ];
    if (presently.tls) info.push(`  TLS certificate: ${presently.tls.certPath}${presently.tls.created ? ' (new, self-signed for localhost)' : ''}`);
    if (config.auth === 'dev') info.push(`  get a token: ${invocation().run} token --user AdeleV@contoso.example${url.endsWith(':8080') ? '' : ` --url ${url}`}`);
    info.push(`  started in ${Math.round(performance.now() - started)} ms`);
    process.stderr.write(`${info.join('\n')}\n`);
    process.stdout.write(`Presently listening on ${url}\n`);

  });
}

function describeStore(config: Config): string {
  if (config.store === 'sqlite') return `sqlite in ${config.dataDir}`;
  if (config.store === 'redis') return `redis at ${config.redisUrl.replace(/\/\/[^@/]*@/, '//***@')}, prefix '${config.redisPrefix}'`;
  return 'memory (nothing is kept)';
}
