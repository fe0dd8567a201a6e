/**
 * The import arrows of src/ point down (docs/contributing/design.md). Each top-level folder of src/ is a layer;
 * a file may import from its own layer and from the layers below it, never from one above. HTTP wire-format code
 * never imports a store backend: it sees only the store's ports and its StoreUnavailable error.
 */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { sourceFiles } from '../kit/sources.ts';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

/** Lowest first. `server.ts` is the composition root; `cli` sits on top of it. */
export const LAYERS = [
  'platform', 'config', 'domain', 'store', 'auth', 'http',
  'presence', 'directory', 'notifications', 'subscriptions', 'admin', 'authority', 'dashboard',
  'server.ts', 'cli',
] as const;

function layerOf(file: string): number {
  const top = path.relative(SRC, file).split(path.sep)[0]!;
  const i = (LAYERS as readonly string[]).indexOf(top);
  assert.notEqual(i, -1, `${path.relative(SRC, file)} is in no layer: add its folder to LAYERS (and to the docs)`);
  return i;
}

const IMPORT = /(?:from\s+|import\s*\(\s*|import\s+)['"](\.{1,2}\/[^'"]+)['"]/g;

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(IMPORT)].map((m) => path.resolve(path.dirname(file), m[1]!));
}

const files = sourceFiles(SRC);

describe('architecture: import arrows point down', () => {
  it('every src/ file is in a known layer', () => {
    for (const file of files) layerOf(file);
  });

  it('no file imports from a layer above its own', () => {
    const upward: string[] = [];
    for (const file of files) {
      for (const target of importsOf(file)) {
        if (layerOf(target) > layerOf(file)) upward.push(`${path.relative(SRC, file)} → ${path.relative(SRC, target)}`);
      }
    }
    assert.deepEqual(upward, [], `imports that point up:\n${upward.join('\n')}`);
  });

  it('HTTP code (http/ and every routes file) never imports a store backend', () => {
    const isHttp = (f: string) => path.relative(SRC, f).startsWith(`http${path.sep}`) || /routes?\.ts$|Routes\.ts$/.test(f);
    const isBackend = (f: string) => /store[/\\](sqlite|redis|memory|postgres)[/\\]/.test(f);
    const bad = files.filter(isHttp).flatMap((f) => importsOf(f).filter(isBackend).map((t) => `${path.relative(SRC, f)} → ${path.relative(SRC, t)}`));
    assert.deepEqual(bad, [], `HTTP files that import a backend:\n${bad.join('\n')}`);
  });
});
