import { describe, expect, it } from 'vitest';
import { contentNeighborLists, itemNeighborLists } from '../../../../shared/domain/item-model/item-neighbors.ts';
import { emptyProfile, type Profile } from '../../../../shared/domain/profile/profile.ts';
import {
  packCandidateSet,
  packCandidates,
  unpackCandidateSet,
  unpackCandidates,
} from '../../../../shared/domain/ranking/candidate-codec.ts';
import {
  type BuildCandidatesInput,
  buildCandidates,
  DEFAULT_CANDIDATE_SIZE,
} from '../../../../shared/domain/ranking/components.ts';
import { itemHasGenre } from '../../../../shared/domain/ranking/finish.ts';
import type { RankingParams } from '../../../../shared/domain/ranking/params.ts';
import { type RecommendInput, rankCandidates, recommend } from '../../../../shared/domain/ranking/rank.ts';
import type {
  CandidateItem,
  CandidateKind,
  CandidateList,
  NeighborItems,
  PreparedItems,
  RecommendResult,
} from '../../../../shared/domain/ranking/types.ts';
import { rng, zipf } from '../../../../shared/random.ts';

// ---------------------------------------------------------------------------------------------
// Seeded random worlds: zipf-popular items, users with top lists, the item model's lists, a
// catalog of popular-in-genre items.

type Lookup = (id: string) => PreparedItems | undefined;

interface KindWorld {
  neighbors: NeighborItems[];
  listeners: Map<string, number>;
  itemNeighbors: Lookup;
  contentNeighbors: Lookup;
  catalog: CandidateItem[];
}

interface World {
  profile: Profile;
  track: KindWorld;
  artist: KindWorld;
}

const WORLD_GENRES = ['rock', 'indie', 'shoegaze', 'techno', 'jazz', 'pop'];

// Building the item model's lists is the slow part: one world per seed, shared by all tests.
const worlds = new Map<number, World>();
function makeWorld(seed: number): World {
  let world = worlds.get(seed);
  if (world === undefined) {
    world = generateWorld(seed);
    worlds.set(seed, world);
  }
  return world;
}

function generateWorld(seed: number): World {
  const random = rng(seed);
  const users = 160;
  const topItems = (kind: CandidateKind): Record<string, number>[] => {
    const universe = 800;
    const rank = zipf(universe, 0.9, random);
    // Scattered 5-digit ids, like the Last.fm loader's `lastfm-12345`.
    const idOf = (k: number) =>
      `lastfm-${kind === 'track' ? 10000 + ((k * 7919) % 89000) : 20000 + ((k * 104729) % 79000)}`;
    return Array.from({ length: users }, () => {
      const items: Record<string, number> = {};
      const m = 15 + Math.floor(random() * 85);
      for (let j = 0; j < m; j++) {
        const id = idOf(rank());
        items[id] = (items[id] ?? 0) + 1 + Math.round(random() * 50) / 10;
      }
      // Skips and dislikes leave a few non-positive scores (excluded, but never seeds).
      for (const id of Object.keys(items)) if (random() < 0.04) items[id] = -random();
      return items;
    });
  };
  const tracks = topItems('track');
  const artists = topItems('artist');
  const genres: Record<string, number> = {};
  for (const g of WORLD_GENRES) if (random() < 0.6) genres[g] = Math.round((random() * 10 - 2) * 10) / 10;
  genres['indie'] = 3;
  const profile: Profile = { ...emptyProfile('me'), genres, topTracks: tracks[0]!, topArtists: artists[0]! };

  const kindWorld = (lists: Record<string, number>[]): KindWorld => {
    const neighbors: NeighborItems[] = lists.slice(1, 51).map((topItems, i) => ({
      userId: `u${i + 1}`,
      // One neighbour at similarity 0 (ignored) and a few exact ties.
      similarity: i === 7 ? 0 : i % 10 === 3 ? 0.5 : Math.round(random() * 1000) / 1000,
      topItems,
    }));
    const listeners = new Map<string, number>();
    const sets = lists.map((l) => Object.keys(l).filter((id) => l[id]! > 0));
    for (const s of sets) for (const id of s) listeners.set(id, (listeners.get(id) ?? 0) + 1);
    const similar = itemNeighborLists(sets.slice(0, 100), { alpha: 0.7, beta: 0.4, topK: 40 });
    const tags = new Map<string, Record<string, number>>();
    for (const id of listeners.keys()) {
      const t: Record<string, number> = {};
      const k = 1 + Math.floor(random() * 4);
      for (let j = 0; j < k; j++) t[`tag${Math.floor(random() * 60)}`] = 1 + Math.floor(random() * 100);
      tags.set(id, t);
    }
    const content = contentNeighborLists(tags, 30);
    // As the read API: the lists of the user's 50 strongest items only.
    const mine = lists[0]!;
    const seeds = new Set(
      Object.keys(mine)
        .sort((a, b) => mine[b]! - mine[a]! || (a < b ? -1 : 1))
        .slice(0, 50),
    );
    const catalog: CandidateItem[] = [];
    const known = [...listeners.keys()];
    for (const id of new Set(Array.from({ length: 180 }, () => known[Math.floor(random() * known.length)]!))) {
      const g: Record<string, number> = {};
      const a = WORLD_GENRES[Math.floor(random() * WORLD_GENRES.length)]!;
      const b = WORLD_GENRES[Math.floor(random() * WORLD_GENRES.length)]!;
      g[a] = 0.7;
      g[b] = (g[b] ?? 0) + 0.3;
      catalog.push({ id, genres: g, popularity: Math.floor(random() * 101) });
    }
    catalog.push({ id: 'lastfm-99999', genres: { indie: 1 }, popularity: 100 }); // known to nobody
    return {
      neighbors,
      listeners,
      itemNeighbors: (id) => (seeds.has(id) ? similar.get(id) : undefined),
      contentNeighbors: (id) => (seeds.has(id) ? content.get(id) : undefined),
      catalog,
    };
  };
  return { profile, track: kindWorld(tracks), artist: kindWorld(artists) };
}

