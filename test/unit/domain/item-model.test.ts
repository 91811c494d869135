import { describe, expect, it } from 'vitest';
import {
  ItemModelBuilder,
  packCounts,
  packList,
  UserSample,
  unpackCounts,
  unpackList,
} from '../../../shared/domain/item-model.ts';
import { itemNeighborLists } from '../../../shared/domain/item-neighbors.ts';

describe('UserSample', () => {
  const users = Array.from({ length: 500 }, (_, i) => `user-${i}`);

  it('keeps everyone below the bound', () => {
    const s = new UserSample<string>(1000);
    for (const u of users) s.offer(u, u);
    expect(s.size).toBe(500);
  });

  it('keeps at most max users, the same ones whatever the order', () => {
    const forward = new UserSample<string>(100);
    const backward = new UserSample<string>(100);
    for (const u of users) forward.offer(u, u);
    for (const u of [...users].reverse()) backward.offer(u, u);
    expect(forward.size).toBeLessThanOrEqual(100);
    expect(forward.size).toBeGreaterThan(25); // halving keeps more than a quarter in expectation
    expect(new Set(forward.values())).toEqual(new Set(backward.values()));
  });

  it('rejects a bound below 1', () => {
    expect(() => new UserSample(0)).toThrow(/at least 1/);
  });
});

describe('ItemModelBuilder', () => {
  it('counts listeners from positive scores and builds the same lists as itemNeighborLists', () => {
    const b = new ItemModelBuilder({ alpha: 1, beta: 0, topK: 10, contentTopK: 5, maxUsers: 100 });
    b.addUser('u1', { a: 1, b: 2, c: 0 });
    b.addUser('u2', { a: 1, c: 3 });
    b.addUser('u3', {});
    const m = b.build(
      new Map<string, Record<string, number>>([
        ['a', { rock: 2, indie: 1 }],
        ['b', { rock: 1 }],
        ['c', { jazz: 4 }],
      ]),
    );
    expect(m.users).toBe(2);
    expect(m.sampledUsers).toBe(2);
    expect(Object.fromEntries(m.listeners)).toEqual({ a: 2, b: 1, c: 1 });
    const direct = itemNeighborLists(
      [
        ['a', 'b'],
        ['a', 'c'],
      ],
      { alpha: 1, beta: 0, topK: 10 },
    );
    expect(m.similar.get('a')).toEqual(direct.get('a'));
    // a → b: P(u1 | a) · P(b | u1) = 1/2 · 1/2
    expect(m.similar.get('a')!.weights[0]).toBeCloseTo(0.25);
    // Content: a shares "rock" with b, nothing with c.
    expect(m.content.get('a')!.ids).toEqual(['b']);
    expect(m.content.get('c')!.ids).toEqual([]);
  });
});

describe('packed lists and counts', () => {
  it('round-trips a list (weights at float32 precision)', () => {
    const list = { ids: ['x', 'y', 'ünïcode'], weights: Float64Array.from([0.5, 0.25, 1e-7]) };
    const back = unpackList(packList(list));
    expect(back.ids).toEqual(list.ids);
    expect([...back.weights].map((w, i) => w / list.weights[i]!)).toEqual([1, 1, expect.closeTo(1, 6)]);
    expect(unpackList(packList({ ids: [], weights: new Float64Array() })).ids).toEqual([]);
  });

  it('refuses ids containing the separator', () => {
    expect(() => packList({ ids: ['a\u001fb'], weights: Float64Array.from([1]) })).toThrow(/separator/);
  });

  it('shards counts by size and reads them back', () => {
    const counts = new Map(Array.from({ length: 1000 }, (_, i) => [`artist-${i}`, i + 1] as [string, number]));
    const shards = packCounts(counts, 2000);
    expect(shards.length).toBeGreaterThan(5);
    for (const s of shards) expect(s.ids.length + s.counts.byteLength).toBeLessThanOrEqual(2000);
    expect(unpackCounts(shards)).toEqual(counts);
  });

  it('detects a truncated shard', () => {
    const [s] = packCounts(
      new Map([
        ['a', 1],
        ['b', 2],
      ]),
    );
    expect(() => unpackCounts([{ ids: s!.ids, counts: s!.counts.slice(0, 4) }])).toThrow(/2 ids but 1 counts/);
  });
});
