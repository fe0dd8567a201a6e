/**
 * Paging of GET /subscriptions [P: d-subscription-pages]: pages of SUBSCRIPTION_PAGE_SIZE, oldest first (creation
 * instant, then id), each but the last with an `@odata.nextLink` whose `$skiptoken` is the position after its last
 * subscription. A position, not an offset: subscriptions created or deleted between two pages neither repeat one
 * nor skip one that was there all along.
 */
import type { Subscription } from '../domain/subscription.ts';
import { InvalidInput } from '../platform/json/errors.ts';
import type { SubscriptionCursor } from '../store/ports/index.ts';

/** How many subscriptions a page holds [P]. */
export const SUBSCRIPTION_PAGE_SIZE = 100;

export interface SubscriptionPage {
  value: Subscription[];
  /** The `$skiptoken` of the next page, or null on the last. */
  skipToken: string | null;
}

/** Opaque to clients: base64url of `<createdAt>.<id>`. */
export function encodeSkipToken(at: SubscriptionCursor): string {
  return Buffer.from(`${at.createdAt}.${at.id}`).toString('base64url');
}

export function decodeSkipToken(token: string): SubscriptionCursor {
  const raw = /^[A-Za-z0-9_-]{1,100}$/.test(token) ? Buffer.from(token, 'base64url').toString() : '';
  const m = /^(\d{1,15})\.([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/.exec(raw);
  if (!m) {
    throw new InvalidInput(
      `The $skiptoken '${token.slice(0, 100)}' is not valid: follow the @odata.nextLink of the previous page as it was given.`, '$skiptoken');
  }
  return { createdAt: Number(m[1]), id: m[2]! };
}

/**
 * The page out of what the store read (up to `size + 1` subscriptions in order): the first `size`, less the expired,
 * and a next page when the store had more.
 */
export function nextPage(read: readonly Subscription[], size: number, now: number): SubscriptionPage {
  const page = read.slice(0, size);
  const last = page[page.length - 1];
  return {
    value: page.filter((s) => s.expiresAt > now),
    skipToken: read.length > size && last ? encodeSkipToken(last) : null,
  };
}