/** Which optional inputs a case gives. */
interface Variant {
  name: string;
  listeners?: boolean;
  item?: boolean;
  content?: boolean;
  params?: Partial<RankingParams>;
}

const VARIANTS: Variant[] = [
  { name: 'user neighbours only' },
  { name: 'with listener counts', listeners: true },
  { name: 'with item lists', item: true },
  { name: 'with content lists', content: true },
  { name: 'everything', listeners: true, item: true, content: true },
  { name: 'everything, genre blend', listeners: true, item: true, content: true, params: { genreBlend: 0.3 } },
  { name: 'item lists given, ω = 0', item: true, content: true, params: { itemBlend: 0 } },
  {
    name: 'other exponents',
    listeners: true,
    item: true,
    params: { alpha: 2, itemExponent: 1, normalize: 'sum', beta: 1, minSimilarity: 0.2 },
  },
];

function inputsOf(world: World, kind: CandidateKind, v: Variant) {
  const k = world[kind];
  const common = {
    neighbors: k.neighbors,
    ...(v.listeners ? { popularity: k.listeners } : {}),
    ...(v.item ? { itemNeighbors: k.itemNeighbors } : {}),
    ...(v.content ? { contentNeighbors: k.contentNeighbors } : {}),
    ...(v.params ? { params: v.params } : {}),
  };
  const own = kind === 'track' ? world.profile.topTracks : world.profile.topArtists;
  const build: BuildCandidatesInput = { kind, ownItems: own, ...common };
  const recommendInput: RecommendInput = { profile: world.profile, kind, candidates: k.catalog, ...common };
  return { build, recommendInput };
}

const SEEDS = [1, 2, 3, 4, 5];
/** Per test: the first one to use a seed builds its world (item-model lists, ~1 s on a shared core). */
const WORLD_TIMEOUT = 60_000;
const KINDS: CandidateKind[] = ['track', 'artist'];

/**
 * `actual` ranks as `reference` up to score noise ≤ `tolerance`: same strategy, position-wise
 * scores within it, and every returned item is in `reference` (ranked further, so that items
 * swapped across the cut are found) with the same reasons and a score within it. Items whose
 * scores differ by less than the noise may swap places; nothing else may.
 */
