/**
 * `npm run bench -- --auth-oidc`: what validating real identity costs (issue 9's target). GET /v1.0/me/presence with
 * one user's token, on a Presently in dev auth mode and on one in `--auth oidc` whose issuer is a local discovery
 * document and key set (an Entra-v2-shaped template, `{base}/{tenantid}/v2.0`), measured one after the other in
 * alternating rounds (the two never share the cores at once), judged by the median of each round's oidc ÷ dev. Both verify each distinct token once and then serve it
 * from the verified-token cache; the oidc node also has its keys cached. Target: oidc req/s ≥ 95 % of dev's.
 *
 * Options: --duration S (each measurement, default 5), --warmup S (default 2), --rounds N (default 3),
 * --connections N (default 50).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { DevIssuer } from '../src/auth/devIssuer.ts';
import { oidcAuth } from '../src/auth/oidc/oidcAuth.ts';
import { devVerifier, type TokenVerifier } from '../src/auth/verify.ts';
import { systemClock } from '../src/platform/clock/system.ts';
import { openStore } from '../src/store/index.ts';
import { call } from './http.ts';
import { fmt, log, machine, median, runLoad, usPerRequest } from './load.ts';
import { installCleanup, runCleanups, startPresently, type PresentlyProcess } from './procs.ts';
import { ADELE, TENANT } from './scenarios.ts';

const TARGET = 0.95;

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

/** A local issuer: discovery of the template `{base}/{tenantid}/v2.0` and its key set; signs Entra-shaped tokens. */
async function startIssuer(): Promise<{ template: string; token: () => Promise<string>; close: () => void }> {
  const { privateKey, publicKey } = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'bench-1', alg: 'RS256', use: 'sig' };
  const server = http.createServer((req, res) => {
    const body = req.url === '/common/v2.0/.well-known/openid-configuration' ? { issuer: `${base}/{tenantid}/v2.0`, jwks_uri: `${base}/keys` }
      : req.url === '/keys' ? { keys: [jwk] } : null;
    if (body === null) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    template: `${base}/{tenantid}/v2.0`,
    token: async () => {
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({
        aud: 'https://graph.microsoft.com', iss: `${base}/${TENANT}/v2.0`, iat: now, nbf: now, exp: now + 3600, tid: TENANT, oid: ADELE,
        azp: '22553876-f5ab-4529-bffb-cfe50aa89f87', idtyp: 'user', scp: 'Presence.Read.All Presence.ReadWrite', ver: '2.0',
        name: 'Adele Vance', preferred_username: 'AdeleV@contoso.example',
      }).setProtectedHeader({ alg: 'RS256', kid: 'bench-1', typ: 'JWT' }).sign(privateKey);
    },
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

/** Nanoseconds per call of `verify` with one token, after its first (uncached) verification. */
async function nsPerVerify(verifier: TokenVerifier, token: string, calls = 200_000): Promise<number> {
  const header = `Bearer ${token}`;
  await verifier.verify(header);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < calls; i++) await verifier.verify(header);
  return Number(process.hrtime.bigint() - t0) / calls;
}

/**
 * The one place the two modes' request paths differ, measured in this process: `verify` of a cached token with
 * the dev verifier and with the oidc verifier (keys loaded from the local issuer). CPU-bound and short, so a busy
 * machine disturbs it less than the HTTP load.
 */
async function verifierCost(issuer: { template: string; token: () => Promise<string> }): Promise<string> {
  const clock = systemClock();
  const store = openStore({ kind: 'memory', dataDir: '' });
  try {
    const dev = await DevIssuer.load(store, clock);
    const devToken = (await dev.issue({ tenantId: TENANT, userId: ADELE, appId: TENANT, scopes: ['Presence.Read'], audience: 'https://graph.microsoft.com' })).access_token;
    const oidc = oidcAuth({
      issuers: [issuer.template], audiences: [], tenants: [], cloud: 'global', defaultAudiences: ['https://graph.microsoft.com'],
      timeoutMs: 5000, cooldownMs: 30_000, refreshMs: 3_600_000,
    }, clock, (err) => { throw err; });
    await oidc.start();
    try {
      const devNs = await nsPerVerify(devVerifier(dev, clock, ['https://graph.microsoft.com']), devToken);
      const oidcNs = await nsPerVerify(oidc.verifier, await issuer.token());
      return `verify() of a cached token, in process: dev ${fmt.int(devNs)} ns, oidc ${fmt.int(oidcNs)} ns per call`;
    } finally {
      await oidc.stop();
    }
  } finally {
    await store.close();
  }
}

export async function runAuthOidcBench(): Promise<number> {
  installCleanup();
  const seconds = arg('--duration', 5);
  const warmup = arg('--warmup', 2);
  const rounds = arg('--rounds', 3);
  const connections = arg('--connections', 50);
  const issuer = await startIssuer();
  const servers: PresentlyProcess[] = [];
  try {
    const dev = await startPresently(['--store', 'memory']);
    servers.push(dev);
    const oidc = await startPresently(['--store', 'memory', '--auth', 'oidc', '--issuer', issuer.template]);
    servers.push(oidc);
    const devToken = ((await call(dev.url, 'POST', '/_presently/tokens', { body: { userId: ADELE } })).json as { access_token: string }).access_token;
    const oidcToken = await issuer.token();
    const nodes = [
      { name: 'dev', server: dev, token: devToken, rps: [] as number[], us: [] as number[] },
      { name: 'oidc', server: oidc, token: oidcToken, rps: [] as number[], us: [] as number[] },
    ];
    for (const node of nodes) {
      const check = await call(node.server.url, 'GET', '/v1.0/me/presence', { token: node.token });
      if (check.status !== 200) throw new Error(`${node.name}: GET /v1.0/me/presence answered ${check.status}: ${check.text}`);
    }
    const m = machine();
    log(`auth-oidc: GET /v1.0/me/presence, ${connections} connections, ${rounds} rounds of ${seconds} s each (after ${warmup} s of warm-up); ${m.cpus} × ${m.cpuModel}, load ${m.loadavg.join(' ')}`);
    for (let round = 0; round < rounds; round++) {
      for (const node of round % 2 === 0 ? nodes : [...nodes].reverse()) {
        const load = { kind: 'fixed' as const, request: { method: 'GET' as const, path: '/v1.0/me/presence', headers: { authorization: `Bearer ${node.token}` } } };
        const target = [{ url: node.server.url, pid: node.server.pid, connections }];
        if (warmup > 0) await runLoad(load, `warm-${node.name}`, target, warmup);
        const result = await runLoad(load, `${node.name}-${round}`, target, seconds);
        const mm = result.targets[0]!;
        if (mm.non2xx > 0 || mm.errors > 0) throw new Error(`${node.name}: ${mm.non2xx} non-2xx answers, ${mm.errors} errors`);
        node.rps.push(mm.rps);
        const us = usPerRequest(mm.serverCpuSeconds, mm.requests);
        if (us !== null) node.us.push(us);
        log(`  round ${round + 1} ${node.name.padEnd(4)} ${fmt.int(mm.rps)} req/s  p99 ${fmt.ms(mm.p99)} ms  server CPU ${fmt.us(us)} µs/request`);
      }
    }
    // Each round's two measurements ran back to back, so their ratio is the least disturbed by the machine's other load.
    const [devRuns, oidcRuns] = [nodes[0]!.rps, nodes[1]!.rps];
    const ratios = oidcRuns.map((r, i) => r / devRuns[i]!);
    const ratio = median(ratios);
    log(`median req/s: dev ${fmt.int(median(devRuns))}, oidc ${fmt.int(median(oidcRuns))}; oidc ÷ dev per round: ${ratios.map((r) => `${(r * 100).toFixed(1)} %`).join(', ')}`);
    if (nodes.every((n) => n.us.length > 0)) {
      log(`server CPU per request (median): dev ${fmt.us(median(nodes[0]!.us))} µs, oidc ${fmt.us(median(nodes[1]!.us))} µs (less disturbed by other load than req/s)`);
    }
    log(await verifierCost(issuer));
    log(`median of the rounds: ${(ratio * 100).toFixed(1)} % of dev   target ≥ ${TARGET * 100} %   ${ratio >= TARGET ? 'PASS' : 'MISS'}`);
    return ratio >= TARGET ? 0 : 1;
  } finally {
    for (const server of servers) await server.stop();
    issuer.close();
    await runCleanups();
  }
}
