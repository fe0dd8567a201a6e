/**
 * What every presence endpoint of one API version shares: whether this cloud offers it, the caller and the user a
 * request addresses (`/me`, `/users/{id}`, `/communications/presences/{id}`), and the shape and `@odata.context` of
 * the answer.
 */
import type { FastifyRequest } from 'fastify';
import { resolveMe } from '../auth/permissions.ts';
import type { Principal } from '../auth/types.ts';
import type { TokenVerifier } from '../auth/verify.ts';
import type { Cloud } from '../config/clouds.ts';
import { LIMITED_PROPERTIES, presenceForCloud, type Audience, type GraphPresence } from '../domain/projection.ts';
import { isGuid } from '../platform/json/validate.ts';
import type { PresenceSnapshot } from '../store/types.ts';
import { GraphError, badRequest } from '../http/errors.ts';
import { PRESENCE_PROPERTIES, baseUrl, type ApiVersion } from '../http/odata.ts';
import type { Address } from './actions.ts';

export interface AddressingDeps {
  cloud: Cloud;
  verifier: TokenVerifier;
  publicUrl: string | null;
}

/** The caller and the user a request is about. */
export interface Target {
  principal: Principal;
  userId: string;
  address: Address;
}

/** A snapshot to shape; `sequenceNumber` is null for a user that does not exist (getPresencesByUserId). */
export type Shapeable = Pick<PresenceSnapshot, 'view'> & { sequenceNumber: string | null };

export class PresenceAddressing {
  /** The presence properties of this cloud's shape ($select names). */
  readonly properties: readonly string[];

  constructor(readonly version: ApiVersion, private readonly deps: AddressingDeps) {
    this.properties = deps.cloud.limitedShape ? LIMITED_PROPERTIES : PRESENCE_PROPERTIES;
  }

  /** National clouds without presence (or without beta) answer 404 naming the cloud, before anything else. */
  ensureOffered(): void {
    const { cloud } = this.deps;
    if (this.offered()) return;
    throw new GraphError(404, 'ResourceNotFound', cloud.presenceV1
      ? `The presence API is not available under /${this.version} in the ${cloud.displayName} cloud; use /v1.0.`
      : `The presence API is not available in the ${cloud.displayName} cloud.`);
  }

  /** Whether this cloud offers the presence API under this version. */
  offered(): boolean {
    return this.version === 'v1.0' ? this.deps.cloud.presenceV1 : this.deps.cloud.presenceBeta;
  }

  /** The verified caller (kept on the request for the logs and throttling). */
  async caller(request: FastifyRequest): Promise<Principal> {
    const principal = await this.deps.verifier.verify(request.headers.authorization);
    request.principal = principal;
    return principal;
  }

  /** The caller and the user the request's address names (`/me`: the signed-in user; else a GUID in the path). */
  async target(request: FastifyRequest, address: Address): Promise<Target> {
    this.ensureOffered();
    const principal = await this.caller(request);
    if (address === 'me') return { principal, userId: resolveMe(principal), address };
    const id = (request.params as { id: string }).id;
    if (!isGuid(id)) throw badRequest(`Invalid user id '${id.slice(0, 64)}': a user's presence is addressed by their object id, a GUID.`);
    return { principal, userId: id.toLowerCase(), address };
  }

  /** The @odata.context base: the public URL if configured, else the request's own, in every cloud (its $metadata). */
  contextBase(request: FastifyRequest): string {
    return baseUrl(request, this.deps.publicUrl);
  }

  /** The @odata.context of one presence, at the address it was asked for. */
  contextUrl(request: FastifyRequest, t: Target, select: string[] | null): string {
    return this.contextUrlAt(this.contextBase(request), t.address, t.userId, select);
  }

  /** contextUrl from the base of the request's URL (or the public URL). */
  contextUrlAt(baseUrl: string, address: Address, userId: string, select: string[] | null): string {
    const base = `${baseUrl}/${this.version}/$metadata#`;
    const selected = select ? `(${select.join(',')})` : '';
    return address === 'communications'
      ? `${base}communications/presences${selected}/$entity`
      : `${base}users('${userId}')/presence${selected}/$entity`;
  }

  /** The presence JSON in this cloud's shape. */
  shape(id: string, snap: Shapeable, audience: Audience): Partial<GraphPresence> {
    return presenceForCloud(id, snap.view, snap.sequenceNumber, audience, this.deps.cloud.limitedShape);
  }
}

/** The user themselves sees their own presence in full; everyone else as a watcher. */
export function audienceOf(p: Principal, userId: string): Audience {
  return p.kind === 'delegated' && p.userId === userId ? 'owner' : 'watcher';
}