function expectSameUpToNoise(actual: RecommendResult, reference: RecommendResult, limit: number, tolerance: number) {
  expect(actual.strategy).toBe(reference.strategy);
  expect(actual.items.length).toBe(Math.min(limit, reference.items.length));
  const byId = new Map(reference.items.map((r) => [r.id, r]));
  actual.items.forEach((item, i) => {
    expect(Math.abs(item.score - reference.items[i]!.score)).toBeLessThanOrEqual(tolerance);
    const ref = byId.get(item.id);
    expect(ref, item.id).toBeDefined();
    expect(item.reasons).toEqual(ref!.reasons);
    expect(Math.abs(item.score - ref!.score)).toBeLessThanOrEqual(tolerance);
  });
}

describe('rankCandidates on an untruncated list equals recommend()', () => {
  for (const kind of KINDS)
    for (const v of VARIANTS)
      it(`${kind}s, ${v.name}`, { timeout: WORLD_TIMEOUT }, () => {
        for (const seed of SEEDS) {
          const world = makeWorld(seed);
          const { build, recommendInput } = inputsOf(world, kind, v);
          const built = buildCandidates({ ...build, size: Number.POSITIVE_INFINITY });
          expect(built.droppedBest).toBe(0);
          expect(built.list.ids.length).toBe(built.total);
          for (const genre of [undefined, 'indie', 'Shoegaze', 'seen live'])
            for (const limit of [20, 5, 1000]) {
              const expected = recommend({ ...recommendInput, genre, limit });
              const actual = rankCandidates({
                kind,
                list: built.list,
                profile: world.profile,
                catalog: world[kind].catalog,
                genre,
                limit,
                ...(v.params ? { params: v.params } : {}),
              });
              // Same operations in the same order: bit-identical scores.
              expect(actual).toEqual(expected);
            }
          expect(recommend({ ...recommendInput, limit: 20 }).strategy).toBe('collaborative');
        }
      });
});

describe('with the default size', () => {
  for (const kind of KINDS)
    for (const v of VARIANTS.filter((x) => !x.params?.genreBlend))
      it(`keeps the top 20 of ${kind}s, ${v.name}`, { timeout: WORLD_TIMEOUT }, () => {
        for (const seed of SEEDS) {
          const world = makeWorld(seed);
          const { build, recommendInput } = inputsOf(world, kind, v);
          const built = buildCandidates(build);
          expect(built.total).toBeGreaterThan(DEFAULT_CANDIDATE_SIZE); // truncation does happen
          expect(built.list.ids.length).toBe(DEFAULT_CANDIDATE_SIZE);
          expect(built.droppedBest).toBeGreaterThan(0);
          const expected = recommend({ ...recommendInput, limit: 20 });
          const rank = (list: CandidateList) =>
            rankCandidates({
              kind,
              list,
              profile: world.profile,
              catalog: world[kind].catalog,
              limit: 20,
              ...(v.params ? { params: v.params } : {}),
            });
          expect(rank(built.list)).toEqual(expected);
          // Through the stored form: f32 scores (~1e-7 relative), u16 (≤ 8e-6 of each component's
          // max, amplified when the read-time max is smaller).
          const reference = recommend({ ...recommendInput, limit: 40 });
          expectSameUpToNoise(rank(unpackCandidates(packCandidates(built.list))), reference, 20, 1e-6);
          const u16 = unpackCandidates(packCandidates(built.list, { precision: 'u16' }));
          expectSameUpToNoise(rank(u16), reference, 20, 3e-5);
        }
      });

  it('filters a truncated list by genre: only allowed items of the genre, the same best one', {
    timeout: WORLD_TIMEOUT,
  }, () => {
    for (const seed of SEEDS)
      for (const kind of KINDS) {
        const world = makeWorld(seed);
        const { build, recommendInput } = inputsOf(world, kind, VARIANTS[4]!);
        const { list } = buildCandidates(build);
        const catalog = new Map(world[kind].catalog.map((c) => [c.id, c]));
        const own = kind === 'track' ? world.profile.topTracks : world.profile.topArtists;
        for (const genre of ['indie', 'rock']) {
          const expected = recommend({ ...recommendInput, genre });
          const actual = rankCandidates({ kind, list, profile: world.profile, catalog: world[kind].catalog, genre });
          expect(actual.strategy).toBe(expected.strategy);
          expect(actual.items[0]).toEqual(expected.items[0]);
          for (const { id } of actual.items) {
            expect(own[id]).toBeUndefined();
            expect(itemHasGenre(catalog.get(id)!.genres, genre)).toBe(true);
          }
        }
      }
  });

  it('keeps every component maximum even for a tiny size', { timeout: WORLD_TIMEOUT }, () => {
    const world = makeWorld(9);
    const { build } = inputsOf(world, 'track', VARIANTS[4]!);
    const full = buildCandidates({ ...build, size: Number.POSITIVE_INFINITY }).list;
    const tiny = buildCandidates({ ...build, size: 3 }).list;
    expect(tiny.ids.length).toBe(3);
    for (const key of ['collab', 'item', 'content'] as const)
      expect(Math.max(...tiny[key]!)).toBe(Math.max(...full[key]!));
    expect(buildCandidates({ ...build, size: 0 }).list.ids).toEqual([]);
    expect(() => buildCandidates({ ...build, size: Number.NaN })).toThrow(/invalid candidate list size NaN/);
  });
});

