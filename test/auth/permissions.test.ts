import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  authorizePresenceRead,
  authorizePresenceWrite,
  authorizeReadMany,
  authorizeWorkLocationWrite,
  resolveMe,
} from '../../src/auth/permissions.ts';
import { AuthError, type Principal } from '../../src/auth/types.ts';
import { ADELE, ALEX, CONTOSO, DEV_APP } from './fakes.ts';

const ALL = ['Presence.Read', 'Presence.Read.All', 'Presence.ReadWrite', 'Presence.ReadWrite.All'] as const;

function user(...scopes: string[]): Principal {
  return { kind: 'delegated', tenantId: CONTOSO, userId: ADELE, appId: DEV_APP, scopes: new Set(scopes), roles: new Set() };
}
function app(...roles: string[]): Principal {
  return { kind: 'application', tenantId: CONTOSO, userId: null, appId: DEV_APP, scopes: new Set(), roles: new Set(roles) };
}

function outcome(fn: () => unknown): string {
  try {
    fn();
    return 'ok';
  } catch (err) {
    assert.ok(err instanceof AuthError, String(err));
    return `${err.status} ${err.code}: ${err.message}`;
  }
}

/** For each single permission, whether `check` allows it. */
function allowed(make: (perm: string) => Principal, check: (p: Principal) => void): string[] {
  return ALL.filter((perm) => outcome(() => check(make(perm))) === 'ok');
}

test('resolveMe: the signed-in user; 400 for an app token', () => {
  assert.equal(resolveMe(user()), ADELE);
  assert.equal(outcome(() => resolveMe(app('Presence.ReadWrite.All'))), '400 BadRequest: /me request is only valid with delegated authentication flow.');
});

test('get own presence: delegated Presence.Read, Presence.Read.All or Presence.ReadWrite', () => {
  assert.deepEqual(allowed(user, (p) => authorizePresenceRead(p, ADELE)), ['Presence.Read', 'Presence.Read.All', 'Presence.ReadWrite']);
  assert.deepEqual(allowed(user, (p) => authorizePresenceRead(p, ADELE.toUpperCase())), ['Presence.Read', 'Presence.Read.All', 'Presence.ReadWrite']);
  assert.equal(
    outcome(() => authorizePresenceRead(user(), ADELE)),
    '403 Forbidden: Insufficient privileges to complete the operation. Requires one of: Presence.Read, Presence.Read.All, Presence.ReadWrite.',
  );
});

test("get another user's presence: delegated Presence.Read.All only", () => {
  assert.deepEqual(allowed(user, (p) => authorizePresenceRead(p, ALEX)), ['Presence.Read.All']);
  assert.equal(
    outcome(() => authorizePresenceRead(user('Presence.Read', 'Presence.ReadWrite', 'Presence.ReadWrite.All'), ALEX)),
    '403 Forbidden: Insufficient privileges to complete the operation. Requires one of: Presence.Read.All.',
  );
});

test('get any presence with an app token: Presence.Read.All or Presence.ReadWrite.All', () => {
  assert.deepEqual(allowed(app, (p) => authorizePresenceRead(p, ALEX)), ['Presence.Read.All', 'Presence.ReadWrite.All']);
  assert.equal(
    outcome(() => authorizePresenceRead(app('Presence.Read'), ALEX)),
    '403 Forbidden: Insufficient privileges to complete the operation. Requires one of: Presence.Read.All, Presence.ReadWrite.All.',
  );
  // Scopes in an app principal do not count.
  assert.notEqual(outcome(() => authorizePresenceRead({ ...app(), scopes: new Set(['Presence.Read.All']) }, ALEX)), 'ok');
});

test('getPresencesByUserId: delegated Presence.Read.All; app Presence.Read.All or Presence.ReadWrite.All', () => {
  assert.deepEqual(allowed(user, authorizeReadMany), ['Presence.Read.All']);
  assert.deepEqual(allowed(app, authorizeReadMany), ['Presence.Read.All', 'Presence.ReadWrite.All']);
});

test('write own presence: delegated Presence.ReadWrite', () => {
  assert.deepEqual(allowed(user, (p) => authorizePresenceWrite(p, ADELE)), ['Presence.ReadWrite']);
  assert.equal(
    outcome(() => authorizePresenceWrite(user('Presence.Read.All'), ADELE)),
    '403 Forbidden: Insufficient privileges to complete the operation. Requires one of: Presence.ReadWrite.',
  );
});

test("write another user's presence with a delegated token: 403 whatever the scopes", () => {
  for (const perm of [...ALL, 'Presently.Admin']) {
    assert.equal(outcome(() => authorizePresenceWrite(user(perm), ALEX)), '403 Forbidden: Cannot set the presence of another user.');
  }
  assert.equal(outcome(() => authorizePresenceWrite(user(...ALL), ALEX)), '403 Forbidden: Cannot set the presence of another user.');
});

test('write any presence with an app token: Presence.ReadWrite.All', () => {
  assert.deepEqual(allowed(app, (p) => authorizePresenceWrite(p, ALEX)), ['Presence.ReadWrite.All']);
  assert.equal(
    outcome(() => authorizePresenceWrite(app('Presence.Read.All'), ALEX)),
    '403 Forbidden: Insufficient privileges to complete the operation. Requires one of: Presence.ReadWrite.All.',
  );
});

test('work-location writes: delegated Presence.ReadWrite on own presence only; never with an app token', () => {
  assert.deepEqual(allowed(user, (p) => authorizeWorkLocationWrite(p, ADELE)), ['Presence.ReadWrite']);
  assert.deepEqual(allowed(user, (p) => authorizeWorkLocationWrite(p, ALEX)), []);
  assert.match(outcome(() => authorizeWorkLocationWrite(user('Presence.ReadWrite'), ALEX)), /^403 Forbidden: Cannot set the work location of another user/);
  assert.deepEqual(allowed(app, (p) => authorizeWorkLocationWrite(p, ALEX)), []);
  assert.match(outcome(() => authorizeWorkLocationWrite(app(...ALL), ALEX)), /^403 Forbidden: Work location .*not supported with application permissions/);
});

test('scope and role names compare case-insensitively', () => {
  assert.equal(outcome(() => authorizePresenceRead(user('presence.read.all'), ALEX)), 'ok');
  assert.equal(outcome(() => authorizePresenceWrite(user('PRESENCE.READWRITE'), ADELE)), 'ok');
  assert.equal(outcome(() => authorizePresenceWrite(app('presence.readwrite.all'), ALEX)), 'ok');
});
