/**
 * How a client proves who it is at the token endpoint: a client secret (in the body, or HTTP Basic), or a client
 * assertion — a JWT signed with the private key of a certificate registered for the app (RS256, or PS256 as MSAL
 * signs with a SHA-256 thumbprint), naming the app as `iss` and `sub` and the token endpoint as `aud`.
 */
import { decodeProtectedHeader, errors, jwtVerify } from 'jose';
import { certificateFor, secretMatches } from './credentials.ts';
import { invalidClient, invalidRequest } from './errors.ts';
import type { Registration } from './registrations.ts';

export const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
/** Entra allows 5 minutes of skew on assertions. */
const ASSERTION_SKEW_SECONDS = 300;

export interface ClientCredentials {
  secret?: string;
  assertion?: string;
  assertionType?: string;
}

export type ClientAuthentication = 'secret' | 'certificate' | 'none';

/** The credentials a request presents: body parameters, or an `Authorization: Basic` header (client_secret_basic). */
export function presentedCredentials(params: Record<string, string>, authorization: string | undefined): ClientCredentials {
  const found: ClientCredentials = {};
  if (params.client_secret !== undefined) found.secret = params.client_secret;
  if (params.client_assertion !== undefined) found.assertion = params.client_assertion;
  if (params.client_assertion_type !== undefined) found.assertionType = params.client_assertion_type;
  const basic = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(authorization ?? '');
  if (basic && found.secret === undefined) {
    const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon !== -1) found.secret = decodeURIComponent(decoded.slice(colon + 1));
  }
  return found;
}

export interface AuthenticateContext {
  registration: Registration;
  /** The token endpoint URL this request was sent to: an assertion's `aud`. */
  tokenEndpoint: string;
  now: number;
}

/** Checks the credentials presented; `required` for a confidential-client grant (client credentials). */
export async function authenticateClient(creds: ClientCredentials, ctx: AuthenticateContext, required: boolean): Promise<ClientAuthentication> {
  const { registration } = ctx;
  if (creds.secret !== undefined && creds.assertion !== undefined) {
    throw invalidRequest(90014, "Only one of 'client_secret' and 'client_assertion' may be sent.");
  }
  if (creds.secret !== undefined) {
    if (!secretMatches(registration.secrets, creds.secret)) {
      throw invalidClient(7000215,
        `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${registration.appId}'.`);
    }
    return 'secret';
  }
  if (creds.assertion !== undefined) {
    if (creds.assertionType !== ASSERTION_TYPE) {
      throw invalidRequest(50027, `Invalid client_assertion_type '${(creds.assertionType ?? '').slice(0, 100)}': expected '${ASSERTION_TYPE}'.`);
    }
    await verifyAssertion(creds.assertion, ctx);
    return 'certificate';
  }
  if (required) {
    throw invalidClient(7000216, "'client_assertion', 'client_secret' or 'request' is required for the 'client_credentials' grant type.");
  }
  return 'none';
}

async function verifyAssertion(assertion: string, { registration, tokenEndpoint, now }: AuthenticateContext): Promise<void> {
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(assertion);
  } catch {
    throw invalidClient(50027, 'The client assertion is not a well-formed JWT.');
  }
  const found = certificateFor(registration.certificates, header);
  if (!found) {
    throw invalidClient(700027,
      `The certificate with identifier used to sign the client assertion is not registered on application '${registration.appId}'. (x5t#S256: ${String(header['x5t#S256'] ?? 'none')}, x5t: ${String(header.x5t ?? 'none')})`);
  }
  try {
    await jwtVerify(assertion, found.key, {
      algorithms: ['RS256', 'PS256'],
      issuer: registration.appId,
      subject: registration.appId,
      currentDate: new Date(now),
      clockTolerance: ASSERTION_SKEW_SECONDS,
      requiredClaims: ['exp', 'aud'],
    }).then(({ payload }) => {
      const aud = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
      if (!aud.some((a) => typeof a === 'string' && a.toLowerCase() === tokenEndpoint.toLowerCase())) {
        throw invalidClient(700021, `The client assertion's audience (${String(payload.aud)}) is not this token endpoint (${tokenEndpoint}).`);
      }
    });
  } catch (err) {
    if (err instanceof errors.JWTExpired || (err instanceof errors.JWTClaimValidationFailed && err.claim === 'nbf')) {
      throw invalidClient(700024, 'Client assertion is not within its valid time range.');
    }
    if (err instanceof errors.JWTClaimValidationFailed) {
      throw invalidClient(50027, `The client assertion's '${err.claim}' claim is invalid: it must name the application '${registration.appId}'.`);
    }
    if (err instanceof errors.JOSEError) throw invalidClient(700027, `Client assertion failed signature validation: ${err.message}`);
    throw err;
  }
}
