/**
 * The loader's diff (pure): which lists a build writes and deletes against what is stored.
 */
import { describe, expect, it } from 'vitest';
import type { StoredLists } from '../../../shared/adapters/dynamodb/item-model.ts';
import { diffLists, listDrift, sameList } from '../../../shared/batch/item-model-loader.ts';
import { emptyKind } from '../../../shared/batch/item-model-result.ts';
import { packList } from '../../../shared/domain/item-model/item-model.ts';

const list = (ids: string[], weights: number[]) => ({ ids, weights: Float64Array.from(weights) });

describe('diffLists', () => {
  const model = emptyKind();
  model.similar.set('x', list(['y', 'z'], [0.5, 0.25]));
  model.similar.set('y', list(['x'], [0.5]));
  model.content.set('z', list(['x'], [0.9]));
  model.listeners.set('x', 3);

  it('writes nothing for lists equal up to float noise; rewrites changed, legacy (TTL) ones; deletes dropped ones', () => {
    const stored = new Map<string, StoredLists>([
      ['a#x', { itemId: 'a#x', similar: packList(list(['y', 'z'], [0.5 * (1 + 1e-12), 0.25])) }],
      ['a#y', { itemId: 'a#y', similar: packList(list(['x'], [0.5])), expiresAt: 1 }],
      ['a#z', { itemId: 'a#z', content: packList(list(['y'], [0.9])) }],
      ['a#gone', { itemId: 'a#gone', similar: packList(list(['x'], [1])) }],
      ['t#other-kind', { itemId: 't#other-kind', similar: packList(list(['x'], [1])) }],
    ]);
    const d = diffLists('a', model, stored, 'm1');
    expect(d.puts.map((p) => p.itemId).sort()).toEqual(['a#y', 'a#z']);
    expect(d.deletes).toEqual(['a#gone']);
    expect(d).toMatchObject({ items: 3, withSimilar: 2, withContent: 1 });
    expect(diffLists('a', model, new Map(), 'm1').puts).toHaveLength(3);
  });

  it('sameList: order and ids matter, float32 noise does not', () => {
    const a = packList(list(['p', 'q'], [0.5, 0.4]));
    expect(sameList(a, packList(list(['p', 'q'], [0.5 + 1e-12, 0.4])))).toBe(true);
    expect(sameList(a, packList(list(['q', 'p'], [0.5, 0.4])))).toBe(false);
    expect(sameList(a, packList(list(['p', 'q'], [0.5, 0.41])))).toBe(false);
    expect(sameList(a, undefined)).toBe(false);
    expect(sameList(undefined, undefined)).toBe(true);
  });

  it('listDrift: the largest weight change relative to the top weight; a tolerance keeps close lists', () => {
    const a = packList(list(['p', 'q', 'r'], [1, 0.5, 0.01]));
    expect(listDrift(a, a)).toBe(0);
    // Every weight 1 % up: 0.01 of the top.
    expect(listDrift(a, packList(list(['p', 'q', 'r'], [1.01, 0.505, 0.0101])))).toBeCloseTo(0.01 / 1.01, 6);
    // A tail neighbour swapped for another of the same weight: 0.01 of the top.
    expect(listDrift(a, packList(list(['p', 'q', 's'], [1, 0.5, 0.01])))).toBeCloseTo(0.01, 6);
    // A new strong neighbour.
    expect(listDrift(a, packList(list(['s', 'p', 'q'], [0.9, 0.8, 0.5])))).toBeCloseTo(0.9, 6);
    expect(sameList(a, packList(list(['p', 'q', 's'], [1, 0.5, 0.01])), 0.02)).toBe(true);
    expect(sameList(a, packList(list(['p', 'q', 'r'], [1, 0.45, 0.01])), 0.02)).toBe(false);
    // diffLists applies it.
    const model = emptyKind();
    model.similar.set('x', list(['p', 'q', 'r'], [1.01, 0.5, 0.01]));
    const stored = new Map<string, StoredLists>([['a#x', { itemId: 'a#x', similar: a }]]);
    expect(diffLists('a', model, stored, 'm2').puts).toHaveLength(1);
    expect(diffLists('a', model, stored, 'm2', 0.02).puts).toHaveLength(0);
  });
});
