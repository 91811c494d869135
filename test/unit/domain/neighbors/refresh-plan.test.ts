import { describe, expect, it } from 'vitest';
import type { ProfileUpdateV1 } from '../../../../shared/domain/events/events.ts';
import { cellOf } from '../../../../shared/domain/neighbors/neighbor-cells.ts';
import type { NeighborList } from '../../../../shared/domain/neighbors/neighbor-list-codec.ts';
import {
  newestPerUser,
  planRefreshes,
  type RefreshContext,
  refreshedList,
  reverseCandidates,
  withEntrants,
} from '../../../../shared/domain/neighbors/refresh-plan.ts';
import { artistSketchKey, decodeVector, encodeVector } from '../../../../shared/domain/neighbors/taste-codec.ts';
import { unpackTopItems } from '../../../../shared/domain/neighbors/top-items-codec.ts';
import { genreVector } from '../../../../shared/domain/similarity.ts';

const MINUTE = 60_000;
const NOW = Date.UTC(2026, 10, 1);
const ctx: RefreshContext = {
  now: NOW,
  modelKey: 'm2',
  policy: { minIntervalMs: MINUTE, minDrift: 0.01 },
  indexMinDrift: 0.05,
};
const JAZZ = { jazz: 0.8, blues: 0.6 };

const update = (userId: string, version: number, extra: Partial<ProfileUpdateV1> = {}): ProfileUpdateV1 => ({
  userId,
  version,
  ts: NOW,
  genres: JAZZ,
  artists: 'miles:999,coltrane:500',
  ...extra,
});

/** The list a refresh of `u` stored `ago` ms before NOW, its entry written then. */
const stored = (u: ProfileUpdateV1, ago: number, extra: Partial<NeighborList> = {}): NeighborList => {
  const vec = encodeVector(genreVector(u.genres));
  return {
    userId: u.userId,
    profileVersion: u.version,
    rev: 3,
    neighbors: [],
    refreshedAt: NOW - ago,
    snapshot: vec,
    cell: cellOf(decodeVector(vec)),
    indexedVec: vec,
    indexedArtistsKey: artistSketchKey(u.artists),
    candidatesModelId: 'm2',
    candidatesTopKey: 7,
    ...extra,
  };
};

const plan = (updates: ProfileUpdateV1[], lists: NeighborList[], c: RefreshContext = ctx) =>
  planRefreshes(updates, new Map(lists.map((l) => [l.userId, l])), c);

describe('newestPerUser', () => {
  it('keeps the highest version of each user, users in order of first appearance', () => {
    const latest = newestPerUser([update('a', 2), update('b', 1), update('a', 5), update('a', 4)]);
    expect([...latest.keys()]).toEqual(['a', 'b']);
    expect(latest.get('a')!.version).toBe(5);
  });
});

