/**
 * Authorization codes of the sign-in flow: random, single-use, and valid for 10 minutes of the server clock
 * [P: d-authority-codes]. Kept in this process's memory: a code is redeemed at the node that issued it (dev mode).
 */
import { randomBytes } from 'node:crypto';
import type { Clock } from '../platform/clock/clock.ts';
import { BoundedMap } from '../platform/recency.ts';

export const CODE_LIFETIME_MS = 10 * 60_000;
const MAX_CODES = 10_000;

export interface CodeGrant {
  appId: string;
  tenantId: string;
  userId: string;
  redirectUri: string;
  /** Delegated permissions granted (`scp`). */
  scopes: string[];
  /** OpenID Connect scopes asked for. */
  oidc: string[];
  codeChallenge: string;
  nonce: string | null;
  base: string;
}

interface Entry {
  grant: CodeGrant;
  expiresAt: number;
  redeemed: boolean;
}

export type Redeemed = { grant: CodeGrant } | { error: 'unknown' | 'expired' | 'redeemed' };

export class CodeStore {
  /** Issued first first, so expiring first first: a full store drops its oldest, a sweep stops at the first live. */
  private readonly codes = new BoundedMap<string, Entry>(MAX_CODES);

  constructor(private readonly clock: Clock) {}

  issue(grant: CodeGrant): string {
    this.sweep();
    const code = `1.${randomBytes(32).toString('base64url')}`;
    this.codes.set(code, { grant, expiresAt: this.clock.now() + CODE_LIFETIME_MS, redeemed: false });
    return code;
  }

  /** The grant of a code, once: a second redemption, or one after the lifetime, is refused. */
  redeem(code: string): Redeemed {
    const entry = this.codes.get(code);
    if (!entry) return { error: 'unknown' };
    if (this.clock.now() > entry.expiresAt) {
      this.codes.delete(code);
      return { error: 'expired' };
    }
    if (entry.redeemed) return { error: 'redeemed' };
    entry.redeemed = true;
    return { grant: entry.grant };
  }

  /** Drops codes past their lifetime (a redeemed one is kept until then, to answer a replay precisely). */
  private sweep(): void {
    const now = this.clock.now();
    for (;;) {
      const oldest = this.codes.oldestKey();
      if (oldest === undefined || !(now > this.codes.get(oldest)!.expiresAt)) return;
      this.codes.delete(oldest);
    }
  }
}
