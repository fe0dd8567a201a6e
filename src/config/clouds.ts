/**
 * National clouds (docs/api/national-clouds.md): each has its own Graph root, which is both the base of `@odata.context` and
 * the audience its tokens carry.
 */
export type CloudName = 'global' | 'usgov' | 'dod' | 'china';

export interface Cloud {
  name: CloudName;
  displayName: string;
  graphRoot: string;
  /** The cloud's Microsoft Entra ID root, where its tokens come from (the 401 challenge names it). */
  loginRoot: string;
  /** Whether the presence API is served under v1.0 and beta. */
  presenceV1: boolean;
  presenceBeta: boolean;
  /** US Government clouds return only id, availability, activity and statusMessage. */
  limitedShape: boolean;
  /** Whether presence change notifications (subscriptions) are offered: in Graph's global service only. */
  presenceSubscriptions: boolean;
}

/** Microsoft Graph's well-known application id, also accepted as a token audience. */
export const GRAPH_APP_ID = '00000003-0000-0000-c000-000000000000';

export const CLOUDS: Record<CloudName, Cloud> = {
  global: { name: 'global', displayName: 'Global', graphRoot: 'https://graph.microsoft.com', loginRoot: 'https://login.microsoftonline.com', presenceV1: true, presenceBeta: true, limitedShape: false, presenceSubscriptions: true },
  usgov: { name: 'usgov', displayName: 'US Government L4', graphRoot: 'https://graph.microsoft.us', loginRoot: 'https://login.microsoftonline.us', presenceV1: true, presenceBeta: false, limitedShape: true, presenceSubscriptions: false },
  dod: { name: 'dod', displayName: 'US Government L5 (DOD)', graphRoot: 'https://dod-graph.microsoft.us', loginRoot: 'https://login.microsoftonline.us', presenceV1: true, presenceBeta: false, limitedShape: true, presenceSubscriptions: false },
  china: { name: 'china', displayName: 'China (21Vianet)', graphRoot: 'https://microsoftgraph.chinacloudapi.cn', loginRoot: 'https://login.chinacloudapi.cn', presenceV1: false, presenceBeta: false, limitedShape: false, presenceSubscriptions: false },
};

/** The audiences a token for this cloud's Graph may carry. */
export function graphAudiences(cloud: Cloud): string[] {
  return [cloud.graphRoot, `${cloud.graphRoot}/`, GRAPH_APP_ID];
}
