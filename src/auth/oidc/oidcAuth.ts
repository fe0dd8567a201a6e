/**
 * `--auth oidc` as one piece for the composition root: the key ring of the configured issuers (./keyRing.ts) and
 * the verifier that uses it (./verifier.ts). Audiences default to the cloud's Graph resource URI and Graph's
 * application id.
 */
import type { Clock } from '../../platform/clock/clock.ts';
import { expandIssuers } from './issuers.ts';
import { KeyRing, type Readiness } from './keyRing.ts';
import type { KeyTimings } from './keys.ts';
import { oidcVerifier, type FirstUse, type OidcVerifier } from './verifier.ts';

export interface OidcSettings extends KeyTimings {
  issuers: readonly string[];
  /** Empty: `defaultAudiences`. */
  audiences: readonly string[];
  tenants: readonly string[];
  cloud: string;
  defaultAudiences: readonly string[];
}

export interface OidcAuth {
  verifier: OidcVerifier;
  keys: KeyRing;
  /** The issuers as matched (after `entra` was expanded) and the audiences accepted. */
  issuers: string[];
  audiences: string[];
  readiness(): Readiness;
  /** Sets what runs for each newly verified token (tenants and users made on first use). */
  onFirstUse(hook: FirstUse): void;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function oidcAuth(settings: OidcSettings, clock: Clock, onError: (err: unknown) => void): OidcAuth {
  const issuers = expandIssuers(settings.issuers, settings.cloud);
  const audiences = [...(settings.audiences.length > 0 ? settings.audiences : settings.defaultAudiences)];
  let firstUse: FirstUse | null = null;
  let verifier: OidcVerifier | null = null;
  const keys = new KeyRing(issuers, clock, settings, { onKeysDropped: () => verifier?.clearCache(), onError });
  verifier = oidcVerifier({ keys, clock, audiences, tenants: settings.tenants, firstUse: () => firstUse });
  return {
    verifier, keys, issuers, audiences,
    readiness: () => keys.readiness(),
    onFirstUse: (hook) => { firstUse = hook; },
    start: () => keys.start(),
    stop: () => keys.stop(),
  };
}
