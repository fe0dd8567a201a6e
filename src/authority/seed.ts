/**
 * The dev authority's part of a seed file (`--seed FILE`): an app's `secrets`, `certificates`, `redirectUris`,
 * `roles` and `scopes` (docs/operations/admin-api.md#app-registrations). Applied on every start, after the directory
 * has created the apps: lists given replace the registered ones, secrets and certificates are added when missing.
 */
import { readFileSync } from 'node:fs';
import { InvalidInput } from '../platform/json/errors.ts';
import { readArray, readObject, readString, type JsonObject } from '../platform/json/validate.ts';
import { APP_REGISTRATION_KEYS } from '../directory/seed.ts';
import { addSeedCredentials, applyRegistrationInput } from './registrationInput.ts';
import { emptyRegistration, type Registrations } from './registrations.ts';

export async function applyRegistrationSeed(registrations: Registrations, path: string): Promise<void> {
  const root = JSON.parse(readFileSync(path, 'utf8')) as unknown;
  const apps = readObject(root, '', ['tenants', 'apps']);
  if (apps.apps === undefined) return;
  try {
    const list = readArray(apps, 'apps', '');
    for (const [i, value] of list.entries()) {
      const at = `apps[${i}]`;
      const app = readObject(value, at, ['id', 'displayName', ...APP_REGISTRATION_KEYS]);
      if (!APP_REGISTRATION_KEYS.some((k) => app[k] !== undefined)) continue;
      const appId = readString(app, 'id', at, { required: true }).toLowerCase();
      const before = (await registrations.get(appId)) ?? emptyRegistration(appId);
      await registrations.put(addSeedCredentials(applyRegistrationInput(before, app as JsonObject, at), app, at));
    }
  } catch (err) {
    if (err instanceof InvalidInput) throw new Error(`Seed file ${path}: ${err.message}`);
    throw err;
  }
}
