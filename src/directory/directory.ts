/**
 * Users of a tenant, in one place: what a user given to the admin API or a seed file must look like, creating and
 * deleting them together with their presence. A deleted user's last sequenceNumber is remembered, so that a user
 * created again with the same id continues after it.
 */
import { randomUUID } from 'node:crypto';
import type { Clock } from '../platform/clock/clock.ts';
import { newRecord } from '../domain/record.ts';
import { presentBody } from '../platform/json/body.ts';
import { Conflict, InvalidInput } from '../platform/json/errors.ts';
import { isGuid, readObject, readString } from '../platform/json/validate.ts';
import type { Store, User } from '../store/types.ts';
import type { PresenceService } from '../presence/service.ts';
import { silentEmitter, type Emitter } from '../platform/events.ts';
import type { DirectoryEvents } from './events.ts';

const lastSequenceKey = (tenantId: string, userId: string) => `presence.lastSequence.${tenantId}.${userId}`;

export class Directory {
  constructor(
    private readonly store: Store,
    private readonly presence: PresenceService,
    private readonly clock: Clock,
    /** Told of created users; and of deleted ones, awaited (their subscriptions end: src/notifications/lifecycle.ts). */
    private readonly events: Emitter<DirectoryEvents> = silentEmitter(),
  ) {}

  /** Creates the user (with an empty presence) or updates their names. Resolves true when created. */
  async putUser(user: User): Promise<boolean> {
    const previous = await this.store.getMeta(lastSequenceKey(user.tenantId, user.id));
    const record = newRecord(this.clock.now(), previous);
    const created = await this.store.putUser(user, record);
    if (created) this.events.emit('userCreated', { user, record });
    return created;
  }

  /**
   * The admin API's create-or-update of a user from a request body (`id` optional: a new GUID). The tenant is
   * created with its first user. A user principal name another user has, in any tenant, is a 409; nothing is
   * written then.
   */
  async addUser(tenantId: string, body: unknown): Promise<{ user: User; created: boolean }> {
    const user = { ...parseUser(presentBody(body, 'empty-object'), '', randomUUID), tenantId };
    const existing = await this.store.findUserByUpn(user.userPrincipalName);
    if (existing && (existing.id !== user.id || existing.tenantId !== tenantId)) {
      throw new Conflict(`The userPrincipalName '${user.userPrincipalName}' is already taken by user ${existing.id}.`);
    }
    if (!(await this.store.getTenant(tenantId))) await this.store.putTenant({ id: tenantId, displayName: tenantId });
    return { user, created: await this.putUser(user) };
  }

  /**
   * Removes the user and their presence, then tells the rest and waits for it (the subscriptions the user created lose their
   * access). Resolves false when there was no such user.
   */
  async deleteUser(tenantId: string, userId: string): Promise<boolean> {
    const record = await this.store.getPresence(tenantId, userId);
    if (!record) return false;
    await this.store.setMeta(lastSequenceKey(tenantId, userId), record.sequenceNumber);
    const deleted = await this.store.deleteUser(tenantId, userId);
    this.presence.forget(tenantId, userId);
    if (deleted) await this.events.emitAndWait('userDeleted', { tenantId, userId });
    return deleted;
  }
}

/**
 * A user as the admin API and seed files give one: `{"id"?, "displayName"?, "userPrincipalName"}`. `path` is where
 * the user sits in a larger document (for error messages); without `generateId`, the id is required.
 */
export function parseUser(value: unknown, path: string, generateId?: () => string): Omit<User, 'tenantId'> {
  const user = readObject(value, path, ['id', 'displayName', 'userPrincipalName']);
  const rawId = readString(user, 'id', path, { required: !generateId }) ?? generateId?.();
  const id = guid(rawId ?? '', `${path ? `${path}.` : ''}id`);
  const userPrincipalName = readString(user, 'userPrincipalName', path, { required: true });
  if (!/^[^@\s]+@[^@\s]+$/.test(userPrincipalName)) {
    throw new InvalidInput(`Property '${path ? `${path}.` : ''}userPrincipalName' must look like name@domain, not '${userPrincipalName.slice(0, 64)}'.`);
  }
  return { id, displayName: readString(user, 'displayName', path) ?? userPrincipalName, userPrincipalName };
}

/** A GUID property, lower-cased. */
export function guid(value: string, name: string): string {
  if (!isGuid(value)) throw new InvalidInput(`Property '${name}' must be a GUID, not '${value.slice(0, 64)}'.`, name);
  return value.toLowerCase();
}
