/**
 * `npm test` runs every test file exactly once. It runs the processes of test/suites/ (each runs the files
 * test/kit/suites.ts gives it) and the globs its script names (test/store/*.test.ts): a test file in none of them —
 * a folder the suites do not look into, a file nested one level deeper — would never run, and nobody would notice.
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { describe, it } from 'node:test';
import { SUITES, filesOf, type SuiteName } from '../kit/suites.ts';

const TEST = new URL('../', import.meta.url);

/** Every *.test.ts under test/, as a path relative to test/ (`folder/file.test.ts`), at any depth. */
function testFiles(): string[] {
  return (readdirSync(TEST, { recursive: true }) as string[])
    .map((f) => f.split('\\').join('/'))
    .filter((f) => f.endsWith('.test.ts'))
    .sort();
}

/** The arguments of `npm test` that name files: suites (test/suites/x.ts) and globs (test/store/*.test.ts). */
function testArgs(): string[] {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', TEST), 'utf8')) as { scripts: { test: string } };
  return pkg.scripts.test.split(/\s+/).filter((a) => a.startsWith('test/'));
}

const suiteFiles = new Map<string, string[]>();
const filesOfSuite = (suite: SuiteName) => suiteFiles.get(suite) ?? suiteFiles.set(suite, filesOf(suite)).get(suite)!;

/** How many times `npm test` runs `file`: once per suite that runs it, once per glob that names it. */
function runsOf(file: string, args: string[]): number {
  let runs = 0;
  for (const arg of args) {
    const suite = /^test\/suites\/([^/]+)\.ts$/.exec(arg)?.[1];
    if (suite !== undefined) {
      if (suite in SUITES && filesOfSuite(suite as SuiteName).includes(file)) runs++;
      continue;
    }
    const glob = new RegExp(`^${arg.slice('test/'.length).split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('[^/]*')}$`);
    if (glob.test(file)) runs++;
  }
  return runs;
}

describe('npm test', () => {
  it('runs every *.test.ts under test/ exactly once', () => {
    const args = testArgs();
    const files = testFiles();
    assert.ok(files.length > 50, `found ${files.length} test files`);
    const wrong = files.map((f) => ({ file: f, runs: runsOf(f, args) })).filter((r) => r.runs !== 1);
    assert.deepEqual(wrong, [], 'each file with the number of times npm test runs it');
  });

  it('would notice a test file it does not run (one nested a level deeper)', () => {
    assert.equal(runsOf('hardening/deeper/x.test.ts', testArgs()), 0);
    assert.equal(runsOf('store/contract/x.test.ts', testArgs()), 0);
    assert.equal(runsOf('store/sqlite.test.ts', testArgs()), 1);
  });
});
