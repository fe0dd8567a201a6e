/**
 * The sender: one notification POST to one endpoint. It sorts a batch of claimed items into what can go (change
 * items whose subscription is live, lifecycle items always) and what cannot (the subscription expired or was
 * deleted; rich data that cannot be encrypted), builds each item as it leaves (src/notifications/items.ts), with
 * `encryptedContent` under a fresh key for rich items and one validation token per app and tenant, and POSTs the
 * body with the webhook client's hard timeout. What the outcome means for the items is the deliverer's business.
 */
import type { DevIssuer } from '../auth/devIssuer.ts';
import { presenceForCloud } from '../domain/projection.ts';
import type { Delivery, Subscription } from '../domain/subscription.ts';
import type { Store } from '../store/types.ts';
import { encryptContent, parseEncryptionCertificate } from './encryption.ts';
import { changeItemToSend, itemSequenceNumber, notificationBody, richContent, type NotificationItem } from './items.ts';
import { validationToken } from './validationTokens.ts';
import { postJson, type WebhookOutcome } from './webhookClient.ts';

export type PostJson = (url: string, body: unknown, timeoutMs: number) => Promise<WebhookOutcome>;

export interface SenderOptions {
  store: Store;
  /** Signs validationTokens for rich notifications. */
  issuer: DevIssuer;
  /** US Government clouds: encrypted resource data has the same limited shape as a GET. */
  limitedShape?: boolean;
  post?: PostJson;
  /** How long the endpoint has to answer, milliseconds. */
  timeoutMs: number;
}

/** A batch sorted for sending. */
export interface PreparedBatch {
  /** What goes in the POST, in order, and the items as they are sent. */
  sending: Delivery[];
  items: NotificationItem[];
  /** The apps (and tenants) whose rich items are in it: one validation token each. */
  apps: Map<string, { appId: string; tenantId: string }>;
  /** Change items whose subscription expired or was deleted. */
  gone: Delivery[];
  /** Rich items that could not be encrypted, and why. */
  unencryptable: Delivery[];
  encryptionError: string;
}

/** How long a validation token is reused for (of its hour). */
const TOKEN_REUSE_MS = 10 * 60_000;

export class Sender {
  private readonly post: PostJson;
  private readonly tokens = new Map<string, { token: string; at: number }>();

  constructor(private readonly opts: SenderOptions) {
    this.post = opts.post ?? postJson;
  }

  /** A 2xx within the timeout: the items are delivered. */
  delivered(outcome: WebhookOutcome): boolean {
    return outcome.status >= 200 && outcome.status < 300 && outcome.durationMs <= this.opts.timeoutMs;
  }

  /** Sorts `batch` and builds its items as of `now`. */
  async prepare(batch: Delivery[], now: number): Promise<PreparedBatch> {
    const subs = await this.subscriptionsOf(batch);
    const out: PreparedBatch = { sending: [], items: [], apps: new Map(), gone: [], unencryptable: [], encryptionError: '' };
    for (const d of batch) {
      if (d.kind === 'lifecycle') {
        // Sent even when the subscription is gone: access revocation notifies and then deletes it.
        out.items.push(d.item);
        out.sending.push(d);
        continue;
      }
      const sub = subs.get(d.subscriptionId);
      if (!sub || sub.expiresAt <= now) {
        out.gone.push(d);
        continue;
      }
      try {
        out.items.push(this.changeItem(d, sub, now));
      } catch (err) {
        out.encryptionError = (err as Error).message;
        out.unencryptable.push(d);
        continue;
      }
      if (sub.includeResourceData && d.resourceView && d.userId) {
        out.apps.set(`${sub.applicationId}|${sub.tenantId}`, { appId: sub.applicationId, tenantId: sub.tenantId });
      }
      out.sending.push(d);
    }
    return out;
  }

  /**
   * POSTs the prepared items. `posted` is false when the POST was never made (a validation token could not be
   * signed): then the outcome says why, and no duration is to be recorded. Never throws.
   */
  async send(url: string, batch: PreparedBatch, now: number): Promise<{ outcome: WebhookOutcome; posted: boolean }> {
    let posted = false;
    try {
      const tokens = await Promise.all([...batch.apps.values()].map((a) => this.token(a.appId, a.tenantId, now)));
      posted = true;
      return { posted, outcome: await this.post(url, notificationBody(batch.items, tokens), this.opts.timeoutMs) };
    } catch (err) {
      return { posted, outcome: { status: 0, durationMs: 0, body: '', contentType: null, error: `not sent: ${(err as Error).message}` } };
    }
  }

  /** The subscriptions of the batch's change items, each read once (null: gone). */
  private async subscriptionsOf(batch: Delivery[]): Promise<Map<string, Subscription | null>> {
    const subs = new Map<string, Subscription | null>();
    for (const d of batch) {
      if (d.kind === 'change' && !subs.has(d.subscriptionId)) subs.set(d.subscriptionId, await this.opts.store.getSubscription(d.subscriptionId));
    }
    return subs;
  }

  /** A change item as it leaves; rich ones are encrypted with a fresh key (throws when that is impossible). */
  private changeItem(d: Delivery, sub: Subscription, now: number): NotificationItem {
    if (!(sub.includeResourceData && d.resourceView && d.userId)) return changeItemToSend(d.item, sub);
    const cert = parseEncryptionCertificate(sub.encryptionCertificate ?? '', now);
    const data = richContent(d.userId, presenceForCloud(d.userId, d.resourceView, itemSequenceNumber(d.item), 'watcher', this.opts.limitedShape ?? false));
    return changeItemToSend(d.item, sub, encryptContent(data, cert, sub.encryptionCertificateId ?? ''));
  }

  /** A validation token for (app, tenant), reused for 10 minutes of its hour. */
  private async token(appId: string, tenantId: string, now: number): Promise<string> {
    const key = `${appId}|${tenantId}`;
    const cached = this.tokens.get(key);
    if (cached && now >= cached.at && now - cached.at < TOKEN_REUSE_MS) return cached.token;
    const token = await validationToken(this.opts.issuer, { appId, tenantId, now });
    if (this.tokens.size > 10_000) this.tokens.clear();
    this.tokens.set(key, { token, at: now });
    return token;
  }
}
