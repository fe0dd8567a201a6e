/**
 * Presently's configuration: every `presently serve` flag, its PRESENTLY_* environment variable and its default
 * (docs/operations/README.md). Parsing lives in the CLI; this file says what the settings are.
 */
import type { CloudName } from './clouds.ts';

export interface Config {
  port: number;
  host: string;
  dataDir: string;
  store: 'sqlite' | 'memory' | 'redis';
  /**
   * `--store sqlite`: where presence records live, the presence table or the presence journal beside the database
   * (docs/operations/storage.md#presence-journal); null: where the data folder has them (the table in a new one). A
   * data folder whose records are in the other place moves them once.
   */
  presenceStore: 'table' | 'journal' | null;
  /** `--store redis`: one Redis (`redis://host:port[/db]`) or the nodes of a Redis Cluster (`redis://h1:p1,h2:p2`). */
  redisUrl: string;
  /** `--store redis`: the start of every key, so several deployments (or test runs) can share one Redis. */
  redisPrefix: string;
  /**
   * With a store this process writes alone (sqlite, memory): most users whose presence snapshot is kept in memory for
   * reads, filled from the store at start; 0: none (docs/operations/storage.md#the-read-cache).
   */
  readCacheUsers: number;
  /** `dev`: tokens issued by Presently itself; `oidc`: tokens of the identity providers named by `issuers`. */
  auth: 'dev' | 'oidc';
  /**
   * `--auth oidc`: the issuers whose tokens are accepted (docs/operations/auth.md). An issuer URL, or a template with
   * `{tenantid}` (Entra ID's multi-tenant form) matched against the token's `tid`; `entra` names the cloud's Entra v2
   * and v1 templates.
   */
  issuers: string[];
  /** `--auth oidc`: accepted token audiences; empty: the cloud's Graph resource URI and Graph's application id. */
  audiences: string[];
  /** `--auth oidc`: tenant ids whose tokens are accepted (lower-case); empty: any tenant. */
  tenants: string[];
  /** Outside dev auth mode: the bearer key of the admin API; null: the admin API is off [P: d-admin-key]. */
  adminKey: string | null;
  /** `--auth dev` on a non-loopback `--host`: start with a warning, or refuse to start [P: d-admin-key]. */
  devOnNetwork: 'warn' | 'refuse';
  /** `--auth oidc`: how long one fetch of a discovery document or key set may take, milliseconds. */
  oidcTimeoutMs: number;
  /** `--auth oidc`: after a key set was fetched, a token naming an unknown key fetches it again no sooner than this, ms. */
  keysCooldownMs: number;
  /** `--auth oidc`: key sets are fetched again this often, milliseconds (keys the provider dropped stop working). */
  keysRefreshMs: number;
  /** TLS: `https` alone makes and reuses a self-signed localhost certificate in dataDir. */
  https: boolean;
  certFile: string | null;
  keyFile: string | null;
  clock: 'system' | 'manual';
  publicUrl: string | null;
  cloud: CloudName;
  seedFile: string | null;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Log lines as JSON (one object a line, for machines) or pretty (one readable line each, for people). */
  logFormat: 'json' | 'pretty';
  /** Longest status message, in code points (docs/api/status-message.md). */
  maxStatusLength: number;
  /** Largest request body, bytes. */
  bodyLimit: number;
  /** Graph's per application per tenant limits (docs/api/throttling.md): off, or enforced with 429 + Retry-After. */
  throttle: 'off' | 'graph';
  /** Throttling window, seconds. */
  throttleWindow: number;
  /** Reads (GET presence, getPresencesByUserId) per application per tenant per window. */
  throttleReadLimit: number;
  /** Presence-service requests of any kind per application per tenant per window. */
  throttleLimit: number;
  /**
   * Webhook hosts exempt from the private-address check of production mode (docs/notifications/url-policy.md), lower-case,
   * IPv6 without brackets.
   */
  webhookAllow: string[];
  /**
   * Which notification URLs are accepted (docs/notifications/url-policy.md): development allows http://localhost receivers;
   * production requires https and refuses private addresses. Null: development with dev auth, else production.
   */
  webhookPolicy: 'development' | 'production' | null;
  /** How long a webhook endpoint has to answer the validation handshake, milliseconds (Graph: 10 s). */
  handshakeTimeoutMs: number;
  /** How long a client has to send a request's headers, milliseconds; then 408 and the connection is closed. */
  headersTimeoutMs: number;
  /** How long a client has to send a whole request (headers and body), milliseconds; then 408 and closed. */
  requestTimeoutMs: number;
  /** A connection with no traffic either way for this long is closed, milliseconds. */
  idleTimeoutMs: number;
  /** How long an idle keep-alive connection is kept open between requests, milliseconds. */
  keepAliveTimeoutMs: number;
  /** Requests served on one keep-alive connection before it is closed; 0: no limit. */
  maxRequestsPerSocket: number;
  /** Open connections at most; beyond it a new connection is closed at once. */
  maxConnections: number;
  /**
   * Most live presence subscriptions one user may create with one application: Graph's rule is one
   * [P: d-one-presence-subscription]; more only for load tests that need them.
   */
  maxSubscriptionsPerUser: number;
  /** Most subscriptions one application may have in one tenant; more are refused with 403 [P: d-subscription-caps]. */
  maxSubscriptionsPerApp: number;
  /** Most subscriptions one tenant may have, all applications together [P: d-subscription-caps]. */
  maxSubscriptionsPerTenant: number;
  /**
   * How long a node that claimed a notification delivery holds it, milliseconds: if the node dies while sending,
   * another node sends it once the lease lapses. Longer than the webhook timeout, so a POST in flight keeps its lease.
   */
  deliveryLeaseMs: number;
  /** How long a webhook endpoint has to answer a notification POST, milliseconds; slower counts as failed. */
  webhookTimeoutMs: number;
}

export const DEFAULTS: Config = {
  port: 8080,
  host: '127.0.0.1',
  dataDir: './.presently',
  store: 'sqlite',
  presenceStore: null,
  redisUrl: 'redis://127.0.0.1:6379',
  redisPrefix: 'presently:',
  readCacheUsers: 1_000_000,
  auth: 'dev',
  issuers: [],
  audiences: [],
  tenants: [],
  adminKey: null,
  devOnNetwork: 'warn',
  oidcTimeoutMs: 5000,
  keysCooldownMs: 30_000,
  keysRefreshMs: 3_600_000,
  https: false,
  certFile: null,
  keyFile: null,
  clock: 'system',
  publicUrl: null,
  cloud: 'global',
  seedFile: null,
  logLevel: 'warn',
  logFormat: 'json',
  maxStatusLength: 280,
  bodyLimit: 64 * 1024,
  throttle: 'off',
  throttleWindow: 30,
  throttleReadLimit: 1500,
  throttleLimit: 10_000,
  webhookAllow: [],
  webhookPolicy: null,
  handshakeTimeoutMs: 10_000,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  idleTimeoutMs: 60_000,
  // Longer than the 60 s idle timeout of common load balancers, so they never reuse a connection being closed.
  keepAliveTimeoutMs: 72_000,
  maxRequestsPerSocket: 0,
  maxConnections: 10_000,
  maxSubscriptionsPerUser: 1,
  maxSubscriptionsPerApp: 1_000,
  maxSubscriptionsPerTenant: 10_000,
  deliveryLeaseMs: 30_000,
  webhookTimeoutMs: 3000,
};
