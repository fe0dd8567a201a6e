/**
 * Headers Graph sends that do not depend on the request (docs/api/wire-format.md#headers): `x-ms-ags-diagnostic` with
 * Presently's own ServerInfo [P: d-ags-diagnostic], `Cache-Control: no-cache`, and the `WWW-Authenticate: Bearer`
 * challenge of every 401. The strings are built once, at start; the hot path only sets them.
 */
import { hostname } from 'node:os';
import type { FastifyRequest } from 'fastify';
import { GRAPH_APP_ID, type Cloud } from '../config/clouds.ts';

/** The five fields of Graph's `x-ms-ags-diagnostic` ServerInfo. */
export interface ServerInfo {
  DataCenter: string;
  Slice: string;
  Ring: string;
  ScaleUnit: string;
  RoleInstance: string;
}

export interface GraphHeaders {
  /** The value of `x-ms-ags-diagnostic`. */
  diagnostic: string;
  /** The `authorization_uri` a 401's challenge names, for the request being answered. */
  authorizationUri: (request: FastifyRequest) => string;
}

/** Presently's own, honest ServerInfo: what answered, in which cloud, on which store, which version, which process. */
export function presentlyServerInfo(opts: { cloud: Cloud; store: string; version: string }): ServerInfo {
  return {
    DataCenter: 'Presently',
    Slice: opts.store,
    Ring: opts.cloud.name,
    ScaleUnit: opts.version,
    RoleInstance: `${hostname()}:${process.pid}`,
  };
}

export function agsDiagnostic(info: ServerInfo): string {
  return JSON.stringify({ ServerInfo: info });
}

/** Graph's authorization_uri: the cloud's Entra ID root, common endpoint (v1 authorize, as Graph sends it). */
export function graphAuthorizationUri(cloud: Pick<Cloud, 'loginRoot'>): string {
  return `${cloud.loginRoot}/common/oauth2/authorize`;
}

/** Graph's challenge on a 401, with the given authorization_uri. */
export function bearerChallenge(authorizationUri: string): string {
  return `Bearer realm="", authorization_uri="${authorizationUri.replace(/["\\]/g, '')}", client_id="${GRAPH_APP_ID}"`;
}

/**
 * The headers of a cloud as Graph sends them. `authorizationUri`: where a 401's challenge sends clients, when not the
 * cloud's own sign-in (Presently's dev authority).
 */
export function graphHeaders(cloud: Cloud, info: ServerInfo, authorizationUri?: (request: FastifyRequest) => string): GraphHeaders {
  const uri = graphAuthorizationUri(cloud);
  return { diagnostic: agsDiagnostic(info), authorizationUri: authorizationUri ?? (() => uri) };
}

/** For apps built without a composition root's values (tests that install the wire alone). */
export const DEFAULT_GRAPH_HEADERS: GraphHeaders = {
  diagnostic: agsDiagnostic({ DataCenter: 'Presently', Slice: 'none', Ring: 'global', ScaleUnit: '0', RoleInstance: `${hostname()}:${process.pid}` }),
  authorizationUri: () => 'https://login.microsoftonline.com/common/oauth2/authorize',
};

export const CACHE_CONTROL = 'no-cache';
