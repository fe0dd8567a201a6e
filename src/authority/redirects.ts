/**
 * Where the sign-in flow may send the browser back to, and how. A redirect URI must be registered for the app
 * exactly; a loopback one (`http://localhost`, `http://127.0.0.1`, their https forms) matches any port, as RFC 8252
 * §7.3 asks of native apps, and when registered without a path, any path [P: d-authority-redirects].
 */
import type { FastifyReply } from 'fastify';
import { escapeHtml } from './html.ts';

const LOOPBACK_HOSTS = ['localhost', '127.0.0.1', '[::1]'];

export type ResponseMode = 'query' | 'fragment' | 'form_post';

function parse(uri: string): URL | null {
  try {
    return new URL(uri);
  } catch {
    return null;
  }
}

export function redirectAllowed(registered: readonly string[], uri: string): boolean {
  const target = parse(uri);
  if (!target || !['http:', 'https:'].includes(target.protocol) || target.username !== '' || target.password !== '' || target.hash !== '') return false;
  return registered.some((entry) => {
    if (entry === uri) return true;
    const reg = parse(entry);
    if (!reg || !LOOPBACK_HOSTS.includes(reg.hostname) || reg.hostname !== target.hostname || reg.protocol !== target.protocol) return false;
    const anyPath = reg.pathname === '/' && !entry.endsWith('/') && reg.search === '';
    return anyPath || (reg.pathname === target.pathname && reg.search === target.search);
  });
}

/** Sends the browser back to the app with `params`, in the response mode it asked for. */
export function sendBack(reply: FastifyReply, redirectUri: string, mode: ResponseMode, params: Record<string, string>): FastifyReply {
  reply.header('cache-control', 'no-store');
  if (mode === 'form_post') {
    const inputs = Object.entries(params).map(([k, v]) => `<input type="hidden" name="${escapeHtml(k)}" value="${escapeHtml(v)}">`).join('');
    return reply.type('text/html; charset=utf-8').send(
      `<!doctype html><html><head><title>Working...</title></head><body onload="document.forms[0].submit()">` +
      `<form method="post" action="${escapeHtml(redirectUri)}">${inputs}<noscript><button>Continue</button></noscript></form></body></html>`);
  }
  const url = new URL(redirectUri);
  const encoded = new URLSearchParams(params);
  if (mode === 'fragment') url.hash = encoded.toString();
  else for (const [k, v] of encoded) url.searchParams.set(k, v);
  return reply.redirect(url.toString(), 302);
}
