/** Redis URLs: one node, or the nodes of a cluster; and how to print one without its password. */
import type { ClusterNode } from 'ioredis';

/** `redis://[user:password@]host:port[/db]`, or several nodes of a cluster: `redis://h1:p1,h2:p2,...`. */
export type RedisTarget =
  | { kind: 'single'; url: string }
  | { kind: 'cluster'; nodes: ClusterNode[]; username?: string; password?: string; tls: boolean };

export function parseRedisUrl(url: string): RedisTarget {
  const m = /^(rediss?):\/\/(?:([^@/]*)@)?([^/?#]+)(\/[^?#]*)?$/.exec(url);
  if (!m) throw new Error(`not a Redis URL: '${redact(url)}' (expected redis://host:port[/db] or redis://host1:port1,host2:port2,...)`);
  const [, scheme, auth, hosts, path] = m as unknown as [string, string, string | undefined, string, string | undefined];
  const list = hosts.split(',').map((h) => h.trim()).filter((h) => h !== '');
  if (list.length <= 1) return { kind: 'single', url };
  if (path && path !== '/' && path !== '/0') throw new Error('Redis Cluster has only database 0: drop the /db from the URL.');
  const nodes = list.map((h) => {
    const hm = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(h);
    if (!hm) throw new Error(`bad Redis node '${h}' in '${redact(url)}'`);
    return { host: hm[1]!.replace(/^\[(.*)\]$/, '$1'), port: hm[2] ? Number(hm[2]) : 6379 };
  });
  const target: RedisTarget = { kind: 'cluster', nodes, tls: scheme === 'rediss' };
  if (auth) {
    const i = auth.indexOf(':');
    const user = decodeURIComponent(i < 0 ? auth : auth.slice(0, i));
    const password = i < 0 ? '' : decodeURIComponent(auth.slice(i + 1));
    if (i < 0) target.password = user;
    else {
      if (user) target.username = user;
      target.password = password;
    }
  }
  return target;
}

/** The URL without its password, for messages. */
export function redact(url: string): string {
  return url.replace(/^(rediss?:\/\/)([^@/]*)@/, (_, scheme: string, auth: string) =>
    `${scheme}${auth.includes(':') ? `${auth.slice(0, auth.indexOf(':'))}:***` : '***'}@`);
}
