/**
 * The front door: where every HTTP request comes in and every answer goes out, whichever path answers it
 * (docs/contributing/express-lanes.md).
 *
 * - **Observers.** What must see every request (the notification pacer) or every answer (the metrics) registers here
 *   once, with `onRequest` and `onAnswer`; the front calls them for the framework's requests (one Fastify hook of
 *   each kind) and for the express lanes' alike, so no path can leave one out.
 * - **Express lanes.** A lane answers the most frequent request of all, a GET of one presence whose caller's token
 *   and snapshot are already in memory, before the framework sees it: the same status, headers (in the same order)
 *   and body as the framework would send, made with the same functions (./wire.ts), without its routing, hooks and
 *   reply pipeline (about half of such a GET's CPU besides the socket write). A lane declines anything it does not
 *   answer exactly as the framework would (it returns null), and the request goes to Fastify unchanged. The lanes
 *   stand aside entirely when a framework hook must see the request: throttling (it counts reads), request logging
 *   (`--log-level info` and below log every request) ([P: d-express-lanes]). They only ever take an HTTP/1.x GET
 *   without a body.
 */
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Clock } from '../platform/clock/clock.ts';
import { PROTOCOL_HEADER } from './batchRequest.ts';
import type { GraphHeaders } from './graphHeaders.ts';
import { graphJsonHeaders } from './wire.ts';

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
 * A lane: the answer to `request`, or null to leave it to the framework. Must not read the body or wait; should not
 * throw (if it does, the framework answers the request).
 */
export type Lane = (request: LaneRequest) => LaneAnswer | null;

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
  /** Open from the app's ready until it starts closing (Fastify then answers new requests 503 itself). */
  private open = false;
  /** Requests a lane answered (tests and the bench read it to know which path answered). */
  laneAnswers = 0;

  constructor(private readonly app: FastifyInstance, private readonly options: FrontOptions) {
    // Callback hooks: they run on every request, and an async hook costs a promise each time.
    app.addHook('onRequest', (_request, _reply, done) => {
      this.noteRequest();
      done();
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
      if (!this.open || !this.express(request, response)) framework(request, response);
    });
  }

  /** Answers `request` in a lane if one takes it; false when none does. */
  private express(request: IncomingMessage, response: ServerResponse): boolean {
    if (request.method !== 'GET' || request.httpVersionMajor !== 1) return false;
    const h = request.headers;
    // A request with a body (the framework reads or refuses it), or one a framework hook acts on.
    if (h['content-length'] !== undefined || h['transfer-encoding'] !== undefined || h[PROTOCOL_HEADER] !== undefined) return false;
    const started = performance.now();
    const answer = this.find(request);
    if (answer === null) return false;
    try {
      response.writeHead(200, answer.headers);
    } catch {
      // A header Node refuses: nothing was sent, so the framework answers (and reports what fails there).
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
  answerInProcess(request: LaneRequest): LaneResult | null {
    if (!this.open) return null;
    const started = performance.now();
    const answer = this.find(request);
    if (answer !== null) this.answered(answer.route, started);
    return answer;
  }

  /** The first lane's answer with its headers made; null when none takes it, or a lane throws (the framework answers). */
  private find(request: LaneRequest): LaneResult | null {
    try {
      for (const lane of this.lanes) {
        const answer = lane(request);
        if (answer === null) continue;
        const { clock, headers } = this.options;
        const all = graphJsonHeaders(randomUUID(), request.headers['client-request-id'], headers, clock.now(), Buffer.byteLength(answer.body));
        return { route: answer.route, body: answer.body, headers: all };
      }
    } catch {
      // A fault in a lane must not take the process down: the framework answers the request as if no lane existed.
    }
    return null;
  }

  private answered(route: string, started: number): void {
    this.noteRequest();
    this.laneAnswers++;
    const seconds = (performance.now() - started) / 1000;
    for (const observe of this.answerObservers) observe('GET', route, 200, seconds);
  }
}
