/**
 * isGuid (src/platform/json/validate.ts, through src/platform/json/guid.ts readGuid) checks character by character
 * for speed; it must accept and refuse exactly what the 8-4-4-4-12 pattern, hex digits in either case, accepts and
 * refuses. Every id a client sends goes through it. guidText, its inverse, must give back the lower-case id.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { isGuid } from '../../src/platform/json/validate.ts';
import { guidText, readGuid } from '../../src/platform/json/guid.ts';

const PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const RUNS = Number(process.env.PROPERTY_RUNS ?? 300) * 10;

/** Strings near a GUID: a real one with a character replaced, inserted or removed, or its case changed. */
const nearGuid = fc.tuple(fc.uuid(), fc.nat(40), fc.string({ minLength: 0, maxLength: 2 }), fc.constantFrom('keep', 'upper', 'replace', 'insert', 'delete'))
  .map(([uuid, at, text, how]) => {
    const i = at % 37;
    if (how === 'upper') return uuid.toUpperCase();
    if (how === 'replace') return uuid.slice(0, i) + text + uuid.slice(i + 1);
    if (how === 'insert') return uuid.slice(0, i) + text + uuid.slice(i);
    if (how === 'delete') return uuid.slice(0, i) + uuid.slice(i + 1);
    return uuid;
  });

describe('isGuid', () => {
  it('agrees with the GUID pattern on GUIDs, near-GUIDs and any other value', () => {
    fc.assert(fc.property(fc.oneof(nearGuid, fc.string(), fc.anything()), (value) => {
      assert.equal(isGuid(value), typeof value === 'string' && PATTERN.test(value), JSON.stringify(value));
    }), { numRuns: RUNS });
  });

  it('accepts either case, refuses braces, other separators and non-hex letters', () => {
    assert.equal(isGuid('fa8bf3dc-eca7-46b7-bad1-db199b62afc3'), true);
    assert.equal(isGuid('FA8BF3DC-ECA7-46B7-BAD1-DB199B62AFC3'), true);
    assert.equal(isGuid('{fa8bf3dc-eca7-46b7-bad1-db199b62afc3}'), false);
    assert.equal(isGuid('fa8bf3dc_eca7-46b7-bad1-db199b62afc3'), false);
    assert.equal(isGuid('ga8bf3dc-eca7-46b7-bad1-db199b62afc3'), false);
    assert.equal(isGuid('fa8bf3dceca746b7bad1db199b62afc3'), false);
  });
});

describe('guidText', () => {
  it('gives back the lower-case GUID readGuid read, for any GUID and any words', () => {
    const words = new Uint32Array(8);
    fc.assert(fc.property(fc.uuid(), fc.boolean(), fc.nat(4), (uuid, upper, at) => {
      assert.notEqual(readGuid(upper ? uuid.toUpperCase() : uuid, words, at), -1);
      assert.equal(guidText(words, at), uuid.toLowerCase());
    }), { numRuns: RUNS });
    fc.assert(fc.property(fc.array(fc.nat({ max: 0xffff_ffff }), { minLength: 4, maxLength: 4 }), (w) => {
      words.set(w, 0);
      const text = guidText(words, 0);
      assert.match(text, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      const back = new Uint32Array(4);
      assert.equal(readGuid(text, back, 0), 0);
      assert.deepEqual([...back], w.map((x) => x >>> 0));
    }), { numRuns: RUNS });
  });
});
