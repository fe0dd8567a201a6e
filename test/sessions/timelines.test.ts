/**
 * Presence sessions, preferred presence, status-message expiry and work location as whole timelines
 * (docs/api/sessions.md, docs/api/permissions.md), driven over HTTP with the manual clock (never a sleep).
 *
 * Every clock move is a `step`: it reads the sequenceNumber of the users it watches, moves the clock, checks how
 * many transitions the scheduler made (read before any GET, so they were not made by the read path), then reads
 * again and checks each user's presence and that its sequenceNumber moved exactly once — to exactly
 * `nextSequence(before, instant)`: a second bump at the same instant would give a different value — or not at all.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { nextSequence } from '../../src/domain/record.ts';
import { ADELE, ALEX, APP, MEGAN, TENANT, startInProcess, type TestServer } from '../kit/server.ts';
import {
  VERSIONS, addresses, assertBadProperty, assertBaseHeaders, assertGraphError, bearer, createUser, moveClock, postJson,
  readPresence, type PresenceJson, type Version,
} from '../kit/graph.ts';
import { forEachBackend } from '../kit/backends.ts';

forEachBackend(['memory', 'journal', 'redis'], (backend) => {
  const T = Date.parse('2026-11-28T08:00:00Z');
  const SEC = 1000;
  const MIN = 60 * SEC;
  const HOUR = 60 * MIN;
  const DAY = 24 * HOUR;

  /** Applications with their own sessions (any GUID may be an app in dev mode). */
  const TEAMS = '1fec8e78-bce4-4aaf-ab1b-5451cc387264';
  const ZOOM = '4d3b2a19-8f7e-4c6d-9b5a-1e2f3a4b5c6d';
  const BOT = '7a6b5c4d-3e2f-4a1b-9c8d-0e1f2a3b4c5d';
  const DIALER = 'b2c3d4e5-f6a7-4b8c-9d0e-1f2a3b4c5d6e';
  const READER = 'e5d4c3b2-a1f0-4e9d-8c7b-6a5f4e3d2c1b';

  const OUT_OF_RANGE = 'The provided [ExpirationDuration] is out of range.';
  const SESSION_PAIRS = ['Available/Available', 'Busy/InACall', 'Busy/InAConferenceCall', 'Away/Away', 'DoNotDisturb/Presenting'];
  const PREFERRED_PAIRS = ['Available/Available', 'Busy/Busy', 'DoNotDisturb/DoNotDisturb', 'BeRightBack/BeRightBack', 'Away/Away', 'Offline/OffWork'];

  const iso = (ms: number) => new Date(ms).toISOString();
  /** `T+5min`, `T+1d-1ms`: instants relative to the start, for assertion messages. */
  function label(ms: number): string {
    let d = ms - T;
    if (d === 0) return 'T';
    const parts: string[] = [];
    for (const [unit, size] of [['d', DAY], ['h', HOUR], ['min', MIN], ['s', SEC]] as const) {
      const n = Math.floor(d / size);
      if (n > 0) parts.push(`${n}${unit}`);
      d -= n * size;
    }
    if (d > 0) parts.push(`${d}ms`);
    return `T+${parts.join('')}`;
  }

  interface Seen {
    pair: string;
    seq: string;
    json: PresenceJson;
  }

  type Expect = [userId: string, pair: string, bumps: 0 | 1];

  /** One in-process Presently on the manual clock at T, and the moves of a timeline. */
  class Timeline {
    private readonly tokens = new Map<string, { token: string; at: number }>();

    private constructor(readonly s: TestServer) {}

    static async start(): Promise<Timeline> {
      return new Timeline(await startInProcess({ store: backend, clock: 'manual' }, { manualStart: T }));
    }

    close(): Promise<void> {
      return this.s.close();
    }

    now(): number {
      return this.s.presently.clock.now();
    }

    /** A token stamped with the current (manual) clock; re-minted once it is half an hour old. */
    private async token(key: string, mint: () => Promise<string>): Promise<string> {
      const cached = this.tokens.get(key);
      if (cached && this.now() - cached.at < 30 * MIN) return cached.token;
      const token = await mint();
      this.tokens.set(key, { token, at: this.now() });
      return token;
    }

    /** An application token for `appId` (default role Presence.ReadWrite.All). */
    app(appId: string, roles: string[] = ['Presence.ReadWrite.All']): Promise<string> {
      return this.token(`app:${appId}:${roles.join(' ')}`, () => this.s.appToken(roles, appId));
    }

    /** A delegated token of the dev app for `userId` (default scopes Presence.Read.All Presence.ReadWrite). */
    user(userId: string, scopes?: string[]): Promise<string> {
      return this.token(`user:${userId}:${scopes?.join(' ') ?? ''}`, () => this.s.userToken(userId, scopes));
    }

    /** POST `{presence}/{action}` at `/v1.0/users/{id}/presence` (or `path` given in full). `body` undefined: no body at all. */
    async post(path: string, token: string, body?: unknown): Promise<LightMyRequestResponse> {
      if (body === undefined) return this.s.inject({ method: 'POST', url: path, headers: bearer(token) });
      return postJson(this.s, path, token, body);
    }

    action(userId: string, action: string, token: string, body?: unknown, version: Version = 'v1.0'): Promise<LightMyRequestResponse> {
      return this.post(`/${version}/users/${userId}/presence/${action}`, token, body);
    }

    /** The action must answer 200 with an empty body. */
    async ok(userId: string, action: string, token: string, body?: unknown): Promise<void> {
      const res = await this.action(userId, action, token, body);
      assert.equal(res.statusCode, 200, `${action} at ${label(this.now())}: ${res.statusCode} ${res.body}`);
      assert.equal(res.body, '');
      assertBaseHeaders(res);
    }

    /** setPresence by `appId` for its own session. */
    async setPresence(userId: string, appId: string, pair: string, expirationDuration?: string): Promise<void> {
      const [availability, activity] = pair.split('/');
      await this.ok(userId, 'setPresence', await this.app(appId), {
        sessionId: appId, availability, activity, ...(expirationDuration ? { expirationDuration } : {}),
      });
    }

    async clearPresence(userId: string, appId: string): Promise<void> {
      await this.ok(userId, 'clearPresence', await this.app(appId), { sessionId: appId });
    }

    async prefer(userId: string, pair: string, expirationDuration?: string): Promise<void> {
      const [availability, activity] = pair.split('/');
      await this.ok(userId, 'setUserPreferredPresence', await this.app(BOT), {
        availability, activity, ...(expirationDuration ? { expirationDuration } : {}),
      });
    }

    /** The presence as a watcher (an app with Presence.Read.All) sees it. */
    async read(userId: string): Promise<Seen> {
      const json = await readPresence(this.s, `/v1.0/users/${userId}/presence`, await this.app(READER, ['Presence.Read.All']));
      assert.ok(json.sequenceNumber, 'sequenceNumber');
      return { pair: `${json.availability}/${json.activity}`, seq: json.sequenceNumber, json };
    }

    /** Reads, checks the pair, and returns what was read. */
    async expect(userId: string, pair: string): Promise<Seen> {
      const seen = await this.read(userId);
      assert.equal(seen.pair, pair, `${userId} at ${label(this.now())}`);
      return seen;
    }

    /**
     * A write (`fn`) and what it must do to `userId`'s presence: show `pair`, bumping sequenceNumber once (at the
     * current instant) or not at all.
     */
    async write(userId: string, pair: string, bumps: 0 | 1, fn: () => Promise<void>): Promise<Seen> {
      const before = await this.read(userId);
      await fn();
      const after = await this.expect(userId, pair);
      assert.equal(after.seq, bumps ? nextSequence(before.seq, this.now()) : before.seq,
        `sequenceNumber of ${userId} after a write at ${label(this.now())} (${before.pair} → ${after.pair}), expected ${bumps} bump(s)`);
      return after;
    }

    /** Moves the clock to `to` without checking anything. */
    async jump(to: number): Promise<void> {
      await moveClock(this.s, { now: iso(to) });
      assert.equal(this.now(), to);
    }

    /** Moves the clock to `to` and checks every expectation (see the file comment). */
    async step(to: number, ...expects: Expect[]): Promise<void> {
      const before = new Map<string, Seen>();
      for (const [userId] of expects) before.set(userId, await this.read(userId));
      const made = this.s.presently.scheduler.transitions;
      await this.jump(to);
      const byScheduler = this.s.presently.scheduler.transitions - made;
      for (const [userId, pair, bumps] of expects) {
        const b = before.get(userId)!;
        const a = await this.read(userId);
        assert.equal(a.pair, pair, `${userId} at ${label(to)}`);
        assert.equal(a.seq, bumps ? nextSequence(b.seq, to) : b.seq,
          `sequenceNumber of ${userId} at ${label(to)} (${b.pair} → ${a.pair}), expected ${bumps} bump(s)`);
      }
      const expected = expects.reduce((n, [, , bumps]) => n + bumps, 0);
      assert.equal(byScheduler, expected, `transitions made by the scheduler on the move to ${label(to)}, before any read`);
    }
  }

  /** Runs `fn` on a fresh timeline and closes it. */
  async function timeline(fn: (tl: Timeline) => Promise<void>): Promise<void> {
    const tl = await Timeline.start();
    try {
      await fn(tl);
    } finally {
      await tl.close();
    }
  }

  describe('sessions: fade, refresh and expiry', () => {
    it('a lone Available session: Available/AvailableInactive at +5 min (not 1 ms before), Away at +10 min, Offline at its expiry', () => timeline(async (tl) => {
      const first = await tl.expect(ADELE, 'PresenceUnknown/PresenceUnknown');
      assert.ok(/^C\d{20}$/.test(first.seq), first.seq);
      await tl.write(ADELE, 'Available/Available', 1, () => tl.setPresence(ADELE, TEAMS, 'Available/Available', 'PT1H'));

      await tl.step(T + 5 * MIN - 1, [ADELE, 'Available/Available', 0]);
      await tl.step(T + 5 * MIN, [ADELE, 'Available/AvailableInactive', 1]);
      await tl.step(T + 10 * MIN - 1, [ADELE, 'Available/AvailableInactive', 0]);
      await tl.step(T + 10 * MIN, [ADELE, 'Away/Away', 1]);
      await tl.step(T + HOUR - 1, [ADELE, 'Away/Away', 0]);
      // Gone: the user had a session, so Offline (not PresenceUnknown).
      await tl.step(T + HOUR, [ADELE, 'Offline/Offline', 1]);
      await tl.step(T + 3 * HOUR, [ADELE, 'Offline/Offline', 0], [ALEX, 'PresenceUnknown/PresenceUnknown', 0]);

      // The expired session is no longer there to clear.
      const res = await tl.action(ADELE, 'clearPresence', await tl.app(TEAMS), { sessionId: TEAMS });
      assertGraphError(res, 404, 'ResourceNotFound', new RegExp(TEAMS));
    }));

    it('refreshing (setPresence again) resets the fade and moves the expiry; a refresh that changes nothing visible keeps sequenceNumber', () => timeline(async (tl) => {
      await tl.write(ADELE, 'Available/Available', 1, () => tl.setPresence(ADELE, TEAMS, 'Available/Available', 'PT15M'));
      await tl.step(T + 4 * MIN, [ADELE, 'Available/Available', 0]);
      // Refresh at +4 min: fade now at +9 / +14 min, expiry at +19 min. Nothing visible changes.
      await tl.write(ADELE, 'Available/Available', 0, () => tl.setPresence(ADELE, TEAMS, 'Available/Available', 'PT15M'));
      await tl.step(T + 5 * MIN, [ADELE, 'Available/Available', 0]);
      await tl.step(T + 9 * MIN - 1, [ADELE, 'Available/Available', 0]);
      await tl.step(T + 9 * MIN, [ADELE, 'Available/AvailableInactive', 1]);
      await tl.step(T + 14 * MIN, [ADELE, 'Away/Away', 1]);
      await tl.step(T + 15 * MIN, [ADELE, 'Away/Away', 0]); // the first expiry passes: still live
      await tl.step(T + 19 * MIN - 1, [ADELE, 'Away/Away', 0]);
      await tl.step(T + 19 * MIN, [ADELE, 'Offline/Offline', 1]);

      // A refresh of a faded session brings it back to Available/Available at once (one bump).
      await tl.write(ADELE, 'Available/Available', 1, () => tl.setPresence(ADELE, TEAMS, 'Available/Available', 'PT30M'));
      await tl.step(T + 24 * MIN, [ADELE, 'Available/AvailableInactive', 1]);
      await tl.write(ADELE, 'Available/Available', 1, () => tl.setPresence(ADELE, TEAMS, 'Available/Available', 'PT30M'));
      await tl.step(T + 29 * MIN - 1, [ADELE, 'Available/Available', 0]);
      await tl.step(T + 29 * MIN, [ADELE, 'Available/AvailableInactive', 1]);
      await tl.step(T + 54 * MIN, [ADELE, 'Offline/Offline', 1]);
    }));

    it('a session changed to another pair by its app replaces it (one session per app)', () => timeline(async (tl) => {
      await tl.write(ADELE, 'Busy/InACall', 1, () => tl.setPresence(ADELE, TEAMS, 'Busy/InACall', 'PT1H'));
      await tl.write(ADELE, 'Available/Available', 1, () => tl.setPresence(ADELE, TEAMS, 'Available/Available', 'PT1H'));
      await tl.step(T + 5 * MIN, [ADELE, 'Available/AvailableInactive', 1]);
      await tl.write(ADELE, 'Busy/InAConferenceCall', 1, () => tl.setPresence(ADELE, TEAMS, 'Busy/InAConferenceCall', 'PT1H'));
      // Busy does not fade.
      await tl.step(T + 15 * MIN, [ADELE, 'Busy/InAConferenceCall', 0]);
      await tl.step(T + 65 * MIN, [ADELE, 'Offline/Offline', 1]);
    }));
  });

  describe('sessions: aggregation across apps', () => {
    it('DoNotDisturb/Presenting > Busy/InACall > Available > Away; when the strongest expires the next one shows', () => timeline(async (tl) => {
      await tl.write(ADELE, 'Available/Available', 1, () => tl.setPresence(ADELE, ZOOM, 'Available/Available', 'PT1H'));
      await tl.write(ADELE, 'Available/Available', 0, () => tl.setPresence(ADELE, BOT, 'Away/Away', 'PT2H'));
      await tl.write(ADELE, 'Busy/InACall', 1, () => tl.setPresence(ADELE, TEAMS, 'Busy/InACall', 'PT30M'));
      await tl.write(ADELE, 'DoNotDisturb/Presenting', 1, () => tl.setPresence(ADELE, DIALER, 'DoNotDisturb/Presenting', 'PT15M'));
      // Weaker sessions refreshed under a stronger one change nothing visible.
      await tl.write(ADELE, 'DoNotDisturb/Presenting', 0, () => tl.setPresence(ADELE, TEAMS, 'Busy/InACall', 'PT30M'));

      // ZOOM fades under DoNotDisturb and Busy: no visible change, no bump.
      await tl.step(T + 5 * MIN, [ADELE, 'DoNotDisturb/Presenting', 0]);
      await tl.step(T + 10 * MIN, [ADELE, 'DoNotDisturb/Presenting', 0]);
      await tl.step(T + 15 * MIN - 1, [ADELE, 'DoNotDisturb/Presenting', 0]);
      await tl.step(T + 15 * MIN, [ADELE, 'Busy/InACall', 1]);
      await tl.step(T + 25 * MIN, [ADELE, 'Busy/InACall', 0]);
      await tl.jump(T + 28 * MIN);
      // ZOOM refreshed under Busy: hidden until Busy ends.
      await tl.write(ADELE, 'Busy/InACall', 0, () => tl.setPresence(ADELE, ZOOM, 'Available/Available', 'PT1H'));
      await tl.step(T + 30 * MIN - 1, [ADELE, 'Busy/InACall', 0]);
      await tl.step(T + 30 * MIN, [ADELE, 'Available/Available', 1]);
      await tl.step(T + 33 * MIN, [ADELE, 'Available/AvailableInactive', 1]);
      await tl.step(T + 38 * MIN, [ADELE, 'Away/Away', 1]);
      // ZOOM (faded to Away) ends at +88 min; BOT's Away shows the same: no visible change.
      await tl.step(T + 88 * MIN, [ADELE, 'Away/Away', 0]);
      await tl.step(T + 2 * HOUR - 1, [ADELE, 'Away/Away', 0]);
      await tl.step(T + 2 * HOUR, [ADELE, 'Offline/Offline', 1]);
    }));

    it('a fresh Available session beats a faded one; an Available session beats an Away one set later', () => timeline(async (tl) => {
      await tl.write(ALEX, 'Away/Away', 1, () => tl.setPresence(ALEX, BOT, 'Away/Away', 'PT1H'));
      await tl.write(ALEX, 'Available/Available', 1, () => tl.setPresence(ALEX, ZOOM, 'Available/Available', 'PT1H'));
      await tl.write(ALEX, 'Available/Available', 0, () => tl.setPresence(ALEX, BOT, 'Away/Away', 'PT1H'));
      await tl.step(T + 6 * MIN, [ALEX, 'Available/AvailableInactive', 1]);
      await tl.write(ALEX, 'Available/Available', 1, () => tl.setPresence(ALEX, TEAMS, 'Available/Available', 'PT1H'));
      // ZOOM goes Away at +10 min, TEAMS (fresh) still shows.
      await tl.step(T + 10 * MIN, [ALEX, 'Available/Available', 0]);
      await tl.step(T + 11 * MIN, [ALEX, 'Available/AvailableInactive', 1]);
      await tl.step(T + 16 * MIN, [ALEX, 'Away/Away', 1]);
    }));

    it('clearPresence removes only the caller\'s session (the next strongest shows); a missing one is 404; another app\'s sessionId is 400', () => timeline(async (tl) => {
      await tl.write(MEGAN, 'Available/Available', 1, () => tl.setPresence(MEGAN, ZOOM, 'Available/Available', 'PT1H'));
      await tl.write(MEGAN, 'Busy/InACall', 1, () => tl.setPresence(MEGAN, TEAMS, 'Busy/InACall', 'PT1H'));

      // TEAMS may not clear ZOOM's session.
      assertBadProperty(await tl.action(MEGAN, 'clearPresence', await tl.app(TEAMS), { sessionId: ZOOM }), 'sessionId');
      assertBadProperty(await tl.action(MEGAN, 'clearPresence', await tl.app(TEAMS), {}), 'sessionId');
      await tl.expect(MEGAN, 'Busy/InACall');

      await tl.write(MEGAN, 'Available/Available', 1, () => tl.clearPresence(MEGAN, TEAMS));
      const again = await tl.action(MEGAN, 'clearPresence', await tl.app(TEAMS), { sessionId: TEAMS });
      assertGraphError(again, 404, 'ResourceNotFound', new RegExp(TEAMS));
      // The sessionId is matched case-insensitively.
      await tl.write(MEGAN, 'Offline/Offline', 1, async () => {
        const res = await tl.action(MEGAN, 'clearPresence', await tl.app(ZOOM), { sessionId: ZOOM.toUpperCase() });
        assert.equal(res.statusCode, 200, res.body);
      });
      // A session that never existed, on a user who never had one.
      assertGraphError(await tl.action(ALEX, 'clearPresence', await tl.app(DIALER), { sessionId: DIALER }), 404, 'ResourceNotFound');
      await tl.expect(ALEX, 'PresenceUnknown/PresenceUnknown');
      // Nothing left to fire.
      await tl.step(T + 2 * HOUR, [MEGAN, 'Offline/Offline', 0]);
    }));
  });

  describe('sessions: preferred presence', () => {
    it('overrides live sessions; with no live session the user is Offline/Offline; clearing restores the sessions', () => timeline(async (tl) => {
      const bot = await tl.app(BOT);
      await tl.write(ADELE, 'Available/Available', 1, () => tl.setPresence(ADELE, ZOOM, 'Available/Available', 'PT1H'));
      await tl.write(ADELE, 'DoNotDisturb/DoNotDisturb', 1, () => tl.prefer(ADELE, 'DoNotDisturb/DoNotDisturb'));
      await tl.write(ADELE, 'DoNotDisturb/DoNotDisturb', 0, () => tl.setPresence(ADELE, TEAMS, 'Busy/InACall', 'PT30M'));
      // Fades under the preference change nothing visible.
      await tl.step(T + 5 * MIN, [ADELE, 'DoNotDisturb/DoNotDisturb', 0]);

      await tl.write(ADELE, 'Busy/InACall', 1, () => tl.ok(ADELE, 'clearUserPreferredPresence', bot, {}));
      await tl.write(ADELE, 'Busy/InACall', 0, () => tl.ok(ADELE, 'clearUserPreferredPresence', bot)); // no body at all
      await tl.write(ADELE, 'Offline/OffWork', 1, () => tl.prefer(ADELE, 'Offline/OffWork'));

      // The sessions end; the preference still lasts, but with no live session the user is Offline/Offline.
      await tl.write(ADELE, 'Offline/OffWork', 0, () => tl.clearPresence(ADELE, TEAMS));
      await tl.write(ADELE, 'Offline/Offline', 1, () => tl.clearPresence(ADELE, ZOOM));
      // A new session: the preference shows again; when that session expires, Offline/Offline again.
      await tl.write(ADELE, 'Offline/OffWork', 1, () => tl.setPresence(ADELE, DIALER, 'DoNotDisturb/Presenting', 'PT10M'));
      await tl.step(T + 15 * MIN - 1, [ADELE, 'Offline/OffWork', 0]);
      await tl.step(T + 15 * MIN, [ADELE, 'Offline/Offline', 1]);

      // Cleared with Content-Type application/json and an empty body; the next session shows as it is.
      await tl.write(ADELE, 'Offline/Offline', 0, async () => {
        const res = await tl.s.inject({
          method: 'POST', url: `/v1.0/users/${ADELE}/presence/clearUserPreferredPresence`,
          headers: { ...bearer(bot), 'content-type': 'application/json' }, payload: '',
        });
        assert.equal(res.statusCode, 200, res.body);
      });
      await tl.write(ADELE, 'Available/Available', 1, () => tl.setPresence(ADELE, ZOOM, 'Available/Available', 'PT1H'));
    }));

    it('clearUserPreferredPresence is 200 with {} and with no body even when nothing was set, at every address; other bodies are 400', () => timeline(async (tl) => {
      const bot = await tl.app(BOT);
      const alex = await tl.user(ALEX);
      await tl.write(ALEX, 'PresenceUnknown/PresenceUnknown', 0, async () => {
        for (const version of VERSIONS) {
          for (const [name, path] of Object.entries(addresses(ALEX))) {
            const token = name === 'me' ? alex : bot;
            for (const body of [{}, undefined]) {
              const res = await tl.post(`/${version}${path}/clearUserPreferredPresence`, token, body);
              assert.equal(res.statusCode, 200, `${version} ${name} ${JSON.stringify(body)}: ${res.body}`);
              assert.equal(res.body, '');
            }
          }
        }
      });
      assertBadProperty(await tl.action(ALEX, 'clearUserPreferredPresence', bot, { availability: 'Available' }), 'availability');
      const notObject = await tl.action(ALEX, 'clearUserPreferredPresence', bot, []);
      assertGraphError(notObject, 400, 'BadRequest');
    }));

    it('defaults: Busy and DoNotDisturb last exactly 1 day, the other pairs exactly 7 days', () => timeline(async (tl) => {
      const users = new Map<string, string>();
      for (const [i, pair] of PREFERRED_PAIRS.entries()) {
        const id = await createUser(tl.s, TENANT, { displayName: `Prefers ${pair}`, userPrincipalName: `prefers${i}@contoso.example` });
        users.set(pair, id);
        await tl.setPresence(id, ZOOM, 'Busy/InACall', 'PT5M');
        await tl.write(id, pair, 1, () => tl.prefer(id, pair));
      }
      const oneDay = (pair: string) => pair.startsWith('Busy/') || pair.startsWith('DoNotDisturb/');
      const all = (fn: (pair: string) => [string, 0 | 1]): Expect[] =>
        [...users].map(([pair, id]) => [id, ...fn(pair)] as Expect);

      // Sessions last at most 4 h: check each preference through a session set just before its expiry instant.
      await tl.jump(T + DAY - MIN);
      for (const [pair, id] of users) {
        await tl.expect(id, 'Offline/Offline'); // preference still set, but no live session
        await tl.write(id, pair, 1, () => tl.setPresence(id, ZOOM, 'Busy/InACall', 'PT5M'));
      }
      await tl.step(T + DAY - 1, ...all((pair) => [pair, 0]));
      await tl.step(T + DAY, ...all((pair) => (oneDay(pair) ? ['Busy/InACall', 1] : [pair, 0])));

      await tl.jump(T + 7 * DAY - MIN);
      for (const [pair, id] of users) {
        await tl.write(id, oneDay(pair) ? 'Busy/InACall' : pair, 1, () => tl.setPresence(id, ZOOM, 'Busy/InACall', 'PT5M'));
      }
      await tl.step(T + 7 * DAY - 1, ...all((pair) => [oneDay(pair) ? 'Busy/InACall' : pair, 0]));
      await tl.step(T + 7 * DAY, ...all((pair) => ['Busy/InACall', oneDay(pair) ? 0 : 1]));
    }));

    it('an explicit expirationDuration (PT5M–P7D); a preference that ends while no session is live changes nothing visible', () => timeline(async (tl) => {
      await tl.setPresence(ALEX, ZOOM, 'Busy/InACall', 'PT4H');
      await tl.write(ALEX, 'Away/Away', 1, () => tl.prefer(ALEX, 'Away/Away', 'PT1H'));
      await tl.setPresence(MEGAN, TEAMS, 'Available/Available', 'PT5M');
      await tl.write(MEGAN, 'BeRightBack/BeRightBack', 1, () => tl.prefer(MEGAN, 'BeRightBack/BeRightBack', 'PT30M'));

      await tl.step(T + 5 * MIN, [ALEX, 'Away/Away', 0], [MEGAN, 'Offline/Offline', 1]);
      await tl.step(T + 30 * MIN, [ALEX, 'Away/Away', 0], [MEGAN, 'Offline/Offline', 0]);
      await tl.step(T + HOUR - 1, [ALEX, 'Away/Away', 0]);
      await tl.step(T + HOUR, [ALEX, 'Busy/InACall', 1], [MEGAN, 'Offline/Offline', 0]);
      // Megan's preference really ended at +30 min: a new session shows as it is.
      await tl.write(MEGAN, 'Available/Available', 1, () => tl.setPresence(MEGAN, TEAMS, 'Available/Available', 'PT5M'));

      const bot = await tl.app(BOT);
      for (const expirationDuration of ['PT5M', 'P7D', 'PT168H']) {
        const res = await tl.action(MEGAN, 'setUserPreferredPresence', bot, { availability: 'Busy', activity: 'Busy', expirationDuration });
        assert.equal(res.statusCode, 200, `${expirationDuration}: ${res.body}`);
      }
      const before = await tl.expect(MEGAN, 'Busy/Busy');
      for (const expirationDuration of ['PT4M', 'PT4M59.999S', 'P8D', 'P7DT0.001S', 'PT0S']) {
        const res = await tl.action(MEGAN, 'setUserPreferredPresence', bot, { availability: 'Away', activity: 'Away', expirationDuration });
        assertGraphError(res, 400, 'InvalidArgument', OUT_OF_RANGE);
      }
      assertBadProperty(await tl.action(MEGAN, 'setUserPreferredPresence', bot, { availability: 'Away', activity: 'Away', expirationDuration: 'a week' }), 'expirationDuration');
      assert.equal((await tl.expect(MEGAN, 'Busy/Busy')).seq, before.seq, 'refused requests change nothing');
    }));
  });

  describe('sessions: input rules', () => {
    it('expirationDuration: PT5M–PT4H, default PT5M; out of range is 400 InvalidArgument; a bad ISO duration is 400; nothing is stored', () => timeline(async (tl) => {
      const teams = await tl.app(TEAMS);
      const first = await tl.expect(ADELE, 'PresenceUnknown/PresenceUnknown');
      const busy = (expirationDuration: unknown) => ({ sessionId: TEAMS, availability: 'Busy', activity: 'InACall', expirationDuration });

      for (const d of ['PT4M', 'PT4M59.999S', 'PT5H', 'PT4H0.001S', 'P1D', 'PT0S', 'P1W']) {
        assertGraphError(await tl.action(ADELE, 'setPresence', teams, busy(d)), 400, 'InvalidArgument', OUT_OF_RANGE);
      }
      for (const d of ['one hour', 'PT', '1H', 'PT1H PT1H', '', 3600, true, { hours: 1 }]) {
        assertBadProperty(await tl.action(ADELE, 'setPresence', teams, busy(d)), 'expirationDuration');
      }
      assert.equal((await tl.expect(ADELE, 'PresenceUnknown/PresenceUnknown')).seq, first.seq, 'refused requests change nothing');

      // The bounds are accepted; absent (or null) means PT5M.
      await tl.write(ADELE, 'Busy/InACall', 1, () => tl.setPresence(ADELE, TEAMS, 'Busy/InACall', 'PT4H'));
      await tl.write(ADELE, 'Busy/InACall', 0, () => tl.setPresence(ADELE, BOT, 'Away/Away', 'PT240M'));
      await tl.write(ADELE, 'Busy/InACall', 0, () => tl.setPresence(ADELE, ZOOM, 'Available/Available', 'PT5M'));
      await tl.write(ADELE, 'DoNotDisturb/Presenting', 1, () => tl.setPresence(ADELE, DIALER, 'DoNotDisturb/Presenting'));
      await tl.ok(ALEX, 'setPresence', teams, busy(null));
      await tl.step(T + 5 * MIN - 1, [ADELE, 'DoNotDisturb/Presenting', 0], [ALEX, 'Busy/InACall', 0]);
      await tl.step(T + 5 * MIN, [ADELE, 'Busy/InACall', 1], [ALEX, 'Offline/Offline', 1]);
      await tl.step(T + 4 * HOUR - 1, [ADELE, 'Busy/InACall', 0]);
      // Two sessions end at the same instant: one transition.
      await tl.step(T + 4 * HOUR, [ADELE, 'Offline/Offline', 1]);
    }));

    it('pairs: a pair that is not allowed is 400 listing the allowed pairs; values are matched case-insensitively', () => timeline(async (tl) => {
      const teams = await tl.app(TEAMS);
      for (const [availability, activity] of [['Available', 'Busy'], ['Busy', 'Busy'], ['DoNotDisturb', 'DoNotDisturb'], ['Offline', 'Offline'], ['BeRightBack', 'BeRightBack'], ['Away', 'Available'], ['Busy', 'InAMeeting']]) {
        const res = await tl.action(ADELE, 'setPresence', teams, { sessionId: TEAMS, availability, activity });
        const body = assertGraphError(res, 400, 'BadRequest');
        for (const pair of SESSION_PAIRS) assert.ok(body.error.message.includes(pair), `setPresence ${availability}/${activity}: '${body.error.message}' lists ${pair}`);
      }
      for (const [availability, activity] of [['Busy', 'InACall'], ['DoNotDisturb', 'Presenting'], ['Offline', 'Offline'], ['Available', 'Busy']]) {
        const res = await tl.action(ADELE, 'setUserPreferredPresence', teams, { availability, activity });
        const body = assertGraphError(res, 400, 'BadRequest');
        for (const pair of PREFERRED_PAIRS) assert.ok(body.error.message.includes(pair), `setUserPreferredPresence ${availability}/${activity}: '${body.error.message}' lists ${pair}`);
      }
      assertBadProperty(await tl.action(ADELE, 'setPresence', teams, { sessionId: TEAMS, availability: 'Sleeping', activity: 'Away' }), 'availability');
      assertBadProperty(await tl.action(ADELE, 'setPresence', teams, { sessionId: TEAMS, availability: 'Away' }), 'activity');
      assertBadProperty(await tl.action(ADELE, 'setPresence', teams, { sessionId: TEAMS, availability: 'Away', activity: 'Away', mood: 'fine' }), 'mood');
      assertBadProperty(await tl.action(ADELE, 'setPresence', teams, { availability: 'Away', activity: 'Away' }), 'sessionId');
      assertBadProperty(await tl.action(ADELE, 'setPresence', teams, { sessionId: 'teams', availability: 'Away', activity: 'Away' }), 'sessionId');
      await tl.expect(ADELE, 'PresenceUnknown/PresenceUnknown');

      await tl.write(ADELE, 'Busy/InAConferenceCall', 1, async () => {
        await tl.ok(ADELE, 'setPresence', teams, { sessionId: TEAMS.toUpperCase(), availability: 'busy', activity: 'INACONFERENCECALL' });
      });
      await tl.write(ADELE, 'BeRightBack/BeRightBack', 1, async () => {
        await tl.ok(ADELE, 'setUserPreferredPresence', teams, { availability: 'berightback', activity: 'BeRightBack' });
      });
      // Action names match case-insensitively too.
      await tl.write(ADELE, 'Busy/InAConferenceCall', 1, async () => {
        await tl.ok(ADELE, 'CLEARUSERPREFERREDPRESENCE', teams, {});
      });
      await tl.write(ADELE, 'Offline/Offline', 1, async () => {
        await tl.ok(ADELE, 'clearpresence', teams, { sessionId: TEAMS });
      });
    }));

    it('who may: a delegated token sets its own sessions (sessionId = the dev app); not another user\'s (403); an app needs Presence.ReadWrite.All (403)', () => timeline(async (tl) => {
      const adele = await tl.user(ADELE);
      assert.equal(APP, '22553876-f5ab-4529-bffb-cfe50aa89f87');
      const own = { sessionId: APP, availability: 'Available', activity: 'Available', expirationDuration: 'PT1H' };

      await tl.write(ADELE, 'Available/Available', 1, async () => {
        const res = await tl.post('/v1.0/me/presence/setPresence', adele, own);
        assert.equal(res.statusCode, 200, res.body);
      });
      await tl.write(ADELE, 'Busy/InACall', 1, async () => {
        const res = await tl.post(`/beta/users/${ADELE}/presence/setPresence`, adele, { ...own, availability: 'Busy', activity: 'InACall' });
        assert.equal(res.statusCode, 200, res.body);
      });
      await tl.write(ADELE, 'DoNotDisturb/DoNotDisturb', 1, async () => {
        const res = await tl.post('/v1.0/me/presence/setUserPreferredPresence', adele, { availability: 'DoNotDisturb', activity: 'DoNotDisturb' });
        assert.equal(res.statusCode, 200, res.body);
      });
      await tl.write(ADELE, 'Busy/InACall', 1, async () => {
        const res = await tl.post(`/v1.0/communications/presences/${ADELE}/clearUserPreferredPresence`, adele);
        assert.equal(res.statusCode, 200, res.body);
      });
      // The delegated caller's app is the dev app: another sessionId is 400.
      assertBadProperty(await tl.post('/v1.0/me/presence/setPresence', adele, { ...own, sessionId: TEAMS }), 'sessionId');

      // Another user's presence: 403 for every session action, nothing changes.
      const alexBefore = await tl.expect(ALEX, 'PresenceUnknown/PresenceUnknown');
      for (const [action, body] of [
        ['setPresence', own], ['clearPresence', { sessionId: APP }],
        ['setUserPreferredPresence', { availability: 'Away', activity: 'Away' }], ['clearUserPreferredPresence', {}],
      ] as const) {
        for (const path of [`/v1.0/users/${ALEX}/presence`, `/beta/communications/presences/${ALEX}`]) {
          assertGraphError(await tl.post(`${path}/${action}`, adele, body), 403, 'Forbidden', /Cannot set the presence of another user/);
        }
      }
      assert.equal((await tl.read(ALEX)).seq, alexBefore.seq);

      // Read-only scopes: 403.
      const readOnly = await tl.user(ADELE, ['Presence.Read', 'Presence.Read.All']);
      assertGraphError(await tl.post('/v1.0/me/presence/setPresence', readOnly, own), 403, 'Forbidden');

      // An application with only Presence.Read.All: 403 for every session action.
      const reader = await tl.app(READER, ['Presence.Read.All']);
      for (const [action, body] of [
        ['setPresence', { sessionId: READER, availability: 'Away', activity: 'Away' }], ['clearPresence', { sessionId: READER }],
        ['setUserPreferredPresence', { availability: 'Away', activity: 'Away' }], ['clearUserPreferredPresence', {}],
      ] as const) {
        assertGraphError(await tl.action(ALEX, action, reader, body), 403, 'Forbidden');
      }
      // An app token has no /me: 400. No token: 401. A user the tenant does not have: 404.
      const teams = await tl.app(TEAMS);
      assertGraphError(await tl.post('/v1.0/me/presence/setPresence', teams, { ...own, sessionId: TEAMS }), 400, 'BadRequest');
      assertGraphError(await tl.s.inject({ method: 'POST', url: `/v1.0/users/${ALEX}/presence/setPresence`, payload: own }), 401, 'InvalidAuthenticationToken');
      assertGraphError(
        await tl.action('0d1c5b4e-2f7a-4c3b-9e8d-7a6b5c4d3e2f', 'setPresence', teams, { ...own, sessionId: TEAMS }), 404, 'ResourceNotFound',
      );
      assert.equal((await tl.read(ALEX)).seq, alexBefore.seq);

      // Adele's own session by the dev app, cleared by her.
      await tl.write(ADELE, 'Offline/Offline', 1, async () => {
        const res = await tl.post('/v1.0/me/presence/clearPresence', adele, { sessionId: APP });
        assert.equal(res.statusCode, 200, res.body);
      });
    }));
  });

  describe('sessions and status messages in one timeline', () => {
    it('a status message expires at its instant; a fade and an expiry at the same instant are one transition', () => timeline(async (tl) => {
      const adele = await tl.user(ADELE);
      const setMessage = async (content: string, dateTime: string, timeZone: string) => {
        const res = await tl.post('/v1.0/me/presence/setStatusMessage', adele, {
          statusMessage: { message: { content, contentType: 'text' }, expiryDateTime: { dateTime, timeZone } },
        });
        assert.equal(res.statusCode, 200, res.body);
      };
      const message = async () => (await tl.read(ADELE)).json.statusMessage?.message.content ?? null;

      await tl.write(ADELE, 'Available/Available', 1, () => tl.setPresence(ADELE, ZOOM, 'Available/Available', 'PT1H'));
      // 00:05 in Pacific Standard Time (UTC-8 in November) is T+5 min: the same instant as the fade.
      await tl.write(ADELE, 'Available/Available', 1, () => setMessage('In a meeting', '2026-11-28T00:05:00', 'Pacific Standard Time'));
      await tl.step(T + 5 * MIN - 1, [ADELE, 'Available/Available', 0]);
      assert.equal(await message(), 'In a meeting');
      await tl.step(T + 5 * MIN, [ADELE, 'Available/AvailableInactive', 1]);
      assert.equal(await message(), null);

      await tl.jump(T + 6 * MIN);
      await tl.write(ADELE, 'Available/AvailableInactive', 1, () => setMessage('Back at half past', '2026-11-28T08:07:30', 'UTC'));
      await tl.step(T + 7 * MIN + 30 * SEC - 1, [ADELE, 'Available/AvailableInactive', 0]);
      assert.equal(await message(), 'Back at half past');
      await tl.step(T + 7 * MIN + 30 * SEC, [ADELE, 'Available/AvailableInactive', 1]);
      assert.equal(await message(), null);
      await tl.step(T + 10 * MIN, [ADELE, 'Away/Away', 1]);

      // A message that outlives the session: the session ends first, then the message.
      await tl.write(ADELE, 'Away/Away', 1, () => setMessage('Until ten', '2026-11-28T10:00:00', 'UTC'));
      await tl.step(T + HOUR, [ADELE, 'Offline/Offline', 1]);
      assert.equal(await message(), 'Until ten');
      await tl.step(T + HOUR + 30 * MIN, [ADELE, 'Offline/Offline', 0]);
      await tl.step(T + HOUR + HOUR - 1, [ADELE, 'Offline/Offline', 0]);
      await tl.step(T + 2 * HOUR, [ADELE, 'Offline/Offline', 1]);
      assert.equal(await message(), null);
    }));
  });

  describe('work location', () => {
    const PLACE = '2b3c4d5e-6f70-4812-9a3b-4c5d6e7f8091';
    const NONE = { workLocationType: 'unspecified', source: 'none', placeId: null };

    it('manual > automatic; clearAutomaticLocation clears only automatic, clearLocation both; at all three addresses, v1.0 and beta', () => timeline(async (tl) => {
      const adele = await tl.user(ADELE);
      for (const version of VERSIONS) {
        for (const [name, path] of Object.entries(addresses(ADELE))) {
          const where = `${version} ${name}`;
          let seq = (await readPresence(tl.s, `/${version}${path}`, adele)).sequenceNumber!;
          /** Runs the action and checks the work location it leaves, and whether sequenceNumber moved (once). */
          const act = async (action: string, body: unknown, expected: PresenceJson['workLocation'], visible: boolean) => {
            const res = await tl.post(`/${version}${path}/${action}`, adele, body);
            assert.equal(res.statusCode, 200, `${where} ${action}: ${res.body}`);
            assert.equal(res.body, '');
            const p = await readPresence(tl.s, `/${version}${path}`, adele);
            assert.deepEqual(p.workLocation, expected, `${where} after ${action} ${JSON.stringify(body)}`);
            assert.equal(p.sequenceNumber, visible ? nextSequence(seq, tl.now()) : seq, `${where} sequenceNumber after ${action}`);
            seq = p.sequenceNumber!;
          };
          const first = (await readPresence(tl.s, `/${version}${path}`, adele)).workLocation;
          await act('clearLocation', undefined, NONE, first.source !== 'none');
          await act('setAutomaticLocation', { workLocationType: 'remote' }, { workLocationType: 'remote', source: 'automatic', placeId: null }, true);
          await act('setManualLocation', { workLocationType: 'office', placeId: PLACE }, { workLocationType: 'office', source: 'manual', placeId: PLACE }, true);
          // Under a manual location, automatic changes are not visible.
          await act('setAutomaticLocation', { workLocationType: 'timeOff' }, { workLocationType: 'office', source: 'manual', placeId: PLACE }, false);
          await act('clearAutomaticLocation', undefined, { workLocationType: 'office', source: 'manual', placeId: PLACE }, false);
          await act('setAutomaticLocation', { workLocationType: 'TIMEOFF', placeId: '' }, { workLocationType: 'office', source: 'manual', placeId: PLACE }, false);
          await act('setManualLocation', { workLocationType: 'Remote' }, { workLocationType: 'remote', source: 'manual', placeId: null }, true);
          await act('clearLocation', {}, NONE, true);
          await act('setAutomaticLocation', { workLocationType: 'timeOff', placeId: '' }, { workLocationType: 'timeOff', source: 'automatic', placeId: null }, true);
          await act('setManualLocation', { workLocationType: 'office' }, { workLocationType: 'office', source: 'manual', placeId: null }, true);
          await act('clearAutomaticLocation', {}, { workLocationType: 'office', source: 'manual', placeId: null }, false);
          await act('clearLocation', undefined, NONE, true);
          await act('setAutomaticLocation', { workLocationType: 'office' }, { workLocationType: 'office', source: 'automatic', placeId: null }, true);
          await act('clearAutomaticLocation', undefined, NONE, true);
        }
      }
      // Work location is not availability: the presence itself did not change.
      await tl.expect(ADELE, 'PresenceUnknown/PresenceUnknown');
    }));

    it('an app token is 403 (400 at /me), another user is 403, a bad workLocationType is 400; at all three addresses and both versions; nothing is stored', () => timeline(async (tl) => {
      const adele = await tl.user(ADELE);
      const alex = await tl.user(ALEX);
      const app = await tl.app(TEAMS);
      const ok = await tl.post(`/v1.0/me/presence/setManualLocation`, adele, { workLocationType: 'office', placeId: PLACE });
      assert.equal(ok.statusCode, 200, ok.body);
      const before = await readPresence(tl.s, '/v1.0/me/presence', adele);

      const writes: Array<[string, unknown]> = [
        ['setManualLocation', { workLocationType: 'remote' }], ['setAutomaticLocation', { workLocationType: 'remote' }],
        ['clearAutomaticLocation', undefined], ['clearLocation', undefined],
      ];
      for (const version of VERSIONS) {
        for (const [name, path] of Object.entries(addresses(ADELE))) {
          const url = (action: string) => `/${version}${path}/${action}`;
          for (const [action, body] of writes) {
            const byApp = await tl.post(url(action), app, body);
            if (name === 'me') assertGraphError(byApp, 400, 'BadRequest', /delegated/);
            else assertGraphError(byApp, 403, 'Forbidden');
            if (name !== 'me') assertGraphError(await tl.post(url(action), alex, body), 403, 'Forbidden');
          }
          for (const action of ['setManualLocation', 'setAutomaticLocation']) {
            for (const workLocationType of ['home', 'unknown', 'unspecified', '', 'office ']) {
              assertBadProperty(await tl.post(url(action), adele, { workLocationType }), 'workLocationType');
            }
            assertBadProperty(await tl.post(url(action), adele, {}), 'workLocationType');
            assertBadProperty(await tl.post(url(action), adele, undefined), 'workLocationType');
            assertBadProperty(await tl.post(url(action), adele, { workLocationType: 1 }), 'workLocationType');
            assertBadProperty(await tl.post(url(action), adele, { workLocationType: 'office', placeId: 7 }), 'placeId');
            assertBadProperty(await tl.post(url(action), adele, { workLocationType: 'office', building: 'B1' }), 'building');
          }
          assertBadProperty(await tl.post(url('clearLocation'), adele, { workLocationType: 'office' }), 'workLocationType');
        }
      }
      const after = await readPresence(tl.s, '/v1.0/me/presence', adele);
      assert.deepEqual(after.workLocation, { workLocationType: 'office', source: 'manual', placeId: PLACE });
      assert.equal(after.sequenceNumber, before.sequenceNumber);
    }));
  });
});
