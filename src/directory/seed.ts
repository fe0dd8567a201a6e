/**
 * The demo tenant (docs/operations/README.md#the-demo-tenant) and `--seed FILE`: tenants, users and apps created on start.
 * The demo tenant is seeded once, on first start; a seed file is applied on every start (it only adds what is
 * missing and updates names), so it can be kept under version control next to the tests that rely on it.
 */
import { readFileSync } from 'node:fs';
import { InvalidInput } from '../platform/json/errors.ts';
import { readArray, readObject, readString } from '../platform/json/validate.ts';
import type { App, Store, Tenant, User } from '../store/types.ts';
import { guid, parseUser, type Directory } from './directory.ts';

export interface SeedData {
  tenants: Array<Tenant & { users: Array<Omit<User, 'tenantId'>> }>;
  apps: App[];
}

export const DEMO_TENANT_ID = '2b5f4ac6-0f43-4b31-8a3c-2d8b8e4f5c01';
export const DEV_APP_ID = '22553876-f5ab-4529-bffb-cfe50aa89f87';

export const DEMO: SeedData = {
  tenants: [{
    id: DEMO_TENANT_ID,
    displayName: 'Contoso',
    users: [
      { id: 'fa8bf3dc-eca7-46b7-bad1-db199b62afc3', displayName: 'Adele Vance', userPrincipalName: 'AdeleV@contoso.example' },
      { id: '66825e03-7ef5-42da-9069-724602c31f6b', displayName: 'Alex Wilber', userPrincipalName: 'AlexW@contoso.example' },
      { id: '48d31887-5fad-4d73-a9f5-3c356e68a038', displayName: 'Megan Bowen', userPrincipalName: 'MeganB@contoso.example' },
      { id: '5f7c2a10-3b9e-4d1a-8e2f-6a4b9c1d2e30', displayName: 'Lee Gu', userPrincipalName: 'LeeG@contoso.example' },
      { id: 'c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e5f', displayName: 'Nestor Wilke', userPrincipalName: 'NestorW@contoso.example' },
    ],
  }],
  apps: [{ id: DEV_APP_ID, displayName: 'Presently Dev App' }],
};

const DEMO_SEEDED = 'seed.demo';

/**
 * The keys of an app in a seed file that the dev authority reads (its credentials and grants: src/authority/seed.ts);
 * the directory keeps only the app's id and name.
 */
export const APP_REGISTRATION_KEYS = ['secrets', 'certificates', 'redirectUris', 'roles', 'scopes'] as const;

/**
 * Applies seed data: creates what is missing, updates names of what exists (the store's bulk write: a seed file of
 * a million users takes minutes, not hours). Returns the number of users created.
 */
export async function applySeed(store: Store, directory: Directory, data: SeedData): Promise<number> {
  let created = 0;
  for (const app of data.apps) await store.putApp(app);
  for (const tenant of data.tenants) {
    await store.putTenant({ id: tenant.id, displayName: tenant.displayName });
    const flags = await directory.putUsers(tenant.users.map((user) => ({ ...user, tenantId: tenant.id })));
    created += flags.filter(Boolean).length;
  }
  return created;
}

/** Seeds the demo tenant on the store's first start. */
export async function seedDemoOnce(store: Store, directory: Directory, now: number): Promise<boolean> {
  if (await store.getMeta(DEMO_SEEDED)) return false;
  await applySeed(store, directory, DEMO);
  await store.setMeta(DEMO_SEEDED, new Date(now).toISOString());
  return true;
}

/** Reads and validates a seed file: `{"tenants": [{"id", "displayName", "users": [...]}], "apps": [...]}`. */
export function readSeedFile(path: string): SeedData {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`Cannot read seed file ${path}: ${(err as Error).message}`);
  }
  try {
    return parseSeed(json);
  } catch (err) {
    if (err instanceof InvalidInput) throw new Error(`Seed file ${path}: ${err.message}`);
    throw err;
  }
}

export function parseSeed(json: unknown): SeedData {
  const root = readObject(json, '', ['tenants', 'apps']);
  const tenants = (root.tenants === undefined ? [] : readArray(root, 'tenants', '')).map((t, i) => {
    const path = `tenants[${i}]`;
    const tenant = readObject(t, path, ['id', 'displayName', 'users']);
    const id = guid(readString(tenant, 'id', path, { required: true }), `${path}.id`);
    const users = (tenant.users === undefined ? [] : readArray(tenant, 'users', path)).map((u, j) => parseUser(u, `${path}.users[${j}]`));
    return { id, displayName: readString(tenant, 'displayName', path) ?? id, users };
  });
  const apps = (root.apps === undefined ? [] : readArray(root, 'apps', '')).map((a, i) => {
    const path = `apps[${i}]`;
    const app = readObject(a, path, ['id', 'displayName', ...APP_REGISTRATION_KEYS]);
    const id = guid(readString(app, 'id', path, { required: true }), `${path}.id`);
    return { id, displayName: readString(app, 'displayName', path) ?? id };
  });
  return { tenants, apps };
}
