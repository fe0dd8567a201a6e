/**
 * A nesting limit for JSON bodies: a body nested deeper than 64 levels is a Graph 400 naming the limit, checked
 * before anything walks the value — for a direct request and for a `$batch` whose item carries the deep body (which
 * used to overflow the stack and answer 500).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { ADELE, startInProcess, type TestServer } from '../kit/server.ts';
import { nestedDeeperThan } from '../../src/platform/json/depth.ts';

/** The walk alone, as written before the count of opening brackets went in front of it: the model. */
function walkedDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{' || c === '[') {
      if (++depth > max) return true;
    } else if (c === '}' || c === ']') depth--;
  }
  return false;
}

const nested = (levels: number, leaf = '{}') => '{"a":'.repeat(levels) + leaf + '}'.repeat(levels);
const arrays = (levels: number) => '['.repeat(levels) + ']'.repeat(levels);

function assertDepthError(status: number, body: string): void {
  assert.equal(status, 400, body);
  const err = (JSON.parse(body) as { error: { code: string; message: string; innerError: object } }).error;
  assert.equal(err.code, 'BadRequest');
  assert.match(err.message, /nested more than 64 levels/);
  assert.ok(err.innerError);
}

describe('JSON nesting limit', () => {
  let s: TestServer;
  let token: string;
  before(async () => {
    s = await startInProcess();
    token = await s.userToken(ADELE);
  });
  after(() => s.close());

  const post = (url: string, payload: string) => s.inject({
    method: 'POST', url, payload,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
  });

  it('counts objects and arrays, not brackets inside strings', () => {
    assert.equal(nestedDeeperThan(nested(64, '1'), 64), false);
    assert.equal(nestedDeeperThan(`{"a":${nested(64, '1')}}`, 64), true);
    assert.equal(nestedDeeperThan(arrays(65), 64), true);
    assert.equal(nestedDeeperThan(JSON.stringify({ s: '[[[[{{{{\\"'.repeat(100) }), 3), false);
  });

  it('answers as walking the whole text would, for any text and limit (counting brackets only skips the walk)', () => {
    const char = fc.constantFrom('{', '}', '[', ']', '"', '\\', 'a', ',', ':');
    const text = fc.array(char, { maxLength: 60 }).map((cs) => cs.join(''));
    fc.assert(fc.property(text, fc.integer({ min: 0, max: 8 }), (t, max) => {
      assert.equal(nestedDeeperThan(t, max), walkedDeeperThan(t, max), JSON.stringify(t));
    }), { numRuns: 2_000 });
  });

  it('a request body nested 5,000 levels deep answers 400 naming the limit', async () => {
    for (const body of [nested(5000), arrays(5000), nested(65)]) {
      const res = await post(`/v1.0/users/${ADELE}/presence/setStatusMessage`, body);
      assertDepthError(res.statusCode, res.body);
    }
  });

  it('a $batch item whose body nests 5,000 levels answers 400, not 500', async () => {
    const item = `{"id":"1","method":"POST","url":"/users/${ADELE}/presence/setStatusMessage",`
      + `"headers":{"content-type":"application/json"},"body":${nested(5000)}}`;
    const res = await post('/v1.0/$batch', `{"requests":[${item}]}`);
    assertDepthError(res.statusCode, res.body);
  });

  it('bodies within the limit are read as before', async () => {
    const item = {
      id: '1', method: 'POST', url: `/users/${ADELE}/presence/setStatusMessage`, headers: { 'content-type': 'application/json' },
      body: { statusMessage: { message: { content: 'deep enough', contentType: 'text' } } },
    };
    const res = await post('/v1.0/$batch', JSON.stringify({ requests: [item] }));
    assert.equal(res.statusCode, 200, res.body);
    assert.equal((res.json() as { responses: Array<{ status: number }> }).responses[0]!.status, 200);
  });
});
