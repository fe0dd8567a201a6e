/**
 * The dev authority's sign-in page with many users: it lists at most 500 accounts, read as a page of the directory
 * (a tenant of a million users costs what one of 500 does), says how many there are, and finds any other account by
 * user name (`login_hint`), never one of another tenant.
 */
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { MAX_LISTED } from '../../src/authority/authorize.ts';
import { ADELE, APP, TENANT, startInProcess, type TestServer } from '../kit/server.ts';

const VERIFIER = 'a-code-verifier-of-forty-three-characters-or-more-0123';
const REDIRECT = 'http://localhost:5173/callback';
const MANY = 1_200;

/** The accounts the page offers, in its order: the value of each login button and the UPN under it. */
function accounts(html: string): Array<{ login: string; upn: string }> {
  return [...html.matchAll(/<button class="user" type="submit" name="login" value="([^"]+)">[^<]*<br><small>([^<]+)<\/small>/g)]
    .map((m) => ({ login: m[1]!, upn: m[2]! }));
}

describe('dev authority: the sign-in page with many users', () => {
  let s: TestServer;
  const BIG = randomUUID();
  const params = (extra: Record<string, string> = {}) => new URLSearchParams({
    client_id: APP, response_type: 'code', redirect_uri: REDIRECT, scope: 'Presence.ReadWrite openid', state: 'st',
    code_challenge: createHash('sha256').update(VERIFIER).digest('base64url'), code_challenge_method: 'S256', ...extra,
  });
  const page = async (tenant: string, extra: Record<string, string> = {}) => {
    const res = await s.inject({ method: 'GET', url: `/${tenant}/oauth2/v2.0/authorize?${params(extra)}` });
    assert.equal(res.statusCode, 200, res.body);
    return res.body;
  };

  before(async () => {
    s = await startInProcess();
    const value = Array.from({ length: MANY }, (_, i) => ({ userPrincipalName: `person${i}@big.example`, displayName: `Person ${i}` }));
    const res = await s.inject({
      method: 'POST', url: `/_presently/tenants/${BIG}/users/bulk`, headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ value }),
    });
    assert.equal(res.statusCode, 200, res.body);
  });
  after(() => s.close());

  it('a small tenant: every account, by name, and no search', async () => {
    const html = await page(TENANT);
    const listed = accounts(html);
    assert.ok(listed.length > 1 && listed.length < MAX_LISTED);
    assert.ok(listed.some((a) => a.login === `${TENANT}:${ADELE}`));
    assert.doesNotMatch(html, /name="login_hint" placeholder/);
    assert.doesNotMatch(html, /accounts are listed/);
  });

  it(`${MANY.toLocaleString('en-US')} users: ${MAX_LISTED} listed, the count said, and a search that keeps the request`, async () => {
    const html = await page(BIG);
    const listed = accounts(html);
    assert.equal(listed.length, MAX_LISTED);
    assert.ok(listed.every((a) => a.login.startsWith(`${BIG}:`) && a.upn.endsWith('@big.example')));
    assert.match(html, new RegExp(`${MAX_LISTED} of 1,200 accounts are listed\\. Find another by user name:`));
    const search = /<form class="find" method="get">(.*?)<\/form>/.exec(html)?.[1];
    assert.ok(search, 'a search form');
    // The search reloads this page with the same request: every parameter carried, login_hint typed.
    for (const [k, v] of params()) assert.ok(search.includes(`<input type="hidden" name="${k}" value="${v}">`), `${k} carried`);
    assert.match(search, /<input type="text" name="login_hint"/);
  });

  it('a login_hint finds an account that is not among those listed, and puts it first', async () => {
    const listed = new Set(accounts(await page(BIG)).map((a) => a.upn));
    const other = Array.from({ length: MANY }, (_, i) => `person${i}@big.example`).find((upn) => !listed.has(upn))!;
    const html = await page(BIG, { login_hint: other.toUpperCase() });
    const found = accounts(html);
    assert.equal(found.length, MAX_LISTED + 1);
    assert.equal(found[0]!.upn, other);
    assert.match(html, new RegExp(`value="${other.toUpperCase()}" aria-label="User name"`));

    // And that account signs in.
    const res = await s.inject({
      method: 'POST', url: `/${BIG}/oauth2/v2.0/authorize`, headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: params({ login: found[0]!.login }).toString(),
    });
    assert.equal(res.statusCode, 302, res.body);
    assert.ok(new URL(res.headers.location as string).searchParams.get('code'));
  });

  it('a login_hint that names nobody here says so: an unknown name, another tenant\'s user, a long one', async () => {
    for (const hint of ['nobody@big.example', 'AdeleV@contoso.example', `${'x'.repeat(200)}@big.example`]) {
      const html = await page(BIG, { login_hint: hint });
      assert.match(html, new RegExp(`No account '${hint.slice(0, 200)}' here\\.`), hint);
      const listed = accounts(html);
      assert.equal(listed.length, MAX_LISTED, hint);
      assert.ok(listed.every((a) => a.login.startsWith(`${BIG}:`)), `${hint}: only this tenant's accounts`);
    }
  });

  it('at organizations: every tenant counted, and a login_hint finds an account in any of them', async () => {
    const html = await page('organizations', { login_hint: 'person7@big.example' });
    assert.match(html, /accounts are listed/);
    const total = Number(/of ([\d,]+) accounts are listed/.exec(html)![1]!.replace(/,/g, ''));
    assert.ok(total > MANY, `${total} counts the demo tenant's users too`);
    assert.equal(accounts(html)[0]!.upn, 'person7@big.example');
    assert.equal(accounts(await page('organizations', { login_hint: 'adelev@contoso.example' }))[0]!.login, `${TENANT}:${ADELE}`);
  });
});
