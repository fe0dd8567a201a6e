/**
 * Phase "tokens": every forgery we know of, each sent to the Graph API's reads and writes, must be refused (4xx,
 * Graph-shaped) without changing anything and without the server fetching a key from anywhere (the `jku`/`x5u`
 * targets are a local trap that counts hits); then a foreign tenant's valid tokens, and another app's and another
 * user's, must not read, change or delete anything of the victim's (presence, mailbox settings, subscriptions).
 */
import { randomUUID } from 'node:crypto';
import { createPublicKey } from 'node:crypto';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { SignJWT, decodeJwt, exportJWK, generateKeyPair, importJWK, type JWK, type JWTPayload } from 'jose';
import type { Answer, Client, Req, Tally } from './client.ts';
import type { Receiver } from './receivers.ts';
import { ALL_SCOPES, TENANT, makeUsers, mint, serverNow, subscriptionBody } from './world.ts';

const SECRET = `secret-${randomUUID().slice(0, 8)}`;
const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

interface Victim {
  userId: string;
  token: string;
  subscriptionId: string;
}

async function victim(c: Client, receiverUrl: string): Promise<Victim> {
  const [userId] = await makeUsers(c, 1);
  const token = await mint(c, { userId: userId!, scopes: ALL_SCOPES });
  await c.must({ method: 'POST', path: `/v1.0/users/${userId}/presence/setStatusMessage`, token, body: { statusMessage: { message: { content: SECRET, contentType: 'text' } } } });
  await c.must({ method: 'POST', path: `/v1.0/users/${userId}/presence/setUserPreferredPresence`, token, body: { availability: 'Busy', activity: 'Busy' } });
  await c.must({ method: 'PATCH', path: `/v1.0/users/${userId}/mailboxSettings`, token, body: { automaticRepliesSetting: { status: 'alwaysEnabled', internalReplyMessage: SECRET } } });
  const now = await serverNow(c);
  const sub = await c.must({ method: 'POST', path: '/v1.0/subscriptions', token, body: subscriptionBody(receiverUrl, [userId!], now) }, 201);
  return { userId: userId!, token, subscriptionId: (sub.json as { id: string }).id };
}

/** The victim's state as its owner sees it. */
async function state(c: Client, v: Victim): Promise<string> {
  const paths = [`/v1.0/users/${v.userId}/presence`, `/v1.0/users/${v.userId}/mailboxSettings`, '/v1.0/subscriptions'];
  const out = await Promise.all(paths.map((path) => c.request({ method: 'GET', path, token: v.token })));
  return out.map((a) => `${a.status} ${a.text}`).join('\n');
}

/** The requests each forged token is tried on: reads and writes of the victim. */
function attacks(v: Victim): Array<Omit<Req, 'token'>> {
  const u = `/v1.0/users/${v.userId}`;
  return [
    { method: 'GET', path: `${u}/presence` },
    { method: 'GET', path: '/v1.0/me/presence' },
    { method: 'GET', path: `/v1.0/communications/presences/${v.userId}` },
    { method: 'POST', path: '/v1.0/communications/getPresencesByUserId', body: { ids: [v.userId] } },
    { method: 'POST', path: `${u}/presence/setStatusMessage`, body: { statusMessage: { message: { content: 'pwned', contentType: 'text' } } } },
    { method: 'POST', path: `${u}/presence/clearUserPreferredPresence`, body: {} },
    { method: 'GET', path: `${u}/mailboxSettings` },
    { method: 'PATCH', path: `${u}/mailboxSettings`, body: { automaticRepliesSetting: { status: 'disabled' } } },
    { method: 'GET', path: '/v1.0/subscriptions' },
    { method: 'GET', path: `/v1.0/subscriptions/${v.subscriptionId}` },
    { method: 'DELETE', path: `/v1.0/subscriptions/${v.subscriptionId}` },
    { method: 'POST', path: '/v1.0/$batch', body: { requests: [{ id: '1', method: 'GET', url: `/users/${v.userId}/presence` }] } },
  ];
}

