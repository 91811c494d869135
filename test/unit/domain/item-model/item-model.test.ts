import { describe, expect, it } from 'vitest';
import { packCounts, packList, unpackCounts, unpackList } from '../../../../shared/domain/item-model/item-model.ts';

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
