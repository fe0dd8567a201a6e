import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { InvalidInput } from '../../src/platform/json/errors.ts';
import {
  DEFAULT_MAX_STATUS_LENGTH, PINNED_NOTE_MARKER, parseSetStatusMessage, setStatusMessage, visibleLength,
  type StatusMessageInput,
} from '../../src/domain/statusMessage.ts';
import { view } from '../../src/domain/view.ts';
import { SEED_EXAMPLE_1, SEED_EXAMPLE_2, at, body, facts } from './fixtures.ts';

function refused(b: unknown, property: string | undefined, maxLength?: number): InvalidInput {
  let caught: unknown;
  assert.throws(() => parseSetStatusMessage(b, maxLength), (e: unknown) => {
    caught = e;
    return true;
  });
  assert.ok(caught instanceof InvalidInput, `expected InvalidInput, got ${String(caught)}`);
  assert.equal(caught.property, property);
  if (property) assert.ok(caught.message.includes(property), `message should name '${property}': ${caught.message}`);
  return caught;
}

function setOf(r: StatusMessageInput) {
  assert.equal(r.kind, 'set');
  if (r.kind !== 'set') throw new Error('unreachable');
  return r.message;
}

const CLEAR = { kind: 'clear' } as const;
const PST_EXPIRY = { dateTime: '2026-03-08T02:30:00', timeZone: 'Pacific Standard Time' };

describe('parseSetStatusMessage: the seed examples', () => {
  it('Example 1: message with a Pacific expiry; the instant is rounded up to the ms', () => {
    assert.deepEqual(parseSetStatusMessage(SEED_EXAMPLE_1), {
      kind: 'set',
      message: {
        content: "Hey I'm currently in a meeting.",
        contentType: 'text',
        expiry: { dateTime: '2022-10-18T17:05:33.2079781', timeZone: 'Pacific Standard Time' },
        expiresAt: at('2022-10-19T00:05:33.208Z'),
      },
    });
  });

  it('Example 1 is accepted as raw JSON text parsed the usual way', () => {
    const raw = `{
  "statusMessage": {
    "message": {
        "content": "Hey I'm currently in a meeting.",
        "contentType": "text"
    },
    "expiryDateTime": {
        "dateTime": "2022-10-18T17:05:33.2079781",
        "timeZone": "Pacific Standard Time"
    }
  }
}`;
    assert.deepEqual(parseSetStatusMessage(JSON.parse(raw)), parseSetStatusMessage(SEED_EXAMPLE_1));
  });

  it('Example 1 (expiry in 2022) is accepted: the message is already expired and a read shows null', () => {
    const now = at('2026-06-01T12:00:00Z');
    const input = parseSetStatusMessage(SEED_EXAMPLE_1);
    const m = setOf(input);
    assert.ok(m.expiresAt !== null && m.expiresAt < now);
    assert.equal(view(setStatusMessage(facts(), input, now), now).statusMessage, null);
  });

  it('Example 2: message without expiry never expires', () => {
    assert.deepEqual(parseSetStatusMessage(SEED_EXAMPLE_2), {
      kind: 'set',
      message: { content: 'Hey I am available now', contentType: 'text', expiry: null, expiresAt: null },
    });
  });
});

describe('parseSetStatusMessage: contentType', () => {
  it('accepts text in any case and stores it as text', () => {
    for (const ct of ['text', 'TEXT', 'Text', 'tExT']) {
      const m = setOf(parseSetStatusMessage({ statusMessage: { message: { content: 'hi', contentType: ct } } }));
      assert.equal(m.contentType, 'text');
    }
  });

  it('defaults to text when absent or null', () => {
    assert.equal(setOf(parseSetStatusMessage({ statusMessage: { message: { content: 'hi' } } })).contentType, 'text');
    assert.equal(setOf(parseSetStatusMessage({ statusMessage: { message: { content: 'hi', contentType: null } } })).contentType, 'text');
  });

  it('refuses html with a message that says only text is supported', () => {
    for (const ct of ['html', 'HTML', 'markdown', '']) {
      const e = refused({ statusMessage: { message: { content: '<b>hi</b>', contentType: ct } } }, 'statusMessage.message.contentType');
      assert.match(e.message, /only 'text'/);
    }
  });
});

