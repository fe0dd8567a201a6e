/** Test doubles for the auth tests: a store with only the methods auth uses, and a clock that moves when told. */
import type { Clock } from '../../src/platform/clock/clock.ts';
import type { Store, Tenant, User } from '../../src/store/types.ts';

export const CONTOSO = '2b5f4ac6-0f43-4b31-8a3c-2d8b8e4f5c01';
export const FABRIKAM = '7c1e2d3f-4a5b-4c6d-8e9f-0a1b2c3d4e5f';
export const DEV_APP = '22553876-f5ab-4529-bffb-cfe50aa89f87';
export const ADELE = 'fa8bf3dc-eca7-46b7-bad1-db199b62afc3';
export const ALEX = '66825e03-7ef5-42da-9069-724602c31f6b';
export const FAB_USER = '0d1c2b3a-4f5e-4d6c-9b8a-7f6e5d4c3b2a';
export const GRAPH = 'https://graph.microsoft.com';

export interface FakeClock extends Clock {
  set(ms: number): void;
  advance(ms: number): void;
}

export function fakeClock(start = Date.parse('2026-11-28T08:00:00Z')): FakeClock {
  let t = start;
  return {
    mode: 'manual',
    now: () => t,
    at: () => () => {},
    set: (ms) => {
      t = ms;
    },
    advance: (ms) => {
      t += ms;
    },
  };
}

export interface FakeStore extends Store {
  meta: Map<string, string>;
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Only getMeta/setMeta/setMetaIfAbsent/getUser/findUserByUpn/listTenants; anything else throws. */
export function fakeStore(users: User[] = defaultUsers()): FakeStore {
  const meta = new Map<string, string>();
  const tenants: Tenant[] = [...new Set(users.map((u) => u.tenantId))].map((id) => ({ id, displayName: id }));
  const impl = {
    kind: 'memory' as const,
    meta,
    async getMeta(key: string) {
      await tick();
      return meta.get(key) ?? null;
    },
    async setMeta(key: string, value: string) {
      await tick();
      meta.set(key, value);
    },
    async setMetaIfAbsent(key: string, value: string) {
      await tick();
      if (!meta.has(key)) meta.set(key, value);
      return meta.get(key)!;
    },
    async getUser(tenantId: string, userId: string) {
      return users.find((u) => u.tenantId === tenantId && u.id === userId) ?? null;
    },
    async findUserByUpn(upn: string) {
      return users.find((u) => u.userPrincipalName.toLowerCase() === upn.toLowerCase()) ?? null;
    },
    async listTenants() {
      return tenants;
    },
  };
  return new Proxy(impl, {
    get(target, prop, receiver) {
      if (prop in target || typeof prop === 'symbol' || prop === 'then') return Reflect.get(target, prop, receiver);
      throw new Error(`fakeStore: ${String(prop)} is not faked`);
    },
  }) as unknown as FakeStore;
}

export function defaultUsers(): User[] {
  return [
    { tenantId: CONTOSO, id: ADELE, displayName: 'Adele Vance', userPrincipalName: 'AdeleV@contoso.example' },
    { tenantId: CONTOSO, id: ALEX, displayName: 'Alex Wilber', userPrincipalName: 'AlexW@contoso.example' },
    { tenantId: FABRIKAM, id: FAB_USER, displayName: 'Fabrice', userPrincipalName: 'fabrice@fabrikam.example' },
  ];
}
