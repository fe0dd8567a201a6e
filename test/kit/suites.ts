/**
 * How `npm test` spreads the test files over processes. Each file of test/suites/ is one process of the runner
 * (three at a time) and runs the test files given to it here, one after another, each inside a
 * describe named by its path. One process per test file cost about 0.6 s of CPU each (tsx, then Fastify and the rest
 * loaded again): on two cores, a third of the run. Files that wait on real time or start many processes stay alone,
 * so that the runner slots fill up evenly. Three slots on two cores: with two, much of the run waited on sockets,
 * child processes and webhook timeouts (about 115 % CPU, 142 s); with four, the suites that start processes slowed
 * each other down more than the overlap gained.
 *
 * A file belongs to the first suite with a pattern that names it (`folder/file.test.ts`) or its folder (`folder/`);
 * `rest` takes every file no other suite claims, so a new test file or folder is run without being listed here.
 * test/store/ runs as separate files (see package.json).
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { describe, it } from 'node:test';

export const SUITES = {
  'three-nodes': ['multinode/three-nodes.test.ts'],
  restart: ['durability/restart.test.ts'],
  ship: ['ship/'],
  cli: ['cli/', 'state/'],
  identity: ['auth-oidc/', 'authority/', 'browser/'],
  // The dashboard's browser tests (Chromium), apart from the identity suite's so the two run side by side.
  'dashboard-browser': ['browser/dashboard-board.test.ts', 'browser/dashboard-notifications.test.ts', 'browser/dashboard-controls.test.ts', 'browser/dashboard-access.test.ts'],
  dashboard: ['dashboard/'],
  delivery: ['notify/delivery.test.ts'],
  'dead-receivers': ['notify/dead-receivers.test.ts'],
  hardening: ['hardening/'],
  api: ['api/'],
  notify: ['notify/'],
  sdk: ['sdk/'],
  property: ['property/'],
  pure: ['domain/', 'auth/', 'architecture/', 'ui/'],
  walkthroughs: ['sessions/', 'clouds/', 'examples/'],
  rest: [],
} as const satisfies Record<string, readonly string[]>;

export type SuiteName = keyof typeof SUITES;

const ROOT = new URL('../', import.meta.url);
/** Folders of test/ that hold no suites of their own here. */
const NOT_HERE = new Set(['kit', 'suites', 'store']);

/** Every `folder/file.test.ts` under test/, sorted. */
function allFiles(): string[] {
  return readdirSync(ROOT, { withFileTypes: true })
    .filter((d) => d.isDirectory() && !NOT_HERE.has(d.name))
    .flatMap((d) => readdirSync(new URL(`${d.name}/`, ROOT)).filter((f) => f.endsWith('.test.ts')).map((f) => `${d.name}/${f}`))
    .sort();
}

/** The suite a file belongs to. */
export function suiteOf(file: string): SuiteName {
  const names = Object.keys(SUITES) as SuiteName[];
  const claims = (name: SuiteName, exact: boolean) =>
    (SUITES[name] as readonly string[]).some((p) => (exact ? p === file : p.endsWith('/') && file.startsWith(p)));
  return names.find((n) => claims(n, true)) ?? names.find((n) => claims(n, false)) ?? 'rest';
}

/** The test files suite `name` runs (`folder/file.test.ts`, relative to test/), sorted. */
export function filesOf(name: SuiteName): string[] {
  return allFiles().filter((f) => suiteOf(f) === name);
}

/** Registers the files of suite `name`, each in a describe named by its path. */
export async function runSuite(name: SuiteName): Promise<void> {
  if (name === 'rest') {
    it('every suite has its file in test/suites/ and is run by npm test (else its test files would not run)', () => {
      const script = (JSON.parse(readFileSync(new URL('../package.json', ROOT), 'utf8')) as { scripts: { test: string } }).scripts.test;
      for (const suite of Object.keys(SUITES)) {
        assert.ok(existsSync(new URL(`suites/${suite}.ts`, ROOT)), `test/suites/${suite}.ts`);
        assert.ok(script.includes(`test/suites/${suite}.ts`), `npm test runs test/suites/${suite}.ts`);
      }
    });
  }
  for (const file of filesOf(name)) {
    // One file at a time: the next is imported once this one has registered its tests. Imported together, a file
    // whose module waits on a shared import (the Redis probe) would register its describes under another file's.
    await new Promise<void>((registered) => {
      describe(file, async () => {
        try {
          await import(new URL(file, ROOT).href);
        } finally {
          registered();
        }
      });
    });
  }
}
