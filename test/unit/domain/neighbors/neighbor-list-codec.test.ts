import { describe, expect, it } from 'vitest';
import { CodecError } from '../../../../shared/domain/binary.ts';
import {
  decodeNeighborListState,
  encodeNeighborListState,
  type NeighborListState,
} from '../../../../shared/domain/neighbors/neighbor-list-codec.ts';
import { indexRewriteDue } from '../../../../shared/domain/neighbors/refresh-policy.ts';
import { artistSketchKey, encodeArtistSketch, encodeVector } from '../../../../shared/domain/neighbors/taste-codec.ts';
import { genreVector } from '../../../../shared/domain/similarity.ts';

const state = (n: number): NeighborListState => ({
  neighbors: Array.from({ length: n }, (_, i) => ({
    userId: i % 3 === 0 ? `user-${i}-ü` : `lastfm-${10_000 + i * 13}`,
    similarity: Math.round((0.95 - i * 0.0123) * 1e6) / 1e6,
  })),
  refreshedAt: 1_790_000_123_456,
  snapshot: '1:999,4:300',
  cell: 'rock/pop/1',
  indexedVec: '1:999,4:301',
  indexedArtistsKey: 4_000_000_001,
  candidatesModelId: 'a-20261202|t-20261202',
  candidatesTopKey: 3_141_592_653,
});

describe('neighbour list codec', () => {
  it('round-trips similarities (6 decimals) and order, with non-ASCII ids', () => {
    for (const n of [0, 1, 50])
      expect(decodeNeighborListState('u', encodeNeighborListState(state(n)))).toEqual(state(n));
  });

  it('keeps a K = 50 list of Last.fm-like ids well under one write unit', () => {
    expect(encodeNeighborListState(state(50)).byteLength).toBeLessThan(700);
  });

  it('rejects damaged values', () => {
    const bytes = encodeNeighborListState(state(5));
    expect(() => decodeNeighborListState('u', bytes.slice(0, 20))).toThrow(CodecError);
    expect(() => decodeNeighborListState('u', Uint8Array.from([2, ...bytes.slice(1)]))).toThrow(/version 2/);
  });
});

describe('index rewrites', () => {
  const vec = (g: Record<string, number>) => genreVector(g);
  const sketch = encodeArtistSketch({ a: 9, b: 8, c: 7, d: 1 });

  it('keys a sketch by its strongest artists as a set, not their weights', () => {
    expect(artistSketchKey(sketch)).toBe(artistSketchKey(encodeArtistSketch({ a: 5, b: 9, c: 8, d: 2 })));
    expect(artistSketchKey(sketch)).not.toBe(artistSketchKey(encodeArtistSketch({ a: 9, b: 8, x: 7 })));
    expect(artistSketchKey(undefined)).toBe(0);
  });

  it('rewrites on a new cell, new strongest artists, a large drift or an unknown entry — not on a small drift', () => {
    const v = vec({ rock: 1, pop: 0.5 });
    const indexed = { cell: 'rock/pop/2', indexedVec: encodeVector(v), indexedArtistsKey: artistSketchKey(sketch) };
    const next = { cell: 'rock/pop/2', vector: vec({ rock: 1, pop: 0.51 }), artistsKey: artistSketchKey(sketch) };
    expect(indexRewriteDue(indexed, next, 0.01)).toBe(false);
    expect(indexRewriteDue(indexed, { ...next, cell: 'rock/pop/3' }, 0.01)).toBe(true);
    expect(indexRewriteDue(indexed, { ...next, artistsKey: 42 }, 0.01)).toBe(true);
    expect(indexRewriteDue(indexed, { ...next, vector: vec({ rock: 1, jazz: 1 }) }, 0.01)).toBe(true);
    expect(indexRewriteDue({ ...indexed, indexedVec: '' }, next, 0.01)).toBe(true);
    expect(indexRewriteDue(undefined, next, 0.01)).toBe(true);
  });
});
