import { describe, expect, it } from 'vitest';
import { archiveKey, groupForArchive, hourPartition } from '../../../../shared/domain/events/archive.ts';

describe('archive layout', () => {
  it('hour partitions are UTC and zero-padded', () => {
    expect(hourPartition(Date.UTC(2024, 0, 5, 7, 59, 59, 999))).toBe('year=2024/month=01/day=05/hour=07');
    expect(hourPartition(Date.UTC(2024, 11, 31, 23, 0))).toBe('year=2024/month=12/day=31/hour=23');
  });

  it('keys name the topic-partition and the offset range', () => {
    expect(archiveKey(Date.UTC(2024, 4, 1, 10), 'listen-events', 3, 17, 42)).toBe(
      'year=2024/month=05/day=01/hour=10/listen-events-3-17-42.jsonl',
    );
  });

  it('groups by (hour, topic-partition), offsets ascending; same input → same keys', () => {
    const h10 = Date.UTC(2024, 4, 1, 10, 30);
    const h11 = Date.UTC(2024, 4, 1, 11, 1);
    const items = [
      { topic: 't', partition: 0, offset: 9, ts: h10, value: 'c' },
      { topic: 't', partition: 0, offset: 5, ts: h10, value: 'a' },
      { topic: 't', partition: 0, offset: 7, ts: h11, value: 'b' },
      { topic: 't', partition: 1, offset: 2, ts: h10, value: 'd' },
    ];
    const groups = groupForArchive(items);
    expect(groups.map((g) => [g.key, g.items.map((i) => i.value)])).toEqual([
      ['year=2024/month=05/day=01/hour=10/t-0-5-9.jsonl', ['a', 'c']],
      ['year=2024/month=05/day=01/hour=11/t-0-7-7.jsonl', ['b']],
      ['year=2024/month=05/day=01/hour=10/t-1-2-2.jsonl', ['d']],
    ]);
    expect(
      groupForArchive([...items].reverse())
        .map((g) => g.key)
        .sort(),
    ).toEqual(groups.map((g) => g.key).sort());
  });
});