/** A refusal: 4xx, Graph-shaped, and nothing of the victim's in it. */
function refused(t: Tally, a: Answer, what: string): void {
  t.answer(a, what);
  if (a.status >= 200 && a.status < 300) {
    // getPresencesByUserId and $batch answer 200 around their items: those must not show the victim.
    const batchItem = (a.json as { responses?: Array<{ status?: number }> } | undefined)?.responses?.[0]?.status;
    const unknown = /PresenceUnknown/.test(a.text) && !/"Busy"/.test(a.text);
    if (a.text.includes(SECRET) || (batchItem !== undefined ? batchItem < 400 : !unknown)) breach(t, `accepted: ${what}: ${a.status} ${a.text.slice(0, 200)}`);
  } else if (a.text.includes(SECRET)) {
    breach(t, `leaked the victim's data: ${what}: ${a.text.slice(0, 200)}`);
  }
}

function breach(t: Tally, line: string): void {
  t.breaches++;
  t.example(line);
}

export interface Keys {
  kid: string;
  publicJwk: JWK;
  publicPem: string;
  attacker: CryptoKey;
  attackerJwk: JWK;
  attackerEc: CryptoKey;
  dev: CryptoKey | null;
}

async function keys(c: Client, dataDir: string): Promise<Keys> {
  const jwks = (await c.must({ method: 'GET', path: '/_presently/keys' })).json as { keys: JWK[] };
  return keysFrom(jwks, await devKey(dataDir));
}

/** The server's public key (from its JWKS), an attacker's keys, and the dev key if known. */
export async function keysFrom(jwks: { keys: JWK[] }, dev: CryptoKey | null): Promise<Keys> {
  const publicJwk = jwks.keys[0]!;
  const publicPem = createPublicKey({ key: publicJwk as import('node:crypto').JsonWebKey, format: 'jwk' }).export({ type: 'spki', format: 'pem' }).toString();
  const pair = await generateKeyPair('RS256', { extractable: true });
  return {
    kid: publicJwk.kid ?? '', publicJwk, publicPem,
    attacker: pair.privateKey as CryptoKey, attackerJwk: await exportJWK(pair.publicKey),
    attackerEc: (await generateKeyPair('ES256')).privateKey as CryptoKey,
    dev,
  };
}

/**
 * The dev issuer's private key, read from the run's own data folder, to sign tokens whose only fault is a claim
 * (audience, issuer, tenant, lifetime). Null if this server keeps it elsewhere: those forgeries are then skipped.
 */
async function devKey(dataDir: string): Promise<CryptoKey | null> {
  try {
    const db = new Database(join(dataDir, 'presently.db'), { readonly: true, fileMustExist: true });
    const row = db.prepare("SELECT value FROM meta WHERE key = 'auth.devSigningKey'").get() as { value: string } | undefined;
    db.close();
    return row ? (await importJWK(JSON.parse(row.value) as JWK, 'RS256')) as CryptoKey : null;
  } catch {
    return null;
  }
}

async function hmac(alg: string, secret: Uint8Array, header: object, claims: JWTPayload): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg, ...header }).sign(secret);
}

