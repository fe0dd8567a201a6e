/**
 * The OpenID Connect discovery document of a tenant, as Entra ID's v2 endpoint publishes it: the endpoints under the
 * base URL the client used, and the issuer `{base}/{tid}/v2.0` (`{base}/{tenantid}/v2.0`, the template, at
 * `common`/`organizations`). MSAL requires the issuer's host to be the authority's.
 */
import { isMultiTenant } from './tenants.ts';

export function discoveryDocument(base: string, tenant: string) {
  const at = `${base}/${tenant}`;
  return {
    token_endpoint: `${at}/oauth2/v2.0/token`,
    token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
    jwks_uri: `${at}/discovery/v2.0/keys`,
    response_modes_supported: ['query', 'fragment', 'form_post'],
    subject_types_supported: ['pairwise'],
    id_token_signing_alg_values_supported: ['RS256'],
    response_types_supported: ['code'],
    scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
    issuer: `${base}/${isMultiTenant(tenant) ? '{tenantid}' : tenant}/v2.0`,
    request_uri_parameter_supported: false,
    authorization_endpoint: `${at}/oauth2/v2.0/authorize`,
    end_session_endpoint: `${at}/oauth2/v2.0/logout`,
    grant_types_supported: ['authorization_code', 'refresh_token', 'client_credentials', 'password'],
    code_challenge_methods_supported: ['S256'],
    claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'nbf', 'name', 'nonce', 'oid', 'preferred_username', 'tid', 'ver', 'email'],
    tenant_region_scope: null,
    cloud_instance_name: 'presently.local',
  };
}
