import { describe, expect, it } from 'vitest';
import { GENRE_COUNT, GENRE_INDEX } from '../../../shared/domain/genres.ts';
import { emptyProfile } from '../../../shared/domain/profile/profile.ts';
import { cosine, genreVector, similarity, tasteFeatures, tasteVector } from '../../../shared/domain/similarity.ts';

function profile(genres: Record<string, number>, topArtists: Record<string, number>) {
  return { ...emptyProfile('u'), genres, topArtists };
}

describe('cosine', () => {
  it('dense', () => {
    expect(cosine(Float64Array.of(1, 0), Float64Array.of(0, 1))).toBe(0);
    expect(cosine(Float64Array.of(1, 1), Float64Array.of(2, 2))).toBeCloseTo(1, 12);
    expect(cosine(Float64Array.of(1, 0), Float64Array.of(1, 1))).toBeCloseTo(Math.SQRT1_2, 12);
    expect(cosine(Float64Array.of(0, 0), Float64Array.of(1, 1))).toBe(0);
  });
  it('sparse maps and records', () => {
    expect(
      cosine(
        new Map([
          ['a', 1],
          ['b', 1],
        ]),
        { b: 3, c: 4 },
      ),
    ).toBeCloseTo(3 / (Math.SQRT2 * 5), 12);
    expect(cosine({}, { a: 1 })).toBe(0);
  });
  it('dense vs genre record', () => {
    expect(cosine(genreVector({ rock: 1 }), { rock: 2, pop: 0 })).toBeCloseTo(1, 12);
  });
});

describe('taste vectors', () => {
  it('clamps negatives and L2-normalizes', () => {
    const v = tasteVector({ genres: { rock: 3, pop: 4, jazz: -2, notagenre: 9 } });
    expect(v).toHaveLength(GENRE_COUNT);
    expect(v[GENRE_INDEX['rock']!]).toBeCloseTo(0.6, 12);
    expect(v[GENRE_INDEX['pop']!]).toBeCloseTo(0.8, 12);
    expect(v[GENRE_INDEX['jazz']!]).toBe(0);
  });
});

describe('similarity', () => {
  const a = profile({ rock: 1, indie: 1 }, { x: 2, y: 1 });
  const b = profile({ rock: 1, indie: 1 }, { x: 2, y: 1 });
  const c = profile({ rock: 1, indie: 1 }, { z: 1 });
  const d = profile({ jazz: 1 }, { q: 1 });
  it('blends genre and artist cosine', () => {
    expect(similarity(a, b)).toBeCloseTo(1, 12);
    expect(similarity(a, c)).toBeCloseTo(0.5, 12);
    expect(similarity(a, d)).toBe(0);
    expect(similarity(a, c, { genreWeight: 1, artistWeight: 0 })).toBeCloseTo(1, 12);
    expect(similarity(tasteFeatures(a), tasteFeatures(c), { genreWeight: 0, artistWeight: 1 })).toBe(0);
  });
});