/** Every forged token, by name, made from a real token `real` and aimed at `victimId`. */
export async function forgeries(k: Keys, real: string, trapUrl: string, victimId: string): Promise<Array<[string, string]>> {
  const claims = decodeJwt(real);
  const forged: JWTPayload = { ...claims, oid: victimId, sub: victimId, scp: 'Presence.ReadWrite Presence.Read.All MailboxSettings.ReadWrite', roles: ['Presence.ReadWrite.All', 'MailboxSettings.ReadWrite', 'Presently.Admin'] };
  const [h, , s] = real.split('.') as [string, string, string];
  const out: Array<[string, string]> = [];
  for (const alg of ['none', 'None', 'NONE', 'nOnE']) {
    out.push([`alg ${alg}`, `${b64({ alg, typ: 'JWT' })}.${b64(forged)}.`]);
    out.push([`alg ${alg}, signature kept`, `${b64({ alg, typ: 'JWT', kid: k.kid })}.${b64(forged)}.${s}`]);
  }
  out.push(['alg none, no signature part', `${b64({ alg: 'none' })}.${b64(forged)}`]);
  const n = Buffer.from(k.publicJwk.n ?? '', 'base64url');
  const secrets: Array<[string, Uint8Array]> = [
    ['PEM', Buffer.from(k.publicPem)], ['PEM without newline', Buffer.from(k.publicPem.trim())], ['JWK JSON', Buffer.from(JSON.stringify(k.publicJwk))],
    ['modulus bytes', n], ['modulus base64url', Buffer.from(k.publicJwk.n ?? '')], ['kid', Buffer.from(k.kid)], ['empty-ish', Buffer.from(' ')],
  ];
  for (const alg of ['HS256', 'HS384', 'HS512']) {
    for (const [name, secret] of secrets) out.push([`${alg} keyed with the public key's ${name}`, await hmac(alg, secret, { kid: k.kid, typ: 'JWT' }, forged)]);
  }
  const attacker = (header: object) => new SignJWT(forged).setProtectedHeader({ alg: 'RS256', typ: 'JWT', ...header }).sign(k.attacker);
  out.push(['foreign RSA key, server kid', await attacker({ kid: k.kid })]);
  out.push(['foreign RSA key, no kid', await attacker({})]);
  out.push(['foreign EC key, ES256, server kid', await new SignJWT(forged).setProtectedHeader({ alg: 'ES256', kid: k.kid }).sign(k.attackerEc)]);
  out.push(['jku → trap', await attacker({ jku: `${trapUrl}/jwks.json`, kid: 'attacker' })]);
  out.push(['jku → trap, server kid', await attacker({ jku: `${trapUrl}/jwks.json`, kid: k.kid })]);
  out.push(['x5u → trap', await attacker({ x5u: `${trapUrl}/cert.pem`, kid: 'attacker' })]);
  out.push(['embedded jwk', await attacker({ jwk: k.attackerJwk })]);
  out.push(['embedded jwk, server kid', await attacker({ jwk: { ...k.attackerJwk, kid: k.kid }, kid: k.kid })]);
  out.push(['kid is a URL', await attacker({ kid: `${trapUrl}/key` })]);
  out.push(['kid path traversal', await attacker({ kid: '../../../../dev/null' })]);
  out.push(['x5c of junk', await attacker({ x5c: ['MIIBjunk'], kid: k.kid })]);
  out.push(['jku + jwk + x5u together', await attacker({ jku: `${trapUrl}/a`, x5u: `${trapUrl}/b`, jwk: k.attackerJwk })]);
  out.push(['tampered payload, signature kept', `${h}.${b64(forged)}.${s}`]);
  out.push(['tampered header (kid), signature kept', `${b64({ ...JSON.parse(Buffer.from(h, 'base64url').toString()), kid: 'x' })}.${real.split('.')[1]}.${s}`]);
  out.push(['signature stripped', `${h}.${real.split('.')[1]}.`]);
  out.push(['signature truncated', real.slice(0, -4)]);
  out.push(['two dots only', `${h}.${real.split('.')[1]}`]);
  out.push(['garbage', 'not.a.token']);
  out.push(['large token (12 KB, under the header limit)', `${h}.${b64({ ...forged, pad: 'x'.repeat(9_000) })}.${s}`]);
  if (k.dev) {
    const dev = (c: JWTPayload) => new SignJWT(c).setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: k.kid }).sign(k.dev!);
    const now = Math.floor(Date.now() / 1000);
    const foreignTid = randomUUID();
    out.push(['wrong audience', await dev({ ...forged, aud: 'https://graph.evil.example' })]);
    out.push(['audience array without ours', await dev({ ...forged, aud: ['api://other', 'https://graph.evil.example'] })]);
    out.push(['wrong issuer', await dev({ ...forged, iss: 'https://login.evil.example/x/v2.0' })]);
    out.push(["another tenant's issuer", await dev({ ...forged, iss: String(claims.iss).replace(TENANT, foreignTid) })]);
    out.push(['tid of another tenant, issuer ours', await dev({ ...forged, tid: foreignTid })]);
    out.push(['no tid', await dev({ ...forged, tid: undefined })]);
    out.push(['expired an hour ago', await dev({ ...forged, iat: now - 7200, nbf: now - 7200, exp: now - 3600 })]);
    out.push(['not yet valid', await dev({ ...forged, nbf: now + 3600, exp: now + 7200 })]);
    out.push(['no exp', await dev({ ...forged, exp: undefined })]);
    out.push(['exp as a string', await dev({ ...forged, exp: String(now + 3600) as unknown as number })]);
  }
  return out;
}

