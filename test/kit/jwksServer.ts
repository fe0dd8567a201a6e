/**
 * An issuer made by hand, for token shapes no provider would issue: a local server with a discovery document and a
 * key set, whose issuer is an Entra-ID-like template (`{base}/{tenantid}/v2.0`, or the v1 form `{base}/{tenantid}/`);
 * tokens are signed here with any header and claims. Also counts every request, so a test can show that a URL named
 * in a token was never fetched.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, importJWK, type JWK, type JWTPayload, type JWTHeaderParameters } from 'jose';
import { signingKey } from './oidcProvider.ts';

export interface JwksServer {
  base: string;
  /** The v2 template `{base}/{tenantid}/v2.0`. */
  v2Template: string;
  /** The v1 template `{base}/{tenantid}/`. */
  v1Template: string;
  /** The key the server publishes (private; sign with it). */
  key: JWK;
  /** Signs `claims` with the published key (or `with`), header `alg: RS256, kid` plus `header`. */
  sign(claims: JWTPayload, header?: Partial<JWTHeaderParameters>, withKey?: JWK): Promise<string>;
  /** Requests seen, by path. */
  hits: string[];
  close(): Promise<void>;
}

export async function startJwksServer(): Promise<JwksServer> {
  const key = await signingKey('hand-made-1');
  const publicJwk = { kty: key.kty, n: key.n, e: key.e, kid: key.kid, alg: 'RS256', use: 'sig' };
  const hits: string[] = [];
  const server = createServer((req, res) => {
    const path = req.url ?? '';
    hits.push(path);
    const json = (body: unknown) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (path === '/common/v2.0/.well-known/openid-configuration') return json({ issuer: `${base}/{tenantid}/v2.0`, jwks_uri: `${base}/keys` });
    if (path === '/common/.well-known/openid-configuration') return json({ issuer: `${base}/{tenantid}/`, jwks_uri: `${base}/keys` });
    if (path === '/keys') return json({ keys: [publicJwk] });
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    base,
    v2Template: `${base}/{tenantid}/v2.0`,
    v1Template: `${base}/{tenantid}/`,
    key,
    hits,
    async sign(claims, header = {}, withKey = key) {
      const signer = await importJWK(withKey, 'RS256');
      return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: withKey.kid!, ...header }).sign(signer);
    },
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
