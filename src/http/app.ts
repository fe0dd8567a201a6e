/**
 * The Fastify app every route is registered on: Graph's error shape for what the framework and the HTTP parser
 * refuse, the connection limits (docs/operations/hardening.md#connections), and under TLS HTTP/2 by ALPN with
 * HTTP/1.1 for clients that do not offer it (docs/api/wire-format.md#http2).
 */
import type { Http2Session } from 'node:http2';
import { createRequire } from 'node:module';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Config } from '../config/config.ts';
import type { TlsMaterial } from '../config/tls.ts';
import type { Clock } from '../platform/clock/clock.ts';
import { prettyStream } from '../platform/prettyLog.ts';
import { clientErrorHandler } from './clientErrors.ts';
import { applyHttp1Limits, capConnections, connectionLimits, http2Options } from './connectionLimits.ts';
import type { GraphHeaders } from './graphHeaders.ts';
import { installLingeringClose } from './linger.ts';
import { frameworkErrorHandler, genReqId } from './wire.ts';

/**
 * Presently's routes declare no JSON schemas (each validates its body itself, with messages that name the problem),
 * so Fastify's schema compilers (Ajv and fast-json-stringify, about a tenth of the start-up) are loaded only if a
 * route ever asks for one.
 */
const fastifyRequire = createRequire(createRequire(import.meta.url).resolve('fastify'));
const LAZY_SCHEMA_COMPILERS = {
  buildValidator: (...args: unknown[]) => (fastifyRequire('@fastify/ajv-compiler') as () => (...a: unknown[]) => unknown)()(...args),
  buildSerializer: (...args: unknown[]) => (fastifyRequire('@fastify/fast-json-stringify-compiler') as () => (...a: unknown[]) => unknown)()(...args),
};

export function createHttpApp(config: Config, clock: Clock, tls: TlsMaterial | null, headers: GraphHeaders): FastifyInstance {
  const app = Fastify({
    logger: { level: config.logLevel, ...(config.logFormat === 'pretty' ? { stream: prettyStream(process.stdout) } : {}) },
    genReqId,
    // Long ids are answered by the routes (400 naming the id), not by the router's 414.
    routerOptions: { caseSensitive: false, ignoreTrailingSlash: true, maxParamLength: 2048 },
    bodyLimit: config.bodyLimit,
    schemaController: { compilersFactory: LAZY_SCHEMA_COMPILERS },
    frameworkErrors: frameworkErrorHandler(clock, headers),
    clientErrorHandler: clientErrorHandler(clock, headers),
    ...connectionLimits(config),
    ...(tls ? http2Options(config, tls) : {}),
    // One app type whichever server carries it: the handlers do not depend on HTTP/1 or HTTP/2.
  } as unknown as Parameters<typeof Fastify>[0]) as unknown as FastifyInstance;
  if (tls) {
    applyHttp1Limits(app.server, config);
    closeSessionsOnClose(app);
  }
  capConnections(app.server, config.maxConnections);
  installLingeringClose(app);
  app.decorateRequest('principal', null);
  return app;
}

/**
 * An HTTP/2 client keeps its session open between requests; the server's close() waits for every session to end,
 * so an idle one would hold a stop for the whole idle timeout (60 s by default, past the 8 s bound of a stop). On
 * close, every session is asked to end: GOAWAY, and the requests in flight on it finish.
 */
function closeSessionsOnClose(app: FastifyInstance): void {
  const sessions = new Set<Http2Session>();
  app.server.on('session', (session: Http2Session) => {
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
  });
  app.addHook('preClose', (done) => {
    for (const session of sessions) session.close();
    done();
  });
}

/**
 * Listens on the configured host and port; resolves to the URL it serves, and adds it to `ownOrigins` (the origins
 * of the server's own sink), with the loopback names when it listens on a loopback or every address.
 */
export async function listenOn(app: FastifyInstance, config: Config, tls: TlsMaterial | null, ownOrigins: Set<string>): Promise<string> {
  await app.listen({ port: config.port, host: config.host });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  const scheme = tls ? 'https' : 'http';
  ownOrigins.add(new URL(`${scheme}://${host}:${port}`).origin);
  if (['0.0.0.0', '::', '127.0.0.1', '::1', 'localhost'].includes(config.host)) {
    for (const loopback of ['127.0.0.1', 'localhost', '[::1]']) ownOrigins.add(new URL(`${scheme}://${loopback}:${port}`).origin);
  }
  return `${scheme}://${host}:${port}`;
}
