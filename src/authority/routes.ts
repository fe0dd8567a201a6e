/**
 * The dev authority's routes (docs/operations/auth.md#the-dev-authority), registered with `--auth dev` only: per
 * tenant (a tenant id, `common` or `organizations`) the discovery document, the keys, the token endpoint and the
 * sign-in page, in a scope of their own that reads form bodies and answers errors as Entra ID does.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { issuerBase, originOf } from '../auth/issuerBase.ts';
import { resource } from '../http/wire.ts';
import { readClient, readRequest, signIn, usersFor, type AuthorizeClient } from './authorize.ts';
import type { AuthorityDeps } from './context.ts';
import { allowCors, preflight } from './cors.ts';
import { discoveryDocument } from './discovery.ts';
import { OAuthError, invalidRequest, oauthErrorBody } from './errors.ts';
import { FORM_BODY_LIMIT, formOf, installFormParser, queryOf } from './forms.ts';
import { token } from './grants.ts';
import { PAGE_HEADERS, page } from './html.ts';
import { sendBack } from './redirects.ts';
import { errorPage, signInPage } from './signInPage.ts';
import { readTenant } from './tenants.ts';

const AT = '/:tenant';

export function authorityRoutes(app: FastifyInstance, deps: AuthorityDeps): void {
  void app.register(async (scope) => {
    installFormParser(scope);
    scope.setErrorHandler(errorHandler(deps));
    // After the app's own onSend (src/http/wire.ts), which gives JSON Graph's OData content type: Entra ID answers
    // plain JSON.
    scope.addHook('onSend', (_request, reply, payload, done) => {
      if (String(reply.getHeader('content-type') ?? '').startsWith('application/json')) {
        reply.header('content-type', 'application/json; charset=utf-8');
        reply.removeHeader('odata-version');
      }
      done(null, payload);
    });
    const base = (request: FastifyRequest) => issuerBase(originOf(request), deps.publicUrl);
    const tenantOf = (request: FastifyRequest) => readTenant(deps.store, (request.params as { tenant: string }).tenant);

    resource(scope, `${AT}/v2.0/.well-known/openid-configuration`, {
      GET: async (request: FastifyRequest, reply: FastifyReply) => {
        allowCors(request, reply);
        return discoveryDocument(base(request), await tenantOf(request));
      },
    }, { options: preflight('GET, OPTIONS') });
    resource(scope, `${AT}/discovery/v2.0/keys`, {
      GET: async (request: FastifyRequest, reply: FastifyReply) => {
        allowCors(request, reply);
        await tenantOf(request);
        return deps.issuer.jwks();
      },
    }, { options: preflight('GET, OPTIONS') });
    resource(scope, `${AT}/oauth2/v2.0/token`, {
      POST: async (request: FastifyRequest, reply: FastifyReply) => {
        allowCors(request, reply);
        const tenant = await tenantOf(request);
        const response = await token(deps, { tenant, base: base(request), params: formOf(request), authorization: request.headers.authorization });
        reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
        return reply.type('application/json; charset=utf-8').send(response);
      },
    }, { options: preflight('POST, OPTIONS') });
    const authorize = authorizeHandler(deps, base, tenantOf);
    resource(scope, `${AT}/oauth2/v2.0/authorize`, { GET: authorize, POST: authorize });
    resource(scope, `${AT}/oauth2/v2.0/logout`, {
      GET: async (_request: FastifyRequest, reply: FastifyReply) =>
        reply.headers(PAGE_HEADERS).type('text/html; charset=utf-8').send(page('Signed out', '<h1>You signed out of your account</h1><p>Dev mode keeps no sign-in session: there was nothing to end.</p>')),
    });
  });
}

type Base = (request: FastifyRequest) => string;
type TenantOf = (request: FastifyRequest) => Promise<string>;

function authorizeHandler(deps: AuthorityDeps, base: Base, tenantOf: TenantOf) {
  return async function authorize(request: FastifyRequest, reply: FastifyReply) {
    let client: AuthorizeClient;
    let tenant: string;
    const params = request.method === 'POST' ? formOf(request) : queryOf(request);
    try {
      tenant = await tenantOf(request);
      client = await readClient(deps, params);
    } catch (err) {
      if (!(err instanceof OAuthError)) throw err;
      return reply.code(400).headers(PAGE_HEADERS).type('text/html; charset=utf-8').send(errorPage(err, request.id));
    }
    const state: Record<string, string> = client.state !== undefined ? { state: client.state } : {};
    try {
      const req = readRequest(deps, client, params);
      if (request.method === 'POST') {
        if (params.cancel !== undefined) throw new OAuthError('access_denied', 65004, 'User declined to consent to access the app.');
        const code = await signIn(deps, tenant, req, params.login ?? '', base(request));
        return sendBack(reply, client.redirectUri, client.responseMode, { code, ...state });
      }
      if (req.prompt === 'none') throw new OAuthError('login_required', 50058, 'A silent sign-in request was sent but no user is signed in: dev mode keeps no session.');
      const appName = (await deps.store.getApp(client.registration.appId))?.displayName ?? client.registration.appId;
      const html = signInPage(appName, await usersFor(deps, tenant, req.loginHint), params, req.loginHint);
      return reply.code(200).headers(PAGE_HEADERS).type('text/html; charset=utf-8').send(html);
    } catch (err) {
      if (!(err instanceof OAuthError)) throw err;
      const error = err.aadsts === 65001 ? 'consent_required' : err.error;
      return sendBack(reply, client.redirectUri, client.responseMode, { error, error_description: `AADSTS${err.aadsts}: ${err.message}`, ...state });
    }
  };
}

/** Every failure of the scope as Entra's error body (a fault is logged and answered `server_error`). */
function errorHandler(deps: AuthorityDeps) {
  return (err: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    let oauth: OAuthError;
    if (err instanceof OAuthError) oauth = err;
    else if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') oauth = invalidRequest(90015, `The request body is larger than ${FORM_BODY_LIMIT} bytes.`);
    else if (typeof err.statusCode === 'number' && err.statusCode < 500) oauth = invalidRequest(900144, `The request is malformed: ${err.message}`);
    else {
      request.log.error({ err, requestId: request.id }, 'unexpected fault in the dev authority');
      oauth = new OAuthError('server_error', 90100, 'An unexpected error occurred.', 500);
    }
    allowCors(request, reply);
    const origin = issuerBase(originOf(request), deps.publicUrl);
    const correlation = request.headers['client-request-id'];
    const body = oauthErrorBody(oauth, deps.clock.now(), request.id, typeof correlation === 'string' ? correlation : undefined, origin);
    return reply.code(oauth.status).type('application/json; charset=utf-8').send(body);
  };
}
