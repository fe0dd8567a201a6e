/**
 * The presence journal (src/store/journal/) keeps exactly what it was given, and a start after a crash at any moment
 * rebuilds exactly the state of the last group written whole: records rewritten in place, appended, shared between
 * users created together and moved by compaction; snapshots written while groups go on, and the process "killed" (its
 * folder copied) between any two steps of one.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import { RecordArena } from '../../src/store/journal/arena.ts';
import { UserIndex } from '../../src/store/journal/userIndex.ts';
import type { JournalEntry } from '../../src/store/journal/frames.ts';
import { PresenceJournal } from '../../src/store/journal/journal.ts';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'presently-journal-prop-'));
after(() => fs.rmSync(root, { recursive: true, force: true }));
let dirs = 0;

type Model = Map<string, { text: string; due: number | null }>;
const USERS = 40;
/** Half the users have a GUID for an id (the typed index), half another kind of id (kept as strings). */
const userOf = (n: number) => (n % 2 === 0 ? `u${n}` : `0000${n % 7}000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`);

/** A write: a user, and a record from a small pool (so that users share) in lengths that fit or outgrow a slot's room. */
const write = fc.record({
  user: fc.nat(USERS - 1),
  text: fc.oneof(
    fc.constantFrom('initial', 'é twin', 'shared record'),
    fc.tuple(fc.nat(20), fc.integer({ min: 1, max: 3000 })).map(([k, n]) => `r${k}:${'x'.repeat(n)}`),
  ),
  due: fc.option(fc.integer({ min: 0, max: 1000 }), { nil: null }),
  remove: fc.boolean().map((b) => b && Math.random() < 0.3),
});

function sameAs(arena: RecordArena, model: Model, tenant = 't'): void {
  assert.equal(arena.size, model.size);
  for (const [user, { text, due }] of model) {
    const slot = arena.slotOf(tenant, user);
    assert.ok(slot >= 0, `${user} is missing`);
    assert.equal(arena.text(slot), text, `${user}'s record`);
    assert.equal(arena.due(slot), due);
  }
}

describe('presence journal: the index of users', () => {
  it('finds every user added and none removed, gives their ids back, and orders them as their ids compare', () => {
    const op = fc.record({ tenant: fc.constantFrom('t1', 't2'), n: fc.nat(3000), add: fc.boolean(), capital: fc.boolean() });
    fc.assert(fc.property(fc.array(op, { maxLength: 3000 }), (ops) => {
      const index = new UserIndex();
      const model = new Map<string, number>();
      let next = 0;
      const freed: number[] = [];
      for (const { tenant, n, add, capital } of ops) {
        // GUIDs clustered in a few runs of the table, a few with capitals (kept as strings, as other ids are).
        const id = n % 5 === 0 ? `oid-${n}` : `${capital && n % 3 === 0 ? 'ABCDEF00' : '0000abcd'}-0000-4000-8000-${(n * 97).toString(16).padStart(12, '0')}`;
        const key = `${tenant}\n${id}`;
        if (add && !model.has(key)) {
          const slot = freed.pop() ?? next++;
          index.add(tenant, id, slot);
          model.set(key, slot);
        } else if (!add && model.has(key)) {
          index.remove(model.get(key)!);
          freed.push(model.get(key)!);
          model.delete(key);
        }
      }
      for (const [key, slot] of model) {
        const [tenant, id] = key.split('\n') as [string, string];
        assert.equal(index.find(tenant, id), slot, key);
        assert.equal(index.tenantOf(slot), tenant);
        assert.equal(index.userOf(slot), id);
      }
      const slots = [...model.values()].sort((a, b) => index.compare(a, b));
      const keys = slots.map((s) => [index.tenantOf(s), index.userOf(s)] as const);
      const sorted = [...keys].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
      assert.deepEqual(keys, sorted);
      assert.equal(index.find('t1', '0000abcd-0000-4000-8000-ffffffffffff'), -1);
    }), { numRuns: 60 });
  });
});

