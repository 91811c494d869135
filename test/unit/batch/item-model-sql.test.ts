/**
 * The item model's SQL on DuckDB (embedded, real) against the domain's own definitions: on a small
 * generated archive the co-listening lists equal `itemNeighborLists`, the content lists
 * `contentNeighborLists`, the counts the users per item, and each user's item weights the
 * profile's event weights with decay (`eventWeight`).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dirArchive } from '../../../shared/adapters/archive.ts';
import { dirArchiveHours } from '../../../shared/adapters/archive-hours.ts';
import { appendItemTags, openArchiveDb } from '../../../shared/adapters/duckdb.ts';
import { parquetDirRows } from '../../../shared/adapters/parquet.ts';
import { runItemModelSql, unloadItemModelSql } from '../../../shared/batch/duckdb-item-model.ts';
import { type ItemModelResult, readItemModelResult } from '../../../shared/batch/item-model-result.ts';
import {
  DEFAULT_ITEM_MODEL_SQL,
  ITEM_MODEL_PARTS,
  itemModelQuery,
  partQuery,
} from '../../../shared/batch/item-model-sql.ts';
import { chooseWindow, hourKey } from '../../../shared/batch/window.ts';
import { archiveKey } from '../../../shared/domain/events/archive.ts';
import type { ListenEventV1 } from '../../../shared/domain/events/events.ts';
import { contentNeighborLists, itemNeighborLists } from '../../../shared/domain/item-model/item-neighbors.ts';
import { DAY_MS } from '../../../shared/domain/profile/profile.ts';
import { eventWeight } from '../../../shared/domain/profile/weights.ts';
import { rng } from '../../../shared/random.ts';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function writeArchive(events: readonly ListenEventV1[], perObject = 50): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'tunestream-sql-'));
  dirs.push(dir);
  const store = dirArchive(dir);
  for (let i = 0; i < events.length; i += perObject) {
    const chunk = events.slice(i, i + perObject);
    const key = archiveKey(chunk[0]!.ts, 'listen-events', 0, i, i + chunk.length - 1);
    await store.writeObject(key, chunk.map((e, n) => `${JSON.stringify({ ...e, _offset: i + n })}\n`).join(''));
  }
  return dir;
}

const T0 = Date.UTC(2026, 10, 1);

/** Same model up to a parallel sum's last bits (ids may swap only where weights tie). */
function expectSameModel(got: ItemModelResult, want: ItemModelResult): void {
  expect(got.activeUsers).toEqual(want.activeUsers);
  for (const kind of ['a', 't'] as const) {
    expect(got.kinds[kind].users).toBe(want.kinds[kind].users);
    expect(got.kinds[kind].listeners).toEqual(want.kinds[kind].listeners);
    for (const field of ['similar', 'content'] as const) {
      const g = got.kinds[kind][field];
      const w = want.kinds[kind][field];
      expect([...g.keys()].sort()).toEqual([...w.keys()].sort());
      for (const [id, l] of w) {
        const m = g.get(id)!;
        expect(m.ids.length).toBe(l.ids.length);
        for (let k = 0; k < l.ids.length; k++) {
          expect(m.weights[k]).toBeCloseTo(l.weights[k]!, 12);
          if (m.ids[k] !== l.ids[k])
            expect(Math.abs(m.weights[k]! - l.weights[l.ids.indexOf(m.ids[k]!)]!)).toBeLessThan(1e-12);
        }
      }
    }
  }
}

