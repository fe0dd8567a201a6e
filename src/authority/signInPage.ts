/**
 * The dev authority's sign-in page: the users of the tenant (of every tenant at `common`), one button each; no
 * password is asked [P: d-authority-passwords]. The page carries the authorization request through a form that POSTs
 * back to the authorize URL, where every parameter is checked again.
 */
import type { User } from '../store/types.ts';
import { CARRIED } from './authorize.ts';
import { escapeHtml, page } from './html.ts';
import type { OAuthError } from './errors.ts';

const MAX_LISTED = 500;

export function signInPage(appName: string, users: User[], params: Record<string, string>, loginHint: string | undefined): string {
  const hidden = CARRIED.filter((k) => params[k] !== undefined)
    .map((k) => `<input type="hidden" name="${k}" value="${escapeHtml(params[k]!)}">`).join('');
  const hint = loginHint?.toLowerCase();
  const sorted = [...users].sort((a, b) => Number(b.userPrincipalName.toLowerCase() === hint) - Number(a.userPrincipalName.toLowerCase() === hint)
    || a.displayName.localeCompare(b.displayName));
  const buttons = sorted.slice(0, MAX_LISTED).map((u) =>
    `<button class="user" type="submit" name="login" value="${escapeHtml(`${u.tenantId}:${u.id}`)}">` +
    `${escapeHtml(u.displayName)}<br><small>${escapeHtml(u.userPrincipalName)}</small></button>`).join('');
  const none = users.length === 0 ? '<p class="error">This tenant has no users. Add one with POST /_presently/tenants/{tid}/users.</p>' : '';
  return page('Sign in to your account', `<h1>Pick an account</h1><p>to continue to <b>${escapeHtml(appName)}</b></p>` +
    `<p><small>Presently dev mode: no password is asked.</small></p>${none}` +
    `<form method="post">${hidden}${buttons}<button class="user" type="submit" name="cancel" value="1">Cancel</button></form>`);
}

export function errorPage(err: OAuthError, traceId: string): string {
  return page('Sign in: error', `<h1>Sorry, but we're having trouble signing you in.</h1>` +
    `<p class="error">AADSTS${err.aadsts}: ${escapeHtml(err.message)}</p><p><small>Trace ID: ${escapeHtml(traceId)}</small></p>`);
}
