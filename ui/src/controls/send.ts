/**
 * How a control sends its Graph request: with a token minted for the chosen user or app (dev mode), or the token
 * the viewer pasted (any other mode), exactly as an SDK would send it; and the same request as curl commands.
 */
import { mintToken, type TokenRequest } from '../api/endpoints.ts';
import { graphCall, type GraphAnswer } from '../api/http.ts';
import { Store } from '../lib/store.ts';
import { curlCommand, tokenCommand } from './curl.ts';

/** A token the viewer pasted, used instead of minting one (outside dev mode, where Presently issues none). */
export const pastedToken = new Store<string>('');

export interface GraphRequest {
  method: 'POST' | 'GET' | 'PATCH';
  /** The Graph path, from the version on: `/v1.0/users/{id}/presence/setStatusMessage`. */
  path: string;
  body?: unknown;
  /** Who the token is for (dev mode). */
  as: TokenRequest;
}

export interface Sent {
  request: GraphRequest;
  answer: GraphAnswer;
}

export async function send(request: GraphRequest, devMode: boolean): Promise<Sent> {
  const token = devMode ? (await mintToken(request.as)).access_token : pastedToken.get().trim();
  if (!token) throw new Error('Paste a token for this request first (Presently issues tokens in dev mode only).');
  const answer = await graphCall(request.method, request.path, token, request.body);
  return { request, answer };
}

/** The request as curl: the token command first in dev mode (needs jq), then the call itself. */
export function asCurl(request: GraphRequest, devMode: boolean, origin = location.origin): string {
  const call = curlCommand({ method: request.method, url: `${origin}${request.path}`, token: '$TOKEN', body: request.body });
  return devMode ? `${tokenCommand(origin, request.as)}\n${call}` : call;
}
