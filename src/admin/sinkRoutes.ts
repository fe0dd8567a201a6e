/**
 * The built-in webhook sink, `/_presently/sink/{name}` (docs/notifications/testing.md) [P: d-sink]:
 * - `POST …?validationToken=…` answers the validation handshake: 200, text/plain, the decoded token;
 * - any other `POST` is recorded (time, headers of interest, body) and answered `202`;
 * - `GET` answers `{"value": [records, oldest first]}`; `DELETE` forgets them (`204`).
 *
 * POST takes any content type (the handshake is text/plain) and is open in every auth mode, since webhooks carry no
 * token; GET and DELETE are admin calls like the rest of `/_presently` (open in dev mode, else the admin key).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest, HTTPMethods } from 'fastify';
import type { Clock } from '../platform/clock/clock.ts';
import { formatUtc } from '../domain/timezones.ts';
import { adminGuard } from './guard.ts';
import { SINK_NAME, pickHeaders, type SinkStore } from './sink.ts';
import { GraphError, badRequest, sendGraphError } from '../http/errors.ts';

export interface SinkRouteDeps {
  sinks: SinkStore;
  clock: Clock;
  authMode: string;
  /** Outside dev auth mode, the admin API's bearer key (./guard.ts). */
  adminKey: string | null;
}

/** Notification batches can be larger than API requests. */
export const SINK_BODY_LIMIT = 1024 * 1024;

export const SINK_PATH = '/_presently/sink/:name';

export function sinkRoutes(app: FastifyInstance, deps: SinkRouteDeps): void {
  const { sinks, clock } = deps;
  const guard = adminGuard(deps);

  // Encapsulated, so that the catch-all body parser applies to the sink only.
  void app.register(async (sink) => {
    sink.removeAllContentTypeParsers();
    sink.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: SINK_BODY_LIMIT }, (_request, body, done) => done(null, body));

    sink.route({
      method: 'POST',
      url: SINK_PATH,
      bodyLimit: SINK_BODY_LIMIT,
      handler: sinkPostHandler(deps),
    });

    sink.route({
      method: 'GET',
      url: SINK_PATH,
      handler: async (request: FastifyRequest, reply: FastifyReply) => {
        await guard(request);
        return reply.type('application/json').send(sinks.listJson(nameOf(request)));
      },
    });

    sink.route({
      method: 'DELETE',
      url: SINK_PATH,
      handler: async (request: FastifyRequest, reply: FastifyReply) => {
        await guard(request);
        sinks.clear(nameOf(request));
        return reply.code(204).send();
      },
    });

    const others: HTTPMethods[] = ['PUT', 'PATCH'];
    sink.route({
      method: others,
      url: SINK_PATH,
      handler: (request: FastifyRequest, reply: FastifyReply) => {
        reply.header('allow', 'GET, POST, DELETE');
        return sendGraphError(reply, clock.now(), new GraphError(405, 'MethodNotAllowed',
          `The HTTP method '${request.method}' is not allowed on this resource; use GET or POST or DELETE.`));
      },
    });
  });
}

/** The sink's name from the path; a 400 unless it is 1 to 100 safe characters. */
function nameOf(request: FastifyRequest): string {
  const name = (request.params as { name: string }).name;
  if (!SINK_NAME.test(name)) {
    throw badRequest(`Invalid sink name '${name.slice(0, 100)}': use 1 to 100 letters, digits, '.', '_', '~' or '-'.`);
  }
  return name;
}

/** A POST: the validation handshake is answered; anything else is recorded and answered 202. */
function sinkPostHandler(deps: SinkRouteDeps) {
  const { sinks, clock } = deps;
  return async function receive(request: FastifyRequest, reply: FastifyReply) {
    const name = nameOf(request);
    const raw = (request.query as Record<string, unknown>).validationToken;
    const token = Array.isArray(raw) ? raw[0] : raw;
    if (typeof token === 'string') return reply.code(200).type('text/plain; charset=utf-8').send(token);
    sinks.record(name, {
      receivedDateTime: formatUtc(clock.now()),
      method: request.method,
      url: request.url,
      headers: pickHeaders(request.headers),
    }, request.body as Buffer | undefined, request.headers['content-type']);
    return reply.code(202).send();
  };
}