/** Authorization headers that are not a token at all; the last is over Node's 16 KiB header limit. */
const BAD_HEADERS = ['', 'Bearer', 'Bearer ', 'Basic YWRtaW46YWRtaW4=', 'bearer x', 'Bearer a b c', 'Negotiate x', 'Bearer \u00e9\u00e9', `Bearer ${'a'.repeat(20_000)}`];

/** Runs the phase: forgeries, then foreign tenant, app and user. */
export async function runTokens(c: Client, t: Tally, dataDir: string, receiver: Receiver, trap: Receiver): Promise<number> {
  const v = await victim(c, receiver.url);
  const before = await state(c, v);
  if (!before.split('\n').every((line) => line.startsWith('200 '))) throw new Error(`the victim's state is not readable: ${before.slice(0, 300)}`);
  const k = await keys(c, dataDir);
  if (!k.dev) t.notes.push('the dev key was not readable from the data folder: audience/issuer/tenant/lifetime forgeries skipped');
  const forged = await forgeries(k, v.token, trap.url.replace(/\/hook$/, ''), v.userId);
  for (const [name, token] of forged) {
    for (const r of attacks(v)) refused(t, await c.request({ ...r, token }), `forgery '${name}': ${r.method} ${r.path}`);
  }
  for (const header of BAD_HEADERS) {
    for (const r of attacks(v).slice(0, 3)) {
      const a = await c.request({ ...r, headers: { authorization: header }, fresh: header.length > 16_384 });
      // Over the header limit the server may answer 431 and close while the request is still being written: the
      // reset is the client's view of that answer, not a server without an answer.
      if (a.status === 0 && header.length > 16_384 && /ECONNRESET|EPIPE|socket hang up/.test(a.error ?? '')) t.requests++;
      else refused(t, a, `Authorization '${header.slice(0, 20)}…' (${header.length} chars): ${r.method} ${r.path}`);
    }
  }
  await crossTenant(c, t, v);
  if ((await state(c, v)) !== before) {
    t.stateChanges++;
    t.example("the victim's state changed during the token attacks");
  }
  if (trap.hits > 0) t.example(`${trap.hits} requests reached the jku/x5u trap`);
  t.outboundFetches += trap.hits;
  await expiredByClock(c, t, v);
  return forged.length + BAD_HEADERS.length;
}

