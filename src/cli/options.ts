/**
 * Turns `presently serve` flags and PRESENTLY_* environment variables into a Config, with a clear message for every
 * bad value. A flag wins over its environment variable, which wins over the default.
 */
import { CLOUDS, type CloudName } from '../config/clouds.ts';
import { DEFAULTS, type Config } from '../config/config.ts';
import { devOnNetworkWarning } from '../config/exposure.ts';

export class UsageError extends Error {}

export interface FlagSpec {
  key: keyof Config;
  flag: string;
  arg?: string;
  help: string;
  /** The flag may be given several times (its values add up); its environment variable takes a comma-separated list. */
  repeatable?: boolean;
}

export const SERVE_FLAGS: FlagSpec[] = [
  { key: 'port', flag: '--port', arg: '<n>', help: 'port to listen on; 0 picks a free one (printed)' },
  { key: 'host', flag: '--host', arg: '<host>', help: 'address to bind' },
  { key: 'dataDir', flag: '--data', arg: '<dir>', help: 'folder for the database, signing keys and dev certificate' },
  { key: 'store', flag: '--store', arg: '<kind>', help: 'sqlite (durable), memory (keeps nothing) or redis (shared by several nodes)' },
  { key: 'redisUrl', flag: '--redis-url', arg: '<url>', help: 'with --store redis: redis://host:port[/db], or redis://h1:p1,h2:p2,... for a Redis Cluster' },
  { key: 'readCacheUsers', flag: '--read-cache', arg: '<users>', help: 'most users whose presence is kept in memory for reads (a million: about 100 MB, 0.5 GB if each has a status message); 0: none' },
  { key: 'redisPrefix', flag: '--redis-prefix', arg: '<prefix>', help: 'with --store redis: the start of every key, so deployments can share one Redis' },
  { key: 'auth', flag: '--auth', arg: '<mode>', help: 'dev: tokens issued by Presently itself; oidc: tokens of the identity providers named by --issuer' },
  { key: 'issuers', flag: '--issuer', arg: '<url>', repeatable: true, help: 'with --auth oidc: an issuer whose tokens are accepted (repeatable): a URL, a template with {tenantid} such as https://login.microsoftonline.com/{tenantid}/v2.0, or entra (the cloud\'s Entra ID v2 and v1 issuers)' },
  { key: 'audiences', flag: '--audience', arg: '<aud>', repeatable: true, help: 'with --auth oidc: an accepted token audience (repeatable), e.g. api://presently (default: the cloud\'s Graph resource URI and Graph\'s application id)' },
  { key: 'tenants', flag: '--tenants', arg: '<ids>', repeatable: true, help: 'with --auth oidc: comma-separated tenant ids whose tokens are accepted (default: any tenant)' },
  { key: 'adminKey', flag: '--admin-key', arg: '<key>', help: 'outside dev auth mode: the bearer key of the admin API under /_presently (at least 16 characters); without it the admin API is off' },
  { key: 'devOnNetwork', flag: '--dev-on-network', arg: '<mode>', help: 'with --auth dev on a non-loopback --host: warn (default) or refuse to start' },
  { key: 'oidcTimeoutMs', flag: '--oidc-timeout', arg: '<time>', help: 'with --auth oidc: how long one fetch of a discovery document or key set may take (default 5s)' },
  { key: 'keysCooldownMs', flag: '--keys-cooldown', arg: '<time>', help: 'with --auth oidc: a token signed by an unknown key fetches the key set again at most this often (default 30s)' },
  { key: 'keysRefreshMs', flag: '--keys-refresh', arg: '<time>', help: 'with --auth oidc: how often the key sets are fetched again (default 3600s)' },
  { key: 'https', flag: '--https', help: 'serve TLS with a self-signed localhost certificate kept in the data folder' },
  { key: 'certFile', flag: '--cert', arg: '<file>', help: 'TLS certificate (PEM); with --key' },
  { key: 'keyFile', flag: '--key', arg: '<file>', help: 'TLS private key (PEM); with --cert' },
  { key: 'clock', flag: '--clock', arg: '<mode>', help: 'system, or manual: moved by POST /_presently/clock' },
  { key: 'publicUrl', flag: '--public-url', arg: '<url>', help: 'base URL used in @odata.context (default: the request\'s own)' },
  { key: 'cloud', flag: '--cloud', arg: '<name>', help: 'national cloud: global, usgov, dod or china' },
  { key: 'seedFile', flag: '--seed', arg: '<file>', help: 'JSON file of tenants, users and apps to create on start' },
  { key: 'logLevel', flag: '--log-level', arg: '<level>', help: 'fatal, error, warn, info, debug, trace or silent' },
  { key: 'logFormat', flag: '--log-format', arg: '<format>', help: 'json (one object a line, for machines) or pretty (for people)' },
  { key: 'maxStatusLength', flag: '--max-status-length', arg: '<n>', help: 'longest status message, in characters' },
  { key: 'bodyLimit', flag: '--body-limit', arg: '<bytes>', help: 'largest request body' },
  { key: 'throttle', flag: '--throttle', arg: '<mode>', help: 'off, or graph: Graph\'s per-app per-tenant limits, answered 429 with Retry-After' },
  { key: 'throttleWindow', flag: '--throttle-window', arg: '<seconds>', help: 'throttling window (Graph: 30)' },
  { key: 'throttleReadLimit', flag: '--throttle-read-limit', arg: '<n>', help: 'reads (GET presence, getPresencesByUserId) per app per tenant per window (Graph: 1500)' },
  { key: 'throttleLimit', flag: '--throttle-limit', arg: '<n>', help: 'presence requests of any kind per app per tenant per window (Graph: 10000)' },
  { key: 'webhookPolicy', flag: '--webhook-policy', arg: '<mode>', help: 'development (http://localhost receivers allowed; the default with dev auth) or production (https only, no private addresses)' },
  { key: 'webhookAllow', flag: '--webhook-allow', arg: '<hosts>', help: 'comma-separated webhook hosts allowed to resolve to private or loopback addresses (production mode)' },
  { key: 'handshakeTimeoutMs', flag: '--handshake-timeout', arg: '<ms>', help: 'how long a webhook endpoint has to answer the validation handshake (Graph: 10000)' },
  { key: 'headersTimeoutMs', flag: '--headers-timeout', arg: '<ms>', help: 'how long a client has to send a request\'s headers (then 408, connection closed)' },
  { key: 'requestTimeoutMs', flag: '--request-timeout', arg: '<ms>', help: 'how long a client has to send a whole request, headers and body (then 408, connection closed)' },
  { key: 'idleTimeoutMs', flag: '--idle-timeout', arg: '<ms>', help: 'a connection with no traffic for this long is closed' },
  { key: 'keepAliveTimeoutMs', flag: '--keep-alive-timeout', arg: '<ms>', help: 'how long an idle keep-alive connection stays open between requests' },
  { key: 'maxRequestsPerSocket', flag: '--max-requests-per-socket', arg: '<n>', help: 'requests on one keep-alive connection before it is closed; 0: no limit' },
  { key: 'maxConnections', flag: '--max-connections', arg: '<n>', help: 'open connections at most; more are closed at once' },
  { key: 'maxSubscriptionsPerUser', flag: '--max-subscriptions-per-user', arg: '<n>', help: "live presence subscriptions one user may create with one application (default 1, Graph's rule)" },
  { key: 'maxSubscriptionsPerApp', flag: '--max-subscriptions-per-app', arg: '<n>', help: 'most subscriptions one application may have in one tenant (default 1000)' },
  { key: 'maxSubscriptionsPerTenant', flag: '--max-subscriptions-per-tenant', arg: '<n>', help: 'most subscriptions one tenant may have, all applications together (default 10000)' },
  { key: 'presenceStore', flag: '--presence-store', arg: '<where>', help: 'with --store sqlite: table or journal: presence records in memory, written to an append-only journal and snapshots (writes at a million users 1.4-2x as fast as on the table, for more memory); by default where the data folder has them (table in a new one), and a folder whose records are in the other place moves them once' },
  { key: 'webhookTimeoutMs', flag: '--webhook-timeout', arg: '<time>', help: 'how long a webhook endpoint has to answer a notification POST: 3000 (ms) or 3s (default 3s)' },
  { key: 'deliveryLeaseMs', flag: '--delivery-lease', arg: '<time>', help: 'how long a node holds a claimed delivery before another node may send it: 30000 (ms) or 30s (default 30s); longer than --webhook-timeout' },
];

