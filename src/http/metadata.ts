/**
 * `$metadata` (docs/api/metadata.md): the CSDL of what Presently serves under one version in one cloud, with Graph's
 * own names and types for each type, property, enum and action (taken from Graph's published metadata). Every
 * `@odata.context` Presently sends points at it. Built once per version at start; anonymous, as Graph's is.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Cloud } from '../config/clouds.ts';
import type { ApiVersion } from './odata.ts';
import { resource } from './wire.ts';

type Props = ReadonlyArray<readonly [name: string, type: string, nullable?: false]>;

const ENUMS: Record<string, readonly string[]> = {
  bodyType: ['text', 'html'],
  automaticRepliesStatus: ['disabled', 'alwaysEnabled', 'scheduled'],
  externalAudienceScope: ['none', 'contactsOnly', 'all'],
  workLocationType: ['unspecified', 'office', 'remote', 'timeOff', 'unknownFutureValue'],
  workLocationSource: ['none', 'manual', 'scheduled', 'automatic', 'unknownFutureValue'],
};

const PRESENCE_COMPLEX: Record<string, Props> = {
  presenceStatusMessage: [['expiryDateTime', 'graph.dateTimeTimeZone'], ['message', 'graph.itemBody'], ['publishedDateTime', 'Edm.DateTimeOffset']],
  outOfOfficeSettings: [['isOutOfOffice', 'Edm.Boolean'], ['message', 'Edm.String']],
  userWorkLocation: [['placeId', 'Edm.String'], ['source', 'graph.workLocationSource'], ['workLocationType', 'graph.workLocationType']],
};

const SHARED_COMPLEX: Record<string, Props> = {
  itemBody: [['content', 'Edm.String'], ['contentType', 'graph.bodyType']],
  dateTimeTimeZone: [['dateTime', 'Edm.String', false], ['timeZone', 'Edm.String']],
  automaticRepliesSetting: [
    ['externalAudience', 'graph.externalAudienceScope'], ['externalReplyMessage', 'Edm.String'], ['internalReplyMessage', 'Edm.String'],
    ['scheduledEndDateTime', 'graph.dateTimeTimeZone'], ['scheduledStartDateTime', 'graph.dateTimeTimeZone'], ['status', 'graph.automaticRepliesStatus'],
  ],
  /** Only the two properties Presently models [P: d-mailbox-unmodelled-properties]; Graph's type has more. */
  mailboxSettings: [['automaticRepliesSetting', 'graph.automaticRepliesSetting'], ['timeZone', 'Edm.String']],
};

const PRESENCE_FULL: Props = [
  ['activity', 'Edm.String'], ['availability', 'Edm.String'], ['outOfOfficeSettings', 'graph.outOfOfficeSettings'],
  ['sequenceNumber', 'Edm.String'], ['statusMessage', 'graph.presenceStatusMessage'], ['workLocation', 'graph.userWorkLocation'],
];
/** The US Government clouds' shape: id, availability, activity and statusMessage. */
const PRESENCE_LIMITED = PRESENCE_FULL.filter(([name]) => ['activity', 'availability', 'statusMessage'].includes(name));

const SUBSCRIPTION: Props = [
  ['applicationId', 'Edm.String'], ['changeType', 'Edm.String', false], ['clientState', 'Edm.String'], ['creatorId', 'Edm.String'],
  ['encryptionCertificate', 'Edm.String'], ['encryptionCertificateId', 'Edm.String'], ['expirationDateTime', 'Edm.DateTimeOffset', false],
  ['includeResourceData', 'Edm.Boolean'], ['latestSupportedTlsVersion', 'Edm.String'], ['lifecycleNotificationUrl', 'Edm.String'],
  ['notificationQueryOptions', 'Edm.String'], ['notificationUrl', 'Edm.String', false], ['notificationUrlAppId', 'Edm.String'],
  ['resource', 'Edm.String', false],
];
/** beta's subscription also declares notificationContentType. */
const SUBSCRIPTION_BETA: Props = [...SUBSCRIPTION, ['notificationContentType', 'Edm.String']];

/** The presence's bound actions and their parameters, as Graph declares them. */
const ACTIONS: Record<string, Props> = {
  setPresence: [['sessionId', 'Edm.String', false], ['availability', 'Edm.String', false], ['activity', 'Edm.String', false], ['expirationDuration', 'Edm.Duration']],
  clearPresence: [['sessionId', 'Edm.String', false]],
  setUserPreferredPresence: [['availability', 'Edm.String', false], ['activity', 'Edm.String', false], ['expirationDuration', 'Edm.Duration']],
  clearUserPreferredPresence: [],
  setStatusMessage: [['statusMessage', 'graph.presenceStatusMessage', false]],
  setManualLocation: [['workLocationType', 'graph.workLocationType', false], ['placeId', 'Edm.String']],
  setAutomaticLocation: [['workLocationType', 'graph.workLocationType', false], ['placeId', 'Edm.String']],
  clearAutomaticLocation: [],
  clearLocation: [],
};

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');

