/**
 * Coordinate search on the validation split: each round tries every value of each parameter
 * with the others fixed and keeps the best nDCG@k; stops when a round changes nothing.
 */

import type { ItemModel } from '../../shared/domain/item-model/item-model.ts';
import { DEFAULT_SYSTEM, type EvalData, type NeighborCache, runSystem, type SystemParams } from './evaluate.ts';
import type { Metrics } from './protocol.ts';
import { prepareItemModel } from './sql-model.ts';

export type Grid = { [K in keyof SystemParams]?: SystemParams[K][] };

// Kept small: on the shared 2-core machine one trial takes 10–60 s. Most promising first.
export const GRID: Grid = {
  contentBlend: [0, 0.1, 0.2, 0.3],
  itemBlend: [0, 0.3, 0.5, 0.6],
  idf: [0, 0.25, 0.5, 0.75],
  genreWeight: [0.5, 0.2, 0.1, 0],
  featureExponent: [0, 1],
  asymmetry: [0.5, 0.8],
  beta: [0, 0.3, 0.4, 0.5],
  alpha: [1, 2, 4],
  neighbors: [50, 100, 200],
  itemExponent: [0, 0.5],
  genreBlend: [0, 0.1],
  playWeight: ['log', 'binary'],
  normalize: ['none', 'l2'],
};

/**
 * Generic coordinate search: `evaluate` scores a parameter set (higher is better); a value is
 * kept when it beats the current best by more than `minGain`. `afterKey` runs after each
 * parameter's values (e.g. to drop caches).
 */
export async function coordinateSearch<T extends { score: number }>(
  start: SystemParams,
  grid: Grid,
  evaluate: (p: SystemParams) => T | Promise<T>,
  log: (m: string, t: T, better: boolean) => void,
  opts: { rounds?: number; minGain?: number; afterKey?: () => void } = {},
): Promise<{ params: SystemParams; best: T }> {
  let params = { ...start };
  let best = await evaluate(params);
  log('start', best, false);
  for (let round = 1; round <= (opts.rounds ?? 2); round++) {
    let changed = false;
    for (const [key, values] of Object.entries(grid) as [keyof SystemParams, unknown[]][]) {
      for (const v of values) {
        if (params[key] === v) continue;
        const cand = { ...params, [key]: v } as SystemParams;
        const t = await evaluate(cand);
        const better = t.score > best.score + (opts.minGain ?? 1e-4);
        log(`  ${key}=${v}`, t, better);
        if (better) {
          params = cand;
          best = t;
          changed = true;
        }
      }
      opts.afterKey?.();
    }
    log(`round ${round}`, best, false);
    if (!changed) break;
  }
  return { params, best };
}

export async function tune(
  data: EvalData,
  log: (m: string) => void,
): Promise<{ params: SystemParams; metrics: Metrics }> {
  const cache: { neighbors: NeighborCache; models: Map<string, ItemModel> } = {
    neighbors: new Map(),
    models: new Map(),
  };
  const fmt = (m: Metrics) => `nDCG ${m['ndcg@k'].toFixed(4)} P ${m['precision@k'].toFixed(4)}`;
  const { params, best } = await coordinateSearch(
    DEFAULT_SYSTEM,
    GRID,
    async (p) => {
      await prepareItemModel(data, p, cache);
      const metrics = runSystem(data, p, cache).metrics;
      return { score: metrics['ndcg@k'], metrics };
    },
    (label, t, better) => log(`${label}: ${fmt(t.metrics)}${better ? '  ← better' : ''}`),
    {
      // Neighbour lists for stale similarity settings are not needed again.
      afterKey: () => {
        if (cache.neighbors.size > 8) cache.neighbors.clear();
      },
    },
  );
  return { params, metrics: best.metrics };
}
