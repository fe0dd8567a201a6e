import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SignJWT, decodeJwt, decodeProtectedHeader, generateKeyPair } from 'jose';
import { DevIssuer } from '../../src/auth/devIssuer.ts';
import { GRAPH_CHANGE_TRACKING_APP_ID, validationToken, verifyValidationToken } from '../../src/notifications/validationTokens.ts';
import { CONTOSO, DEV_APP, FABRIKAM, fakeClock, fakeStore } from '../auth/fakes.ts';

const NOW = Date.parse('2026-11-28T08:00:00.750Z');
const issuerP = DevIssuer.load(fakeStore(), fakeClock());

async function setup() {
  const issuer = await issuerP;
  const token = await validationToken(issuer, { appId: DEV_APP, tenantId: CONTOSO, now: NOW });
  const expect = { appId: DEV_APP, tenantId: CONTOSO, issuer: issuer.issuerFor(CONTOSO), now: NOW };
  return { issuer, token, expect };
}

test('a validation token carries Graph-like claims, signed RS256 with the dev key', async () => {
  const { issuer, token } = await setup();
  const header = decodeProtectedHeader(token);
  assert.equal(header.alg, 'RS256');
  assert.equal(header.kid, issuer.kid);
  const claims = decodeJwt(token);
  const iat = Math.floor(NOW / 1000);
  assert.equal(claims.aud, DEV_APP);
  assert.equal(claims.tid, CONTOSO);
  assert.equal(claims.iss, issuer.issuerFor(CONTOSO));
  assert.equal(claims.iat, iat);
  assert.equal(claims.nbf, iat);
  assert.equal(claims.exp, iat + 3600);
  assert.equal(claims.azp, GRAPH_CHANGE_TRACKING_APP_ID);
  assert.equal(claims.appid, GRAPH_CHANGE_TRACKING_APP_ID);
  assert.equal(claims.ver, '2.0');
  assert.equal(GRAPH_CHANGE_TRACKING_APP_ID, '0bf30f3b-4a52-48df-9a82-234910c4a086');
});

test('lifetimeSeconds sets exp; ids are lower-cased', async () => {
  const issuer = await issuerP;
  const token = await validationToken(issuer, { appId: DEV_APP.toUpperCase(), tenantId: CONTOSO.toUpperCase(), now: NOW, lifetimeSeconds: 600 });
  const claims = decodeJwt(token);
  assert.equal(claims.exp, Math.floor(NOW / 1000) + 600);
  assert.equal(claims.aud, DEV_APP);
  assert.equal(claims.tid, CONTOSO);
  await assert.rejects(validationToken(issuer, { appId: DEV_APP, tenantId: CONTOSO, now: NOW, lifetimeSeconds: 0 }), RangeError);
});

test('verifies against the issuer JWKS', async () => {
  const { issuer, token, expect } = await setup();
  const claims = await verifyValidationToken(token, issuer.jwks(), expect);
  assert.equal(claims.aud, DEV_APP);
  // Just before expiry still valid.
  await verifyValidationToken(token, issuer.jwks(), { ...expect, now: NOW + 3_598_000 });
});

test('a wrong audience is refused', async () => {
  const { issuer, token, expect } = await setup();
  await assert.rejects(verifyValidationToken(token, issuer.jwks(), { ...expect, appId: '11111111-2222-3333-4444-555555555555' }), /aud/);
});

test('an expired (or not yet valid) token is refused', async () => {
  const { issuer, token, expect } = await setup();
  await assert.rejects(verifyValidationToken(token, issuer.jwks(), { ...expect, now: NOW + 3_601_000 }), /exp/);
  await assert.rejects(verifyValidationToken(token, issuer.jwks(), { ...expect, now: NOW - 60_000 }), /nbf/);
  // A tolerance admits small skew.
  await verifyValidationToken(token, issuer.jwks(), { ...expect, now: NOW + 3_601_000, clockToleranceSeconds: 30 });
});

test('another tenant, issuer or signing key is refused', async () => {
  const { issuer, token, expect } = await setup();
  await assert.rejects(verifyValidationToken(token, issuer.jwks(), { ...expect, issuer: issuer.issuerFor(FABRIKAM) }), /iss/);
  await assert.rejects(verifyValidationToken(token, issuer.jwks(), { ...expect, tenantId: FABRIKAM }), /tid/);
  const other = await DevIssuer.load(fakeStore(), fakeClock());
  await assert.rejects(verifyValidationToken(token, other.jwks(), expect));
});

test('a token not from the change-tracking publisher is refused', async () => {
  const { issuer, expect } = await setup();
  const iat = Math.floor(NOW / 1000);
  const forged = await issuer.sign({ aud: DEV_APP, iss: issuer.issuerFor(CONTOSO), tid: CONTOSO, iat, nbf: iat, exp: iat + 3600, azp: DEV_APP });
  await assert.rejects(verifyValidationToken(forged, issuer.jwks(), expect), /azp/);
  // Signed by a key that is not in the set, same kid: signature failure.
  const { privateKey } = await generateKeyPair('RS256');
  const foreign = await new SignJWT(decodeJwt(await validationToken(issuer, { appId: DEV_APP, tenantId: CONTOSO, now: NOW })))
    .setProtectedHeader({ alg: 'RS256', kid: issuer.kid })
    .sign(privateKey);
  await assert.rejects(verifyValidationToken(foreign, issuer.jwks(), expect), /signature/);
});
