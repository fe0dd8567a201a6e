/** The JSON Graph answers for a subscription. */
import type { Subscription } from '../domain/subscription.ts';
import { formatUtc } from '../domain/timezones.ts';
import { NOTIFICATION_CONTENT_TYPE } from './requests.ts';

/** Graph's subscription entity (property order as Graph writes it). `clientState` is null in lists. */
export function subscriptionJson(s: Subscription, opts: { hideClientState?: boolean } = {}): Record<string, unknown> {
  return {
    id: s.id,
    resource: s.resource,
    applicationId: s.applicationId,
    changeType: s.changeType,
    clientState: opts.hideClientState ? null : s.clientState,
    notificationUrl: s.notificationUrl,
    notificationQueryOptions: null,
    lifecycleNotificationUrl: s.lifecycleNotificationUrl,
    expirationDateTime: formatUtc(s.expiresAt),
    creatorId: s.creatorId,
    includeResourceData: s.includeResourceData,
    latestSupportedTlsVersion: s.latestSupportedTlsVersion,
    encryptionCertificate: s.encryptionCertificate,
    encryptionCertificateId: s.encryptionCertificateId,
    notificationUrlAppId: null,
    notificationContentType: NOTIFICATION_CONTENT_TYPE,
  };
}
