/**
 * The front door: where every HTTP request comes in and every answer goes out, whichever path answers it
 * (docs/contributing/express-lanes.md).
 *
 * - **Observers.** What must see every request (the notification pacer) or every answer (the metrics) registers here
 *   once, with `onRequest` and `onAnswer`; the front calls them for the framework's requests (one Fastify hook of
 *   each kind) and for the express lanes' alike, so no path can leave one out.
 * - **Express lanes.** A lane answers the most frequent request of all, a GET of one presence whose caller's token
 *   is already in memory (its snapshot too, or one store read away), before the framework sees it: the same status,
 *   headers (in the same order) and body as the framework would send, made with the same functions (./wire.ts),
 *   without its routing, hooks and reply pipeline (about half of such a GET's CPU besides the socket write). A lane declines anything it does not
 *   answer exactly as the framework would (it returns null), and the request goes to Fastify unchanged. The lanes
 *   stand aside entirely when a framework hook must see the request: throttling (it counts reads), request logging
 *   (`--log-level info` and below log every request) ([P: d-express-lanes]). They only ever take an HTTP/1.x GET
 *   without a body, or (a body lane) an HTTP/1.x POST with a small JSON body announced by Content-Length.
 * - **Body lanes** (the frequent writes): a lane claims a POST from its path and headers; the front then reads its
 *   body (./exactBody.ts) and the lane takes it, or the body is given back and the framework gets the request whole.
 */
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Clock } from '../platform/clock/clock.ts';
import { PROTOCOL_HEADER } from './batchRequest.ts';
import { giveBack, readExactly } from './exactBody.ts';
import type { GraphHeaders } from './graphHeaders.ts';
import { graphEmptyHeaders, graphJsonHeaders } from './wire.ts';

/** What a lane answers: 200 with a JSON body, at the route the framework would have matched (for the metrics). */
export interface LaneAnswer {
  /** The route as registered, e.g. `/v1.0/users/:id/presence`. */
  route: string;
  body: string;
}

/** A lane's answer with every header of it (./wire.ts graphJsonHeaders). */
export interface LaneResult extends LaneAnswer {
  headers: Record<string, string>;
}

/**
 * What a lane reads of a request: its path, headers and socket (only whether it is encrypted). A socket's request and
 * a `$batch` item (src/http/batch.ts) are both this.
 */
export interface LaneRequest {
  url?: string | undefined;
  headers: IncomingHttpHeaders;
  socket: object;
}

/**
 * A lane: the answer to `request`, or null to leave it to the framework; or a promise of either when it must wait for
 * the store (a promise's null also leaves the request to the framework: a lane that waits is the last one asked). Must
 * not read the body; should not throw (if it does, the framework answers the request). A rejected promise's error is
 * the framework's answer: it is raised in the framework's first hook, so the error handler answers it (a store outage:
 * 503 with Retry-After) without the route's waiting for the store a second time.
 */
export type Lane = (request: LaneRequest) => LaneAnswer | null | Promise<LaneAnswer | null>;

/** What a body lane makes of a request it may take, before the body is read. */
export interface BodyClaim {
  /** The route as registered, e.g. `/v1.0/users/:id/presence/:action`. */
  route: string;
  /**
   * The body's text → the promise that the write is done (the answer is then 200 with no body), or of null to leave
   * the request to the framework; or null at once when the lane does not take this body. A rejection's error is the
   * framework's answer (as a `Lane`'s). Should not throw (if it does, the framework answers the request).
   */
  take(body: string): Promise<true | null> | null;
}

/**
 * An express lane for a POST with a small JSON body (a write): a claim made from the request alone, or null to leave
 * it to the framework. Must not read the body (the front reads it once a lane claims the request).
 */
export type BodyLane = (request: LaneRequest) => BodyClaim | null;

/** The largest body the front reads for a body lane: well within a request stream's buffer (./exactBody.ts). */
export const MAX_LANE_BODY = 8 * 1024;
/** The only Content-Types a body lane takes (the framework's JSON parser takes more: those go to it). */
const LANE_CONTENT_TYPES = new Set(['application/json', 'application/json; charset=utf-8']);

export type RequestObserver = () => void;
/** `seconds`: from the request's arrival at the front (a lane) or its first hook (the framework) to the answer. */
export type AnswerObserver = (method: string, route: string, status: number, seconds: number) => void;

type Listener = (request: IncomingMessage, response: ServerResponse) => void;