describe('planRefreshes', () => {
  it('refreshes a new user and puts its index entry (vector, artists, packed top items)', () => {
    const u = update('a', 1, { topTracks: 't1:999,t2:400', topArtists: 'miles:999' });
    const p = plan([u], []);
    expect(p.stale).toBe(0);
    expect(p.refreshes).toHaveLength(1);
    const [r] = p.refreshes;
    expect(r!.indexDue).toBe(true);
    expect(r!.cell).toBe(cellOf(genreVector(JAZZ)));
    expect(p.indexPuts).toEqual([
      {
        cell: r!.cell,
        userId: 'a',
        vec: r!.encoded,
        artists: u.artists,
        top: expect.any(Uint8Array),
        profileVersion: 1,
      },
    ]);
    const top = unpackTopItems(p.indexPuts[0]!.top!);
    expect([...top.tracks.ids].sort()).toEqual(['t1', 't2']);
    expect([...top.artists.ids]).toEqual(['miles']);
    expect(p.indexDeletes).toEqual([]);
  });

  it('leaves out artists and top items an update does not carry', () => {
    const p = plan([update('a', 1, { artists: undefined })], []);
    expect(p.indexPuts[0]).toEqual({
      cell: p.refreshes[0]!.cell,
      userId: 'a',
      vec: p.refreshes[0]!.encoded,
      profileVersion: 1,
    });
  });

  it('counts an older update, or the same version under the same item model, as stale', () => {
    const p = plan(
      [update('a', 3), update('b', 2)],
      [stored(update('a', 4), 10 * MINUTE), stored(update('b', 2), 10 * MINUTE)],
    );
    expect(p.stale).toBe(2);
    expect(p.refreshes).toEqual([]);
    expect(p.indexPuts).toEqual([]);
  });

  it('refreshes the same version again under a new item model, even within the interval', () => {
    const u = update('a', 2);
    const p = plan([u], [stored(u, 1000, { candidatesModelId: 'm1' })]);
    expect(p.stale).toBe(0);
    expect(p.refreshes.map((r) => r.update.userId)).toEqual(['a']);
    // The entry did not move: nothing to write to the index.
    expect(p.refreshes[0]!.indexDue).toBe(false);
    expect(p.indexPuts).toEqual([]);
  });

  it('skips a newer version within the refresh interval or below the drift, without counting it stale', () => {
    const moved = update('a', 3, { genres: { rock: 1 } });
    expect(plan([moved], [stored(update('a', 2), 1000)]).refreshes).toEqual([]);
    const same = update('b', 3);
    const p = plan([same], [stored(update('b', 2), 10 * MINUTE)]);
    expect(p.refreshes).toEqual([]);
    expect(p.stale).toBe(0);
  });

  it('does not hold a short list back by the interval: a first refresh that found few neighbours is not done (#27)', () => {
    const withK = { ...ctx, policy: { ...ctx.policy, fullList: 3 } };
    const moved = update('a', 3, { genres: { jazz: 0.8, blues: 0.6, soul: 0.3 } });
    const few = [{ userId: 'x', similarity: 0.5 }];
    // One neighbour of three, refreshed a second ago: refreshed again.
    expect(plan([moved], [stored(update('a', 2), 1000, { neighbors: few })], withK).refreshes).toHaveLength(1);
    // A full list waits for the interval, as before…
    const full = ['x', 'y', 'z'].map((userId) => ({ userId, similarity: 0.5 }));
    expect(plan([moved], [stored(update('a', 2), 1000, { neighbors: full })], withK).refreshes).toEqual([]);
    // …and a short one still needs the drift: an update that did not move the taste refreshes nothing.
    expect(plan([update('a', 3)], [stored(update('a', 2), 1000, { neighbors: few })], withK).refreshes).toEqual([]);
  });

  it('moves an entry that changed cell: puts the new one, deletes the old', () => {
    const before = update('a', 2);
    const after = update('a', 3, { genres: { rock: 1, indie: 0.5 } });
    const p = plan([after], [stored(before, 10 * MINUTE)]);
    const r = p.refreshes[0]!;
    expect(r.cell).not.toBe(cellOf(genreVector(JAZZ)));
    expect(p.indexPuts.map((e) => e.cell)).toEqual([r.cell]);
    expect(p.indexDeletes).toEqual([{ cell: cellOf(genreVector(JAZZ)), userId: 'a' }]);
  });

  it('refreshes on drift but keeps an entry that moved less than the index drift, in the same cell', () => {
    const before = update('a', 2);
    const after = update('a', 3, { genres: { jazz: 0.8, blues: 0.6, soul: 0.15 } });
    const p = plan([after], [stored(before, 10 * MINUTE)]);
    expect(p.refreshes).toHaveLength(1);
    expect(p.refreshes[0]!.indexDue).toBe(false);
    expect(p.indexPuts).toEqual([]);
    // New strongest artists rewrite it.
    const artists = plan([{ ...after, artists: 'monk:999' }], [stored(before, 10 * MINUTE)]);
    expect(artists.indexPuts.map((e) => e.userId)).toEqual(['a']);
  });

  it('ranks with the artist weights it is given', () => {
    const u = update('a', 1);
    const plain = plan([u], []).refreshes[0]!.taste.artists;
    const weighted = plan([u], [], { ...ctx, artistWeight: (id) => (id === 'coltrane' ? 10 : 1) }).refreshes[0]!.taste
      .artists;
    expect(weighted.get('coltrane')! / weighted.get('miles')!).toBeCloseTo(
      (10 * plain.get('coltrane')!) / plain.get('miles')!,
      6,
    );
  });
});

