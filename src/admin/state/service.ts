/**
 * State controls for test pipelines (docs/operations/state.md): tenants created, listed and deleted; the whole state
 * exported as one document, imported from one (checked whole before anything changes), or reset to the seed.
 * Everything goes through the store's ports and the directory and presence services, so the in-memory copies they
 * keep (the presence read cache, the SQLite fan-out index) and the background loops stay right.
 */
import { mailboxSettingsOf } from '../../domain/outOfOffice.ts';
import type { Subscription } from '../../domain/subscription.ts';
import type { Clock } from '../../platform/clock/clock.ts';
import type { Directory } from '../../directory/directory.ts';
import { applySeed, type SeedData } from '../../directory/seed.ts';
import type { PresenceService } from '../../presence/service.ts';
import type { Store, Tenant } from '../../store/types.ts';
import type { ChangeCause } from '../../presence/events.ts';
import { Conflict } from '../../platform/json/errors.ts';
import { STATE_VERSION, type DocumentUser, type ParsedState, type StateDocument } from './document.ts';

/**
 * Users a tenant's deletion reads at once: a range of an index on SQLite, of each shard's sorted set on Redis
 * (src/store/redis/directory.ts listUserPage). 10,000 users' records are a few MB in memory.
 */
export const DELETE_PAGE = 10_000;

/**
 * The most users an export holds: at about 520 bytes a user, what an import accepts (IMPORT_BODY_LIMIT, 64 MiB,
 * ./routes.ts). A state of a million users would be a 500 MB document, past what one JavaScript string can hold.
 */
export const EXPORT_MAX_USERS = 100_000;

/** The cause of the presence an import sets. */
const IMPORTED: ChangeCause = Object.freeze({ kind: 'admin', action: 'import' });

export interface StateDeps {
  store: Store;
  directory: Directory;
  presence: PresenceService;
  clock: Clock;
  /** What a reset goes back to: the demo tenant, then the --seed file if any. */
  seeds: readonly SeedData[];
  /** Told of every subscription an import stored (the lifecycle loop arms for its expiry). */
  subscriptionStored(id: string): void;
  /** Dispatches every change committed so far (to the subscriptions there are now). */
  dispatchChanges(): Promise<void>;
}

export interface StateCounts {
  tenants: number;
  users: number;
  apps: number;
  subscriptions: number;
}

export class StateService {
  /** One change of the whole state at a time: a reset and an import never interleave. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly deps: StateDeps) {}

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => {});
    return run;
  }

  /** Creates or renames a tenant; resolves true when it was created. */
  async putTenant(tenant: Tenant): Promise<boolean> {
    const created = (await this.deps.store.getTenant(tenant.id)) === null;
    await this.deps.store.putTenant(tenant);
    return created;
  }

  listTenants(): Promise<Tenant[]> {
    return this.deps.store.listTenants();
  }

  /** Removes a tenant with its subscriptions, users and their presence; false when there is no such tenant. */
  async deleteTenant(tenantId: string): Promise<boolean> {
    const { store, directory } = this.deps;
    const existed = (await store.getTenant(tenantId)) !== null;
    for (const sub of await store.listSubscriptions({ tenantId })) await store.deleteSubscription(sub.id);
    // A page at a time: a tenant of a million users is never held in memory at once.
    for (let page = await store.listUserPage(tenantId, null, DELETE_PAGE); page.length > 0;
      page = await store.listUserPage(tenantId, page.at(-1)!.id, DELETE_PAGE)) {
      for (const user of page) await directory.deleteUser(tenantId, user.id);
    }
    await store.deleteTenant(tenantId);
    return existed;
  }

  /** Everything, as one document. Overdue timed changes are made first, so the facts are those of now. */
  async exportState(): Promise<StateDocument> {
    const { store, presence, clock } = this.deps;
    const all = await store.listTenants();
    const count = (await Promise.all(all.map((t) => store.countUsers(t.id)))).reduce((a, n) => a + n, 0);
    if (count > EXPORT_MAX_USERS) {
      throw new Conflict(`The state has ${count.toLocaleString('en-US')} users; an export holds at most ${EXPORT_MAX_USERS.toLocaleString('en-US')} ` +
        '(what an import accepts). Back up the store itself instead: docs/operations/storage.md#backups.');
    }
    const tenants: StateDocument['tenants'] = [];
    const subscriptions: Subscription[] = [];
    for (const tenant of all) {
      const users: DocumentUser[] = [];
      for (const user of await store.listUsers(tenant.id)) {
        await presence.catchUp(tenant.id, user.id);
        const record = await store.getPresence(tenant.id, user.id);
        if (!record) continue;
        const { outOfOffice, ...facts } = record.facts;
        users.push({ id: user.id, displayName: user.displayName, userPrincipalName: user.userPrincipalName, presence: facts, mailboxSettings: mailboxSettingsOf(outOfOffice) });
      }
      tenants.push({ id: tenant.id, displayName: tenant.displayName, users });
      subscriptions.push(...await store.listSubscriptions({ tenantId: tenant.id }));
    }
    return { version: STATE_VERSION, exportedAt: new Date(clock.now()).toISOString(), tenants, apps: await store.listApps(), subscriptions };
  }

  /** Replaces everything with a checked document (./document.ts parseStateDocument). */
  importState(state: ParsedState): Promise<StateCounts> {
    return this.serial(async () => {
      await this.clear();
      const { store, directory, presence } = this.deps;
      for (const app of state.apps) await store.putApp(app);
      for (const tenant of state.tenants) {
        await store.putTenant({ id: tenant.id, displayName: tenant.displayName });
        for (const { presence: facts, outOfOffice, ...user } of tenant.users) {
          await directory.putUser({ ...user, tenantId: tenant.id });
          // Through the presence service, at the clock's now: expired facts drop, the view and due instant are computed.
          await presence.apply(tenant.id, user.id, () => ({ ...facts, outOfOffice }), IMPORTED);
        }
      }
      // The import's own presence changes are dispatched before its subscriptions exist: they notify nobody.
      await this.deps.dispatchChanges();
      for (const sub of state.subscriptions) {
        await store.putSubscription(sub);
        this.deps.subscriptionStored(sub.id);
      }
      return this.counts();
    });
  }

  /** Back to the seed: everything removed, then the demo tenant and the --seed file applied. */
  reset(): Promise<StateCounts> {
    return this.serial(async () => {
      await this.clear();
      for (const seed of this.deps.seeds) await applySeed(this.deps.store, this.deps.directory, seed);
      return this.counts();
    });
  }

  private async clear(): Promise<void> {
    for (const tenant of await this.deps.store.listTenants()) await this.deleteTenant(tenant.id);
    for (const app of await this.deps.store.listApps()) await this.deps.store.deleteApp(app.id);
  }

  async counts(): Promise<StateCounts> {
    const { store } = this.deps;
    const tenants = await store.listTenants();
    let users = 0;
    let subscriptions = 0;
    for (const t of tenants) {
      users += await store.countUsers(t.id);
      subscriptions += await store.countSubscriptions({ tenantId: t.id });
    }
    return { tenants: tenants.length, users, apps: (await store.listApps()).length, subscriptions };
  }
}