describe('item model SQL on DuckDB', () => {
  it('computes the lists, counts and tag lists the domain code defines', async () => {
    const random = rng(7);
    const sets: string[][] = [];
    const events: ListenEventV1[] = [];
    for (let u = 0; u < 60; u++) {
      const items = new Set<string>();
      const n = 2 + Math.floor(random() * 8);
      while (items.size < n) items.add(`art-${Math.floor(random() ** 2 * 40)}`);
      sets.push([...items]);
      for (const a of items)
        events.push({ eventId: `e-${u}-${a}`, userId: `u${u}`, artistId: a, ts: T0 + u * 3_600_000, type: 'play' });
    }
    const dir = await writeArchive(events);
    const db = await openArchiveDb(dir);
    const tags = new Map<string, Record<string, number>>();
    for (let i = 0; i < 40; i++) {
      const t: Record<string, number> = {};
      for (let k = 0; k < 4; k++) t[`tag${Math.floor(random() * 12)}`] = 1 + Math.floor(random() * 90);
      tags.set(`art-${i}`, t);
    }
    await appendItemTags(
      db,
      [...tags].map(([itemId, t]) => ({ kind: 'a', itemId, tags: t })),
    );
    const params = { ...DEFAULT_ITEM_MODEL_SQL, alpha: 0.7, beta: 0.4, similarK: 15, contentK: 8, contentTags: 10 };
    const { result, stats } = await runItemModelSql(db, params);
    // The co-listening pass split into buckets of items, and written as Parquet (the local
    // UNLOAD) then read back, gives the same model.
    const bucketed = await runItemModelSql(db, params, { pairRowsPerBucket: Math.ceil(stats.pairRows / 3) });
    expect(bucketed.stats.pairBuckets).toBe(3);
    expectSameModel(bucketed.result, result);
    const out = join(mkdtempSync(join(tmpdir(), 'tunestream-sql-out-')));
    dirs.push(out);
    const unloaded = await unloadItemModelSql(db, out, params, { pairRowsPerBucket: Math.ceil(stats.pairRows / 2) });
    expect(unloaded.pairBuckets).toBe(2);
    expect(unloaded.parquetBytes?.similar).toBeGreaterThan(0);
    expectSameModel(await readItemModelResult(async (part) => (await parquetDirRows(join(out, part))).rows), result);
    db.close();

    const a = result.kinds.a;
    expect(a.users).toBe(60);
    const counts = new Map<string, number>();
    for (const s of sets) for (const i of s) counts.set(i, (counts.get(i) ?? 0) + 1);
    expect(a.listeners).toEqual(counts);
    const expected = itemNeighborLists(sets, { alpha: 0.7, beta: 0.4, topK: 15 });
    expect(new Set(a.similar.keys())).toEqual(
      new Set([...expected].filter(([, l]) => l.ids.length > 0).map(([k]) => k)),
    );
    for (const [id, l] of expected) {
      if (l.ids.length === 0) continue;
      const got = a.similar.get(id)!;
      // Same weights in the same order; ids may swap only where weights tie to float precision.
      expect(got.weights.length).toBe(l.weights.length);
      for (let k = 0; k < got.weights.length; k++) expect(got.weights[k]).toBeCloseTo(l.weights[k]!, 12);
      for (let k = 0; k < got.ids.length; k++) {
        const j = got.ids[k]!;
        if (j !== l.ids[k]) expect(Math.abs(got.weights[k]! - l.weights[l.ids.indexOf(j)]!)).toBeLessThan(1e-12);
      }
    }
    const content = contentNeighborLists(tags, 8);
    for (const [id, l] of content) {
      if (l.ids.length === 0) continue;
      const got = a.content.get(id)!;
      for (let k = 0; k < got.weights.length; k++) expect(got.weights[k]).toBeCloseTo(l.weights[k]!, 12);
    }
    expect(result.kinds.t.users).toBe(0);
    // Active users: within 30 days of the newest event, newest first.
    expect(result.activeUsers[0]).toBe('u59');
    expect(result.activeUsers.length).toBe(60);
    // Three builds of a small archive: seconds, but the machines are shared.
  }, 60_000);

  it("weighs events as eventWeight with the profile's decay, once per eventId, without forgotten listeners", async () => {
    const types = ['play', 'skip', 'like', 'dislike'] as const;
    const random = rng(3);
    const events: ListenEventV1[] = [];
    for (let i = 0; i < 400; i++) {
      const e: ListenEventV1 = {
        eventId: `ev-${i}`,
        userId: `u${i % 5}`,
        artistId: `a${Math.floor(random() * 6)}`,
        trackId: `t${Math.floor(random() * 9)}`,
        ts: T0 + Math.floor(random() * 90 * DAY_MS),
        type: types[Math.floor(random() * 4)]!,
      };
      if (random() < 0.5) e.msPlayed = Math.floor(random() * 300_000);
      if (random() < 0.5) e.durationMs = Math.floor(random() * 300_000);
      if (random() < 0.1) e.rating = Math.floor(random() * 6);
      events.push(e);
    }
    const dupes = events.slice(0, 30); // a batch archived twice under another key
    const dir = await writeArchive([...events, ...dupes]);
    await dirArchive(dir).writeObject(
      'deletions/u4.json',
      `${JSON.stringify({ userId: 'u4', deletedAt: T0 + 45 * DAY_MS })}\n`,
    );
    const db = await openArchiveDb(dir);
    await db.run(
      `CREATE TEMP TABLE user_items AS ${itemModelQuery('user_items', { ...DEFAULT_ITEM_MODEL_SQL, topItems: 100 })}`,
    );
    const rows = await db.rows<{ kind: string; user_id: string; item_id: string; weight: number }>(
      'SELECT kind, user_id, item_id, weight FROM user_items',
    );
    db.close();
    const newest = Math.max(...events.map((e) => e.ts));
    const lambda = Math.LN2 / (30 * DAY_MS);
    const expected = new Map<string, number>();
    for (const e of events) {
      if (e.userId === 'u4' && e.ts <= T0 + 45 * DAY_MS) continue;
      const w = eventWeight(e) * Math.exp((e.ts - newest) * lambda);
      for (const [k, id] of [
        ['a', e.artistId],
        ['t', e.trackId],
      ] as const)
        expected.set(`${k}|${e.userId}|${id}`, (expected.get(`${k}|${e.userId}|${id}`) ?? 0) + w);
    }
    const positive = [...expected].filter(([, w]) => w > 0);
    expect(rows.length).toBe(positive.length);
    for (const r of rows) expect(r.weight).toBeCloseTo(expected.get(`${r.kind}|${r.user_id}|${r.item_id}`)!, 10);
  });

  it("reads only the build's window of hour partitions (the decay reference is the window's newest event)", async () => {
    const events: ListenEventV1[] = [];
    for (let u = 0; u < 6; u++) {
      // Old plays of art-old (60 days before), recent plays of art-new (the last 2 days).
      events.push({ eventId: `old-${u}`, userId: `u${u}`, artistId: 'art-old', ts: T0 + u * 60_000, type: 'play' });
      events.push({
        eventId: `new-${u}`,
        userId: `u${u}`,
        artistId: 'art-new',
        ts: T0 + 60 * DAY_MS + u * 3_600_000,
        type: 'play',
      });
    }
    events.push({ eventId: 'late', userId: 'u9', artistId: 'art-old', ts: T0 + 10 * DAY_MS, type: 'play' });
    const dir = await writeArchive(events, 1);
    const window = await chooseWindow(dirArchiveHours(dir), { now: T0 + 61 * DAY_MS, maxDays: 30, maxBytes: 1e9 });
    expect(window).toMatchObject({ hours: 6, toHour: hourKey(T0 + 60 * DAY_MS + 5 * 3_600_000) });
    const db = await openArchiveDb(dir);
    const { result } = await runItemModelSql(db, { ...DEFAULT_ITEM_MODEL_SQL, window });
    const all = await runItemModelSql(db);
    db.close();
    expect([...result.kinds.a.listeners]).toEqual([['art-new', 6]]);
    expect(result.activeUsers.sort()).toEqual(['u0', 'u1', 'u2', 'u3', 'u4', 'u5']);
    expect(all.result.kinds.a.listeners.get('art-old')).toBe(7);
  });

  it('an empty archive gives an empty model', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tunestream-sql-'));
    dirs.push(dir);
    const db = await openArchiveDb(dir);
    const { result } = await runItemModelSql(db);
    db.close();
    expect(result.kinds.a.listeners.size).toBe(0);
    expect(result.activeUsers).toEqual([]);
  });

  it("fills every placeholder; Athena's text has no comments and runs the pair pass whole", () => {
    for (const part of ITEM_MODEL_PARTS) {
      expect(itemModelQuery(part)).not.toMatch(/\{\{/);
      expect(partQuery(part)).not.toMatch(/\{\{|^\s*--/m);
    }
    expect(partQuery('similar')).toContain('a.item_no % 1 = 0');
    expect(itemModelQuery('similar', undefined, { buckets: 8, bucket: 3 })).toContain('a.item_no % 8 = 3');
    expect(() => itemModelQuery('similar', undefined, { buckets: 2, bucket: 2 })).toThrow(/out of range/);
  });
});
