/** The JSON Graph answers for a subscription. */
import type { Subscription } from '../domain/subscription.ts';
import { formatUtc } from '../domain/timezones.ts';
import type { ApiVersion } from '../http/odata.ts';
import { NOTIFICATION_CONTENT_TYPE } from './requests.ts';

/**
 * Graph's subscription entity (property order as Graph writes it). `clientState` is null in lists.
 * `notificationContentType` is a property of beta's entity only (docs/api/metadata.md).
 */
export function subscriptionJson(s: Subscription, opts: { hideClientState?: boolean; version?: ApiVersion } = {}): Record<string, unknown> {
  const json: Record<string, unknown> = {
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
  };
  if (opts.version !== 'v1.0') json.notificationContentType = NOTIFICATION_CONTENT_TYPE;
  return json;
}
