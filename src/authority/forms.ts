/**
 * Form bodies (`application/x-www-form-urlencoded`), which OAuth requests are: parsed in the authority's own scope
 * only. A parameter sent twice is refused, as Entra ID refuses it.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { invalidRequest } from './errors.ts';

export const FORM_BODY_LIMIT = 64 * 1024;

/** A parsed form body (a class, so a JSON body is never taken for one). */
export class FormParams {
  constructor(readonly values: Record<string, string>) {}
}

export function installFormParser(scope: FastifyInstance): void {
  scope.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: FORM_BODY_LIMIT }, (_request, body, done) => {
    try {
      done(null, new FormParams(readPairs(new URLSearchParams(body as string))));
    } catch (err) {
      done(err as Error, undefined);
    }
  });
}

function readPairs(pairs: URLSearchParams): Record<string, string> {
  const values: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [key, value] of pairs) {
    if (key in values) throw invalidRequest(90015, `The parameter '${key.slice(0, 100)}' is duplicated in the request.`);
    values[key] = value;
  }
  return values;
}

/** The request's form parameters (none for another kind of body). */
export function formOf(request: FastifyRequest): Record<string, string> {
  return request.body instanceof FormParams ? request.body.values : {};
}

/** The query string's parameters, a repeated one refused. */
export function queryOf(request: FastifyRequest): Record<string, string> {
  const raw = request.raw.url ?? '';
  const at = raw.indexOf('?');
  return readPairs(new URLSearchParams(at === -1 ? '' : raw.slice(at + 1)));
}
