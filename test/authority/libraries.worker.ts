/**
 * The official libraries' side of libraries.test.ts, run as a child process started with `NODE_EXTRA_CA_CERTS` (the
 * certificate `presently serve --https` made), for the reason test/sdk/graph-client-v3.worker.ts gives: MSAL insists
 * on https authorities, and Node 20 trusts an extra CA only from process start. Each library is used as an app would
 * use it, with only the authority host (and the Graph base URL) changed.
 *
 * The libraries are imported when a call first needs them: loading all of them (the Graph SDKs are large) before
 * reporting ready would outlast the ready timeout on a busy machine.
 *
 * Protocol: the parent sends `{ id, call: LibraryCall }`; this script answers `{ id, outcome }`, `{ ready: true,
 * health }` once it reached the server over verified TLS, and exits when the parent disconnects.
 */
import type { TokenCredential } from '@azure/identity';

export type LibraryCall =
  | { kind: 'identity-secret'; tenantId: string; clientId: string; secret: string }
  | { kind: 'identity-certificate'; tenantId: string; clientId: string; pemPath: string }
  | { kind: 'msal-confidential'; tenantId: string; clientId: string; secret: string }
  | { kind: 'msal-public-password'; tenantId: string; clientId: string; username: string; password: string; scopes: string[] }
  | { kind: 'graph-v3'; tenantId: string; clientId: string; secret: string; userId: string }
  | { kind: 'kiota'; tenantId: string; clientId: string; secret: string; userId: string };

export type LibraryOutcome = { ok: true; value: Record<string, unknown> } | { ok: false; error: { name: string; message: string; errorCode?: string } };

const baseUrl = process.env.PRESENTLY_URL ?? '';
if (!baseUrl || !process.send) {
  process.stderr.write('libraries.worker: run by libraries.test.ts (needs PRESENTLY_URL and an IPC channel)\n');
  process.exit(2);
}
const host = new URL(baseUrl).host;
const GRAPH_DEFAULT = 'https://graph.microsoft.com/.default';

/** The claims of a JWT, unverified (the server verifies; the test asserts what the library obtained). */
function claims(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
}

const identityOptions = { authorityHost: baseUrl, disableInstanceDiscovery: true };

async function secretCredential(c: { tenantId: string; clientId: string; secret: string }): Promise<TokenCredential> {
  const { ClientSecretCredential } = await import('@azure/identity');
  return new ClientSecretCredential(c.tenantId, c.clientId, c.secret, identityOptions);
}

async function run(call: LibraryCall): Promise<Record<string, unknown>> {
  switch (call.kind) {
    case 'identity-secret': {
      const token = (await (await secretCredential(call)).getToken(GRAPH_DEFAULT))!;
      return { claims: claims(token.token), expiresOnTimestamp: token.expiresOnTimestamp };
    }
    case 'identity-certificate': {
      const { ClientCertificateCredential } = await import('@azure/identity');
      const credential = new ClientCertificateCredential(call.tenantId, call.clientId, { certificatePath: call.pemPath }, identityOptions);
      return { claims: claims((await credential.getToken(GRAPH_DEFAULT))!.token) };
    }
    case 'msal-confidential': {
      const { ConfidentialClientApplication } = await import('@azure/msal-node');
      const cca = new ConfidentialClientApplication({
        auth: { clientId: call.clientId, authority: `${baseUrl}/${call.tenantId}`, clientSecret: call.secret, knownAuthorities: [host] },
      });
      const result = await cca.acquireTokenByClientCredential({ scopes: [GRAPH_DEFAULT] });
      return { claims: claims(result!.accessToken), tenantId: result!.tenantId };
    }
    case 'msal-public-password': {
      const { PublicClientApplication } = await import('@azure/msal-node');
      const pca = new PublicClientApplication({ auth: { clientId: call.clientId, authority: `${baseUrl}/${call.tenantId}`, knownAuthorities: [host] } });
      const result = await pca.acquireTokenByUsernamePassword({ scopes: call.scopes, username: call.username, password: call.password });
      const me = await fetch(`${baseUrl}/v1.0/me/presence`, { headers: { authorization: `Bearer ${result!.accessToken}` } });
      return {
        claims: claims(result!.accessToken), account: result!.account?.username, scopes: result!.scopes,
        mePresence: { status: me.status, body: await me.json() as unknown },
      };
    }
    case 'graph-v3': {
      const { Client } = await import('@microsoft/microsoft-graph-client');
      const { TokenCredentialAuthenticationProvider } = await import('@microsoft/microsoft-graph-client/authProviders/azureTokenCredentials/index.js');
      const authProvider = new TokenCredentialAuthenticationProvider(await secretCredential(call), { scopes: [GRAPH_DEFAULT] });
      const client = Client.initWithMiddleware({ authProvider, baseUrl, defaultVersion: 'v1.0', customHosts: new Set([new URL(baseUrl).hostname]) });
      return { presence: await client.api(`/users/${call.userId}/presence`).get() as Record<string, unknown> };
    }
    case 'kiota': {
      const { AzureIdentityAuthenticationProvider } = await import('@microsoft/kiota-authentication-azure');
      const { createGraphServiceClient, GraphRequestAdapter } = await import('@microsoft/msgraph-sdk');
      await import('@microsoft/msgraph-sdk-users');
      const authProvider = new AzureIdentityAuthenticationProvider(await secretCredential(call), [GRAPH_DEFAULT], undefined, new Set([new URL(baseUrl).hostname]));
      const adapter = new GraphRequestAdapter(authProvider);
      adapter.baseUrl = `${baseUrl}/v1.0`;
      const presence = await createGraphServiceClient(adapter).users.byUserId(call.userId).presence.get();
      return { presence: { id: presence?.id, availability: presence?.availability, activity: presence?.activity } };
    }
  }
}

process.on('message', (msg: { id: number; call: LibraryCall }) => {
  void run(msg.call).then(
    (value) => process.send!({ id: msg.id, outcome: { ok: true, value } }),
    (err: Error & { errorCode?: string }) => process.send!({ id: msg.id, outcome: { ok: false, error: { name: err.name, message: err.message, ...(err.errorCode ? { errorCode: err.errorCode } : {}) } } }),
  );
});
process.on('disconnect', () => process.exit(0));

const health = await fetch(`${baseUrl}/_presently/health`).then((r) => r.status, () => 0);
process.send({ ready: true, health });
