import { describe, expect, it } from 'vitest';
import { costPerMillionEvents, median, percentile, rng, writeShares, zipf } from '../../../bench/lib.ts';
import { RequestCounter } from '../../../shared/adapters/dynamodb/stores.ts';

describe('bench helpers', () => {
  it('percentile is nearest-rank', () => {
    const xs = [5, 1, 4, 2, 3];
    expect(percentile(xs, 50)).toBe(3);
    expect(percentile(xs, 99)).toBe(5);
    expect(percentile(xs, 0)).toBe(1);
    expect(median([])).toBeNaN();
  });

  it('zipf favours low ranks and stays in range', () => {
    const draw = zipf(100, 1, rng(1));
    const counts = new Array(100).fill(0);
    for (let i = 0; i < 10_000; i++) counts[draw()]++;
    expect(counts[0]).toBeGreaterThan(counts[10]);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(10_000);
  });

  it('cost model: GB-seconds, requests and request units per million events', () => {
    const c = costPerMillionEvents({
      lambdas: [{ name: 'f', memoryMb: 1024, msPerEvent: 1, invocationsPerEvent: 0.001 }],
      writeUnitsPerEvent: 2,
      readUnitsPerEvent: 4,
    });
    // 1 GB × 1 ms × 1M = 1000 GB-s; 1000 invocations.
    expect(c.lambdaGbSecondsPerMillion).toBeCloseTo(1000);
    expect(c.lambdaUsdPerMillion).toBeCloseTo(1000 * 0.0000133334 + 0.001 * 0.2);
    expect(c.dynamoWriteUsdPerMillion).toBeCloseTo(1.25);
    expect(c.dynamoReadUsdPerMillion).toBeCloseTo(0.5);
    expect(c.usdPerMillionEvents).toBeCloseTo(c.lambdaUsdPerMillion + 1.75);
  });

  it('write shares: the counter tallies by table and kind, per event, keyed by table key', () => {
    const c = new RequestCounter();
    c.tally('pfx-profiles/write', 900, 1);
    c.tally('pfx-profiles/write', 1500, 2);
    c.tally('pfx-index/delete', 0, 1);
    const shares = writeShares([c.writeTallies], { profiles: 'pfx-profiles', neighborIndex: 'pfx-index' }, 4);
    expect(shares['profiles/write']).toEqual({
      items: 0.5,
      units: 0.75,
      meanBytes: 1200,
      maxBytes: 1500,
      overOneKbShare: 0.5,
      byUnits: { 1: 0.5, 2: 0.5 },
    });
    expect(shares['neighborIndex/delete']?.units).toBe(0.25);
    c.reset();
    expect(c.writeTallies.size).toBe(0);
  });
});
