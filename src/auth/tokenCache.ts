/**
 * Remembers tokens that passed verification, so the signature check (the costly part) runs once per token rather
 * than once per request. The verifiers look it up by the whole `Authorization` header, so a header seen before is not
 * even parsed again (two regular expressions over a 1 KB token, a few % of a GET). The map's key is the header's last
 * KEY_CHARS characters (a signed token's signature): a header arrives as a new string each request, and a map hashes
 * every character of its key, so a whole 1 KB key cost a few % of a GET; an entry counts only if its whole header is
 * the same as the one asked about, so a header that merely ends like a known one is verified in full. An entry is used only while the token's lifetime, checked against the server clock with
 * the same tolerance as a full verification, still holds; otherwise the token is verified again, which produces the
 * precise error. Bounded: the oldest entries are dropped first.
 */
import { BoundedMap } from '../platform/recency.ts';
import type { Principal } from './types.ts';

/** How much of the end of a header keys the map. */
const KEY_CHARS = 64;
const keyOf = (header: string): string => (header.length > KEY_CHARS ? header.slice(-KEY_CHARS) : header);

interface Entry {
  /** The whole header this entry is for. */
  header: string;
  principal: Principal;
  /** Epoch ms bounds within which the token is valid, tolerance included. */
  validFrom: number;
  validUntil: number;
}

export class TokenCache {
  private readonly entries: BoundedMap<string, Entry>;

  constructor(
    private readonly toleranceMs: number,
    max = 10_000,
  ) {
    this.entries = new BoundedMap(max);
  }

  get(token: string, now: number): Principal | undefined {
    const key = keyOf(token);
    const entry = this.entries.get(key);
    if (!entry || entry.header !== token) return undefined;
    if (now < entry.validFrom || now > entry.validUntil) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.principal;
  }

  clear(): void {
    this.entries.clear();
  }

  /** `exp` and `nbf` are the token's claims, in seconds. */
  set(token: string, principal: Principal, exp: number, nbf: number | undefined): void {
    // A header that ends like another one replaces it: both stay correct, the other is verified again when it comes back.
    this.entries.set(keyOf(token), {
      header: token,
      principal,
      validFrom: nbf === undefined ? -Infinity : nbf * 1000 - this.toleranceMs,
      validUntil: exp * 1000 + this.toleranceMs,
    });
  }
}
