/**
 * Out of office through mailboxSettings (docs/api/out-of-office.md): parsing, merging, defaults, and how the facts show in
 * the presence view at exact instants (DST-correct schedule instants).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidInput } from '../../src/platform/json/errors.ts';
import {
  mailboxSettingsOf, mergeOutOfOffice, parseAutomaticRepliesPatch, parseMailboxSettingsPatch, patchMailboxSettings,
  type MailboxSettingsPatch,
} from '../../src/domain/outOfOffice.ts';
import type { OutOfOfficeFact } from '../../src/domain/types.ts';
import { isOutOfOffice, nextChange, view } from '../../src/domain/view.ts';
import { HOUR, at, facts, oofAlways, session } from './fixtures.ts';

const PST_START = { dateTime: '2026-10-31T18:00:00', timeZone: 'Pacific Standard Time' };
const PST_END = { dateTime: '2026-11-01T09:00:00', timeZone: 'Pacific Standard Time' };
/** By hand: 18:00 PDT (UTC-7) on Oct 31 and 09:00 PST (UTC-8) on Nov 1, after the 02:00 fall-back. */
const START_AT = at('2026-11-01T01:00:00.000Z');
const END_AT = at('2026-11-01T17:00:00.000Z');

function refused(fn: () => unknown, property: string | undefined): InvalidInput {
  let caught: unknown;
  assert.throws(fn, (e: unknown) => {
    caught = e;
    return true;
  });
  assert.ok(caught instanceof InvalidInput, `expected InvalidInput, got ${String(caught)}`);
  assert.equal(caught.property, property);
  if (property) assert.ok(caught.message.includes(`'${property}'`), `message should name '${property}': ${caught.message}`);
  return caught;
}

const merge = (current: OutOfOfficeFact | null, body: unknown) => mergeOutOfOffice(current, parseMailboxSettingsPatch(body));
const replies = (r: Record<string, unknown>) => ({ automaticRepliesSetting: r });

describe('mailboxSettingsOf: defaults', () => {
  it('never set: disabled, audience all, empty messages, no schedule, UTC', () => {
    assert.deepEqual(mailboxSettingsOf(null), {
      automaticRepliesSetting: {
        status: 'disabled', externalAudience: 'all', scheduledStartDateTime: null, scheduledEndDateTime: null,
        internalReplyMessage: '', externalReplyMessage: '',
      },
      timeZone: 'UTC',
    });
  });

  it('a fact written before the mailbox extras existed reads with their defaults', () => {
    const s = mailboxSettingsOf(oofAlways('Back Monday'));
    assert.equal(s.automaticRepliesSetting.status, 'alwaysEnabled');
    assert.equal(s.automaticRepliesSetting.internalReplyMessage, 'Back Monday');
    assert.equal(s.automaticRepliesSetting.externalAudience, 'all');
    assert.equal(s.automaticRepliesSetting.externalReplyMessage, '');
    assert.equal(s.timeZone, 'UTC');
  });
});

