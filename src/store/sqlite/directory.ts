/**
 * The directory port on SQLite: tenants, apps, and users. A user's row and their presence row are created and
 * deleted in one transaction; the UPN's uniqueness is the `upn_lower` unique index. With the presence journal
 * (../journal/), the presence record is created or removed there right after the users' transaction commits (a crash
 * between the two is made good at the next start: ./presenceJournal.ts, reconcile).
 */
import type Database from 'better-sqlite3';
import type { PresenceRecord } from '../../domain/types.ts';
import { encodeRecord } from '../codec.ts';
import { UpnTaken } from '../errors.ts';
import type { App, DirectoryPort, Tenant, User } from '../ports/directory.ts';
import { isUniqueViolation } from './ids.ts';
import { RecentRecords } from '../recentRecords.ts';
import type { JournalPresence } from '../journal/presence.ts';

interface NameRow { id: string; display_name: string }
interface UserRow { tenant_id: string; id: string; display_name: string; upn: string }
interface UserParams { tenantId: string; id: string; displayName: string; upn: string; upnLower: string }
interface PresenceParams { tenantId: string; userId: string; facts: string; view: string; seq: string; dueAt: number | null }

const toName = (r: NameRow): Tenant & App => ({ id: r.id, displayName: r.display_name });
const toUser = (r: UserRow): User => ({
  tenantId: r.tenant_id, id: r.id, displayName: r.display_name, userPrincipalName: r.upn,
});

function prepare(db: Database.Database) {
  const named = (table: 'tenants' | 'apps') => ({
    put: db.prepare<[string, string]>(
      `INSERT INTO ${table} (id, display_name) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET display_name = excluded.display_name`,
    ),
    get: db.prepare<[string], NameRow>(`SELECT id, display_name FROM ${table} WHERE id = ?`),
    list: db.prepare<[], NameRow>(`SELECT id, display_name FROM ${table} ORDER BY id`),
    delete: db.prepare<[string]>(`DELETE FROM ${table} WHERE id = ?`),
  });
  return {
    tenants: named('tenants'),
    apps: named('apps'),
    updateUser: db.prepare<[UserParams]>(
      `UPDATE users SET display_name = @displayName, upn = @upn, upn_lower = @upnLower
       WHERE tenant_id = @tenantId AND id = @id`,
    ),
    insertUser: db.prepare<[UserParams]>(
      `INSERT INTO users (tenant_id, id, display_name, upn, upn_lower)
       VALUES (@tenantId, @id, @displayName, @upn, @upnLower)`,
    ),
    getUser: db.prepare<[string, string], UserRow>(
      'SELECT tenant_id, id, display_name, upn FROM users WHERE tenant_id = ? AND id = ?',
    ),
    findUserByUpn: db.prepare<[string], UserRow>('SELECT tenant_id, id, display_name, upn FROM users WHERE upn_lower = ?'),
    userPage: db.prepare<[string, string, number], UserRow>(
      'SELECT tenant_id, id, display_name, upn FROM users WHERE tenant_id = ? AND id > ? ORDER BY id LIMIT ?',
    ),
    countUsers: db.prepare<[string], number>('SELECT count(*) FROM users WHERE tenant_id = ?').pluck(),
    listUsers: db.prepare<[string], UserRow>(
      'SELECT tenant_id, id, display_name, upn FROM users WHERE tenant_id = ? ORDER BY id',
    ),
    deleteUser: db.prepare<[string, string]>('DELETE FROM users WHERE tenant_id = ? AND id = ?'),
    insertPresence: db.prepare<[PresenceParams]>(
      `INSERT INTO presence (tenant_id, user_id, facts, view, seq, due_at)
       VALUES (@tenantId, @userId, @facts, @view, @seq, @dueAt)`,
    ),
    deletePresence: db.prepare<[string, string]>('DELETE FROM presence WHERE tenant_id = ? AND user_id = ?'),
  };
}

/** Users created in one transaction that start the checkpoint thread: a bulk creation, not a dev seed. */
export const START_USERS = 100;

export class SqliteDirectory implements DirectoryPort {
  private readonly stmt: ReturnType<typeof prepare>;
  private readonly txPutUsers: (users: readonly User[], initial: PresenceRecord) => boolean[];
  private readonly txDeleteUser: (tenantId: string, userId: string) => boolean;

