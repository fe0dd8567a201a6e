/**
 * Lingering close for answers given before the request's body has all arrived (a 413 for a body over the limit,
 * above all) [P: d-lingering-close]: the answer carries `connection: close`, and Node would then close the socket as
 * soon as the answer is written. Closing with unread bytes makes the kernel reset the connection, and a client still
 * sending its body gets EPIPE or ECONNRESET instead of the answer. So the server ends its side (FIN) and goes on
 * reading, and dropping, what the client sends, until the client ends its side, for at most LINGER_MS and
 * LINGER_BYTES, then closes (docs/operations/hardening.md#oversized-bodies).
 */
import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';

/** The longest a connection lingers after its answer. */
export const LINGER_MS = 2_000;
/** The most a lingering connection reads (and drops) before it is closed. */
export const LINGER_BYTES = 8 * 1024 * 1024;

type Lingering = Socket & { destroySoon?: () => void; lingering?: true };

export function installLingeringClose(app: FastifyInstance): void {
  // A callback hook: it runs on every answer, and an async one costs a promise each time.
  app.addHook('onSend', (request, _reply, payload, done) => {
    const raw = request.raw;
    if (!raw.complete && raw.httpVersionMajor === 1) lingerOnClose(raw.socket as Lingering);
    done(null, payload);
  });
}

/** Replaces the socket's destroySoon (what Node's HTTP server calls once a `connection: close` answer is written). */
function lingerOnClose(socket: Lingering): void {
  if (socket.lingering || typeof socket.destroySoon !== 'function') return;
  socket.lingering = true;
  socket.destroySoon = function linger(): void {
    if (socket.destroyed) return;
    const from = socket.bytesRead;
    socket.end();
    const close = () => socket.destroy();
    const timer = setTimeout(close, LINGER_MS);
    const cap = setInterval(() => {
      if (socket.bytesRead - from > LINGER_BYTES) close();
    }, 50);
    timer.unref();
    cap.unref();
    socket.once('end', close);
    socket.once('close', () => {
      clearTimeout(timer);
      clearInterval(cap);
    });
  };
}