describe('parseSetStatusMessage: content length', () => {
  it(`the default limit is ${DEFAULT_MAX_STATUS_LENGTH}`, () => assert.equal(DEFAULT_MAX_STATUS_LENGTH, 280));

  it('280 characters are accepted, 281 refused with the count and the limit in the message', () => {
    assert.equal(setOf(parseSetStatusMessage(body('a'.repeat(280)))).content, 'a'.repeat(280));
    const e = refused(body('a'.repeat(281)), 'statusMessage.message.content');
    assert.match(e.message, /281/);
    assert.match(e.message, /280/);
  });

  it('counts code points, not UTF-16 units: 280 emoji are accepted, 281 refused', () => {
    const emoji280 = '😀'.repeat(280);
    assert.equal(emoji280.length, 560);
    assert.equal(setOf(parseSetStatusMessage(body(emoji280))).content, emoji280);
    refused(body('😀'.repeat(281)), 'statusMessage.message.content');
    assert.equal(visibleLength('😀'), 1);
    assert.equal(visibleLength('𝄞中é'), 3);
  });

  it('does not count the <pinnednote></pinnednote> marker, and keeps it as sent', () => {
    assert.equal(PINNED_NOTE_MARKER, '<pinnednote></pinnednote>');
    assert.equal(visibleLength(`Back at 3${PINNED_NOTE_MARKER}`), 9);
    const content = 'a'.repeat(280) + PINNED_NOTE_MARKER;
    assert.equal(setOf(parseSetStatusMessage(body(content))).content, content);
    refused(body('a'.repeat(281) + PINNED_NOTE_MARKER), 'statusMessage.message.content');
  });

  it('a message that is only the marker is a (pinned, empty-looking) message, not a clear', () => {
    assert.equal(setOf(parseSetStatusMessage(body(PINNED_NOTE_MARKER))).content, PINNED_NOTE_MARKER);
  });

  it('honours a configured limit', () => {
    assert.equal(setOf(parseSetStatusMessage(body('a'.repeat(10)), 10)).content, 'a'.repeat(10));
    const e = refused(body('a'.repeat(11)), 'statusMessage.message.content', 10);
    assert.match(e.message, /10/);
    assert.equal(setOf(parseSetStatusMessage(body('a'.repeat(500)), 500)).content.length, 500);
  });

  const codePoint = fc.oneof(
    fc.integer({ min: 0x20, max: 0xd7ff }),
    fc.integer({ min: 0xe000, max: 0x10ffff }),
  ).map((cp) => String.fromCodePoint(cp));

  it('property: any content of 1–280 code points is accepted and kept exactly', () => {
    fc.assert(
      fc.property(fc.array(codePoint, { minLength: 1, maxLength: 280 }), (cps) => {
        const content = cps.join('');
        const m = setOf(parseSetStatusMessage(body(content)));
        assert.equal(m.content, content);
      }),
    );
  });

  it('property: any content of more than 280 code points is refused', () => {
    fc.assert(
      fc.property(fc.array(codePoint, { minLength: 281, maxLength: 400 }), (cps) => {
        refused(body(cps.join('')), 'statusMessage.message.content');
      }),
      { numRuns: 50 },
    );
  });
});

describe('parseSetStatusMessage: clearing', () => {
  it('empty content clears', () => assert.deepEqual(parseSetStatusMessage(body('')), CLEAR));
  it('null content clears', () => assert.deepEqual(parseSetStatusMessage(body(null)), CLEAR));
  it('null message clears', () => assert.deepEqual(parseSetStatusMessage({ statusMessage: { message: null } }), CLEAR));
  it('null statusMessage clears', () => assert.deepEqual(parseSetStatusMessage({ statusMessage: null }), CLEAR));
  it('empty content with an expiry still clears (and drops the expiry)', () => {
    assert.deepEqual(parseSetStatusMessage(body('', PST_EXPIRY)), CLEAR);
  });

  it('clearing removes a message that was showing', () => {
    const now = at('2026-06-01T12:00:00Z');
    const withMessage = setStatusMessage(facts(), parseSetStatusMessage(SEED_EXAMPLE_2), now);
    assert.equal(view(withMessage, now).statusMessage?.content, 'Hey I am available now');
    for (const b of [body(''), body(null), { statusMessage: { message: null } }, { statusMessage: null }]) {
      const cleared = setStatusMessage(withMessage, parseSetStatusMessage(b), now + 1);
      assert.equal(cleared.statusMessage, null);
      assert.equal(view(cleared, now + 1).statusMessage, null);
    }
  });
});

