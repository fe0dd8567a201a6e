/**
 * Reading a small request body without taking it from the framework (src/http/front.ts, the write express lanes):
 * `readExactly` reads exactly Content-Length bytes with `read(n)`, which leaves the stream open (it has not reached
 * its end yet), and `giveBack` puts them back at its front, so that a request a lane declines reaches Fastify whole,
 * also after the lane waited for the store. Only for small bodies (the front takes at most 8 KiB): within the stream's
 * buffer (its highWaterMark, 16 KiB) the whole body is buffered without anyone reading, which is what this relies on
 * and what the tests check; past it Node pauses the socket until someone reads, a case never tried here.
 */
import type { IncomingMessage } from 'node:http';

/**
 * Calls `done` with the request's body once `length` bytes have come (fewer if the request ended first), or with null
 * when the request failed or closed before (a client gone: nothing to answer).
 */
export function readExactly(request: IncomingMessage, length: number, done: (body: Buffer | null) => void): void {
  const finish = (body: Buffer | null) => {
    request.removeListener('readable', onReadable);
    request.removeListener('error', onGone);
    request.removeListener('close', onGone);
    done(body);
  };
  const onReadable = () => {
    const body = request.read(length) as Buffer | null;
    if (body !== null) finish(body);
  };
  const onGone = () => finish(null);
  request.on('readable', onReadable);
  request.on('error', onGone);
  request.on('close', onGone);
}

/** Puts what readExactly read back at the stream's front: the next reader (the framework's parser) reads it first. */
export function giveBack(request: IncomingMessage, body: Buffer): void {
  request.unshift(body);
}
