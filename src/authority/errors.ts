/**
 * OAuth errors as Entra ID answers them (docs/operations/auth.md#the-dev-authority): `error`, `error_description`
 * starting with an `AADSTS` code, `error_codes`, `timestamp`, `trace_id`, `correlation_id`, `error_uri`; 400 for a bad
 * request or grant, 401 for a client that failed to authenticate [P: d-authority-errors].
 */
import { randomUUID } from 'node:crypto';

export type OAuthErrorCode =
  | 'invalid_request' | 'invalid_client' | 'invalid_grant' | 'unauthorized_client' | 'unsupported_grant_type'
  | 'invalid_scope' | 'consent_required' | 'login_required' | 'access_denied' | 'unsupported_response_type'
  | 'server_error';

export class OAuthError extends Error {
  constructor(
    readonly error: OAuthErrorCode,
    /** The AADSTS number, e.g. 7000215. */
    readonly aadsts: number,
    message: string,
    readonly status: 400 | 401 | 404 | 500 = error === 'invalid_client' ? 401 : 400,
  ) {
    super(message);
    this.name = 'OAuthError';
  }
}

export interface OAuthErrorBody {
  error: string;
  error_description: string;
  error_codes: number[];
  timestamp: string;
  trace_id: string;
  correlation_id: string;
  error_uri: string;
}

/** Entra writes the timestamp as `2026-12-03 16:33:06Z`. */
function timestamp(now: number): string {
  return new Date(now).toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, 'Z');
}

/**
 * The body of an error; `correlationId` is the client's `client-request-id` (MSAL sends one) when it is a GUID.
 * `errorUriBase` is where the error page would be (the token endpoint's origin).
 */
export function oauthErrorBody(err: OAuthError, now: number, traceId: string, correlationId: string | undefined, errorUriBase: string): OAuthErrorBody {
  const correlation = correlationId !== undefined && /^[0-9a-f-]{36}$/i.test(correlationId) ? correlationId.toLowerCase() : randomUUID();
  const stamp = timestamp(now);
  return {
    error: err.error,
    error_description: `AADSTS${err.aadsts}: ${err.message} Trace ID: ${traceId} Correlation ID: ${correlation} Timestamp: ${stamp}`,
    error_codes: [err.aadsts],
    timestamp: stamp,
    trace_id: traceId,
    correlation_id: correlation,
    error_uri: `${errorUriBase}/error?code=${err.aadsts}`,
  };
}

export const invalidRequest = (aadsts: number, message: string) => new OAuthError('invalid_request', aadsts, message);
export const invalidClient = (aadsts: number, message: string) => new OAuthError('invalid_client', aadsts, message);
export const invalidGrant = (aadsts: number, message: string) => new OAuthError('invalid_grant', aadsts, message);

/** AADSTS900144: a required parameter is missing. */
export const missingParameter = (name: string) =>
  invalidRequest(900144, `The request body must contain the following parameter: '${name}'.`);