describe('parseSetStatusMessage: expiry', () => {
  it('computes the expiry instant and keeps the zone exactly as sent', () => {
    const m = setOf(parseSetStatusMessage(body('hi', { dateTime: '2026-03-08T02:30:00', timeZone: 'pacific STANDARD time' })));
    assert.deepEqual(m.expiry, { dateTime: '2026-03-08T02:30:00.0000000', timeZone: 'pacific STANDARD time' });
    assert.equal(m.expiresAt, at('2026-03-08T10:30:00Z'));
  });

  it('IANA zone kept as sent too', () => {
    const m = setOf(parseSetStatusMessage(body('hi', { dateTime: '2026-10-25T02:30:00.5', timeZone: 'europe/berlin' })));
    assert.deepEqual(m.expiry, { dateTime: '2026-10-25T02:30:00.5000000', timeZone: 'europe/berlin' });
    assert.equal(m.expiresAt, at('2026-10-25T00:30:00.500Z'));
  });

  it('normalises dateTime to exactly 7 fractional digits', () => {
    const m = setOf(parseSetStatusMessage(body('hi', { dateTime: '2026-01-01T10:00:00', timeZone: 'UTC' })));
    assert.equal(m.expiry?.dateTime, '2026-01-01T10:00:00.0000000');
  });

  it('year 9999 means never: expiresAt is null, the expiry is kept as sent', () => {
    for (const dateTime of ['9999-12-31T23:59:59.9999999', '9999-01-01T00:00:00']) {
      const m = setOf(parseSetStatusMessage(body('On leave', { dateTime, timeZone: 'W. Europe Standard Time' })));
      assert.equal(m.expiresAt, null);
      assert.equal(m.expiry?.timeZone, 'W. Europe Standard Time');
      assert.equal(m.expiry?.dateTime.slice(0, 19), dateTime.slice(0, 19));
    }
  });

  it('a year-9999 message still shows in the far future', () => {
    const input = parseSetStatusMessage(body('On leave', { dateTime: '9999-12-31T23:59:59.9999999', timeZone: 'UTC' }));
    const f = setStatusMessage(facts(), input, at('2026-01-01T00:00:00Z'));
    assert.equal(view(f, at('9999-12-31T23:59:59.999Z')).statusMessage?.content, 'On leave');
  });

  it('null expiryDateTime means no expiry', () => {
    const m = setOf(parseSetStatusMessage({ statusMessage: { message: { content: 'hi' }, expiryDateTime: null } }));
    assert.equal(m.expiry, null);
    assert.equal(m.expiresAt, null);
  });

  it('unknown zone → 400 naming statusMessage.expiryDateTime.timeZone', () => {
    refused(body('hi', { dateTime: '2026-01-01T10:00:00', timeZone: 'Atlantis Standard Time' }), 'statusMessage.expiryDateTime.timeZone');
    refused(body('hi', { dateTime: '2026-01-01T10:00:00', timeZone: '+05:00' }), 'statusMessage.expiryDateTime.timeZone');
  });

  it('bad dateTime → 400 naming statusMessage.expiryDateTime.dateTime', () => {
    for (const dateTime of ['2026-02-30T10:00:00', '2026-01-01T24:00:00', '2026-01-01T10:00:00Z', '2026-01-01T10:00:00.12345678', 'soon']) {
      refused(body('hi', { dateTime, timeZone: 'Pacific Standard Time' }), 'statusMessage.expiryDateTime.dateTime');
    }
  });

  it('dateTime and timeZone are both required inside expiryDateTime', () => {
    refused({ statusMessage: { message: { content: 'hi' }, expiryDateTime: { timeZone: 'UTC' } } }, 'statusMessage.expiryDateTime.dateTime');
    refused({ statusMessage: { message: { content: 'hi' }, expiryDateTime: { dateTime: '2026-01-01T10:00:00' } } }, 'statusMessage.expiryDateTime.timeZone');
    refused({ statusMessage: { message: { content: 'hi' }, expiryDateTime: { dateTime: null, timeZone: 'UTC' } } }, 'statusMessage.expiryDateTime.dateTime');
  });
});

describe('parseSetStatusMessage: publishedDateTime is the server’s', () => {
  it('a publishedDateTime in the body is ignored', () => {
    const withPublished = {
      statusMessage: { ...SEED_EXAMPLE_1.statusMessage, publishedDateTime: '2001-01-01T00:00:00.0000000Z' },
    };
    assert.deepEqual(parseSetStatusMessage(withPublished), parseSetStatusMessage(SEED_EXAMPLE_1));
    const now = at('2022-10-18T16:05:33.123Z');
    assert.equal(setStatusMessage(facts(), parseSetStatusMessage(withPublished), now).statusMessage?.publishedAt, now);
  });

  it('but it must still be a string', () => {
    refused({ statusMessage: { ...SEED_EXAMPLE_2.statusMessage, publishedDateTime: 12 } }, 'statusMessage.publishedDateTime');
  });
});

