/**
 * One clock [P: d-one-clock]: every time an answer states comes from the server's clock — under `--clock manual` the
 * manual one — so the `Date` header and an error's `innerError.date` agree, on every answer, over a real socket too,
 * and both move when the clock is moved.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ADELE, startInProcess, type TestServer } from '../kit/server.ts';
import { assertGraphError, bearer, moveClock } from '../kit/graph.ts';

const T0 = Date.parse('2026-11-28T08:00:00Z');

describe('--clock manual: the Date header and innerError.date follow the manual clock', () => {
  let s: TestServer;
  before(async () => { s = await startInProcess({ clock: 'manual' }, { manualStart: T0 }); });
  after(() => s.close());

  it('a success and an error, in process', async () => {
    const token = await s.userToken(ADELE);
    const ok = await s.inject({ url: '/v1.0/me/presence', headers: bearer(token) });
    assert.equal(ok.statusCode, 200);
    assert.equal(ok.headers.date, 'Sat, 28 Nov 2026 08:00:00 GMT');
    const err = await s.inject({ url: '/v1.0/users/not-a-guid/presence', headers: bearer(token) });
    const body = assertGraphError(err, 400, 'BadRequest');
    assert.equal(body.error.innerError.date, '2026-11-28T08:00:00');
    assert.equal(err.headers.date, 'Sat, 28 Nov 2026 08:00:00 GMT');
  });

  it('over a real socket (Node does not add its own Date), after the clock moved', async () => {
    await moveClock(s, { advance: 'PT90M' });
    const url = await s.listen();
    const res = await fetch(`${url}/v1.0/me/presence`);
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('date'), 'Sat, 28 Nov 2026 09:30:00 GMT');
    const body = await res.json() as { error: { innerError: { date: string } } };
    assert.equal(body.error.innerError.date, '2026-11-28T09:30:00');
    const info = await fetch(`${url}/_presently/info`);
    assert.equal(info.headers.get('date'), 'Sat, 28 Nov 2026 09:30:00 GMT');
  });
});

describe('--clock system: the Date header is the wall clock, as innerError.date', () => {
  it('within a second of now', async (t) => {
    const s = await startInProcess({ clock: 'system' });
    t.after(() => s.close());
    const before = Date.now();
    const res = await s.inject({ url: '/v1.0/me/presence' });
    const body = assertGraphError(res, 401, 'InvalidAuthenticationToken');
    const header = Date.parse(String(res.headers.date));
    assert.ok(Math.abs(header - before) < 2000, `${String(res.headers.date)} is now`);
    assert.ok(Math.abs(Date.parse(`${body.error.innerError.date}Z`) - header) <= 1000);
  });
});