describe('read time sees what just changed', () => {
  for (const kind of KINDS)
    it(`excludes a ${kind} played after the build`, { timeout: WORLD_TIMEOUT }, () => {
      for (const seed of SEEDS) {
        const world = makeWorld(seed);
        const { build, recommendInput } = inputsOf(world, kind, VARIANTS[4]!);
        for (const size of [Number.POSITIVE_INFINITY, DEFAULT_CANDIDATE_SIZE]) {
          const { list } = buildCandidates({ ...build, size });
          const before = rankCandidates({ kind, list, profile: world.profile, catalog: world[kind].catalog });
          const played = before.items[0]!.id;
          const key = kind === 'track' ? 'topTracks' : 'topArtists';
          const now: Profile = { ...world.profile, [key]: { ...world.profile[key], [played]: 1 } };
          const after = rankCandidates({ kind, list, profile: now, catalog: world[kind].catalog });
          expect(after.items.map((i) => i.id)).not.toContain(played);
          // = recommend() with the fresh play excluded (its item lists wait for the next build).
          const expected = recommend({ ...recommendInput, exclude: new Set(Object.keys(now[key])) });
          expect(after).toEqual(expected);
          // An extra exclusion set acts the same way.
          const extra = new Set([before.items[1]!.id]);
          const withExtra = rankCandidates({ kind, list, profile: now, exclude: extra, catalog: world[kind].catalog });
          expect(withExtra).toEqual(
            recommend({ ...recommendInput, exclude: new Set([...Object.keys(now[key]), ...extra]) }),
          );
        }
      }
    });
});

describe('empty and missing lists', () => {
  const catalog: CandidateItem[] = [
    { id: 'S1', genres: { shoegaze: 1 }, popularity: 70 },
    { id: 'I1', genres: { indie: 1 }, popularity: 99 },
    { id: 'J1', genres: { jazz: 1 }, popularity: 40 },
  ];
  const profile: Profile = { ...emptyProfile('me'), genres: { shoegaze: 2 }, topTracks: { S1: 1 } };

  it('builds an empty list without neighbours or item lists', () => {
    const built = buildCandidates({ kind: 'track', ownItems: profile.topTracks, neighbors: [] });
    expect(built).toEqual({
      list: {
        kind: 'track',
        ids: [],
        collab: new Float64Array(0),
        supporters: new Uint16Array(0),
        item: undefined,
        content: undefined,
      },
      total: 0,
      droppedBest: 0,
    });
    const round = unpackCandidates(packCandidates(built.list));
    expect(round).toEqual(built.list);
  });

  it('falls back to genre and popular items as recommend() does', () => {
    const { list } = buildCandidates({ kind: 'track', ownItems: profile.topTracks, neighbors: [] });
    for (const p of [profile, emptyProfile('new'), undefined])
      for (const l of [list, undefined])
        for (const genre of [undefined, 'indie', 'nonsense']) {
          const expected = recommend({ profile: p, kind: 'track', candidates: catalog, genre });
          expect(rankCandidates({ kind: 'track', list: l, profile: p, catalog, genre })).toEqual(expected);
        }
    expect(rankCandidates({ kind: 'artist' })).toEqual({ items: [], strategy: 'popular' });
  });

  it('rejects a list of the other kind', () => {
    const { list } = buildCandidates({ kind: 'track', ownItems: {}, neighbors: [] });
    expect(() => rankCandidates({ kind: 'artist', list })).toThrow(/for tracks, asked for artists/);
  });
});

