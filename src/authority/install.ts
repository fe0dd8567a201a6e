/**
 * The dev authority (docs/operations/auth.md#the-dev-authority), installed by the composition root with `--auth dev`
 * only: the demo app's well-known secret, the seed file's registrations, the authority's routes and the admin API of
 * app registrations.
 */
import type { FastifyInstance } from 'fastify';
import type { DevIssuer } from '../auth/devIssuer.ts';
import type { Clock } from '../platform/clock/clock.ts';
import type { Store } from '../store/types.ts';
import { registrationRoutes } from './adminRoutes.ts';
import { CodeStore } from './codes.ts';
import { Registrations } from './registrations.ts';
import { authorityRoutes } from './routes.ts';
import { applyRegistrationSeed } from './seed.ts';

export interface AuthorityOptions {
  store: Store;
  issuer: DevIssuer;
  clock: Clock;
  /** The admin key (only dev mode installs the authority, where the admin API is open anyway). */
  adminKey: string | null;
  authMode: string;
  /** The cloud's Graph root: the audience of tokens. */
  audience: string;
  /** The identifiers scopes may name Graph by. */
  resources: string[];
  publicUrl: string | null;
  demoAppId: string;
  seedFile: string | null;
}

export async function installAuthority(app: FastifyInstance, opts: AuthorityOptions): Promise<void> {
  const registrations = new Registrations(opts.store);
  await registrations.ensureDemo(opts.demoAppId);
  if (opts.seedFile) await applyRegistrationSeed(registrations, opts.seedFile);
  authorityRoutes(app, {
    store: opts.store, issuer: opts.issuer, clock: opts.clock, registrations, codes: new CodeStore(opts.clock),
    audience: opts.audience, resources: opts.resources, publicUrl: opts.publicUrl,
  });
  registrationRoutes(app, { store: opts.store, registrations, authMode: opts.authMode, adminKey: opts.adminKey });
}
