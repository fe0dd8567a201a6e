/**
 * The HTTP client of `--auth oidc`: one GET of a discovery document or a key set, over node:http or node:https, with
 * a time limit, a size limit and no redirects. Not the global `fetch`: a process that has once used it (Node's
 * bundled undici) answered its own requests about 10 % slower in CPU per request for the rest of its life
 * (BENCHMARKS.md, 2026-12-04, token validation), and these small GETs need nothing of it.
 */
import http from 'node:http';
import https from 'node:https';

/** The largest discovery document or key set read; Entra ID's are a few KiB. */
export const MAX_BODY_BYTES = 1024 * 1024;

export interface GetResponse {
  status: number;
  /** The body parsed as JSON (throws when it is not JSON). */
  json(): unknown;
}

/** An Error named as fetch names its failures, so one description (describeFetchError) serves both. */
function failure(message: string, name: string, cause?: unknown): Error {
  const err = new Error(message, cause === undefined ? undefined : { cause });
  err.name = name;
  return err;
}

/** GET `url` as JSON; resolves once the whole body (at most MAX_BODY_BYTES) has arrived, within `timeoutMs`. */
export function httpGet(url: string, timeoutMs: number): Promise<GetResponse> {
  const target = new URL(url);
  const client = target.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = client.get(target, { headers: { accept: 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_BODY_BYTES) req.destroy(failure(`the answer is larger than ${MAX_BODY_BYTES} bytes`, 'Error'));
        else chunks.push(chunk);
      });
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, json: () => JSON.parse(text) as unknown });
      });
      res.on('error', reject);
    });
    const timeout = setTimeout(() => req.destroy(failure('The operation was aborted due to timeout', 'TimeoutError')), timeoutMs);
    req.on('error', (err: NodeJS.ErrnoException) => {
      reject(err.code === undefined ? err : failure('fetch failed', 'TypeError', err));
    });
    req.on('close', () => clearTimeout(timeout));
  });
}
