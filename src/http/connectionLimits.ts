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

/**
 * Under TLS the server speaks HTTP/2 (by ALPN) and HTTP/1.1 (the fallback). Fastify sets the HTTP/1 limits only on an
 * HTTP/1 server: the HTTP/2 server's fallback connections take them from these properties of the server, set here.
 * An HTTP/2 session idle for the idle timeout is closed.
 */
export function http2Options(limits: Limits & Pick<Config, 'idleTimeoutMs'>, tls: { cert: string; key: string }) {
  return {
    http2: true as const,
    https: { allowHTTP1: true, cert: tls.cert, key: tls.key },
    http2SessionTimeout: limits.idleTimeoutMs,
  };
}

/** The HTTP/1.1 limits of an HTTP/2 server's fallback connections (see http2Options). */
export function applyHttp1Limits(server: Server, limits: Limits): void {
  Object.assign(server, {
    ...nodeServerLimits(limits),
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    ...(limits.maxRequestsPerSocket > 0 ? { maxRequestsPerSocket: limits.maxRequestsPerSocket } : {}),
  });
}

/** Caps open connections: Node closes a connection over the cap as soon as it is accepted. */
export function capConnections(server: Server, maxConnections: number): void {
  server.maxConnections = maxConnections;
}