/** `--public-url` → `PRESENTLY_PUBLIC_URL`. */
export function envName(flag: string): string {
  return `PRESENTLY_${flag.replace(/^--/, '').replace(/-/g, '_').toUpperCase()}`;
}

function oneOf<T extends string>(value: string, allowed: readonly T[], flag: string): T {
  if (!(allowed as readonly string[]).includes(value)) throw new UsageError(`${flag} must be one of ${allowed.join(', ')}; got '${value}'.`);
  return value as T;
}

function integer(value: string, flag: string, min: number, max: number): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > max) throw new UsageError(`${flag} must be a whole number from ${min} to ${max}; got '${value}'.`);
  return n;
}

/** `3000` (milliseconds) or `3s` (seconds, may have a fraction: `1.5s`) → milliseconds, from `min` to `max`. */
function duration(value: string, flag: string, min: number, max: number): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s)?$/.exec(value.trim());
  const n = m ? Math.round(Number(m[1]) * (m[2] === 's' ? 1000 : 1)) : NaN;
  if (!m || (m[2] !== 's' && m[1]!.includes('.')) || n < min || n > max) {
    throw new UsageError(`${flag} takes milliseconds (3000) or seconds (3s), from ${min} ms to ${max / 1000} s; got '${value}'.`);
  }
  return n;
}