export interface FrontOptions {
  clock: Clock;
  headers: GraphHeaders;
  /** False: every request goes to the framework (throttling or request logging on, or a test comparing both paths). */
  lanes: boolean;
}

export class Front {
  private readonly requestObservers: RequestObserver[] = [];
  private readonly answerObservers: AnswerObserver[] = [];
  private readonly lanes: Lane[] = [];
  private readonly bodyLanes: BodyLane[] = [];
  /** Open from the app's ready until it starts closing (Fastify then answers new requests 503 itself). */
  private open = false;
  /** Requests a lane answered (tests and the bench read it to know which path answered). */
  laneAnswers = 0;
  /** Requests handed to the framework with the error their lane's promise was rejected with (see `Lane`). */
  private readonly failures = new WeakMap<IncomingMessage, Error>();

  constructor(private readonly app: FastifyInstance, private readonly options: FrontOptions) {
    // Callback hooks: they run on every request, and an async hook costs a promise each time.
    app.addHook('onRequest', (request, _reply, done) => {
      this.noteRequest();
      done(this.failures.get(request.raw));
    });
    app.addHook('onResponse', (request, reply, done) => {
      const route = request.routeOptions.url ?? 'unknown';
      for (const observe of this.answerObservers) observe(request.method, route, reply.statusCode, reply.elapsedTime / 1000);
      done();
    });
    if (!options.lanes) return;
    app.addHook('onReady', (done) => {
      this.takeRequests();
      this.open = true;
      done();
    });
    app.addHook('preClose', (done) => {
      this.open = false;
      done();
    });
  }

  onRequest(observer: RequestObserver): void {
    this.requestObservers.push(observer);
  }

  onAnswer(observer: AnswerObserver): void {
    this.answerObservers.push(observer);
  }

  /** Adds an express lane (ignored when lanes are off). */
  lane(lane: Lane): void {
    if (this.options.lanes) this.lanes.push(lane);
  }

  /** Adds an express lane for writes (ignored when lanes are off). */
  bodyLane(lane: BodyLane): void {
    if (this.options.lanes) this.bodyLanes.push(lane);
  }

  private noteRequest(): void {
    for (const observe of this.requestObservers) observe();
  }

  /**
   * Puts the lanes in front of the framework: the server's one request listener (Fastify's) is called for every
   * request no lane answers.
   */
  private takeRequests(): void {
    const server = this.app.server;
    const listeners = server.listeners('request') as Listener[];
    if (listeners.length !== 1) throw new Error(`expected the framework's one request listener, found ${listeners.length}`);
    const framework = listeners[0]!;
    server.removeListener('request', framework);
    server.on('request', (request: IncomingMessage, response: ServerResponse) => {
      if (!this.open || !this.express(request, response, framework)) framework(request, response);
    });
  }

  /**
   * Answers `request` in a lane if one takes it; false when none does. A lane that waits has the request: it answers
   * it, or hands it to `framework` itself.
   */
  private express(request: IncomingMessage, response: ServerResponse, framework: Listener): boolean {
    if (request.httpVersionMajor !== 1) return false;
    if (request.method === 'POST') return this.expressWrite(request, response, framework);
    if (request.method !== 'GET') return false;
    const h = request.headers;
    // A request with a body (the framework reads or refuses it), or one a framework hook acts on.
    if (h['content-length'] !== undefined || h['transfer-encoding'] !== undefined || h[PROTOCOL_HEADER] !== undefined) return false;
    const started = performance.now();
    const found = this.find(request);
    if (found === null) return false;
    if (!(found instanceof Promise)) return this.send(response, found, started);
    found.then(
      (answer) => {
        if (answer === null || !this.send(response, answer, started)) framework(request, response);
      },
      (err: unknown) => {
        this.failures.set(request, err instanceof Error ? err : new Error(String(err)));
        framework(request, response);
      },
    ).catch(() => {
      // Nothing above should throw; if it does, the connection goes rather than the process (an unhandled rejection).
      response.destroy();
    });
    return true;
  }

