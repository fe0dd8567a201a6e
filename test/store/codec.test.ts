/**
 * The codec's RecordDecoder: a record whose text is the one decoded last (users created together) is not parsed again.
 * The codec's decodeView: views read back from a store share what views made in memory share, and still re-encode
 * to the very string that was stored (a compare-and-set compares them).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setStatusMessage, parseSetStatusMessage } from '../../src/domain/statusMessage.ts';
import { view } from '../../src/domain/view.ts';
import { decodeRecord, decodeView, encodeRecord, encodeView, RecordDecoder } from '../../src/store/codec.ts';
import { newRecord } from '../../src/domain/record.ts';
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

describe('codec: RecordDecoder', () => {
  it('decodes a record as decodeRecord does, and the same text again without parsing it: the objects shared, seq and due its own', () => {
    const { facts: f, view: v } = encodeRecord(newRecord(T0));
    const decoder = new RecordDecoder();
    const a = decoder.decode(f, v, 'C1', null);
    const b = decoder.decode(f, v, 'C2', T0 + 1);
    assert.deepEqual(a, decodeRecord(f, v, 'C1', null));
    assert.deepEqual(b, decodeRecord(f, v, 'C2', T0 + 1));
    assert.ok(a.facts === b.facts && a.view === b.view, 'the same text: the objects of the decode before');
    const other = encodeRecord({ ...newRecord(T0), facts: setStatusMessage(facts(), parseSetStatusMessage(body('hi'), 280), T0) });
    const c = decoder.decode(other.facts, v, 'C3', null);
    assert.notEqual(c.facts, a.facts, 'other facts: parsed');
    assert.equal(c.facts.statusMessage?.content, 'hi');
    assert.notEqual(decoder.decode(f, v, 'C4', null).facts, c.facts, 'and back: parsed again');
  });
});
