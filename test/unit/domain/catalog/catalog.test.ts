import { describe, expect, it } from 'vitest';
import {
  artistItemId,
  type CatalogItem,
  catalogItemId,
  catalogItemsOf,
  genreKey,
  itemKey,
  parseItemKey,
  tagCounts,
  trackItemId,
  upsertItemId,
} from '../../../../shared/domain/catalog/catalog.ts';
import { CatalogRecordV1 } from '../../../../shared/domain/events/events.ts';

const TS = Date.UTC(2024, 5, 1);

describe('keys', () => {
  it('are `t#` / `a#` and the id, for items and for the popularity index', () => {
    expect(trackItemId('trk-1')).toBe('t#trk-1');
    expect(artistItemId('art-1')).toBe('a#art-1');
    expect(catalogItemId('track', 'x')).toBe(itemKey('t', 'x'));
    expect(catalogItemId('artist', 'x')).toBe(itemKey('a', 'x'));
    expect(genreKey('track', 'rock')).toBe('t#rock');
    expect(genreKey('artist', 'rock')).toBe('a#rock');
    expect(upsertItemId({ trackId: 'trk-1' })).toBe('t#trk-1');
    expect(upsertItemId({ artistId: 'art-1' })).toBe('a#art-1');
  });
  it('parse back to kind and id; other keys of the table are not items', () => {
    expect(parseItemKey('t#spotify:abc#1')).toEqual({ kind: 't', id: 'spotify:abc#1' });
    expect(parseItemKey('a#x')).toEqual({ kind: 'a', id: 'x' });
    for (const other of ['n#a#bjork', 'x#mbid:123', 'model#t', 'tx', '']) expect(parseItemKey(other)).toBeUndefined();
  });
});

describe('catalogItemsOf', () => {
  it('explicit genres win over tags', () => {
    const [t] = catalogItemsOf(
      CatalogRecordV1.parse({
        trackId: 't1',
        title: 'Song',
        artistName: 'Band',
        genres: ['shoegaze', 'dream pop'],
        tags: [{ tag: 'metal', count: 100 }],
        updatedAt: TS,
      }),
    );
    expect(t!.genres).toEqual({ shoegaze: 1 });
    expect(t!.primaryGenre).toBe('shoegaze');
    expect(t!.genreKey).toBe('t#shoegaze');
    expect(t!.updatedAt).toBe(TS);
    expect(t!.popularity).toBe(0);
  });
  it('falls back to tags and accepts weight records', () => {
    const [c] = catalogItemsOf(
      CatalogRecordV1.parse({
        trackId: 't',
        title: 'x',
        artistName: 'a',
        tags: ['rap', 'seen live', 'rnb'],
        updatedAt: TS,
      }),
    );
    expect(c!.genres).toEqual({ 'hip-hop': 0.5, rnb: 0.5 });
    const [w] = catalogItemsOf({
      trackId: 't',
      title: 'x',
      artistName: 'a',
      genres: { rock: 3, indie: 1 },
      updatedAt: TS,
    });
    expect(w!.genres).toEqual({ rock: 0.75, indie: 0.25 });
  });
  it('stores a track and seeds its artist (updatedAt 0, so any real upsert of the artist wins)', () => {
    const items = catalogItemsOf({
      trackId: 'trk-1',
      title: 'Song',
      artistId: 'art-1',
      artistName: 'Band',
      genres: ['rock'],
      tags: ['Rock', 'live'],
      durationMs: 200_000,
      popularity: 30,
      updatedAt: TS,
    });
    expect(items).toEqual<CatalogItem[]>([
      {
        itemId: 't#trk-1',
        kind: 'track',
        id: 'trk-1',
        name: 'Song',
        artistId: 'art-1',
        artistName: 'Band',
        genres: { rock: 1 },
        primaryGenre: 'rock',
        genreKey: 't#rock',
        popularity: 30,
        durationMs: 200_000,
        tags: { live: 1, rock: 1 },
        updatedAt: TS,
      },
      {
        itemId: 'a#art-1',
        kind: 'artist',
        id: 'art-1',
        name: 'Band',
        genres: { rock: 1 },
        primaryGenre: 'rock',
        genreKey: 'a#rock',
        popularity: 30,
        updatedAt: 0,
      },
    ]);
    expect(catalogItemsOf({ trackId: 't', title: 'x', artistName: 'a', updatedAt: TS })).toEqual([
      { itemId: 't#t', kind: 'track', id: 't', name: 'x', artistName: 'a', genres: {}, popularity: 0, updatedAt: TS },
    ]);
  });
  it('builds artists from tags, keeping the raw tag counts for content lists', () => {
    const items = catalogItemsOf({
      artistId: 'a1',
      name: 'A',
      tags: [
        { tag: 'techno', count: 5 },
        { tag: 'Berlin', count: 2 },
      ],
      popularity: 40,
      updatedAt: TS,
    });
    expect(items).toEqual([
      {
        itemId: 'a#a1',
        kind: 'artist',
        id: 'a1',
        name: 'A',
        genres: { techno: 1 },
        primaryGenre: 'techno',
        genreKey: 'a#techno',
        popularity: 40,
        tags: { techno: 5, berlin: 2 },
        updatedAt: TS,
      },
    ]);
  });
});

describe('tagCounts', () => {
  it('normalizes, sums repeats and keeps the strongest', () => {
    expect(
      tagCounts([{ tag: 'Rock' }, { tag: ' rock ' }, { tag: 'Post  Rock', count: 5 }, { tag: '', count: 3 }]),
    ).toEqual({
      'post rock': 5,
      rock: 2,
    });
    expect(
      tagCounts(
        [
          { tag: 'a', count: 1 },
          { tag: 'b', count: 2 },
          { tag: 'c', count: 2 },
        ],
        2,
      ),
    ).toEqual({ b: 2, c: 2 });
    expect(tagCounts(undefined)).toBeUndefined();
    expect(tagCounts([{ tag: 'x', count: 0 }])).toBeUndefined();
  });
});
