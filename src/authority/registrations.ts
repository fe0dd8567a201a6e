/**
 * App registrations of the dev authority (docs/operations/admin-api.md#app-registrations): for each app, its client
 * secrets and certificates, the redirect URIs of the sign-in flow, the application permissions granted to it (the
 * `roles` of a client-credentials token) and the delegated permissions consented for it (the `scp` of a user's
 * token). Kept in the store's meta values, one JSON document per app, so every node sharing a store sees the same
 * registrations [P: d-authority-registrations].
 */
import type { Store } from '../store/types.ts';
import type { StoredCertificate, StoredSecret } from './credentials.ts';
import { storedSecret } from './credentials.ts';

export interface Registration {
  appId: string;
  secrets: StoredSecret[];
  certificates: StoredCertificate[];
  redirectUris: string[];
  /** Application permissions granted (client credentials: `roles`). */
  roles: string[];
  /** Delegated permissions consented (user flows: `scp`). */
  scopes: string[];
}

/** What an app gets unless its registration says otherwise: what `/_presently/tokens` gives by default, and more. */
export const DEFAULT_ROLES = ['Presence.Read.All', 'Presence.ReadWrite.All'];
export const DEFAULT_SCOPES = ['User.Read', 'Presence.Read', 'Presence.Read.All', 'Presence.ReadWrite', 'MailboxSettings.Read', 'MailboxSettings.ReadWrite'];
/**
 * Loopback redirect URIs, which match any port (RFC 8252 §7.3): native and test apps on localhost need no
 * registration of their port.
 */
export const LOOPBACK_REDIRECTS = ['http://localhost', 'http://127.0.0.1', 'https://localhost', 'https://127.0.0.1'];

/**
 * The demo app's well-known client secret [P: d-authority-demo-secret]: published, as Azurite publishes its account
 * key, so scripts and tests can use the demo app with no setup. It opens nothing a dev-mode server does not already
 * give to anyone who can reach it.
 */
export const DEMO_APP_SECRET = 'Dev~Presently.Demo.App.Well-Known.Secret';

const metaKey = (appId: string) => `authority.app.${appId.toLowerCase()}`;

export function emptyRegistration(appId: string): Registration {
  return { appId: appId.toLowerCase(), secrets: [], certificates: [], redirectUris: [...LOOPBACK_REDIRECTS], roles: [...DEFAULT_ROLES], scopes: [...DEFAULT_SCOPES] };
}

export class Registrations {
  constructor(private readonly store: Pick<Store, 'getMeta' | 'setMeta' | 'setMetaIfAbsent' | 'getApp'>) {}

  /** The app's registration; an app of the directory with none yet has the defaults and no credentials. */
  async get(appId: string): Promise<Registration | null> {
    const stored = await this.store.getMeta(metaKey(appId));
    if (stored !== null) return JSON.parse(stored) as Registration;
    return (await this.store.getApp(appId.toLowerCase())) ? emptyRegistration(appId) : null;
  }

  async put(registration: Registration): Promise<void> {
    await this.store.setMeta(metaKey(registration.appId), JSON.stringify(registration));
  }

  /** Gives the demo app its well-known secret, unless it has a registration already (one changed by the admin API). */
  async ensureDemo(appId: string): Promise<void> {
    const demo = { ...emptyRegistration(appId), secrets: [{ ...storedSecret(DEMO_APP_SECRET), keyId: 'a1b2c3d4-0000-4000-8000-00000000d3e0' }] };
    await this.store.setMetaIfAbsent(metaKey(appId), JSON.stringify(demo));
  }
}
