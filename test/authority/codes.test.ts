/**
 * The sign-in flow's authorization codes (src/authority/codes.ts): single use, 10 minutes, and at most 10,000 held,
 * the oldest going first, each kept until its lifetime ends so that a replay is answered precisely.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CODE_LIFETIME_MS, CodeStore, type CodeGrant } from '../../src/authority/codes.ts';
import { manualClock } from '../../src/platform/clock/manual.ts';

const grant = (userId: string): CodeGrant => ({
  appId: 'app', tenantId: 'tenant', userId, redirectUri: 'http://localhost/cb', scopes: ['Presence.Read'],
  oidc: ['openid'], codeChallenge: 'challenge', nonce: null, base: 'http://localhost',
});

describe('authorization codes', () => {
  it('redeems a code once, says a replay was redeemed, and an old one expired', async () => {
    const clock = manualClock(Date.UTC(2026, 11, 7));
    const codes = new CodeStore(clock);
    const code = codes.issue(grant('u1'));
    assert.deepEqual(codes.redeem(code), { grant: grant('u1') });
    assert.deepEqual(codes.redeem(code), { error: 'redeemed' });
    const late = codes.issue(grant('u2'));
    await clock.advance(CODE_LIFETIME_MS + 1);
    assert.deepEqual(codes.redeem(late), { error: 'expired' });
    assert.deepEqual(codes.redeem('1.unknown'), { error: 'unknown' });
  });

  it('holds at most 10,000 codes, the oldest going first, and forgets expired ones at the next issue', async () => {
    const clock = manualClock(Date.UTC(2026, 11, 7));
    const codes = new CodeStore(clock);
    const issued = Array.from({ length: 10_001 }, (_, i) => codes.issue(grant(`u${i}`)));
    assert.deepEqual(codes.redeem(issued[0]!), { error: 'unknown' }, 'the oldest left for the 10,001st');
    assert.deepEqual(codes.redeem(issued[1]!), { grant: grant('u1') });
    await clock.advance(CODE_LIFETIME_MS + 1);
    const fresh = codes.issue(grant('fresh'));
    // The sweep dropped the expired codes: they are unknown now, not expired.
    assert.deepEqual(codes.redeem(issued[10_000]!), { error: 'unknown' });
    assert.deepEqual(codes.redeem(fresh), { grant: grant('fresh') });
  });
});