  /**
   * A POST a body lane claims: its body is read (only a small JSON one, announced by Content-Length), then the lane
   * answers it, or the body is given back and the framework gets the request whole.
   */
  private expressWrite(request: IncomingMessage, response: ServerResponse, framework: Listener): boolean {
    if (this.bodyLanes.length === 0) return false;
    const h = request.headers;
    const type = h['content-type'];
    if (type === undefined || !LANE_CONTENT_TYPES.has(type)) return false;
    if (h['transfer-encoding'] !== undefined || h.expect !== undefined || h[PROTOCOL_HEADER] !== undefined) return false;
    const length = Number(h['content-length']);
    if (!(length > 0 && length <= MAX_LANE_BODY)) return false;
    const started = performance.now();
    const claim = this.claim(request);
    if (claim === null) return false;
    readExactly(request, length, (body) => {
      // The client went before its body came: there is no one to answer.
      if (body === null) return void response.destroy();
      const decline = (err?: unknown) => {
        giveBack(request, body);
        if (err !== undefined) this.failures.set(request, err instanceof Error ? err : new Error(String(err)));
        framework(request, response);
      };
      let taken: Promise<true | null> | null = null;
      try {
        // A body shorter than announced (the request ended early) is the framework's to refuse.
        if (body.length === length) taken = claim.take(body.toString('utf8'));
      } catch {
        taken = null;
      }
      if (taken === null) return decline();
      taken.then((done) => {
        if (done === null) return decline();
        // Read to its end (nothing is left): the request is done with.
        request.resume();
        this.sendEmpty(request, response, claim.route, started);
      }, decline).catch(() => response.destroy());
    });
    return true;
  }

  /** The first body lane's claim on `request`; null when none claims it, or a lane throws (the framework answers). */
  private claim(request: LaneRequest): BodyClaim | null {
    try {
      for (const lane of this.bodyLanes) {
        const claim = lane(request);
        if (claim !== null) return claim;
      }
    } catch {
      // As in find(): the framework answers the request as if no lane existed.
    }
    return null;
  }

  /** A write lane's answer: 200 with no body, with the headers the framework gives it. */
  private sendEmpty(request: IncomingMessage, response: ServerResponse, route: string, started: number): void {
    const { clock, headers } = this.options;
    const id = randomUUID();
    try {
      response.writeHead(200, graphEmptyHeaders(id, request.headers['client-request-id'], headers, clock.now()));
    } catch {
      // The write is made, so the framework cannot answer instead (it would write again): should Node refuse the
      // client's own id (it passed Node's parser, so it should not), the answer carries the request id in its place.
      response.writeHead(200, graphEmptyHeaders(id, undefined, headers, clock.now()));
    }
    response.end();
    this.answered(route, started, 'POST');
  }

  /** Sends a lane's answer; false when Node refuses a header (nothing was sent: the framework answers, and reports it). */
  private send(response: ServerResponse, answer: LaneResult, started: number): boolean {
    try {
      response.writeHead(200, answer.headers);
    } catch {
      return false;
    }
    response.end(answer.body);
    this.answered(answer.route, started);
    return true;
  }

  /**
   * A lane's answer to a request made inside this process (a `$batch` item: a GET without a body, its headers those
   * the item would be injected with), counted and observed as a request; null when no lane takes it (or lanes are off).
   */
  answerInProcess(request: LaneRequest): LaneResult | null | Promise<LaneResult | null> {
    if (!this.open) return null;
    const started = performance.now();
    const found = this.find(request);
    if (found === null) return null;
    if (!(found instanceof Promise)) {
      this.answered(found.route, started);
      return found;
    }
    return found.then((answer) => {
      if (answer !== null) this.answered(answer.route, started);
      return answer;
    });
  }

  /**
   * The first lane's answer with its headers made (or the promise of it, from a lane that waits); null when none
   * takes it, or a lane throws (the framework answers).
   */
  private find(request: LaneRequest): LaneResult | null | Promise<LaneResult | null> {
    try {
      for (const lane of this.lanes) {
        const answer = lane(request);
        if (answer === null) continue;
        if (answer instanceof Promise) return answer.then((later) => (later === null ? null : this.withHeaders(request, later)));
        return this.withHeaders(request, answer);
      }
    } catch {
      // A fault in a lane must not take the process down: the framework answers the request as if no lane existed.
    }
    return null;
  }

  /** The answer with every header of it, its Date the time it is sent. */
  private withHeaders(request: LaneRequest, answer: LaneAnswer): LaneResult {
    const { clock, headers } = this.options;
    const all = graphJsonHeaders(randomUUID(), request.headers['client-request-id'], headers, clock.now(), Buffer.byteLength(answer.body));
    return { route: answer.route, body: answer.body, headers: all };
  }

  private answered(route: string, started: number, method = 'GET'): void {
    this.noteRequest();
    this.laneAnswers++;
    const seconds = (performance.now() - started) / 1000;
    for (const observe of this.answerObservers) observe(method, route, 200, seconds);
  }
}
