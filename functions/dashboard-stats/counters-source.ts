/**
 * The experiments source, the same in the cloud and locally: both read the attribution counters
 * from DynamoDB (the deployed table over its public endpoint, the function runs outside the VPC;
 * or DynamoDB Local), one Query per day of the window.
 */
import { type ExperimentsStore, readCounters } from '../../shared/adapters/dynamodb/experiments.ts';
import type { ExperimentsSource } from './dashboard.ts';
import type { CounterRow } from './experiments.ts';

/**
 * In the cloud a window's rows are kept per container this long: a two-week window is thousands
 * of items (read units on every poll), and an hourly chart gains little from fresher counts.
 */
export const COUNTERS_TTL_MS = 30_000;

/** `store` is asked for at the first read: the handler module loads before its env is checked. */
export function countersSource(store: () => ExperimentsStore, ttlMs = COUNTERS_TTL_MS): ExperimentsSource {
  let cached: { at: number; window: string; rows: readonly CounterRow[] } | undefined;
  return {
    counters: async (fromHour, toHour, now) => {
      const window = `${fromHour}-${toHour}`;
      if (cached && cached.window === window && now - cached.at < ttlMs) return cached.rows;
      const rows = await readCounters(store(), fromHour, toHour);
      cached = { at: now, window, rows };
      return rows;
    },
  };
}