function properties(props: Props, tag = 'Property'): string {
  return props.map(([name, type, nullable]) =>
    `<${tag} Name="${esc(name)}" Type="${esc(type)}"${nullable === false ? ' Nullable="false"' : ''} />`).join('');
}

function enumType(name: string, members: readonly string[]): string {
  return `<EnumType Name="${name}">${members.map((m, i) => `<Member Name="${m}" Value="${i}" />`).join('')}</EnumType>`;
}

function action(name: string, binding: string, params: Props, returns?: string): string {
  return `<Action Name="${name}" IsBound="true"><Parameter Name="bindingParameter" Type="${binding}" />${properties(params, 'Parameter')}`
    + `${returns ? `<ReturnType Type="${returns}" />` : ''}</Action>`;
}

/** The CSDL document of one version in one cloud. */
export function metadataDocument(version: ApiVersion, cloud: Cloud): string {
  const presence = version === 'v1.0' ? cloud.presenceV1 : cloud.presenceBeta;
  const complex = { ...SHARED_COMPLEX, ...(presence ? PRESENCE_COMPLEX : {}) };
  const enums = Object.entries(ENUMS).filter(([name]) => presence || !name.startsWith('workLocation'));
  const parts = [
    ...enums.map(([name, members]) => enumType(name, members)),
    '<EntityType Name="entity" Abstract="true"><Key><PropertyRef Name="id" /></Key><Property Name="id" Type="Edm.String" Nullable="false" /></EntityType>',
    '<EntityType Name="directoryObject" BaseType="graph.entity" OpenType="true"><Property Name="deletedDateTime" Type="Edm.DateTimeOffset" /></EntityType>',
    `<EntityType Name="user" BaseType="graph.directoryObject" OpenType="true"><Property Name="mailboxSettings" Type="graph.mailboxSettings" />${
      presence ? '<NavigationProperty Name="presence" Type="graph.presence" ContainsTarget="true" />' : ''}</EntityType>`,
    ...Object.entries(complex).map(([name, props]) => `<ComplexType Name="${name}">${properties(props)}</ComplexType>`),
  ];
  if (presence) {
    parts.push(
      `<EntityType Name="presence" BaseType="graph.entity">${properties(cloud.limitedShape ? PRESENCE_LIMITED : PRESENCE_FULL)}</EntityType>`,
      '<EntityType Name="cloudCommunications" BaseType="graph.entity"><NavigationProperty Name="presences" Type="Collection(graph.presence)" ContainsTarget="true" /></EntityType>',
      `<EntityType Name="subscription" BaseType="graph.entity">${properties(version === 'beta' ? SUBSCRIPTION_BETA : SUBSCRIPTION)}</EntityType>`,
      ...Object.entries(ACTIONS).map(([name, params]) => action(name, 'graph.presence', params)),
      action('getPresencesByUserId', 'Collection(graph.presence)', [['ids', 'Collection(Edm.String)', false]], 'Collection(graph.presence)'),
    );
  }
  const container = [
    '<EntitySet Name="users" EntityType="graph.user" />',
    '<Singleton Name="me" Type="graph.user" />',
    ...(presence ? ['<EntitySet Name="subscriptions" EntityType="graph.subscription" />', '<Singleton Name="communications" Type="graph.cloudCommunications" />'] : []),
  ];
  return '<?xml version="1.0" encoding="utf-8"?>'
    + '<edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx"><edmx:DataServices>'
    + '<Schema Namespace="microsoft.graph" Alias="graph" xmlns="http://docs.oasis-open.org/odata/ns/edm">'
    + parts.join('')
    + `<EntityContainer Name="GraphService">${container.join('')}</EntityContainer>`
    + '</Schema></edmx:DataServices></edmx:Edmx>';
}

/** GET /{version}/$metadata: the document, built once; no token needed (Graph's is public). */
export function metadataRoutes(app: FastifyInstance, version: ApiVersion, cloud: Cloud): void {
  const body = Buffer.from(metadataDocument(version, cloud));
  resource(app, `/${version}/$metadata`, {
    GET: (_request: FastifyRequest, reply: FastifyReply) => reply.header('content-type', 'application/xml;charset=utf-8').send(body),
  });
}
