/**
 * The dev authority's sign-in page: the users of the tenant (of every tenant at `common`), one button each; no
 * password is asked [P: d-authority-passwords]. The page carries the authorization request through a form that POSTs
 * back to the authorize URL, where every parameter is checked again.
 */
import { CARRIED, MAX_LISTED, type ListedUsers } from './authorize.ts';
import { escapeHtml, page } from './html.ts';
import type { OAuthError } from './errors.ts';

const hiddenFields = (params: Record<string, string>, except?: string) => CARRIED.filter((k) => params[k] !== undefined && k !== except)
  .map((k) => `<input type="hidden" name="${k}" value="${escapeHtml(params[k]!)}">`).join('');

/**
 * The page: the listed users (./authorize.ts usersFor), the `login_hint` user first, the rest by name. When the
 * tenant has more than are listed, a search by user name above them: it reloads the page with that `login_hint`.
 */
export function signInPage(appName: string, listed: ListedUsers, params: Record<string, string>, loginHint: string | undefined): string {
  const hint = loginHint?.toLowerCase();
  const sorted = [...listed.users].sort((a, b) => Number(b.userPrincipalName.toLowerCase() === hint) - Number(a.userPrincipalName.toLowerCase() === hint)
    || a.displayName.localeCompare(b.displayName));
  const buttons = sorted.map((u) =>
    `<button class="user" type="submit" name="login" value="${escapeHtml(`${u.tenantId}:${u.id}`)}">` +
    `${escapeHtml(u.displayName)}<br><small>${escapeHtml(u.userPrincipalName)}</small></button>`).join('');
  const none = listed.total === 0 ? '<p class="error">This tenant has no users. Add one with POST /_presently/tenants/{tid}/users.</p>' : '';
  const missing = listed.hintMissing && loginHint ? `<p class="error">No account '${escapeHtml(loginHint.slice(0, 200))}' here.</p>` : '';
  const search = listed.total > MAX_LISTED
    ? `<p><small>${listed.users.length.toLocaleString('en-US')} of ${listed.total.toLocaleString('en-US')} accounts are listed. ` +
      `Find another by user name:</small></p><form class="find" method="get">${hiddenFields(params, 'login_hint')}` +
      `<input type="text" name="login_hint" placeholder="someone@contoso.example" value="${escapeHtml(loginHint ?? '')}" aria-label="User name">` +
      '<button type="submit">Find</button></form>'
    : '';
  return page('Sign in to your account', `<h1>Pick an account</h1><p>to continue to <b>${escapeHtml(appName)}</b></p>` +
    `<p><small>Presently dev mode: no password is asked.</small></p>${none}${missing}${search}` +
    `<form method="post">${hiddenFields(params)}${buttons}<button class="user" type="submit" name="cancel" value="1">Cancel</button></form>`);
}

export function errorPage(err: OAuthError, traceId: string): string {
  return page('Sign in: error', `<h1>Sorry, but we're having trouble signing you in.</h1>` +
    `<p class="error">AADSTS${err.aadsts}: ${escapeHtml(err.message)}</p><p><small>Trace ID: ${escapeHtml(traceId)}</small></p>`);
}
