/**
 * Remembers tokens that passed verification, so the signature check (the costly part) runs once per token rather
 * than once per request. The verifiers key it by the whole `Authorization` header, so a header seen before is not
 * even parsed again (two regular expressions over a 1 KB token, a few % of a GET). An entry is used only while the token's lifetime, checked against the server clock with
 * the same tolerance as a full verification, still holds; otherwise the token is verified again, which produces the
 * precise error. Bounded: the oldest entries are dropped first.
 */
import type { Principal } from './types.ts';

interface Entry {
  principal: Principal;
  /** Epoch ms bounds within which the token is valid, tolerance included. */
  validFrom: number;
  validUntil: number;
}

export class TokenCache {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly toleranceMs: number,
    private readonly max = 10_000,
  ) {}

  get(token: string, now: number): Principal | undefined {
    const entry = this.entries.get(token);
    if (!entry) return undefined;
    if (now < entry.validFrom || now > entry.validUntil) {
      this.entries.delete(token);
      return undefined;
    }
    return entry.principal;
  }

  clear(): void {
    this.entries.clear();
  }

  /** `exp` and `nbf` are the token's claims, in seconds. */
  set(token: string, principal: Principal, exp: number, nbf: number | undefined): void {
    if (this.entries.size >= this.max) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(token, {
      principal,
      validFrom: nbf === undefined ? -Infinity : nbf * 1000 - this.toleranceMs,
      validUntil: exp * 1000 + this.toleranceMs,
    });
  }
}
