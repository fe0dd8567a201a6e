/**
 * The write express lane (src/presence/writeLane.ts) answers exactly as the framework would, for any body: random
 * valid and invalid setStatusMessage and setPresence bodies, any JSON, and text that is not JSON are each sent twice
 * over a real socket, with Content-Length (the lane may take it) and chunked (the framework answers), and the two
 * answers (status, headers in order, body, request ids aside) and the presence each leaves must be the same. The
 * clock is manual, so both writes happen at the same instant.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { ADELE, ALEX } from '../kit/server.ts';
import { comparable, rawRequest, startWriteLaneServer, type WriteLaneServer } from '../kit/rawHttp.ts';
import { SESSION_PAIRS } from '../../src/domain/sessions.ts';

const RUNS = Number(process.env.PROPERTY_RUNS ?? 150);
const MANUAL_START = Date.parse('2026-12-04T09:00:00Z');

const text = fc.oneof(fc.string({ maxLength: 40 }), fc.string({ unit: 'grapheme', maxLength: 40 }), fc.constantFrom('', ' ', '<b>hi</b>', 'é\u0301', '\ud83d'));
const zone = fc.constantFrom('UTC', 'Pacific Standard Time', 'Europe/Berlin', 'Tokyo Standard Time', 'Mars/Olympus', '', '+02:00');
const dateTime = fc.oneof(
  fc.date({ min: new Date('2026-01-01T00:00:00Z'), max: new Date('2030-01-01T00:00:00Z'), noInvalidDate: true }).map((d) => d.toISOString().slice(0, 19)),
  fc.constantFrom('2026-12-31T17:00:00.0000000', 'tomorrow', '2026-02-30T10:00:00', ''),
);
const statusMessage = fc.record({
  statusMessage: fc.oneof(
    fc.constant(null),
    fc.record({
      message: fc.record({ content: text, contentType: fc.constantFrom('text', 'html', 'TEXT') }, { requiredKeys: ['content'] }),
      expiryDateTime: fc.record({ dateTime, timeZone: zone }, { requiredKeys: [] }),
    }, { requiredKeys: ['message'] }),
  ),
}, { requiredKeys: [] });
/** Mostly valid (the dev app's session, a pair it may set, a duration Graph allows), else any mix; sometimes a property missing. */
const setPresence = fc.record({
  sessionId: fc.oneof({ weight: 6, arbitrary: fc.constant('22553876-f5ab-4529-bffb-cfe50aa89f87') }, { weight: 1, arbitrary: fc.uuid() }, { weight: 1, arbitrary: text }),
  pair: fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...SESSION_PAIRS) },
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom('Available', 'Busy', 'Away', 'busy', 'Sleeping'), fc.constantFrom('Available', 'InACall', 'Presenting', 'Nope')) },
  ),
  expirationDuration: fc.oneof({ weight: 4, arbitrary: fc.constantFrom('PT1H', 'PT5M', 'PT4H') }, { weight: 1, arbitrary: fc.constantFrom('P1D', 'PT0S', 'PT30S', 'soon') }),
  drop: fc.oneof({ weight: 4, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.constantFrom('sessionId', 'availability', 'activity', 'expirationDuration') }),
}).map(({ sessionId, pair, expirationDuration, drop }) => {
  const b: Record<string, string> = { sessionId, availability: pair[0], activity: pair[1], expirationDuration };
  if (drop) delete b[drop];
  return b;
});

/** A body: a typed one as JSON, any JSON value, or text that is mostly not JSON. */
const body = (typed: fc.Arbitrary<unknown>) => fc.oneof(
  { weight: 5, arbitrary: typed.map((b) => JSON.stringify(b)) },
  { weight: 2, arbitrary: fc.json({ maxDepth: 3 }) },
  { weight: 1, arbitrary: text },
);

describe('write express lane: any body gets the framework\'s answer and leaves the framework\'s presence', () => {
  let w: WriteLaneServer;
  before(async () => {
    w = await startWriteLaneServer(MANUAL_START);
  });
  after(() => w.s.close());

  const shown = async (userId: string) =>
    (await w.s.inject({ method: 'GET', url: `/v1.0/users/${userId}/presence`, headers: { authorization: `Bearer ${w.reader}` } })).body;

  const cases = [
    { name: 'setStatusMessage at /me', path: '/v1.0/me/presence/setStatusMessage', token: () => w.adele, user: ADELE, body: body(statusMessage) },
    { name: 'setPresence at /users/{id}', path: `/v1.0/users/${ALEX}/presence/setPresence`, token: () => w.writer, user: ALEX, body: body(setPresence) },
  ];
  for (const c of cases) {
    it(`${c.name}: the lane's answer and presence are the framework's`, async () => {
      const lanedBefore = w.s.presently.front.laneAnswers;
      await fc.assert(fc.asyncProperty(c.body, async (sent) => {
        const headers = { 'content-type': 'application/json', authorization: `Bearer ${c.token()}` };
        const lane = await rawRequest(w.base, 'POST', c.path, headers, sent);
        const afterLane = await shown(c.user);
        const framework = await rawRequest(w.base, 'POST', c.path, headers, sent, true);
        const afterFramework = await shown(c.user);
        assert.deepEqual(comparable(lane), comparable(framework), `body ${JSON.stringify(sent)}`);
        assert.equal(afterLane, afterFramework, `body ${JSON.stringify(sent)}`);
      }), { numRuns: RUNS });
      assert.ok(w.s.presently.front.laneAnswers > lanedBefore, 'some of the writes were the lane\'s');
    });
  }
});
