/**
 * Pure helpers shared by the benchmarks: percentiles, a seeded PRNG and Zipf sampler, and the
 * cost model (unit-tested in test/unit/bench/lib.test.ts).
 */

import { rng, zipf } from '../shared/random.ts';

export { rng, zipf };

/** Nearest-rank percentile (p in 0–100) of unsorted numbers; NaN when empty. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export const median = (values: readonly number[]): number => percentile(values, 50);

// ---------------------------------------------------------------------------------------------
// Cost model

/** On-demand list prices, us-east-1 (checked 2026-11-22; see BENCHMARKS.md for sources). */
export const PRICES = {
  lambdaArmUsdPerGbSecond: 0.0000133334,
  lambdaUsdPerMillionRequests: 0.2,
  dynamoUsdPerMillionWriteUnits: 0.625,
  dynamoUsdPerMillionReadUnits: 0.125,
  /** MSK provisioned kafka.m5.large broker-hour (not verified here); fixed, not per event (3 brokers, 3 AZs). */
  mskUsdPerBrokerHour: 0.21,
} as const;

export interface CostInputs {
  /** Per function: memory (MB), billed milliseconds per event, invocations per event. */
  lambdas: { name: string; memoryMb: number; msPerEvent: number; invocationsPerEvent: number }[];
  writeUnitsPerEvent: number;
  readUnitsPerEvent: number;
}

export interface CostBreakdown {
  lambdaGbSecondsPerMillion: number;
  lambdaUsdPerMillion: number;
  dynamoWriteUsdPerMillion: number;
  dynamoReadUsdPerMillion: number;
  usdPerMillionEvents: number;
  /** MSK is billed per broker-hour whatever the traffic: shown apart. */
  mskUsdPerMonth3Brokers: number;
}

export function costPerMillionEvents(c: CostInputs, prices = PRICES): CostBreakdown {
  const M = 1e6;
  let gbSeconds = 0;
  let requests = 0;
  for (const l of c.lambdas) {
    gbSeconds += (l.memoryMb / 1024) * (l.msPerEvent / 1000) * M;
    requests += l.invocationsPerEvent * M;
  }
  const lambdaUsd = gbSeconds * prices.lambdaArmUsdPerGbSecond + (requests / M) * prices.lambdaUsdPerMillionRequests;
  const writeUsd = c.writeUnitsPerEvent * prices.dynamoUsdPerMillionWriteUnits;
  const readUsd = c.readUnitsPerEvent * prices.dynamoUsdPerMillionReadUnits;
  return {
    lambdaGbSecondsPerMillion: gbSeconds,
    lambdaUsdPerMillion: lambdaUsd,
    dynamoWriteUsdPerMillion: writeUsd,
    dynamoReadUsdPerMillion: readUsd,
    usdPerMillionEvents: lambdaUsd + writeUsd + readUsd,
    mskUsdPerMonth3Brokers: 3 * prices.mskUsdPerBrokerHour * 730,
  };
}

/** Rounds to `digits` significant digits for the table (JSON keeps full precision). */
export function sig(x: number, digits = 3): string {
  if (!Number.isFinite(x)) return String(x);
  if (x === 0) return '0';
  return Number(x.toPrecision(digits)).toString();
}

/** Items written of one kind, per event (or per refresh): where the write units go. */
export interface WriteShare {
  items: number;
  units: number;
  /** Mean item size as billed (bytes; 0 for deletes, whose size the client does not see). */
  meanBytes: number;
  maxBytes: number;
  /** Share of the items over 1 KB (billed two or more units). */
  overOneKbShare: number;
  /** Items by units billed, as shares. */
  byUnits: Record<number, number>;
}

/**
 * The counter's tallies (`<table>/<kind>`) merged over runs and divided by `per` (events or
 * refreshes), keyed `<table key>/<kind>` (`profiles/write`, `neighbors/reverse`, …).
 */
export function writeShares(
  runs: readonly ReadonlyMap<
    string,
    Omit<WriteShare, 'meanBytes' | 'overOneKbShare'> & { bytes: number; overOneKb: number }
  >[],
  tableNames: Readonly<Record<string, string>>,
  per: number,
): Record<string, WriteShare> {
  const keyOf = new Map(Object.entries(tableNames).map(([k, name]) => [name, k]));
  const sum = new Map<
    string,
    { items: number; units: number; bytes: number; maxBytes: number; over: number; byUnits: Record<number, number> }
  >();
  for (const run of runs)
    for (const [label, t] of run) {
      const slash = label.lastIndexOf('/');
      const key = `${keyOf.get(label.slice(0, slash)) ?? label.slice(0, slash)}/${label.slice(slash + 1)}`;
      const s = sum.get(key) ?? { items: 0, units: 0, bytes: 0, maxBytes: 0, over: 0, byUnits: {} };
      s.items += t.items;
      s.units += t.units;
      s.bytes += t.bytes;
      s.maxBytes = Math.max(s.maxBytes, t.maxBytes);
      s.over += t.overOneKb;
      for (const [u, n] of Object.entries(t.byUnits)) s.byUnits[Number(u)] = (s.byUnits[Number(u)] ?? 0) + n;
      sum.set(key, s);
    }
  const out: Record<string, WriteShare> = {};
  for (const [key, s] of [...sum].sort(([a], [b]) => (a < b ? -1 : 1)))
    out[key] = {
      items: s.items / per,
      units: s.units / per,
      meanBytes: s.items > 0 ? s.bytes / s.items : 0,
      maxBytes: s.maxBytes,
      overOneKbShare: s.items > 0 ? s.over / s.items : 0,
      byUnits: Object.fromEntries(Object.entries(s.byUnits).map(([u, n]) => [u, n / s.items])),
    };
  return out;
}