describe('parseSetStatusMessage: unknown properties are refused, annotations allowed', () => {
  it('at every level, naming the property path', () => {
    refused({ ...SEED_EXAMPLE_2, extra: 1 }, 'extra');
    refused({ statusMessage: { ...SEED_EXAMPLE_2.statusMessage, colour: 'red' } }, 'statusMessage.colour');
    refused({ statusMessage: { message: { content: 'hi', contentType: 'text', bold: true } } }, 'statusMessage.message.bold');
    refused(body('hi', { ...PST_EXPIRY, offset: '+01:00' } as { dateTime: string; timeZone: string }), 'statusMessage.expiryDateTime.offset');
  });

  it("property names match in any case, as Graph reads bodies; one name in two spellings is refused", () => {
    assert.deepEqual(parseSetStatusMessage({ StatusMessage: { Message: { Content: 'hi', ContentType: 'Text' } } }),
      parseSetStatusMessage({ statusMessage: { message: { content: 'hi', contentType: 'text' } } }));
    refused({ statusMessage: SEED_EXAMPLE_2.statusMessage, StatusMessage: SEED_EXAMPLE_2.statusMessage }, 'statusMessage');
    refused({ statusMessage: { Mesage: { content: 'hi' } } }, 'statusMessage.Mesage');
  });

  it('an unknown property is refused even when the message clears', () => {
    refused({ statusMessage: { message: null, oops: 1 } }, 'statusMessage.oops');
  });

  it('@odata.type annotations are allowed at every level and change nothing', () => {
    const annotated = {
      '@odata.type': '#microsoft.graph.presenceSetStatusMessageRequestBody',
      statusMessage: {
        '@odata.type': '#microsoft.graph.presenceStatusMessage',
        message: { '@odata.type': '#microsoft.graph.itemBody', ...SEED_EXAMPLE_1.statusMessage.message },
        expiryDateTime: { '@odata.type': '#microsoft.graph.dateTimeTimeZone', ...SEED_EXAMPLE_1.statusMessage.expiryDateTime },
      },
    };
    assert.deepEqual(parseSetStatusMessage(annotated), parseSetStatusMessage(SEED_EXAMPLE_1));
  });
});

describe('parseSetStatusMessage: wrong JSON types are refused naming the property', () => {
  const wrong: ReadonlyArray<[string, unknown]> = [['a number', 1], ['a boolean', true], ['an array', []], ['a string', 'x'], ['an object', {}]];

  it('statusMessage', () => {
    for (const [, v] of wrong.filter(([n]) => n !== 'an object')) refused({ statusMessage: v }, 'statusMessage');
  });

  it('statusMessage.message', () => {
    for (const [, v] of wrong.filter(([n]) => n !== 'an object')) refused({ statusMessage: { message: v } }, 'statusMessage.message');
  });

  it('statusMessage.message.content and contentType', () => {
    for (const [, v] of wrong.filter(([n]) => n !== 'a string')) {
      refused({ statusMessage: { message: { content: v } } }, 'statusMessage.message.content');
      refused({ statusMessage: { message: { content: 'hi', contentType: v } } }, 'statusMessage.message.contentType');
    }
  });

  it('statusMessage.expiryDateTime and its dateTime / timeZone', () => {
    for (const [, v] of wrong.filter(([n]) => n !== 'an object')) {
      refused(body('hi', v as never), 'statusMessage.expiryDateTime');
    }
    for (const [, v] of wrong.filter(([n]) => n !== 'a string')) {
      refused(body('hi', { dateTime: v, timeZone: 'UTC' }), 'statusMessage.expiryDateTime.dateTime');
      refused(body('hi', { dateTime: '2026-01-01T10:00:00', timeZone: v }), 'statusMessage.expiryDateTime.timeZone');
    }
  });

  it('the message says what type was expected and what came', () => {
    const e = refused({ statusMessage: { message: { content: 42 } } }, 'statusMessage.message.content');
    assert.match(e.message, /must be a string, not a number/);
  });
});

