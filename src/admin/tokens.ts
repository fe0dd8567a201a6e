/**
 * `GET /_presently/keys` (the JWKS of Presently's own key; open in every mode: webhook receivers verify the
 * validation tokens of rich notifications with it) and `POST /_presently/tokens` (mints a dev token). The token
 * endpoint exists only in dev auth mode [P: d-admin-key]: in any other mode it answers 404 before reading the body, so
 * its messages about unknown users cannot be used to learn who exists.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { DevIssuer } from '../auth/devIssuer.ts';
import { mintDevToken, type MintDeps } from '../auth/devTokens.ts';
import { issuerBase, originOf } from '../auth/issuerBase.ts';
import { GraphError } from '../http/errors.ts';
import { resource } from '../http/wire.ts';

export interface TokenRouteDeps extends MintDeps {
  issuer: DevIssuer;
  authMode: string;
  /** `--public-url`, without a trailing slash; null when not set. Tokens' `iss` is built from it or the request. */
  publicUrl: string | null;
}

export function tokenRoutes(app: FastifyInstance, deps: TokenRouteDeps): void {
  resource(app, '/_presently/keys', { GET: async function keys() { return deps.issuer.jwks(); } });
  resource(app, '/_presently/tokens', {
    POST: async function mintToken(request: FastifyRequest) {
      if (deps.authMode !== 'dev') throw new GraphError(404, 'ResourceNotFound', 'Tokens are issued only in dev auth mode.');
      const base = issuerBase(originOf(request), deps.publicUrl);
      return mintDevToken(deps, request.body, base);
    },
  });
}
