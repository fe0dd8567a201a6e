/**
 * Small, strict readers for JSON request bodies. Each names the property path in its error, so a client learns
 * exactly what to fix. OData instance annotations (`@odata.type` and other `@…` keys) are always allowed. Property
 * names match case-insensitively (readObject), enumeration values too (readEnum); values the client assigns
 * (a message, a clientState, an id) are kept as sent.
 */
import { InvalidInput } from './errors.ts';
import { NOT_A_GUID, readGuid } from './guid.ts';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

/** How a value is named in an error message, without walking it (a value may be nested thousands deep). */
export function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

/**
 * The value as an object whose keys are all in `allowed`, else InvalidInput. Names match case-insensitively, as Graph
 * reads request bodies (docs/api/wire-format.md): the object returned has a fresh copy with every key spelled as in
 * `allowed` (`{"StatusMessage": …}` reads as `{"statusMessage": …}`), so readers look keys up by their canonical
 * name. Two keys that differ only in case are refused, naming both [P: d-body-property-case]. Instance annotations
 * (keys with `@`) are kept as sent. An unknown key is reported against `type` when given
 * (`microsoft.graph.subscription`), else against the path's last segment.
 */
export function readObject(value: unknown, path: string, allowed: readonly string[], type?: string): Readonly<JsonObject> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new InvalidInput(
      path ? `Property '${path}' must be an object, not ${typeName(value)}.` : `The request body must be a JSON object, not ${typeName(value)}.`,
      path || undefined,
    );
  }
  return canonicalKeys(value as JsonObject, path, allowed, (key) => new InvalidInput(
    `The property '${join(path, key).slice(0, 100)}' does not exist on type '${type ?? typeLabel(path)}'. Make sure to only use property names that are defined by the type.`,
    join(path, key),
  ));
}

/**
 * `obj` with each key spelled as in `allowed`, matched case-insensitively; keys with `@` (instance annotations) kept
 * as sent. `obj` itself when every key is already spelled so, else a copy: read-only either way. A key no name matches throws `unknown(key)`; two keys for one name throw InvalidInput
 * [P: d-body-property-case].
 */
export function canonicalKeys(obj: JsonObject, path: string, allowed: readonly string[], unknown: (key: string) => Error): Readonly<JsonObject> {
  // Every key already spelled as allowed (what every SDK sends): no two keys can name one property, nothing to copy.
  if (spelledAsAllowed(obj, allowed)) return obj;
  const out: JsonObject = {};
  const sentAs = new Map<string, string>();
  for (const [key, v] of Object.entries(obj)) {
    const name = key.includes('@') ? key : canonicalName(key, allowed);
    if (name === undefined) throw unknown(key);
    const first = sentAs.get(name);
    if (first !== undefined) {
      throw new InvalidInput(
        `Property '${join(path, name)}' is given twice, as '${first.slice(0, 100)}' and '${key.slice(0, 100)}'; property names are case-insensitive, so send it once.`,
        join(path, name),
      );
    }
    sentAs.set(name, key);
    out[name] = v;
  }
  return out;
}

function spelledAsAllowed(obj: JsonObject, allowed: readonly string[]): boolean {
  for (const key in obj) if (!allowed.includes(key)) return false;
  return true;
}

function canonicalName(key: string, allowed: readonly string[]): string | undefined {
  if (allowed.includes(key)) return key;
  const lower = key.toLowerCase();
  return allowed.find((a) => a.toLowerCase() === lower);
}

function typeLabel(path: string): string {
  return path ? `microsoft.graph.${path.split('.').pop()}` : 'the request body';
}

export function readString(obj: JsonObject, key: string, path: string, opts: { required: true }): string;
export function readString(obj: JsonObject, key: string, path: string, opts?: { required?: boolean }): string | null | undefined;
export function readString(obj: JsonObject, key: string, path: string, opts: { required?: boolean } = {}): string | null | undefined {
  const value = obj[key];
  const name = join(path, key);
  if (value === undefined || value === null) {
    if (opts.required) throw new InvalidInput(`Property '${name}' is required.`, name);
    return value;
  }
  if (typeof value !== 'string') throw new InvalidInput(`Property '${name}' must be a string, not ${typeName(value)}.`, name);
  return value;
}

export function readBoolean(obj: JsonObject, key: string, path: string): boolean | null | undefined {
  const value = obj[key];
  if (value === undefined || value === null) return value;
  if (typeof value !== 'boolean') throw new InvalidInput(`Property '${join(path, key)}' must be a boolean, not ${typeName(value)}.`, join(path, key));
  return value;
}

export function readArray(obj: JsonObject, key: string, path: string): Json[] {
  const value = obj[key];
  const name = join(path, key);
  if (value === undefined || value === null) throw new InvalidInput(`Property '${name}' is required.`, name);
  if (!Array.isArray(value)) throw new InvalidInput(`Property '${name}' must be an array, not ${typeName(value)}.`, name);
  return value;
}

/** Matches `input` case-insensitively against `values`, returning the canonical spelling. */
export function readEnum<T extends string>(value: string, values: readonly T[], name: string): T {
  const lower = value.toLowerCase();
  const found = values.find((v) => v.toLowerCase() === lower);
  if (!found) throw new InvalidInput(`Property '${name}' has an invalid value '${value}'. Allowed values: ${values.join(', ')}.`, name);
  return found;
}

/** Where isGuid puts the words it reads (and nobody looks). */
const scratch = new Uint32Array(4);

/**
 * A GUID in its 8-4-4-4-12 form, hex digits in either case (./guid.ts readGuid: an unrolled pass over the characters;
 * getPresencesByUserId renders 650 ids per request, and a regular expression was a tenth of that request's CPU).
 */
export function isGuid(value: unknown): boolean {
  return typeof value === 'string' && readGuid(value, scratch, 0) !== NOT_A_GUID;
}
