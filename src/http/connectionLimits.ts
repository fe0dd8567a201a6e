/**
 * Bounded sockets: how long a client may take to send a request, how long an idle connection stays open, and how
 * many connections may be open at once, so slow or idle clients (slowloris) cannot hold file descriptors without
 * end. A request that is too slow is answered 408 and its connection closed; a connection over the cap is closed at
 * once.
 */
import type { Server } from 'node:net';
import type { Config } from '../config/config.ts';

type Limits = Pick<Config, 'headersTimeoutMs' | 'requestTimeoutMs' | 'idleTimeoutMs' | 'keepAliveTimeoutMs' | 'maxRequestsPerSocket'>;

/**
 * Options of Node's HTTP(S) server. Node checks the header and request timeouts every `connectionsCheckingInterval`
 * (30 s by default), so a short timeout would be enforced late: check at least twice per headers timeout, at most
 * every second.
 */
export function nodeServerLimits(limits: Limits) {
  return {
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(limits.headersTimeoutMs / 2))),
  };
}

/** Fastify's options for the same limits (Fastify sets them on the server it creates). */
export function connectionLimits(limits: Limits) {
  return {
    requestTimeout: limits.requestTimeoutMs,
    connectionTimeout: limits.idleTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    maxRequestsPerSocket: limits.maxRequestsPerSocket,
    http: nodeServerLimits(limits),
  };
}

/** Caps open connections: Node closes a connection over the cap as soon as it is accepted. */
export function capConnections(server: Server, maxConnections: number): void {
  server.maxConnections = maxConnections;
}
