/**
 * The dashboard's pure pieces (ui/src), in Node: the event-stream parser, reconnect back-off, the virtualised grid's
 * arithmetic, timeline sentences, durations, curl quoting, routes and the board's filter.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SseParser } from '../../ui/src/live/sse.ts';
import { BACKOFF_CAP_MS, backoffMs } from '../../ui/src/live/stream.ts';
import { gridWindow, moveFocus, scrollToShow } from '../../ui/src/board/gridMath.ts';
import { describeCause, describeChanged } from '../../ui/src/timeline/describe.ts';
import { formatDuration, formatRelative, shortId } from '../../ui/src/lib/format.ts';
import { curlCommand, shellQuote, tokenCommand } from '../../ui/src/controls/curl.ts';
import { href, parseRoute, type Route } from '../../ui/src/lib/hashRoute.ts';
import { applyFilter, countByFilter } from '../../ui/src/board/filter.ts';
import type { UserCard } from '../../ui/src/api/types.ts';

describe('dashboard: the event-stream parser', () => {
  const all = (chunks: string[]) => {
    const parser = new SseParser();
    return chunks.flatMap((c) => parser.push(c));
  };

  it('parses events cut anywhere, CRLF split across chunks included', () => {
    const text = 'id: 1\r\nevent: presence\r\ndata: {"a":1}\r\n\r\n: ping\r\n\r\nid: 2\nevent: clock\ndata: {"b":\ndata: 2}\n\n';
    const whole = all([text]);
    assert.deepEqual(whole, [
      { type: 'presence', data: '{"a":1}', id: '1' },
      { type: 'clock', data: '{"b":\n2}', id: '2' },
    ]);
    for (let cut = 1; cut < text.length; cut++) assert.deepEqual(all([text.slice(0, cut), text.slice(cut)]), whole, `cut at ${cut}`);
    assert.deepEqual(all([...text]), whole, 'one character at a time');
  });

  it('keeps the last id for events without one, skips comments and events without data, reads retry', () => {
    const parser = new SseParser('7');
    assert.deepEqual(parser.push('event: resync\n\n'), [], 'no data: not dispatched');
    assert.deepEqual(parser.push('data: {}\n\n'), [{ type: 'message', data: '{}', id: '7' }]);
    parser.push('retry: 2500\n: comment\n');
    assert.equal(parser.retryMs, 2500);
    assert.equal(parser.lastEventId, '7');
  });

  it('backs off exponentially, with jitter, up to 30 s', () => {
    assert.equal(backoffMs(0, () => 0.5), 500);
    assert.equal(backoffMs(3, () => 0.5), 4000);
    assert.equal(backoffMs(30, () => 0.5), BACKOFF_CAP_MS);
    assert.equal(backoffMs(1, () => 0), 800);
    assert.equal(backoffMs(1, () => 1), 1200);
  });
});

describe('dashboard: the virtualised grid', () => {
  const g = { width: 1000, minItemWidth: 280, itemHeight: 200, gap: 10 };

  it('draws only the rows in view, plus two above and below', () => {
    const w = gridWindow(g, 10_000, 21_000, 800);
    assert.equal(w.columns, 3);
    assert.equal(w.rows, 3334);
    assert.equal(w.totalHeight, 3334 * 210 - 10);
    assert.deepEqual([w.start, w.end], [98 * 3, 106 * 3]);
    assert.equal(w.offsetY, 98 * 210);
    assert.deepEqual(gridWindow(g, 0, 0, 800), { columns: 3, rows: 0, totalHeight: 0, start: 0, end: 0, offsetY: 0 });
    assert.equal(gridWindow({ ...g, width: 100 }, 5, 0, 800).columns, 1, 'at least one column');
  });

  it('moves focus by key within the grid, and scrolls the focused item into view', () => {
    assert.equal(moveFocus('ArrowDown', 1, 10, 3, 4), 4);
    assert.equal(moveFocus('ArrowUp', 1, 10, 3, 4), 0);
    assert.equal(moveFocus('PageDown', 0, 100, 3, 4), 12);
    assert.equal(moveFocus('End', 0, 10, 3, 4), 9);
    assert.equal(moveFocus('ArrowRight', 9, 10, 3, 4), 9);
    assert.equal(moveFocus('a', 0, 10, 3, 4), null);
    assert.equal(scrollToShow(g, 30, 0, 800), 10 * 210 + 200 - 800);
    assert.equal(scrollToShow(g, 0, 500, 800), 0);
    assert.equal(scrollToShow(g, 6, 300, 800), 300, 'already in view');
  });
});

describe('dashboard: words', () => {
  it('says why a presence changed', () => {
    const names = (id: string) => (id === 'u1' ? 'Adele Vance' : undefined);
    assert.equal(describeCause({ kind: 'timed', reasons: ['statusMessageExpired'] }), 'Status message expired');
    assert.equal(describeCause({ kind: 'timed', reasons: ['sessionFaded', 'outOfOfficeStarted'] }),
      'A presence session faded (no setPresence for 5 minutes); Out-of-office window opened');
    assert.equal(describeCause({ kind: 'api', action: 'setPresence', appId: '1a2b3c4d-0000-0000-0000-000000000000', userId: null }), 'setPresence by app 1a2b…');
    assert.equal(describeCause({ kind: 'api', action: 'setStatusMessage', appId: '22553876-f5ab', userId: 'u1' }, names), 'setStatusMessage by Adele Vance (app 2255…)');
    assert.equal(describeCause({ kind: 'timed', reasons: ['somethingNew'] }), 'Something new');
    assert.equal(describeCause({ kind: 'admin', action: 'reset' }), 'State reset to the seed (admin API)');
    assert.deepEqual(describeChanged(['availability', 'statusMessage', 'outOfOffice', 'newThing']), ['availability', 'status message', 'out of office', 'new thing']);
  });

  it('writes durations in their two largest units', () => {
    assert.equal(formatDuration(0), '0 s');
    assert.equal(formatDuration(12_900), '12 s');
    assert.equal(formatDuration(4 * 60_000 + 12_000), '4 min 12 s');
    assert.equal(formatDuration(3_600_000), '1 h');
    assert.equal(formatDuration(2 * 86_400_000 + 3 * 3_600_000 + 5 * 60_000), '2 d 3 h');
    assert.equal(formatRelative(5_000, 0), 'in 5 s');
    assert.equal(formatRelative(0, 65_000), '1 min 5 s ago');
    assert.equal(formatRelative(400, 0), 'in < 1 s');
    assert.equal(formatRelative(0, 400), 'now');
    assert.equal(formatRelative(0, 0), 'now');
    assert.equal(shortId('1a2b3c4d-0000'), '1a2b…');
  });

  it('quotes curl commands for a POSIX shell', () => {
    assert.equal(shellQuote('http://127.0.0.1:8080/v1.0/me'), 'http://127.0.0.1:8080/v1.0/me');
    assert.equal(shellQuote(`{"content":"I'm out"}`), `'{"content":"I'\\''m out"}'`);
    assert.equal(curlCommand({ method: 'POST', url: 'http://h/x', token: '$TOKEN', body: { a: 1 } }),
      `curl -s -X POST http://h/x \\\n  -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \\\n  -d '{"a":1}'`);
    assert.match(tokenCommand('http://h', { userId: 'u' }), /^TOKEN=\$\(curl -s -X POST http:\/\/h\/_presently\/tokens [\s\S]* \| jq -r \.access_token\)$/);
  });
});

describe('dashboard: routes and the board filter', () => {
  it('reads and writes every route', () => {
    const routes: Route[] = [
      { name: 'board' }, { name: 'user', userId: 'fa8bf3dc' }, { name: 'notifications', subscription: 's1', user: null },
      { name: 'notifications', subscription: null, user: null }, { name: 'controls', user: 'u 1' },
    ];
    for (const r of routes) assert.deepEqual(parseRoute(href(r)), r);
    assert.deepEqual(parseRoute(''), { name: 'board' });
    assert.deepEqual(parseRoute('#/nowhere'), { name: 'board' });
  });

  const user = (displayName: string, availability: string, ooo = false): UserCard => ({
    id: displayName.toLowerCase().replace(/ /g, '-'), displayName, userPrincipalName: `${displayName.split(' ')[0]}@contoso.example`,
    presence: {
      id: '', availability, activity: availability, statusMessage: null, outOfOfficeSettings: { message: null, isOutOfOffice: ooo },
      workLocation: { workLocationType: 'unspecified', source: 'none', placeId: null }, sequenceNumber: null,
    },
    statusMessageExpiresAt: null, outOfOffice: null, sessions: [], preferred: null,
  });
  const users = [user('Adele Vance', 'Available'), user('Alex Wilber', 'Busy', true), user('Megan Bowen', 'BeRightBack')];

  it('searches names and UPNs, and filters by availability (any of the chips)', () => {
    assert.equal(applyFilter(users, { query: '', availability: [] }), users, 'no filter: the same list');
    assert.deepEqual(applyFilter(users, { query: 'MEGAN@', availability: [] }).map((u) => u.displayName), ['Megan Bowen']);
    assert.deepEqual(applyFilter(users, { query: '', availability: ['available', 'away'] }).map((u) => u.displayName), ['Adele Vance', 'Megan Bowen']);
    assert.deepEqual(applyFilter(users, { query: 'a', availability: ['ooo'] }).map((u) => u.displayName), ['Alex Wilber']);
    assert.deepEqual(countByFilter(users, ''), { available: 1, busy: 1, dnd: 0, away: 1, offline: 0, unknown: 0, ooo: 1 });
  });
});
