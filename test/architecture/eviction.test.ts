/**
 * Bounded memories drop their oldest entry from a list, not with a Map's or a Set's `keys().next()`
 * (docs/contributing/performance.md#no-first-key-eviction): V8 keeps a deleted entry's slot until it rebuilds the table
 * and every new iterator walks them, so a memory of thousands that evicts on each insertion walks thousands of slots
 * each time. The rule was broken twice on a write's path, each time found by a profile at a million users (8–12 % and
 * then 16 % of a write). Only the maps below, each bounded to a few dozen or hundred entries, may still drop their
 * first key; anything else uses `BoundedMap` or a `RecencyList` (src/platform/recency.ts).
 */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { sourceFiles } from '../kit/sources.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Files allowed a first-key eviction, and the bound that makes it cheap. */
const SMALL_MAPS: Record<string, string> = {
  'src/admin/sink.ts': 'sinks: 64 by default',
  'src/notifications/encryption.ts': 'parsed certificates: 256',
  'src/presence/readMany.ts': 'getPresencesByUserId answers: 32',
  'src/dashboard/names.ts': 'tenants whose names are kept: 16',
};

describe('bounded memories (architecture)', () => {
  it('evict from a list, except a few small maps that drop their first key', () => {
    const found: string[] = [];
    for (const file of sourceFiles(path.join(ROOT, 'src'))) {
      const relative = path.relative(ROOT, file).split(path.sep).join('/');
      if (relative === 'src/platform/recency.ts' || SMALL_MAPS[relative]) continue;
      readFileSync(file, 'utf8').split('\n').forEach((line, i) => {
        if (/\.(keys|entries|values)\(\)\.next\(\)/.test(line)) found.push(`${relative}:${i + 1}: ${line.trim()}`);
      });
    }
    const advice = 'a first-key eviction outside the small maps: use BoundedMap or RecencyList (platform/recency.ts)';
    assert.deepEqual(found, [], advice);
  });

  it('lists no small map that no longer drops its first key', () => {
    for (const [file, bound] of Object.entries(SMALL_MAPS)) {
      const text = readFileSync(path.join(ROOT, file), 'utf8');
      assert.match(text, /\.keys\(\)\.next\(\)/, `${file} (${bound}) is listed but evicts otherwise now: take it off`);
    }
  });
});
