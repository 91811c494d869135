/**
 * Coordinate search on the validation split: each round tries every value of each parameter
 * with the others fixed and keeps the best nDCG@k; stops when a round changes nothing.
 */
import { DEFAULT_SYSTEM, type EvalData, type NeighborCache, runSystem, type SystemParams } from './evaluate.ts';
import type { Metrics } from './protocol.ts';

// Kept small: on the shared 2-core machine one trial takes 10–60 s. Most promising first.
export const GRID: { [K in keyof SystemParams]?: SystemParams[K][] } = {
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

export function tune(data: EvalData, log: (m: string) => void): { params: SystemParams; metrics: Metrics } {
  const cache: { neighbors: NeighborCache } = { neighbors: new Map() };
  let params: SystemParams = { ...DEFAULT_SYSTEM };
  let best = runSystem(data, params, cache).metrics;
  log(`start nDCG ${best['ndcg@k'].toFixed(4)} P ${best['precision@k'].toFixed(4)}`);
  for (let round = 1; round <= 2; round++) {
    let changed = false;
    for (const [key, values] of Object.entries(GRID) as [keyof SystemParams, unknown[]][]) {
      for (const v of values) {
        if (params[key] === v) continue;
        const cand = { ...params, [key]: v } as SystemParams;
        const m = runSystem(data, cand, cache).metrics;
        const better = m['ndcg@k'] > best['ndcg@k'] + 1e-4;
        log(
          `  ${key}=${v}: nDCG ${m['ndcg@k'].toFixed(4)} P ${m['precision@k'].toFixed(4)}${better ? '  ← better' : ''}`,
        );
        if (better) {
          params = cand;
          best = m;
          changed = true;
        }
      }
      // Neighbour lists for stale similarity settings are not needed again.
      if (cache.neighbors.size > 8) cache.neighbors.clear();
    }
    log(`round ${round}: nDCG ${best['ndcg@k'].toFixed(4)} P ${best['precision@k'].toFixed(4)}`);
    if (!changed) break;
  }
  return { params, metrics: best };
}