describe('parseMailboxSettingsPatch', () => {
  it('status and externalAudience are case-insensitive enums, returned canonically', () => {
    const p = parseMailboxSettingsPatch(replies({ status: 'ALWAYSENABLED', externalAudience: 'contactsonly' }));
    assert.equal(p.automaticRepliesSetting?.status, 'alwaysEnabled');
    assert.equal(p.automaticRepliesSetting?.externalAudience, 'contactsOnly');
  });

  it('a schedule is normalised to 7 digits, zone kept as sent, instants DST-correct (Windows and IANA agree)', () => {
    const p = parseMailboxSettingsPatch(replies({ scheduledStartDateTime: PST_START, scheduledEndDateTime: PST_END }));
    assert.deepEqual(p.automaticRepliesSetting?.scheduledStart, { value: { dateTime: '2026-10-31T18:00:00.0000000', timeZone: 'Pacific Standard Time' }, at: START_AT });
    assert.deepEqual(p.automaticRepliesSetting?.scheduledEnd, { value: { dateTime: '2026-11-01T09:00:00.0000000', timeZone: 'Pacific Standard Time' }, at: END_AT });
    const iana = parseMailboxSettingsPatch(replies({
      scheduledStartDateTime: { ...PST_START, timeZone: 'America/Los_Angeles' },
      scheduledEndDateTime: { ...PST_END, timeZone: 'America/Los_Angeles' },
    }));
    assert.equal(iana.automaticRepliesSetting?.scheduledStart?.at, START_AT);
    assert.equal(iana.automaticRepliesSetting?.scheduledEnd?.at, END_AT);
  });

  it('fractions round the instant up to the millisecond', () => {
    const p = parseMailboxSettingsPatch(replies({ scheduledStartDateTime: { dateTime: '2026-06-01T09:00:00.0000001', timeZone: 'UTC' } }));
    assert.equal(p.automaticRepliesSetting?.scheduledStart?.at, at('2026-06-01T09:00:00.001Z'));
  });

  it('null messages clear; null schedule ends clear; timeZone is kept as sent', () => {
    const p = parseMailboxSettingsPatch({
      automaticRepliesSetting: { internalReplyMessage: null, externalReplyMessage: null, scheduledStartDateTime: null },
      timeZone: 'w. europe standard time',
    });
    assert.deepEqual(p, {
      automaticRepliesSetting: { path: 'automaticRepliesSetting', internalReplyMessage: '', externalReplyMessage: '', scheduledStart: null },
      timeZone: 'w. europe standard time',
    });
  });

  it('OData annotations are allowed; an empty object changes nothing', () => {
    assert.deepEqual(parseMailboxSettingsPatch({ '@odata.context': 'x', automaticRepliesSetting: { '@odata.type': '#microsoft.graph.automaticRepliesSetting' } }),
      { automaticRepliesSetting: { path: 'automaticRepliesSetting' } });
    assert.deepEqual(parseMailboxSettingsPatch({}), {});
  });

  it('bad input is InvalidInput naming the property', () => {
    const cases: Array<[unknown, string | undefined]> = [
      [undefined, undefined],
      [[], undefined],
      ['x', undefined],
      [{ foo: 1 }, 'foo'],
      [{ workingHours: {} }, 'workingHours'],
      [{ language: { locale: 'en-US' } }, 'language'],
      [{ timeZone: 'Mars/Olympus' }, 'timeZone'],
      [{ timeZone: 5 }, 'timeZone'],
      [{ timeZone: null }, 'timeZone'],
      [{ automaticRepliesSetting: null }, 'automaticRepliesSetting'],
      [{ automaticRepliesSetting: 'on' }, 'automaticRepliesSetting'],
      [replies({ bogus: true }), 'automaticRepliesSetting.bogus'],
      [replies({ status: 'enabled' }), 'automaticRepliesSetting.status'],
      [replies({ status: null }), 'automaticRepliesSetting.status'],
      [replies({ status: true }), 'automaticRepliesSetting.status'],
      [replies({ externalAudience: 'everyone' }), 'automaticRepliesSetting.externalAudience'],
      [replies({ internalReplyMessage: 42 }), 'automaticRepliesSetting.internalReplyMessage'],
      [replies({ externalReplyMessage: {} }), 'automaticRepliesSetting.externalReplyMessage'],
      [replies({ scheduledStartDateTime: '2026-10-31T18:00:00' }), 'automaticRepliesSetting.scheduledStartDateTime'],
      [replies({ scheduledStartDateTime: { dateTime: '2026-10-31T18:00:00' } }), 'automaticRepliesSetting.scheduledStartDateTime.timeZone'],
      [replies({ scheduledStartDateTime: { timeZone: 'UTC' } }), 'automaticRepliesSetting.scheduledStartDateTime.dateTime'],
      [replies({ scheduledStartDateTime: { ...PST_START, extra: 1 } }), 'automaticRepliesSetting.scheduledStartDateTime.extra'],
      [replies({ scheduledEndDateTime: { ...PST_END, timeZone: 'Pacific Time' } }), 'automaticRepliesSetting.scheduledEndDateTime.timeZone'],
      [replies({ scheduledEndDateTime: { dateTime: '2026-11-01T09:00:00-08:00', timeZone: 'Pacific Standard Time' } }), 'automaticRepliesSetting.scheduledEndDateTime.dateTime'],
      [replies({ scheduledEndDateTime: { dateTime: '2026-02-30T09:00:00', timeZone: 'UTC' } }), 'automaticRepliesSetting.scheduledEndDateTime.dateTime'],
      [replies({ scheduledEndDateTime: { dateTime: 'tomorrow', timeZone: 'UTC' } }), 'automaticRepliesSetting.scheduledEndDateTime.dateTime'],
    ];
    for (const [body, property] of cases) refused(() => parseMailboxSettingsPatch(body), property);
  });

  it('the automaticRepliesSetting sub-resource: the body is the setting, paths are unprefixed', () => {
    assert.deepEqual(parseAutomaticRepliesPatch({ status: 'Disabled' }), { path: '', status: 'disabled' });
    refused(() => parseAutomaticRepliesPatch({ automaticRepliesSetting: {} }), 'automaticRepliesSetting');
    refused(() => parseAutomaticRepliesPatch({ status: 'sometimes' }), 'status');
    refused(() => parseAutomaticRepliesPatch({ scheduledStartDateTime: { dateTime: 'x', timeZone: 'UTC' } }), 'scheduledStartDateTime.dateTime');
  });
});

