/**
 * How exposed a configuration is [P: d-admin-key]: `--auth dev` lets anyone who can reach the port mint tokens for
 * any user of any tenant, which is what a laptop wants and a network must not get. On a loopback `--host` that is
 * only this machine; on any other address Presently warns at start (and in /_presently/info), or refuses to start
 * with `--dev-on-network refuse`.
 */
import type { Config } from './config.ts';

/** Loopback addresses and `localhost`. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  return h === 'localhost' || h === '::1' || /^127(?:\.\d{1,3}){3}$/.test(h) || h === '::ffff:127.0.0.1';
}

/** The warning for dev auth on a network address, or null. */
export function devOnNetworkWarning(config: Pick<Config, 'auth' | 'host'>): string | null {
  if (config.auth !== 'dev' || isLoopbackHost(config.host)) return null;
  return `--auth dev on --host ${config.host}: anyone who can reach this port can mint tokens for any user of any tenant ` +
    '(POST /_presently/tokens) and use the admin API. Use --auth oidc for a shared server, or add --dev-on-network refuse ' +
    '(PRESENTLY_DEV_ON_NETWORK=refuse) to make this a refusal to start.';
}