describe('presence journal: the records in memory', () => {
  it('holds every user\'s last record through in-place rewrites, appends, sharing, deletions and emptied segments', () => {
    // Segments of 2 KiB: many of them, emptied often, and records larger than one.
    fc.assert(fc.property(fc.array(write, { minLength: 1, maxLength: 2500 }), fc.constantFrom(2048, 16384, 1 << 20), (writes, segment) => {
      const arena = new RecordArena(segment);
      const model: Model = new Map();
      for (const w of writes) {
        if (w.remove) {
          assert.equal(arena.delete('t', userOf(w.user)), model.delete(userOf(w.user)));
        } else {
          arena.set('t', userOf(w.user), w.text, w.due);
          model.set(userOf(w.user), { text: w.text, due: w.due });
        }
      }
      sameAs(arena, model);
    }), { numRuns: 60 });
  });

  // What docs/operations/storage.md#presence-journal promises of its memory: each user's room at most twice their
  // record, garbage at most a quarter of what is placed (one segment while that is less), and the segment being filled.
  it('holds at most twice the records, a third more in garbage, and two segments, whatever was written', () => {
    const writes = fc.array(write, { minLength: 1, maxLength: 2500 });
    fc.assert(fc.property(writes, fc.constantFrom(2048, 16384), (list, segment) => {
      const arena = new RecordArena(segment);
      const model = new Map<string, number>();
      let largest = 0;
      for (const w of list) {
        if (w.remove) {
          arena.delete('t', userOf(w.user));
          model.delete(userOf(w.user));
        } else {
          arena.set('t', userOf(w.user), w.text, w.due);
          const n = Buffer.byteLength(w.text);
          model.set(userOf(w.user), n);
          largest = Math.max(largest, n);
        }
      }
      const live = [...model.values()].reduce((a, b) => a + b, 0);
      const { segments, records, garbage } = arena.footprint();
      assert.ok(records <= 2 * live, `records ${records} for ${live} bytes of records`);
      assert.ok(garbage <= Math.max(segment, (records + garbage) / 4) + 2 * largest, `garbage ${garbage} of ${records + garbage}`);
      const bound = (2 * live * 4) / 3 + 2 * Math.max(segment, largest) + 2 * largest;
      assert.ok(segments <= bound, `segments ${segments} > ${Math.round(bound)} for ${live} bytes of records`);
    }), { numRuns: 60 });
  });
});

describe('presence journal: a start after a crash', () => {
  it('rebuilds the state of the last whole group, whatever moment of a snapshot the crash came at', async () => {
    const step = fc.oneof(
      { weight: 6, arbitrary: fc.array(write, { minLength: 1, maxLength: 8 }).map((group) => ({ kind: 'group' as const, group })) },
      { weight: 1, arbitrary: fc.constant({ kind: 'snapshot' as const }) },
      { weight: 2, arbitrary: fc.constant({ kind: 'turn' as const }) },
    );
    await fc.assert(fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 60 }), fc.nat(), fc.integer({ min: 1, max: 7 }),
      async (steps, crashAt, cut) => {
        const dir = path.join(root, `p${++dirs}`);
        const { journal } = PresenceJournal.open(dir, { minSnapshotBytes: 4096, segmentBytes: 4096 });
        const model: Model = new Map();
        let before: Model = new Map();
        const crash = crashAt % steps.length;
        let copy = '';
        const snapshots: Promise<void>[] = [];
        for (const [i, s] of steps.entries()) {
          if (s.kind === 'group') {
            before = new Map(model);
            const entries: JournalEntry[] = s.group.map((w) => ({
              tenantId: 't', userId: userOf(w.user), text: w.remove ? null : w.text, dueAt: w.remove ? null : w.due, eventAt: NaN,
            }));
            journal.commit(entries);
            for (const e of entries) {
              if (e.text === null) model.delete(e.userId);
              else model.set(e.userId, { text: e.text, due: e.dueAt });
            }
          } else if (s.kind === 'snapshot') {
            snapshots.push(journal.writeSnapshot());
          } else {
            await new Promise((resolve) => setImmediate(resolve));
          }
          if (i === crash) {
            copy = `${dir}-crash`;
            fs.cpSync(dir, copy, { recursive: true });
            sameAs(journal.arena, model);
            break;
          }
        }
        await Promise.all(snapshots);
        await journal.close();
        // The folder as the crash left it; then the same with its last group cut short, when the newest file ends with
        // it (a snapshot there completed before that group, so the group is only in the journal).
        const whole = PresenceJournal.open(copy);
        sameAs(whole.journal.arena, model);
        assert.equal(whole.start.repaired, null);
        await whole.journal.close();
        const newest = fs.readdirSync(copy).filter((n) => n.startsWith('journal-')).sort().pop();
        const file = newest === undefined ? null : path.join(copy, newest);
        if (file !== null && steps[crash]!.kind === 'group' && fs.statSync(file).size > cut) {
          fs.truncateSync(file, fs.statSync(file).size - cut);
          const torn = PresenceJournal.open(copy);
          sameAs(torn.journal.arena, before);
          assert.match(torn.start.repaired ?? '', /cut there/);
          await torn.journal.close();
        }
        // And the folder the journal itself closed.
        const closed = PresenceJournal.open(dir);
        sameAs(closed.journal.arena, model);
        await closed.journal.close();
        fs.rmSync(copy, { recursive: true, force: true });
        fs.rmSync(dir, { recursive: true, force: true });
      }), { numRuns: 40 });
  });
});
