/**
 * Presently's configuration: every `presently serve` flag, its PRESENTLY_* environment variable and its default
 * (product.md §1). Parsing lives in the CLI; this file says what the settings are.
 */
import type { CloudName } from './clouds.ts';

export interface Config {
  port: number;
  host: string;
  dataDir: string;
  store: 'sqlite' | 'memory' | 'redis';
  /** `--store redis`: one Redis (`redis://host:port[/db]`) or the nodes of a Redis Cluster (`redis://h1:p1,h2:p2`). */
  redisUrl: string;
  /** `--store redis`: the start of every key, so several deployments (or test runs) can share one Redis. */
  redisPrefix: string;
  auth: 'dev';
  /** TLS: `https` alone makes and reuses a self-signed localhost certificate in dataDir. */
  https: boolean;
  certFile: string | null;
  keyFile: string | null;
  clock: 'system' | 'manual';
  publicUrl: string | null;
  cloud: CloudName;
  seedFile: string | null;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Longest status message, in code points (presence-api.md §3). */
  maxStatusLength: number;
  /** Largest request body, bytes. */
  bodyLimit: number;
  /** Graph's per application per tenant limits (presence-api.md §8): off, or enforced with 429 + Retry-After. */
  throttle: 'off' | 'graph';
  /** Throttling window, seconds. */
  throttleWindow: number;
  /** Reads (GET presence, getPresencesByUserId) per application per tenant per window. */
  throttleReadLimit: number;
  /** Presence-service requests of any kind per application per tenant per window. */
  throttleLimit: number;
  /**
   * Webhook hosts exempt from the private-address check of production mode (notifications.md §3), lower-case,
   * IPv6 without brackets.
   */
  webhookAllow: string[];
  /**
   * Which notification URLs are accepted (notifications.md §3): development allows http://localhost receivers;
   * production requires https and refuses private addresses. Null: development with dev auth, else production.
   */
  webhookPolicy: 'development' | 'production' | null;
  /** How long a webhook endpoint has to answer the validation handshake, milliseconds (Graph: 10 s). */
  handshakeTimeoutMs: number;
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
  redisUrl: 'redis://127.0.0.1:6379',
  redisPrefix: 'presently:',
  auth: 'dev',
  https: false,
  certFile: null,
  keyFile: null,
  clock: 'system',
  publicUrl: null,
  cloud: 'global',
  seedFile: null,
  logLevel: 'warn',
  maxStatusLength: 280,
  bodyLimit: 64 * 1024,
  throttle: 'off',
  throttleWindow: 30,
  throttleReadLimit: 1500,
  throttleLimit: 10_000,
  webhookAllow: [],
  webhookPolicy: null,
  handshakeTimeoutMs: 10_000,
  deliveryLeaseMs: 30_000,
  webhookTimeoutMs: 3000,
};