// ---------------------------------------------------------------------------------------------
// Codec

/** 300 candidates with `lastfm-12345` ids, every component present, up to 50 supporters. */
function syntheticList(kind: CandidateKind, seed: number, n = 300): CandidateList {
  const random = rng(seed);
  const ids = new Set<string>();
  while (ids.size < n) ids.add(`lastfm-${10000 + Math.floor(random() * 90000)}`);
  const sorted = [...ids].sort();
  const score = () => (random() < 0.2 ? 0 : random() ** 3 * 2);
  const supporters = Uint16Array.from(sorted, () => (random() < 0.2 ? 0 : 1 + Math.floor(random() * 50)));
  return {
    kind,
    ids: sorted,
    collab: Float64Array.from(supporters, (s) => (s > 0 ? score() || 0.5 : 0)),
    supporters,
    item: Float64Array.from(sorted, score),
    content: Float64Array.from(sorted, score),
  };
}

describe('codec', () => {
  it('round-trips a list with f32 scores', () => {
    const list = syntheticList('artist', 1);
    const back = unpackCandidates(packCandidates(list));
    expect(back.kind).toBe('artist');
    expect(back.ids).toEqual(list.ids);
    expect(back.supporters).toEqual(list.supporters);
    for (const key of ['collab', 'item', 'content'] as const)
      expect(back[key]).toEqual(Float64Array.from(list[key]!, Math.fround));
  });

  it('round-trips u16 scores within half a step of scale / 65535, keeping zeros and positives apart', () => {
    const list = syntheticList('track', 2);
    const back = unpackCandidates(packCandidates(list, { precision: 'u16' }));
    expect(back.ids).toEqual(list.ids);
    for (const key of ['collab', 'item', 'content'] as const) {
      const v = list[key]!;
      const max = Math.max(...v);
      const step = max / 65535;
      v.forEach((x, i) => {
        // Rounded to the nearest step, except that a positive value never rounds down to 0.
        const bound = x > 0 && x < step / 2 ? step : step / 2;
        expect(Math.abs(back[key]![i]! - x)).toBeLessThanOrEqual(bound + 1e-7 * max);
        expect(back[key]![i]! > 0).toBe(x > 0);
      });
    }
  });

  it('keeps absent components absent, wide supporter counts, non-ASCII ids and any id order', () => {
    const list: CandidateList = {
      kind: 'track',
      // Shared prefixes over multi-byte UTF-8 characters and surrogate pairs (🎵 / 🎶 share a high surrogate).
      ids: ['zz', 'ä-track', 'ä-trick', 'ã', '🎵', '🎵x', '🎶', '', 'z', 'za'],
      collab: Float64Array.from([1, 0.5, 0.25, 0, 2, 3, 1, 0, 1, 1]),
      supporters: Uint16Array.from([300, 1, 2, 0, 65535, 1, 1, 0, 1, 1]),
    };
    expect(unpackCandidates(packCandidates(list))).toEqual({ ...list, item: undefined, content: undefined });
    const random = rng(21);
    const alphabet = ['a', 'b', '-', '1', 'é', 'ж', '中', '🎵'];
    for (let t = 0; t < 200; t++) {
      const ids = Array.from({ length: 1 + Math.floor(random() * 12) }, () =>
        Array.from({ length: Math.floor(random() * 6) }, () => alphabet[Math.floor(random() * alphabet.length)]).join(
          '',
        ),
      );
      if (random() < 0.5) ids.sort();
      const back = unpackCandidates(
        packCandidates({
          kind: 'artist',
          ids,
          collab: new Float64Array(ids.length),
          supporters: new Uint16Array(ids.length),
        }),
      );
      expect(back.ids).toEqual(ids);
    }
  });

  it('round-trips a set of both kinds and reports its size', () => {
    const set = {
      track: syntheticList('track', 3),
      artist: syntheticList('artist', 4),
      modelId: '2026-12-02T00:00:00Z#41',
      builtAt: 1_795_000_000_123,
      profileVersion: 123_456,
    };
    const f32 = packCandidateSet(set);
    const u16 = packCandidateSet(set, { precision: 'u16' });
    const back = unpackCandidateSet(f32);
    expect(back.modelId).toBe(set.modelId);
    expect(back.builtAt).toBe(set.builtAt);
    expect(back.profileVersion).toBe(set.profileVersion);
    expect(back.track!.ids).toEqual(set.track.ids);
    expect(back.artist!.supporters).toEqual(set.artist.supporters);
    expect(unpackCandidateSet(u16).artist!.ids).toEqual(set.artist.ids);
    // 300 candidates per kind: ~1.5 KB of front-coded ids, 3 × 1.2 KB of f32 scores, 300 B of supporters.
    expect(f32.length).toBeLessThan(11_500);
    expect(u16.length).toBeLessThan(8_000);
    console.info(`candidate set, 2 × 300 candidates: ${f32.length} B (f32 scores), ${u16.length} B (u16 scores)`);

    const partial = unpackCandidateSet(packCandidateSet({ artist: set.artist, builtAt: 0, profileVersion: 0 }));
    expect(partial.track).toBeUndefined();
    expect(partial.modelId).toBeUndefined();
    expect(partial.artist!.ids).toEqual(set.artist.ids);
  });

  it('throws a clear error on truncated, padded or garbage buffers', () => {
    const set = packCandidateSet({ track: syntheticList('track', 5, 20), modelId: 'm', builtAt: 1, profileVersion: 2 });
    for (let n = 0; n < set.length; n++)
      expect(() => unpackCandidateSet(set.subarray(0, n)), `prefix of ${n} bytes`).toThrow(/^candidate (set|list): /);
    expect(() => unpackCandidateSet(set.subarray(0, 30))).toThrow(/truncated/);
    expect(() => unpackCandidateSet(Uint8Array.from([...set, 0]))).toThrow(/^candidate set: trailing bytes$/);
    expect(() => unpackCandidateSet(Uint8Array.from([7, ...set.subarray(1)]))).toThrow(
      /^candidate set: unsupported version 7/,
    );
    expect(() => unpackCandidates(Uint8Array.from([2, 0, 0, 0]))).toThrow(
      /^candidate list: unsupported list version 2/,
    );
    expect(() => unpackCandidates(Uint8Array.from([1, 5, 0, 0]))).toThrow(/invalid kind 5/);
    expect(() => unpackCandidates(Uint8Array.from([1, 0, 0, 1, 5, 0]))).toThrow(/front-coded string shares 5 of 0/);
    const random = rng(11);
    for (let t = 0; t < 200; t++) {
      const garbage = Uint8Array.from({ length: Math.floor(random() * 64) }, () => Math.floor(random() * 256));
      expect(() => unpackCandidateSet(garbage)).toThrow(/^candidate (set|list): /);
    }
  });

  it('rejects what it cannot encode', () => {
    const list = syntheticList('track', 6, 3);
    expect(() => packCandidates({ ...list, item: new Float64Array(2) })).toThrow(/3 ids but 2 item values/);
    expect(() => packCandidateSet({ artist: list, builtAt: 0, profileVersion: 0 })).toThrow(/artist list holds tracks/);
    expect(() => packCandidateSet({ builtAt: 0, profileVersion: -1 })).toThrow(/varint out of range/);
    expect(() => packCandidates({ ...list, collab: Float64Array.from([1, -1, 0]) }, { precision: 'u16' })).toThrow(
      /cannot quantize/,
    );
  });
});