describe('parseSetStatusMessage: the body itself', () => {
  it('non-object bodies are refused', () => {
    for (const b of [[], [SEED_EXAMPLE_2], 'statusMessage', null, 42, true, undefined]) {
      const e = refused(b, undefined);
      assert.match(e.message, /request body must be a JSON object/);
    }
  });

  it('an object without statusMessage is refused naming statusMessage', () => {
    refused({}, 'statusMessage');
  });

  it('a statusMessage without message is refused naming statusMessage.message', () => {
    refused({ statusMessage: {} }, 'statusMessage.message');
    refused({ statusMessage: { expiryDateTime: PST_EXPIRY } }, 'statusMessage.message');
  });

  it('property: any JSON value as body either parses or is refused with InvalidInput', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (b) => {
        try {
          parseSetStatusMessage(b);
        } catch (e) {
          assert.ok(e instanceof InvalidInput, `threw ${String(e)}`);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('property: near-valid bodies with random parts either give a valid input or InvalidInput', () => {
    const anyOr = <T>(good: fc.Arbitrary<T>) => fc.oneof(good, good, fc.jsonValue(), fc.constant(undefined));
    const dateTime = fc.oneof(
      fc.constantFrom('2026-03-08T02:30:00', '2022-10-18T17:05:33.2079781', '9999-12-31T23:59:59.9999999', '2026-02-30T00:00:00', '2026-01-01T10:00:00Z', '0000-01-01T00:00:00'),
      fc.string(),
    );
    const timeZone = fc.oneof(
      fc.constantFrom('Pacific Standard Time', 'utc', 'Europe/Berlin', 'AUS Eastern Standard Time', '+05:00', 'Nowhere', ''),
      fc.string(),
    );
    const content = fc.oneof(fc.string({ maxLength: 300 }), fc.constant(PINNED_NOTE_MARKER), fc.constant(''), fc.constant(null));
    const strip = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
    const bodyArb = fc.record({
      content: anyOr(content),
      contentType: anyOr(fc.constantFrom('text', 'TEXT', 'html')),
      dateTime: anyOr(dateTime),
      timeZone: anyOr(timeZone),
      expiryShape: fc.constantFrom('object', 'absent', 'null'),
      published: anyOr(fc.constant('2020-01-01T00:00:00Z')),
      extra: fc.option(fc.constantFrom('foo', '@odata.type', 'message@odata.type'), { nil: undefined }),
    }).map((r) => {
      const sm: Record<string, unknown> = strip({
        message: strip({ content: r.content, contentType: r.contentType }),
        publishedDateTime: r.published,
      });
      if (r.expiryShape === 'object') sm.expiryDateTime = strip({ dateTime: r.dateTime, timeZone: r.timeZone });
      if (r.expiryShape === 'null') sm.expiryDateTime = null;
      if (r.extra) sm[r.extra] = 'x';
      return { statusMessage: sm };
    });
    fc.assert(
      fc.property(bodyArb, (b) => {
        let r: StatusMessageInput;
        try {
          r = parseSetStatusMessage(b);
        } catch (e) {
          assert.ok(e instanceof InvalidInput, `threw ${String(e)}`);
          assert.ok(e.property === undefined || e.property.startsWith('statusMessage'), `property ${e.property}`);
          return;
        }
        if (r.kind === 'set') {
          assert.ok(r.message.content.length > 0);
          assert.ok(visibleLength(r.message.content) <= DEFAULT_MAX_STATUS_LENGTH);
          assert.equal(r.message.contentType, 'text');
          if (r.message.expiry) {
            assert.match(r.message.expiry.dateTime, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{7}$/);
            assert.ok(r.message.expiresAt === null ? r.message.expiry.dateTime.startsWith('9999') : Number.isSafeInteger(r.message.expiresAt));
          } else {
            assert.equal(r.message.expiresAt, null);
          }
        }
      }),
      { numRuns: 1000 },
    );
  });
});

describe('setStatusMessage (the command)', () => {
  it('stamps publishedAt with the command time and keeps other facts', () => {
    const now = at('2026-06-01T12:00:00.123Z');
    const before = facts({ everActive: true });
    const after = setStatusMessage(before, parseSetStatusMessage(SEED_EXAMPLE_2), now);
    assert.deepEqual(after.statusMessage, {
      content: 'Hey I am available now', contentType: 'text', expiry: null, expiresAt: null, publishedAt: now,
    });
    assert.equal(after.everActive, true);
    assert.equal(before.statusMessage, null, 'the input facts are not mutated');
  });
});
