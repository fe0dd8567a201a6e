/**
 * The page's routes live in the URL's hash, so every view has an address to bookmark or share and the server serves
 * one page: `#/board`, `#/users/{id}`, `#/notifications?subscription=…&user=…`, `#/controls?user=…`.
 */
import { useEffect, useState } from 'preact/hooks';

export type Route =
  | { name: 'board' }
  | { name: 'user'; userId: string }
  | { name: 'notifications'; subscription: string | null; user: string | null }
  | { name: 'controls'; user: string | null };

export function parseRoute(hash: string): Route {
  const [path = '', search = ''] = hash.replace(/^#/, '').split('?', 2);
  const params = new URLSearchParams(search);
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  if (parts[0] === 'users' && parts[1]) return { name: 'user', userId: parts[1] };
  if (parts[0] === 'notifications') return { name: 'notifications', subscription: params.get('subscription'), user: params.get('user') };
  if (parts[0] === 'controls') return { name: 'controls', user: params.get('user') };
  return { name: 'board' };
}

export function href(route: Route): string {
  const q = (params: Record<string, string | null>) => {
    const s = new URLSearchParams(Object.entries(params).filter((e): e is [string, string] => !!e[1])).toString();
    return s ? `?${s}` : '';
  };
  switch (route.name) {
    case 'board': return '#/board';
    case 'user': return `#/users/${encodeURIComponent(route.userId)}`;
    case 'notifications': return `#/notifications${q({ subscription: route.subscription, user: route.user })}`;
    case 'controls': return `#/controls${q({ user: route.user })}`;
  }
}

export function navigate(route: Route, replace = false): void {
  const target = href(route);
  if (replace) history.replaceState(null, '', target);
  else location.hash = target;
  if (replace) window.dispatchEvent(new HashChangeEvent('hashchange'));
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const changed = () => setRoute(parseRoute(location.hash));
    window.addEventListener('hashchange', changed);
    return () => window.removeEventListener('hashchange', changed);
  }, []);
  return route;
}
