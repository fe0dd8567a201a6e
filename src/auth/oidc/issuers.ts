/**
 * Which issuers a token may come from (docs/operations/auth.md, `--issuer`), and where each one's discovery document
 * is. An issuer is a URL compared exactly with the token's `iss`, or a template with `{tenantid}` — Entra ID's
 * multi-tenant form — whose `{tenantid}` is the token's own `tid`: `https://login.microsoftonline.com/{tenantid}/v2.0`
 * accepts a token with `iss` `https://login.microsoftonline.com/<tid>/v2.0` only when its `tid` is that same `<tid>`.
 */
import { isGuid } from '../../platform/json/validate.ts';

export const TENANT_PLACEHOLDER = '{tenantid}';

export interface IssuerSpec {
  /** As configured, `{tenantid}` lower-cased. */
  issuer: string;
  /** True when `issuer` has `{tenantid}`. */
  template: boolean;
  /** Where the discovery document is fetched from. */
  discoveryUrl: string;
}

/** Entra ID's hosts per national cloud: the v2 sign-in host and the v1 token issuer host. */
const ENTRA_HOSTS: Record<string, { login: string; sts: string }> = {
  global: { login: 'login.microsoftonline.com', sts: 'sts.windows.net' },
  usgov: { login: 'login.microsoftonline.us', sts: 'sts.windows.net' },
  dod: { login: 'login.microsoftonline.us', sts: 'sts.windows.net' },
  china: { login: 'login.chinacloudapi.cn', sts: 'sts.chinacloudapi.cn' },
};

/** The v1 issuer hosts (`https://sts.windows.net/{tid}/`) serve no discovery; their cloud's sign-in host does. */
const STS_TO_LOGIN: Record<string, string> = {
  'sts.windows.net': 'login.microsoftonline.com',
  'sts.chinacloudapi.cn': 'login.chinacloudapi.cn',
};

/** `entra` → the cloud's Entra v2 and v1 templates; other values as given. */
export function expandIssuers(configured: readonly string[], cloud: string): string[] {
  const out: string[] = [];
  for (const value of configured) {
    if (value.toLowerCase() !== 'entra') {
      out.push(value);
      continue;
    }
    const hosts = ENTRA_HOSTS[cloud] ?? ENTRA_HOSTS.global!;
    out.push(`https://${hosts.login}/${TENANT_PLACEHOLDER}/v2.0`, `https://${hosts.sts}/${TENANT_PLACEHOLDER}/`);
  }
  return [...new Set(out)];
}

/**
 * The spec of one configured issuer. A template's discovery document is its `common` tenant's (Entra ID's
 * multi-tenant endpoint, whose document names the template itself as `issuer`); v1 `sts` hosts are asked through
 * their cloud's sign-in host.
 */
export function issuerSpec(configured: string): IssuerSpec {
  const issuer = configured.replace(/\{tenantid\}/gi, TENANT_PLACEHOLDER);
  const template = issuer.includes(TENANT_PLACEHOLDER);
  const base = new URL(issuer.replaceAll(TENANT_PLACEHOLDER, 'common'));
  const login = STS_TO_LOGIN[base.hostname];
  if (login !== undefined) base.hostname = login;
  const discoveryUrl = `${base.href.replace(/\/+$/, '')}/.well-known/openid-configuration`;
  return { issuer, template, discoveryUrl };
}

/** True when a token with this `iss` and `tid` comes from `spec`. */
export function issuerMatches(spec: IssuerSpec, iss: string, tid: string | undefined): boolean {
  if (!spec.template) return iss === spec.issuer;
  if (tid === undefined || !isGuid(tid)) return false;
  return iss === spec.issuer.replaceAll(TENANT_PLACEHOLDER, tid) || iss === spec.issuer.replaceAll(TENANT_PLACEHOLDER, tid.toLowerCase());
}

/** True when a discovery document's `issuer` is the configured one (a template's document names the template). */
export function discoveredIssuerMatches(spec: IssuerSpec, discovered: string): boolean {
  return discovered.replace(/\{tenantid\}/gi, TENANT_PLACEHOLDER) === spec.issuer;
}
