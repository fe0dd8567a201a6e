/**
 * The codec's decodeView: views read back from a store share what views made in memory share, and still re-encode
 * to the very string that was stored (a compare-and-set compares them).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setStatusMessage, parseSetStatusMessage } from '../../src/domain/statusMessage.ts';
import { view } from '../../src/domain/view.ts';
import { decodeView, encodeView } from '../../src/store/codec.ts';
import { T0, body, facts, oofAlways } from '../domain/fixtures.ts';

describe('codec: decodeView', () => {
  it('a view of its own (a long message, not interned) shares the default parts and round-trips exactly', () => {
    const made = view(setStatusMessage(facts(), parseSetStatusMessage(body('x'.repeat(700)), 1000), T0), T0);
    const json = encodeView(made);
    const a = decodeView(json);
    const b = decodeView(json);
    assert.notEqual(a, b, 'too long to be interned: parsed each time');
    assert.equal(a.outOfOffice, made.outOfOffice, 'the same object as a view made in memory');
    assert.equal(a.workLocation, made.workLocation);
    assert.equal(encodeView(a), json, 'encodes back to the stored string');
    assert.deepEqual(a, made);
  });

  it('keeps the parts that differ from the defaults as they were stored', () => {
    const made = view(facts({ outOfOffice: oofAlways('On leave'), workLocation: { manual: { workLocationType: 'remote', placeId: null }, automatic: null, scheduled: null } }), T0);
    const json = encodeView(made);
    const read = decodeView(json);
    assert.deepEqual(read.outOfOffice, { isOutOfOffice: true, message: 'On leave' });
    assert.equal(read.workLocation.workLocationType, 'remote');
    assert.equal(encodeView(read), json);
  });
});