/** A foreign tenant's tokens, another app's and another user's of the same tenant: none sees or changes the victim's. */
async function crossTenant(c: Client, t: Tally, v: Victim): Promise<void> {
  const foreign = randomUUID();
  const [stranger] = await makeUsers(c, 1, foreign);
  const [colleague] = await makeUsers(c, 1);
  const otherApp = randomUUID();
  const callers: Array<[string, string]> = [
    ['foreign tenant app', await mint(c, { tenantId: foreign, roles: ['Presence.ReadWrite.All', 'Presence.Read.All', 'MailboxSettings.ReadWrite'] })],
    ['foreign tenant user', await mint(c, { userId: stranger!, scopes: ALL_SCOPES })],
  ];
  for (const [who, token] of callers) {
    // Their own /me and their own (empty) list of subscriptions are theirs to read; the list is checked below.
    for (const r of attacks(v).filter((r) => r.path !== '/v1.0/me/presence' && r.path !== '/v1.0/subscriptions')) refused(t, await c.request({ ...r, token }), `${who}: ${r.method} ${r.path}`);
    await listWithout(c, t, v, who, token);
    refused(t, await c.request({ method: 'PATCH', path: `/v1.0/subscriptions/${v.subscriptionId}`, token, body: { expirationDateTime: new Date(Date.now() + 600_000).toISOString() } }), `${who}: PATCH the victim's subscription`);
    refused(t, await c.request({ method: 'POST', path: '/v1.0/subscriptions', token, body: subscriptionBody('http://127.0.0.1:9/x', [v.userId], Date.now()) }), `${who}: subscribe to the victim`);
    refused(t, await c.request({ method: 'GET', path: `/v1.0/users/${v.userId}/mailboxSettings/automaticRepliesSetting`, token }), `${who}: GET automaticRepliesSetting`);
  }
  // Same tenant, another app or another user: a subscription is its creator's, through the app it was made with, alone.
  const sameTenant: Array<[string, string]> = [
    ['the victim through another app', await mint(c, { userId: v.userId, appId: otherApp, scopes: ALL_SCOPES })],
    ['another user', await mint(c, { userId: colleague!, scopes: ALL_SCOPES })],
    ['another user of another app', await mint(c, { userId: colleague!, appId: otherApp, scopes: ALL_SCOPES })],
    ['an application of the tenant', await mint(c, { roles: ['Presence.ReadWrite.All', 'Presence.Read.All'] })],
  ];
  for (const [who, token] of sameTenant) {
    refused(t, await c.request({ method: 'GET', path: `/v1.0/subscriptions/${v.subscriptionId}`, token }), `${who}: GET subscription`);
    refused(t, await c.request({ method: 'PATCH', path: `/v1.0/subscriptions/${v.subscriptionId}`, token, body: { expirationDateTime: new Date(Date.now() + 600_000).toISOString() } }), `${who}: PATCH subscription`);
    refused(t, await c.request({ method: 'DELETE', path: `/v1.0/subscriptions/${v.subscriptionId}`, token }), `${who}: DELETE subscription`);
    await listWithout(c, t, v, who, token);
  }
  const theirs = await c.request({ method: 'GET', path: `/v1.0/subscriptions/${v.subscriptionId}`, token: v.token });
  if (theirs.status !== 200) breach(t, `the victim's subscription is gone after the attacks: ${theirs.status}`);
}

/** The caller's own list of subscriptions answers, without the victim's. */
async function listWithout(c: Client, t: Tally, v: Victim, who: string, token: string): Promise<void> {
  const list = await c.request({ method: 'GET', path: '/v1.0/subscriptions', token });
  t.answer(list, `${who}: list subscriptions`);
  if (list.text.includes(v.subscriptionId)) breach(t, `${who} lists the victim's subscription`);
}

/**
 * A token that expired by the server's own (manual) clock: minted for a minute, the clock moved two hours on. Last in
 * the phase, as it moves the clock of the server for good.
 */
async function expiredByClock(c: Client, t: Tally, v: Victim): Promise<void> {
  const token = await mint(c, { userId: v.userId, scopes: ALL_SCOPES, expiresIn: 60 });
  const fresh = await c.request({ method: 'GET', path: '/v1.0/me/presence', token });
  const moved = await c.request({ method: 'POST', path: '/_presently/clock', body: { advance: 'PT2H' } });
  if (fresh.status !== 200 || moved.status !== 200) {
    t.notes.push(`expired-token check skipped: a fresh token answered ${fresh.status}, moving the clock ${moved.status}`);
    return;
  }
  for (const r of attacks(v).slice(0, 5)) refused(t, await c.request({ ...r, token }), `token expired by the clock: ${r.method} ${r.path}`);
}