describe('mergeOutOfOffice: PATCH semantics', () => {
  const scheduled = () => merge(null, replies({
    status: 'scheduled', scheduledStartDateTime: PST_START, scheduledEndDateTime: PST_END, internalReplyMessage: 'On leave',
  }));

  it('a scheduled window: status, message, window as sent, instants', () => {
    assert.deepEqual(scheduled(), {
      status: 'scheduled',
      message: 'On leave',
      scheduledStart: { dateTime: '2026-10-31T18:00:00.0000000', timeZone: 'Pacific Standard Time' },
      scheduledEnd: { dateTime: '2026-11-01T09:00:00.0000000', timeZone: 'Pacific Standard Time' },
      startsAt: START_AT,
      endsAt: END_AT,
      externalAudience: 'all',
      externalReplyMessage: '',
      mailboxTimeZone: 'UTC',
    });
  });

  it('a partial PATCH keeps everything it does not name', () => {
    const before = scheduled();
    const after = merge(before, replies({ externalAudience: 'none', externalReplyMessage: 'Away' }));
    assert.deepEqual(after, { ...before, externalAudience: 'none', externalReplyMessage: 'Away' });
    const tz = merge(after, { timeZone: 'Pacific Standard Time' });
    assert.deepEqual(tz, { ...after, mailboxTimeZone: 'Pacific Standard Time' });
    assert.deepEqual(merge(tz, {}), tz);
  });

  it("'scheduled' may come later: the stored schedule is used", () => {
    const stored = merge(null, replies({ scheduledStartDateTime: PST_START, scheduledEndDateTime: PST_END }));
    assert.equal(stored.status, 'disabled');
    assert.equal(stored.startsAt, START_AT);
    const on = merge(stored, replies({ status: 'scheduled' }));
    assert.equal(on.status, 'scheduled');
    assert.equal(on.endsAt, END_AT);
  });

  it('switching status off keeps the schedule (it only takes effect while scheduled)', () => {
    const off = merge(scheduled(), replies({ status: 'disabled' }));
    assert.equal(off.status, 'disabled');
    assert.equal(off.startsAt, START_AT);
    assert.equal(isOutOfOffice(facts({ outOfOffice: off }), START_AT), false);
    assert.equal(nextChange(facts({ outOfOffice: off }), START_AT - 1), null);
  });

  it("'scheduled' without a start or end (sent or stored) is refused, naming the missing property", () => {
    refused(() => merge(null, replies({ status: 'scheduled' })), 'automaticRepliesSetting.scheduledStartDateTime');
    refused(() => merge(null, replies({ status: 'scheduled', scheduledStartDateTime: PST_START })), 'automaticRepliesSetting.scheduledEndDateTime');
    refused(() => merge(scheduled(), replies({ scheduledEndDateTime: null })), 'automaticRepliesSetting.scheduledEndDateTime');
    const sub = () => mergeOutOfOffice(null, { automaticRepliesSetting: parseAutomaticRepliesPatch({ status: 'scheduled', scheduledEndDateTime: PST_END }) });
    refused(sub, 'scheduledStartDateTime');
  });

  it('the end must be after the start: names the end sent, else the start sent', () => {
    refused(() => merge(null, replies({ scheduledStartDateTime: PST_END, scheduledEndDateTime: PST_START })), 'automaticRepliesSetting.scheduledEndDateTime');
    refused(() => merge(null, replies({ scheduledStartDateTime: PST_START, scheduledEndDateTime: PST_START })), 'automaticRepliesSetting.scheduledEndDateTime');
    refused(() => merge(scheduled(), replies({ scheduledStartDateTime: { dateTime: '2026-11-02T00:00:00', timeZone: 'UTC' } })), 'automaticRepliesSetting.scheduledStartDateTime');
    refused(() => merge(scheduled(), replies({ scheduledEndDateTime: { dateTime: '2026-11-01T01:00:00', timeZone: 'UTC' } })), 'automaticRepliesSetting.scheduledEndDateTime');
    // Compared as instants across zones: one millisecond after the start (18:00 PDT = 01:00Z) is enough.
    const ok = merge(scheduled(), replies({ scheduledEndDateTime: { dateTime: '2026-11-01T01:00:00.001', timeZone: 'UTC' } }));
    assert.equal(ok.endsAt, START_AT + 1);
  });

  it('an empty internalReplyMessage is message null; it reads back as an empty string', () => {
    const m = merge(oofAlways('x'), replies({ internalReplyMessage: '' }));
    assert.equal(m.message, null);
    assert.equal(mailboxSettingsOf(m).automaticRepliesSetting.internalReplyMessage, '');
  });

  it('GET output fed back as a PATCH is a no-op (round trip)', () => {
    const stored = merge(scheduled(), { automaticRepliesSetting: { externalAudience: 'contactsOnly', externalReplyMessage: 'ext' }, timeZone: 'America/New_York' });
    assert.deepEqual(merge(stored, mailboxSettingsOf(stored)), stored);
    assert.deepEqual(merge(null, mailboxSettingsOf(null)), merge(null, {}));
  });

  it('patchMailboxSettings leaves the other facts alone', () => {
    const s = session('Available', 'Available', START_AT, HOUR);
    const before = facts({ sessions: [s], everActive: true });
    const patch: MailboxSettingsPatch = parseMailboxSettingsPatch(replies({ status: 'alwaysEnabled' }));
    const after = patchMailboxSettings(before, patch);
    assert.deepEqual(after.sessions, [s]);
    assert.equal(after.outOfOffice?.status, 'alwaysEnabled');
    assert.equal(before.outOfOffice, null);
  });
});

