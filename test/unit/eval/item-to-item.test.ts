import { describe, expect, it } from 'vitest';
import { itemNeighborLists } from '../../../shared/domain/item-model/item-neighbors.ts';
import type { PreparedItems } from '../../../shared/domain/ranking/types.ts';
import type { EvalData } from '../../../tools/eval/evaluate.ts';
import { itemToItemCheck } from '../../../tools/eval/item-to-item.ts';

const list = (entries: [string, number][]): PreparedItems => ({
  ids: entries.map(([id]) => id),
  weights: Float64Array.from(entries.map(([, w]) => w)),
});

// u1 plays a (many plays) and b, and went on to play c; u2 plays b and d, and went on to play e.
const data: EvalData = {
  train: [
    { user: 'u1', item: 'a', plays: 9 },
    { user: 'u1', item: 'b', plays: 1 },
    { user: 'u2', item: 'b', plays: 1 },
    { user: 'u2', item: 'd', plays: 5 },
    { user: 'u3', item: 'c', plays: 1 },
  ],
  test: [
    { user: 'u1', item: 'c', plays: 1 },
    { user: 'u2', item: 'e', plays: 1 },
  ],
  items: ['a', 'b', 'c', 'd', 'e'],
  genres: new Map(),
  k: 1,
};

describe('itemToItemCheck', () => {
  it("seeds by every training artist and by the strongest, leaving out the seed and the user's own artists", () => {
    // The product's lists: a's first neighbour is b (u1's own: skipped), then c (held out: a hit);
    // b's first neighbour is a, then d; d's is e. Content fills only after co-listening.
    const model = {
      similar: new Map([
        [
          'a',
          list([
            ['b', 3],
            ['c', 1],
          ]),
        ],
        [
          'b',
          list([
            ['a', 2],
            ['d', 1],
          ]),
        ],
        ['d', list([['e', 1]])],
      ]),
      content: new Map([['b', list([['e', 1]])]]),
    };
    const r = itemToItemCheck(data, model, { alpha: 1, beta: 0, topK: 10 });
    expect(r.users).toBe(2);
    expect(r.everySeed.queries).toBe(4);
    expect(r.strongestSeed.queries).toBe(2);
    // u1: seed a → c (hit), seed b → a is own, d is not held out (miss): 1/2. u2: seed b → a (miss),
    // seed d → e (hit): 1/2.
    expect(r.everySeed.product.hitRate).toBeCloseTo(0.5, 12);
    expect(r.everySeed.product.meanLength).toBe(1);
    // Strongest: u1's a (9 plays) → c, a hit; u2's d (5 plays) → e, a hit.
    expect(r.strongestSeed.product.hitRate).toBe(1);
    expect(r.strongestSeed.product.recall).toBe(1);
    // RP3beta's lists from the training sets never link a or d to c or e (no one played them
    // together): no hits, and answers short of k once own artists are left out (not padded).
    expect(r.everySeed.rp3beta.hitRate).toBe(0);
    expect(r.everySeed.rp3beta.meanLength).toBe(0.5);
  });

  it("scores the same as RP3beta when the product's co-listening lists are RP3beta's", () => {
    const users = new Map<string, string[]>();
    for (const r of data.train) users.set(r.user, [...(users.get(r.user) ?? []), r.item]);
    const rp3 = { alpha: 0.7, beta: 0.4, topK: 200 };
    const r = itemToItemCheck(data, { similar: itemNeighborLists(users.values(), rp3), content: new Map() }, rp3);
    expect(r.everySeed.product).toEqual(r.everySeed.rp3beta);
    expect(r.strongestSeed.product).toEqual(r.strongestSeed.rp3beta);
  });
});