describe('refreshedList', () => {
  const neighbors = [{ userId: 'b', similarity: 0.9 }];
  it('records what the entry now holds, bumps rev', () => {
    const u = update('a', 1);
    const r = plan([u], []).refreshes[0]!;
    expect(refreshedList(r, neighbors, { now: NOW, modelKey: 'm2', candidatesTopKey: 42 })).toEqual({
      userId: 'a',
      neighbors,
      refreshedAt: NOW,
      snapshot: r.encoded,
      profileVersion: 1,
      cell: r.cell,
      indexedVec: r.encoded,
      indexedArtistsKey: artistSketchKey(u.artists),
      candidatesModelId: 'm2',
      candidatesTopKey: 42,
      rev: 1,
    });
  });

  it('keeps the indexed vector and artists of an entry that was not rewritten', () => {
    const previous = stored(update('a', 2), 10 * MINUTE, { indexedVec: 'old', indexedArtistsKey: 99 });
    const r = { ...plan([update('a', 3)], [previous], { ...ctx, modelKey: 'm3' }).refreshes[0]!, indexDue: false };
    const list = refreshedList(r, neighbors, { now: NOW, modelKey: 'm3', candidatesTopKey: 0 });
    expect(list).toMatchObject({ indexedVec: 'old', indexedArtistsKey: 99, rev: 4, snapshot: r.encoded });
  });
});

describe('reverseCandidates', () => {
  it("offers each refreshed user to its closest neighbours' lists, not to users refreshed with it", () => {
    const computed = new Map([
      [
        'a',
        [
          { userId: 'x', similarity: 0.9 },
          { userId: 'b', similarity: 0.8 },
          { userId: 'y', similarity: 0.7 },
          { userId: 'z', similarity: 0.6 },
        ],
      ],
      ['b', [{ userId: 'x', similarity: 0.5 }]],
    ]);
    const wanted = reverseCandidates(computed, 3);
    expect(Object.fromEntries(wanted)).toEqual({
      x: [
        { userId: 'a', similarity: 0.9 },
        { userId: 'b', similarity: 0.5 },
      ],
      y: [{ userId: 'a', similarity: 0.7 }],
    });
  });
});

describe('withEntrants', () => {
  const list = {
    userId: 'v',
    rev: 4,
    neighbors: [
      { userId: 'p', similarity: 0.9 },
      { userId: 'q', similarity: 0.5 },
    ],
  };
  it('lets anyone new into a list that is not full, merged in order, rev bumped', () => {
    const out = withEntrants(list, [{ userId: 'n', similarity: 0.1 }], 3);
    expect(out).toEqual({ ...list, rev: 5, neighbors: [...list.neighbors, { userId: 'n', similarity: 0.1 }] });
  });

  it('into a full list only above its last entry', () => {
    expect(withEntrants(list, [{ userId: 'n', similarity: 0.4 }], 2)).toBeUndefined();
    expect(withEntrants(list, [{ userId: 'n', similarity: 0.6 }], 2)?.neighbors).toEqual([
      { userId: 'p', similarity: 0.9 },
      { userId: 'n', similarity: 0.6 },
    ]);
  });

  it('writes nothing for a member whose similarity merely changed', () => {
    expect(withEntrants(list, [{ userId: 'q', similarity: 0.7 }], 3)).toBeUndefined();
  });

  it('into a full list only among its first `fullListTop`; a filling list takes anyone new', () => {
    const full = {
      userId: 'v',
      rev: 1,
      neighbors: [0.9, 0.8, 0.7, 0.6].map((similarity, i) => ({ userId: `m${i}`, similarity })),
    };
    // Top 2 of a full list of 4: an entrant must beat 0.8.
    expect(withEntrants(full, [{ userId: 'n', similarity: 0.75 }], 4, 2)).toBeUndefined();
    expect(withEntrants(full, [{ userId: 'n', similarity: 0.85 }], 4, 2)?.neighbors.map((n) => n.userId)).toEqual([
      'm0',
      'n',
      'm1',
      'm2',
    ]);
    // 0: full lists take nobody; the default (k) is the former rule, above the last entry.
    expect(withEntrants(full, [{ userId: 'n', similarity: 0.95 }], 4, 0)).toBeUndefined();
    expect(withEntrants(full, [{ userId: 'n', similarity: 0.65 }], 4)?.rev).toBe(2);
    // Not full (k 5): anyone new, whatever the top.
    expect(withEntrants(full, [{ userId: 'n', similarity: 0.1 }], 5, 0)?.neighbors).toHaveLength(5);
  });
});