  /**
   * `recent`: the presence port's copies of committed records, told of each presence row created or deleted here.
   * `committed`: told after each creation or deletion of users commits (the WAL's checkpointer, ./checkpointer.ts),
   * so that creating users in bulk does not leave the checkpoints to SQLite, on the event loop; `start` is true for a
   * creation of at least START_USERS users, which starts its thread (a few users do not need one). `roomForBulk`:
   * awaited before such a creation, so that the checkpointer can keep the WAL from growing under it.
   */
  constructor(
    db: Database.Database, recent: RecentRecords = new RecentRecords(), committed: (start: boolean) => void = () => {},
    private readonly roomForBulk: () => Promise<void> = async () => {},
    journal: JournalPresence | null = null,
  ) {
    const s = (this.stmt = prepare(db));
    const putOne = (user: User, presence: Omit<PresenceParams, 'tenantId' | 'userId'>): boolean => {
      const row = {
        tenantId: user.tenantId, id: user.id, displayName: user.displayName,
        upn: user.userPrincipalName, upnLower: user.userPrincipalName.toLowerCase(),
      };
      try {
        if (s.updateUser.run(row).changes > 0) return false;
        s.insertUser.run(row);
      } catch (err) {
        // The primary key cannot clash (an existing user is updated), so a unique violation is the UPN's.
        if (isUniqueViolation(err)) throw new UpnTaken(user.userPrincipalName);
        throw err;
      }
      if (!journal) s.insertPresence.run({ tenantId: user.tenantId, userId: user.id, ...presence });
      recent.forget(user.tenantId, user.id);
      return true;
    };
    // One transaction for the lot (putUser: one user; putUsers: a chunk of the wrapper's), rolled back whole by UpnTaken.
    const putUsers = db.transaction((users: readonly User[], initial: PresenceRecord): boolean[] => {
      const presence = { ...encodeRecord(initial), seq: initial.sequenceNumber, dueAt: initial.dueAt };
      return users.map((user) => putOne(user, presence));
    });
    /** Runs a transaction, then tells the checkpointer it committed. */
    const told = <R>(run: () => R, start: boolean): R => {
      const result = run();
      committed(start);
      return result;
    };
    this.txPutUsers = (users, initial) => {
      const created = told(() => putUsers.immediate(users, initial), users.length >= START_USERS);
      journal?.create(users.filter((_, i) => created[i]).map((u) => ({ tenantId: u.tenantId, userId: u.id })), initial);
      return created;
    };
    const deleteUser = db.transaction((tenantId: string, userId: string): boolean => {
      if (!journal) s.deletePresence.run(tenantId, userId);
      recent.forget(tenantId, userId);
      return s.deleteUser.run(tenantId, userId).changes > 0;
    });
    this.txDeleteUser = (tenantId, userId) => {
      const deleted = told(() => deleteUser.immediate(tenantId, userId), false);
      journal?.remove(tenantId, userId);
      return deleted;
    };
  }

  async putTenant(tenant: Tenant): Promise<void> {
    this.stmt.tenants.put.run(tenant.id, tenant.displayName);
  }

  async getTenant(id: string): Promise<Tenant | null> {
    const row = this.stmt.tenants.get.get(id);
    return row ? toName(row) : null;
  }

  async listTenants(): Promise<Tenant[]> {
    return this.stmt.tenants.list.all().map(toName);
  }

  async deleteTenant(id: string): Promise<boolean> {
    return this.stmt.tenants.delete.run(id).changes > 0;
  }

  async putUser(user: User, initial: PresenceRecord): Promise<boolean> {
    return this.txPutUsers([user], initial)[0]!;
  }

  async putUsers(users: readonly User[], initial: PresenceRecord): Promise<boolean[]> {
    if (users.length >= START_USERS) await this.roomForBulk();
    return this.txPutUsers(users, initial);
  }

  async getUser(tenantId: string, userId: string): Promise<User | null> {
    const row = this.stmt.getUser.get(tenantId, userId);
    return row ? toUser(row) : null;
  }

  async findUserByUpn(upn: string): Promise<User | null> {
    const row = this.stmt.findUserByUpn.get(upn.toLowerCase());
    return row ? toUser(row) : null;
  }

  async listUsers(tenantId: string): Promise<User[]> {
    return this.stmt.listUsers.all(tenantId).map(toUser);
  }

  async listUserPage(tenantId: string, after: string | null, limit: number): Promise<User[]> {
    return this.stmt.userPage.all(tenantId, after ?? '', limit).map(toUser);
  }

  async countUsers(tenantId: string): Promise<number> {
    return this.stmt.countUsers.get(tenantId) ?? 0;
  }

  async deleteUser(tenantId: string, userId: string): Promise<boolean> {
    return this.txDeleteUser(tenantId, userId);
  }

  async putApp(app: App): Promise<void> {
    this.stmt.apps.put.run(app.id, app.displayName);
  }

  async getApp(id: string): Promise<App | null> {
    const row = this.stmt.apps.get.get(id);
    return row ? toName(row) : null;
  }

  async listApps(): Promise<App[]> {
    return this.stmt.apps.list.all().map(toName);
  }

  async deleteApp(id: string): Promise<boolean> {
    return this.stmt.apps.delete.run(id).changes > 0;
  }
}
