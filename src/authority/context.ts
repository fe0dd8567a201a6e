/** What the authority's handlers share: the store, the dev issuer, the clock and the Graph resource of the cloud. */
import type { DevIssuer } from '../auth/devIssuer.ts';
import type { Clock } from '../platform/clock/clock.ts';
import type { Store } from '../store/types.ts';
import type { CodeStore } from './codes.ts';
import type { Registrations } from './registrations.ts';

export interface AuthorityDeps {
  store: Store;
  issuer: DevIssuer;
  clock: Clock;
  registrations: Registrations;
  codes: CodeStore;
  /** The audience of access tokens: the cloud's Graph root. */
  audience: string;
  /** The identifiers a scope may name Graph by (its root URL, with or without a slash, and its app id). */
  resources: string[];
  /** `--public-url` without a trailing slash, or null. */
  publicUrl: string | null;
}

/** One token request: the tenant of its path and the base URL the client reached the server at. */
export interface TokenRequest {
  /** The path's tenant, lower-case: a GUID, `common` or `organizations`. */
  tenant: string;
  base: string;
  params: Record<string, string>;
  authorization: string | undefined;
}

export const tokenEndpointOf = (base: string, tenant: string) => `${base}/${tenant}/oauth2/v2.0/token`;
