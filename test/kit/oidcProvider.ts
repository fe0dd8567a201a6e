/**
 * A real OpenID Connect provider for the `--auth oidc` tests: the certified `oidc-provider` package, issuing JWT
 * access tokens (client credentials with resource indicators) that carry Entra ID's claims — `tid`, `oid`, `idtyp`,
 * `scp` or `roles`, `appid`/`azp`, `name`, `preferred_username` — as given per token. Its signing keys can be
 * rotated while it runs (the first key signs), it can be down at start and started later on the same port, and it
 * counts the fetches of its key set.
 */
import { createServer, type Server } from 'node:http';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import Provider from 'oidc-provider';

export interface EntraClaims {
  tid: string;
  /** A user's object id: a delegated token (`idtyp: user`, `scp`); without: an application token (`roles`). */
  oid?: string;
  scp?: string;
  roles?: string[];
  name?: string;
  preferred_username?: string;
}

export interface TestProvider {
  issuer: string;
  /** A JWT access token for `resource` (default https://graph.microsoft.com) with these claims. */
  token(claims: EntraClaims, resource?: string): Promise<string>;
  /** The provider publishes (and signs with the first of) these keys from now on. */
  setKeys(keys: JWK[]): void;
  /** How often its key set was fetched. */
  jwksFetches(): number;
  /** Starts answering (a provider made with `down: true` drops every connection until then). */
  up(): Promise<void>;
  close(): Promise<void>;
}

export const TEST_CLIENT_ID = '6731de76-14a6-49ae-97bc-6eba6914391e';
const CLIENT_SECRET = 'test-client-secret';

/** A private RS256 JWK with this kid. */
export async function signingKey(kid: string): Promise<JWK> {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  return { ...(await exportJWK(privateKey)), kid, alg: 'RS256', use: 'sig' };
}

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

export async function startProvider(opts: { keys: JWK[]; down?: boolean }): Promise<TestProvider> {
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  let next: EntraClaims = { tid: '' };
  let fetches = 0;
  const make = (keys: JWK[]) => new Provider(issuer, {
    clients: [{ client_id: TEST_CLIENT_ID, client_secret: CLIENT_SECRET, grant_types: ['client_credentials'], redirect_uris: [], response_types: [] }],
    jwks: { keys },
    ttl: { ClientCredentials: 3600 },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => 'https://graph.microsoft.com',
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx: unknown, resource: string) => ({
          scope: 'Presence.Read.All', audience: resource, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'RS256' } },
        }),
      },
    },
    extraTokenClaims: () => entraClaims(next),
  });
  let provider = make(opts.keys);
  const server: Server = createServer((req, res) => {
    if (req.url?.startsWith('/jwks')) fetches++;
    provider.callback()(req, res);
  });
  // While down, the port is held by a listener that drops every connection: left free, another test's server may take
  // it and answer (a 404 where "could not be reached" was meant).
  const holder = createTcpServer((socket) => socket.destroy());
  const listen = async () => {
    if (holder.listening) await new Promise<void>((resolve) => holder.close(() => resolve()));
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  };
  if (opts.down) await new Promise<void>((resolve) => holder.listen(port, '127.0.0.1', resolve));
  else await listen();
  return {
    issuer,
    async token(claims, resource = 'https://graph.microsoft.com') {
      next = claims;
      const res = await fetch(`${issuer}/token`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from(`${TEST_CLIENT_ID}:${CLIENT_SECRET}`).toString('base64')}`,
        },
        body: new URLSearchParams({ grant_type: 'client_credentials', resource }).toString(),
      });
      const body = (await res.json()) as { access_token?: string };
      if (res.status !== 200 || !body.access_token) throw new Error(`the test provider issued no token: ${res.status} ${JSON.stringify(body)}`);
      return body.access_token;
    },
    setKeys: (keys) => { provider = make(keys); },
    jwksFetches: () => fetches,
    up: listen,
    close: () => new Promise<void>((resolve) => {
      if (holder.listening) holder.close();
      if (!server.listening) return resolve();
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/** The claims Entra ID puts in a Graph access token, for a user (delegated) or an application. */
function entraClaims(c: EntraClaims): Record<string, unknown> {
  const common = { tid: c.tid, appid: TEST_CLIENT_ID, azp: TEST_CLIENT_ID, ver: '2.0' };
  if (c.oid === undefined) return { ...common, idtyp: 'app', oid: TEST_CLIENT_ID, roles: c.roles ?? [] };
  return {
    ...common, idtyp: 'user', oid: c.oid, scp: c.scp ?? 'Presence.Read',
    ...(c.roles ? { roles: c.roles } : {}),
    ...(c.name !== undefined ? { name: c.name } : {}),
    ...(c.preferred_username !== undefined ? { preferred_username: c.preferred_username } : {}),
  };
}
