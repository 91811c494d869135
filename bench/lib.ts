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
