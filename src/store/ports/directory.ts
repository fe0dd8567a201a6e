/**
 * The directory port: tenants, users and apps. A user is created together with their presence record (and its due
 * instant), and deleted together with it, so the directory and presence ports share one atomic unit per user.
 */
import type { PresenceRecord } from '../../domain/types.ts';

export interface Tenant {
  id: string;
  displayName: string;
}

export interface User {
  tenantId: string;
  /** Object id: a lower-case GUID. */
  id: string;
  displayName: string;
  userPrincipalName: string;
}

export interface App {
  /** Application (client) id: a lower-case GUID. */
  id: string;
  displayName: string;
}

export interface DirectoryPort {
  putTenant(tenant: Tenant): Promise<void>;
  getTenant(id: string): Promise<Tenant | null>;
  listTenants(): Promise<Tenant[]>;
  /**
   * Removes the tenant's entry; returns false when there was none. Its users are not touched: delete them first
   * (the directory does, src/admin/state/tenants.ts).
   */
  deleteTenant(id: string): Promise<boolean>;

  /**
   * Creates the user with `initial` as their presence record, or updates the name and UPN of an existing user (their
   * presence is kept). Returns true when the user was created. UPNs are unique across all tenants, ignoring case:
   * rejects with UpnTaken (../errors.ts), changing nothing, when another user has the UPN.
   */
  putUser(user: User, initial: PresenceRecord): Promise<boolean>;
  /**
   * putUser for many users at once (seed files, the admin bulk route): each user is created with `initial` as their
   * presence record, or has their name and UPN updated, exactly as putUser does; resolves, in the order given, whether
   * each was created. Far fewer round trips and transactions than one per user: the wrapper (../guarded.ts) hands a
   * backend at most BULK_USERS users per call, and a backend writes them in one transaction (SQLite) or a few
   * pipelined scripts (Redis). Each user is written whole or not at all. Rejects with UpnTaken at the first user whose
   * UPN another user has (an earlier user of the same call included): that user is not written; of the others, any
   * may have been (calling again with the list corrected finishes the job).
   */
  putUsers(users: readonly User[], initial: PresenceRecord): Promise<boolean[]>;
  getUser(tenantId: string, userId: string): Promise<User | null>;
  /** Case-insensitive. */
  findUserByUpn(upn: string): Promise<User | null>;
  listUsers(tenantId: string): Promise<User[]>;
  /**
   * Up to `limit` of a tenant's users in id order, those after `after` (from the first when null): what a reader that
   * must not hold a million users at once asks for (the admin list's pages, the dashboard's board). Reads the users
   * it returns (redis: and the tenant's ids).
   */
  listUserPage(tenantId: string, after: string | null, limit: number): Promise<User[]>;
  /** How many users a tenant has, without reading them. */
  countUsers(tenantId: string): Promise<number>;
  /** Removes the user and their presence. Returns false when there was no such user. */
  deleteUser(tenantId: string, userId: string): Promise<boolean>;

  putApp(app: App): Promise<void>;
  getApp(id: string): Promise<App | null>;
  listApps(): Promise<App[]>;
  /** Removes the app's entry; returns false when there was none. */
  deleteApp(id: string): Promise<boolean>;
}
