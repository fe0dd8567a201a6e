/**
 * A registration as the admin API and seed files give it: `redirectUris`, `roles` (application permissions granted),
 * `scopes` (delegated permissions consented), and, in seed files, `secrets` (secret texts) and `certificates` (PEM).
 */
import { InvalidInput } from '../platform/json/errors.ts';
import { readArray, type JsonObject } from '../platform/json/validate.ts';
import { storedCertificate, storedSecret } from './credentials.ts';
import type { Registration } from './registrations.ts';

const PERMISSION = /^[\x21\x23-\x5b\x5d-\x7e]{1,200}$/;
const MAX_ITEMS = 100;

function strings(obj: JsonObject, key: string, path: string): string[] | undefined {
  if (obj[key] === undefined || obj[key] === null) return undefined;
  const name = path ? `${path}.${key}` : key;
  const items = readArray(obj, key, path);
  if (items.length > MAX_ITEMS) throw new InvalidInput(`Property '${name}' has more than ${MAX_ITEMS} entries.`, name);
  return items.map((item, i) => {
    if (typeof item !== 'string') throw new InvalidInput(`Property '${name}[${i}]' must be a string.`, name);
    return item;
  });
}

function redirectUri(uri: string, name: string): string {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw new InvalidInput(`Property '${name}' has an invalid URL '${uri.slice(0, 200)}'.`, name);
  }
  if (!['http:', 'https:'].includes(url.protocol) || url.hash !== '' || url.username !== '' || uri.length > 2000) {
    throw new InvalidInput(`Property '${name}' must hold http or https URLs without a fragment or credentials, not '${uri.slice(0, 200)}'.`, name);
  }
  return uri;
}

function permissions(values: string[] | undefined, name: string): string[] | undefined {
  if (values === undefined) return undefined;
  for (const v of values) if (!PERMISSION.test(v)) throw new InvalidInput(`Property '${name}' has an invalid permission name '${v.slice(0, 100)}'.`, name);
  return [...new Set(values)];
}

/** The registration with what `obj` says (the lists it gives replace the old ones); `path` names it in errors. */
export function applyRegistrationInput(registration: Registration, obj: JsonObject, path = ''): Registration {
  const at = (key: string) => (path ? `${path}.${key}` : key);
  const next: Registration = { ...registration };
  const uris = strings(obj, 'redirectUris', path);
  if (uris !== undefined) next.redirectUris = [...new Set(uris.map((u) => redirectUri(u, at('redirectUris'))))];
  const roles = permissions(strings(obj, 'roles', path), at('roles'));
  if (roles !== undefined) next.roles = roles;
  const scopes = permissions(strings(obj, 'scopes', path), at('scopes'));
  if (scopes !== undefined) next.scopes = scopes;
  return next;
}

/** A seed file's `secrets` and `certificates`, added unless already there. */
export function addSeedCredentials(registration: Registration, obj: JsonObject, path: string): Registration {
  const next: Registration = { ...registration, secrets: [...registration.secrets], certificates: [...registration.certificates] };
  for (const text of strings(obj, 'secrets', path) ?? []) {
    const secret = storedSecret(text, `${path}.secrets`);
    if (!next.secrets.some((s) => s.digest === secret.digest)) next.secrets.push(secret);
  }
  for (const pem of strings(obj, 'certificates', path) ?? []) {
    const cert = storedCertificate(pem, `${path}.certificates`);
    if (!next.certificates.some((c) => c.thumbprintSha256 === cert.thumbprintSha256)) next.certificates.push(cert);
  }
  return next;
}

/** The registration as the admin API shows it: hints and thumbprints, never a secret. */
export function registrationJson(r: Registration, displayName: string) {
  return {
    id: r.appId,
    displayName,
    redirectUris: r.redirectUris,
    roles: r.roles,
    scopes: r.scopes,
    secrets: r.secrets.map((s) => ({ keyId: s.keyId, hint: s.hint })),
    certificates: r.certificates.map((c) => ({ keyId: c.keyId, thumbprint: c.thumbprint, thumbprintSha256: c.thumbprintSha256, endDateTime: c.endDateTime })),
  };
}