describe('the presence view of the merged facts', () => {
  const oof = merge(null, replies({
    status: 'scheduled', scheduledStartDateTime: PST_START, scheduledEndDateTime: PST_END, internalReplyMessage: 'On leave',
  }));
  const f = facts({ outOfOffice: oof });

  it('isOutOfOffice flips at the exact instants of a window across the fall-back; message shows only inside', () => {
    const cases: Array<[number, boolean]> = [[START_AT - 1, false], [START_AT, true], [END_AT - 1, true], [END_AT, false]];
    for (const [t, expected] of cases) {
      const v = view(f, t);
      assert.equal(v.outOfOffice.isOutOfOffice, expected, new Date(t).toISOString());
      assert.equal(v.outOfOffice.message, expected ? 'On leave' : null);
    }
  });

  it('nextChange wakes at the start, then at the end, then never', () => {
    assert.equal(nextChange(f, START_AT - HOUR), START_AT);
    assert.equal(nextChange(f, START_AT), END_AT);
    assert.equal(nextChange(f, END_AT), null);
  });

  it('activity: OutOfOffice over Available, InACall kept', () => {
    const always = merge(null, replies({ status: 'alwaysEnabled', internalReplyMessage: 'Away' }));
    const t = START_AT;
    const avail = view(facts({ outOfOffice: always, everActive: true, sessions: [session('Available', 'Available', t)] }), t);
    assert.deepEqual([avail.availability, avail.activity, avail.outOfOffice], ['Available', 'OutOfOffice', { isOutOfOffice: true, message: 'Away' }]);
    const call = view(facts({ outOfOffice: always, everActive: true, sessions: [session('Busy', 'InACall', t)] }), t);
    assert.deepEqual([call.availability, call.activity, call.outOfOffice.isOutOfOffice], ['Busy', 'InACall', true]);
    const disabled = merge(always, replies({ status: 'disabled' }));
    const off = view(facts({ outOfOffice: disabled, everActive: true, sessions: [session('Available', 'Available', t)] }), t);
    assert.deepEqual([off.activity, off.outOfOffice], ['Available', { isOutOfOffice: false, message: null }]);
  });
});