/** `a.example, [::1]` → `['a.example', '::1']`: host names or IP literals, no scheme, port or path. */
function hostList(value: string, flag: string): string[] {
  const hosts = value.split(',').map((h) => h.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '')).filter((h) => h !== '');
  for (const host of hosts) {
    if (!/^[a-z0-9.:_-]+$/.test(host)) {
      throw new UsageError(`${flag} takes host names separated by commas (no scheme, port or path); got '${host}'.`);
    }
  }
  return hosts;
}

/** `a, b,,c` → `['a', 'b', 'c']`. */
function list(value: string): string[] {
  return [...new Set(value.split(',').map((v) => v.trim()).filter((v) => v !== ''))];
}

/** Issuer URLs (http or https; `{tenantid}` allowed) or `entra`. */
function issuerList(value: string, flag: string): string[] {
  const issuers = list(value);
  for (const issuer of issuers) {
    if (issuer.toLowerCase() !== 'entra' && !/^https?:\/\/[^/\s]+/.test(issuer)) {
      throw new UsageError(`${flag} takes an issuer URL such as https://login.microsoftonline.com/{tenantid}/v2.0, or entra; got '${issuer}'.`);
    }
  }
  return issuers;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function tenantList(value: string, flag: string): string[] {
  const tenants = list(value).map((t) => t.toLowerCase());
  for (const tenant of tenants) {
    if (!GUID.test(tenant)) throw new UsageError(`${flag} takes tenant ids (GUIDs) separated by commas; got '${tenant}'.`);
  }
  return tenants;
}

/** At least 16 characters: the key is the only thing between the network and the admin API. */
function adminKey(value: string, flag: string): string {
  if (value.length < 16 || /\s/.test(value)) {
    throw new UsageError(`${flag} must be at least 16 characters without spaces (e.g. from: openssl rand -hex 32).`);
  }
  return value;
}

/**
 * A flag's value from the command line (repeated values joined with commas), else from its PRESENTLY_* variable, and
 * the name to report a bad value against: the variable when it came from there, which is what the user has to fix.
 */
function givenValue(spec: FlagSpec, options: Record<string, unknown>, env: NodeJS.ProcessEnv): { value: string; flag: string } | null {
  const optName = spec.flag.replace(/^--/, '').replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
  let raw = options[optName];
  if (Array.isArray(raw)) raw = raw.length === 0 ? undefined : raw.join(',');
  if (raw === undefined) raw = env[envName(spec.flag)];
  if (raw === undefined || raw === '') return null;
  return { value: String(raw), flag: options[optName] === undefined ? `${envName(spec.flag)} (environment)` : spec.flag };
}

/** Builds the Config from commander's parsed options (camelCase of the flags) and the environment. */
export function toConfig(options: Record<string, unknown>, env: NodeJS.ProcessEnv = process.env): Config {
  const config: Config = { ...DEFAULTS };
  for (const spec of SERVE_FLAGS) {
    const given = givenValue(spec, options, env);
    if (given === null) continue;
    const { value, flag } = given;
    if (authSetting(config, spec.key, value, flag)) continue;
    switch (spec.key) {
      case 'port': config.port = integer(value, flag, 0, 65535); break;
      case 'host': config.host = value; break;
      case 'dataDir': config.dataDir = value; break;
      case 'store': config.store = oneOf(value, ['sqlite', 'memory', 'redis'] as const, flag); break;
      case 'readCacheUsers': config.readCacheUsers = integer(value, flag, 0, 100_000_000); break;
      case 'redisUrl':
        if (!/^rediss?:\/\/[^/]+/.test(value)) throw new UsageError(`${flag} must be a redis:// URL such as redis://127.0.0.1:6379; got '${value}'.`);
        config.redisUrl = value;
        break;
      case 'redisPrefix':
        if (/[{}]/.test(value)) throw new UsageError(`${flag} must not contain '{' or '}'; got '${value}'.`);
        config.redisPrefix = value;
        break;
      case 'https': config.https = ['1', 'true', 'yes', 'on'].includes(value.toLowerCase()); break;
      case 'certFile': config.certFile = value; break;
      case 'keyFile': config.keyFile = value; break;
      case 'clock': config.clock = oneOf(value, ['system', 'manual'] as const, flag); break;
      case 'publicUrl':
        if (!/^https?:\/\/[^/]+/.test(value)) throw new UsageError(`${flag} must be an http(s) URL such as https://presence.example.com; got '${value}'.`);
        config.publicUrl = value.replace(/\/+$/, '');
        break;
      case 'cloud': config.cloud = oneOf(value, Object.keys(CLOUDS) as CloudName[], flag); break;
      case 'seedFile': config.seedFile = value; break;
      case 'logLevel': config.logLevel = oneOf(value, ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, flag); break;
      case 'logFormat': config.logFormat = oneOf(value, ['json', 'pretty'] as const, flag); break;
      case 'maxStatusLength': config.maxStatusLength = integer(value, flag, 1, 100_000); break;
      case 'bodyLimit': config.bodyLimit = integer(value, flag, 1024, 100 * 1024 * 1024); break;
      case 'throttle': config.throttle = oneOf(value, ['off', 'graph'] as const, flag); break;
      case 'throttleWindow': config.throttleWindow = integer(value, flag, 1, 86_400); break;
      case 'throttleReadLimit': config.throttleReadLimit = integer(value, flag, 1, 100_000_000); break;
      case 'throttleLimit': config.throttleLimit = integer(value, flag, 1, 100_000_000); break;
      case 'webhookPolicy': config.webhookPolicy = oneOf(value, ['development', 'production'] as const, flag); break;
      case 'webhookAllow': config.webhookAllow = hostList(value, flag); break;
      case 'handshakeTimeoutMs': config.handshakeTimeoutMs = integer(value, flag, 100, 60_000); break;
      case 'headersTimeoutMs': config.headersTimeoutMs = integer(value, flag, 100, 600_000); break;
      case 'requestTimeoutMs': config.requestTimeoutMs = integer(value, flag, 100, 3_600_000); break;
      case 'idleTimeoutMs': config.idleTimeoutMs = integer(value, flag, 100, 3_600_000); break;
      case 'keepAliveTimeoutMs': config.keepAliveTimeoutMs = integer(value, flag, 100, 3_600_000); break;
      case 'maxRequestsPerSocket': config.maxRequestsPerSocket = integer(value, flag, 0, 100_000_000); break;
      case 'maxConnections': config.maxConnections = integer(value, flag, 1, 1_000_000); break;
      case 'maxSubscriptionsPerUser': config.maxSubscriptionsPerUser = integer(value, flag, 1, 1_000_000); break;
      case 'maxSubscriptionsPerApp': config.maxSubscriptionsPerApp = integer(value, flag, 1, 1_000_000); break;
      case 'maxSubscriptionsPerTenant': config.maxSubscriptionsPerTenant = integer(value, flag, 1, 10_000_000); break;
      case 'presenceStore': config.presenceStore = oneOf(value, ['table', 'journal'] as const, flag); break;
      case 'webhookTimeoutMs': config.webhookTimeoutMs = duration(value, flag, 100, 60_000); break;
      case 'deliveryLeaseMs': config.deliveryLeaseMs = duration(value, flag, 1000, 3_600_000); break;
    }
  }
  checkTogether(config);
  return config;
}

/** The flags of auth and the admin API (docs/operations/auth.md); false for any other key. */
function authSetting(config: Config, key: keyof Config, value: string, flag: string): boolean {
  switch (key) {
    case 'auth': config.auth = oneOf(value, ['dev', 'oidc'] as const, flag); break;
    case 'issuers': config.issuers = issuerList(value, flag); break;
    case 'audiences': config.audiences = list(value); break;
    case 'tenants': config.tenants = tenantList(value, flag); break;
    case 'adminKey': config.adminKey = adminKey(value, flag); break;
    case 'devOnNetwork': config.devOnNetwork = oneOf(value, ['warn', 'refuse'] as const, flag); break;
    case 'oidcTimeoutMs': config.oidcTimeoutMs = duration(value, flag, 100, 60_000); break;
    case 'keysCooldownMs': config.keysCooldownMs = duration(value, flag, 0, 86_400_000); break;
    case 'keysRefreshMs': config.keysRefreshMs = duration(value, flag, 1000, 7 * 86_400_000); break;
    default: return false;
  }
  return true;
}

/** The rules between flags: each value may be valid on its own and still not go with another. */
function checkTogether(config: Config): void {
  if (config.auth === 'oidc' && config.issuers.length === 0) {
    throw new UsageError('--auth oidc needs at least one --issuer (e.g. --issuer entra, or --issuer https://login.microsoftonline.com/{tenantid}/v2.0).');
  }
  const exposed = devOnNetworkWarning(config);
  if (exposed !== null && config.devOnNetwork === 'refuse') {
    throw new UsageError(`refusing to start: --auth dev on --host ${config.host} would let anyone who can reach the port mint tokens (--dev-on-network refuse).`);
  }
  if (config.auth !== 'oidc' && (config.issuers.length > 0 || config.audiences.length > 0 || config.tenants.length > 0)) {
    throw new UsageError('--issuer, --audience and --tenants apply to --auth oidc only.');
  }
  if (config.headersTimeoutMs > config.requestTimeoutMs) {
    throw new UsageError(`--headers-timeout (${config.headersTimeoutMs}) must not be longer than --request-timeout (${config.requestTimeoutMs}).`);
  }
  if ((config.certFile === null) !== (config.keyFile === null)) throw new UsageError('--cert and --key go together: give both files.');
  if (config.presenceStore === 'journal' && config.store !== 'sqlite') {
    throw new UsageError(`--presence-store journal goes with --store sqlite (a data folder); got --store ${config.store}.`);
  }
  if (config.deliveryLeaseMs <= config.webhookTimeoutMs) {
    // A lease that lapses while its POST is still in flight would let a second node send the same notification.
    throw new UsageError(`--delivery-lease (${config.deliveryLeaseMs} ms) must be longer than --webhook-timeout (${config.webhookTimeoutMs} ms).`);
  }
}
