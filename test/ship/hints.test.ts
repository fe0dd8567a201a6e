/** The hints Presently prints name the command the way the person ran it. */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { invocation } from '../../src/cli/hints.ts';

it('from a clone\'s npm scripts: `npm run -s presently --` and `npm start`', () => {
  for (const script of ['start', 'presently']) {
    assert.deepEqual(invocation({ npm_package_name: 'presently', npm_lifecycle_event: script, npm_command: 'run-script' }),
      { run: 'npm run -s presently --', serve: 'npm start' });
  }
});

it('under npx (an installed package or a tarball): `npx presently`', () => {
  assert.deepEqual(invocation({ npm_command: 'exec' }), { run: 'npx presently', serve: 'npx presently serve' });
});

it('run directly (installed globally, the container): `presently`', () => {
  assert.deepEqual(invocation({}), { run: 'presently', serve: 'presently serve' });
});
