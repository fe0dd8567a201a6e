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
import { isGuid, readArray, readObject, readString } from '../platform/json/validate.ts';
import type { Store, User } from '../store/types.ts';
import type { PresenceService } from '../presence/service.ts';
import { silentEmitter, type Emitter } from '../platform/events.ts';
import type { DirectoryEvents } from './events.ts';

/** The most users one request of the admin bulk route may carry. */
export const MAX_BULK_USERS = 10_000;

/** Users per bulk write of putUsers (the store's wrapper cuts larger calls itself; this bounds the meta read too). */
const BULK = 2000;

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
   * putUser for many users (seed files, the admin bulk route): through the store's bulk write, BULK chunk by chunk,
   * so a million users take minutes at most, not a million round trips. A user created again after a deletion still
   * continues their sequenceNumber (one meta read per chunk finds them; they go through putUser). Resolves, in order,
   * whether each user was created; rejects with the store's UpnTaken at the first taken UPN (earlier chunks stay).
   */
  async putUsers(users: readonly User[]): Promise<boolean[]> {
    const created: boolean[] = [];
    for (let i = 0; i < users.length; i += BULK) {
      const chunk = users.slice(i, i + BULK);
      const previous = await this.store.getMetas(chunk.map((u) => lastSequenceKey(u.tenantId, u.id)));
      const again = chunk.map((u) => previous.has(lastSequenceKey(u.tenantId, u.id)));
      const record = newRecord(this.clock.now());
      const plain = chunk.filter((_, j) => !again[j]);
      // Cached as they are created, before anything else can run: a user deleted later is then forgotten after being
      // cached, not before.
      const keys = plain.map((u) => ({ tenantId: u.tenantId, userId: u.id }));
      const flags = await this.presence.creating(keys, record, () => this.store.putUsers(plain, record));
      let next = 0;
      for (const [j, user] of chunk.entries()) {
        if (again[j]) {
          created.push(await this.putUser(user));
          continue;
        }
        const done = flags[next++]!;
        created.push(done);
        if (done) this.events.emit('userCreated', { user, record });
      }
    }
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
   * The admin API's bulk create-or-update (docs/operations/admin-api.md#many-users-at-once): `{"value": [user, …]}`, each
   * as addUser's body, at most MAX_BULK_USERS, all checked before anything is written; then putUsers. The tenant is
   * created with its first users. A taken UPN rejects with the store's UpnTaken (a 409): the users before it may have
   * been written, so the same request, corrected, can simply be sent again.
   */
  async addUsers(tenantId: string, body: unknown): Promise<{ users: User[]; created: number }> {
    const root = readObject(presentBody(body, 'refuse'), '', ['value']);
    const list = readArray(root, 'value', '');
    if (list.length > MAX_BULK_USERS) throw new InvalidInput(`Property 'value' has ${list.length} users: at most ${MAX_BULK_USERS} per request.`, 'value');
    const users = list.map((u, i) => ({ ...parseUser(u, `value[${i}]`, randomUUID), tenantId }));
    if (!(await this.store.getTenant(tenantId))) await this.store.putTenant({ id: tenantId, displayName: tenantId });
    const created = (await this.putUsers(users)).filter(Boolean).length;
    return { users, created };
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
