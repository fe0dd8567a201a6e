/**
 * The one reader of request bodies. The JSON parser leaves `undefined` when a request has no body (an empty body is
 * allowed, so body-less actions work with or without a Content-Type); each endpoint says here what a missing body
 * means for it and which properties its body may have. Property values are then read with ./validate.ts.
 */
import { InvalidInput } from './errors.ts';
import { readObject, type JsonObject } from './validate.ts';

/**
 * What a request without a body means:
 * - `empty-object`: the same as `{}` (JSON `null` too), so the property readers name what is missing;
 * - `refuse`: a 400 saying the body is empty;
 * - `invalid` (the default): a 400 saying the body must be a JSON object.
 */
export type AbsentBody = 'empty-object' | 'refuse' | 'invalid';

export interface BodyRule {
  /** The properties the body may have; OData instance annotations (`@…`) are always allowed. */
  allowed: readonly string[];
  /** The OData type an unknown property is reported against; by default "the request body". */
  type?: string;
  whenAbsent?: AbsentBody;
}

/** The body as the endpoint reads it: `{}` for a missing one when the endpoint says so; else as sent. */
export function presentBody(body: unknown, whenAbsent: AbsentBody = 'invalid'): unknown {
  if (whenAbsent === 'empty-object' && (body === undefined || body === null)) return {};
  if (whenAbsent === 'refuse' && body === undefined) throw new InvalidInput('The request body is empty: send a JSON object.');
  return body;
}

/** The body as an object with only the allowed properties, else a 400 naming the first one at fault. */
export function readBody(body: unknown, rule: BodyRule): JsonObject {
  return readObject(presentBody(body, rule.whenAbsent), '', rule.allowed, rule.type);
}
