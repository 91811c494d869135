/**
 * Multi-seed selection on VALIDATION splits only: every configuration is run through `runSystem`
 * on the validation split of each seed (carved out of that seed's training part, seed + 1) and
 * scored by the mean nDCG@k over the seeds. Never reads the test split.
 *   npx tsx tools/eval/multiseed.ts --dataset ../shared/datasets/lastfm-hetrec2011 --search
 */
import { parseArgs } from 'node:util';
import { loadLastfm } from '../loaders/lastfm.ts';
import { splitData } from './data.ts';
import { DEFAULT_SYSTEM, type EvalData, parseSystemParams, runSystem, type SystemParams } from './evaluate.ts';
import type { Metrics } from './protocol.ts';
import { prepareItemModel } from './sql-model.ts';
import { coordinateSearch, type Grid } from './tune.ts';

const HELP = `Usage: npx tsx tools/eval/multiseed.ts [--dataset <dir>] [options]

Scores system configurations by the MEAN validation nDCG@10 over several seeds' validation splits
(each seed's training part split 80/20 again with seed + 1, held-out-free tags, as
\`npm run eval -- --validation\`). The test split is never read. Caches profiles, neighbour, item and
content lists per seed across trials.

Options:
  --dataset <dir>     Last.fm hetrec-2011 directory (default ../shared/datasets/lastfm-hetrec2011)
  --seeds a,b,...     split seeds (default 42,1,2)
  --set key=value,... start configuration (default DEFAULT_SYSTEM, as npm run eval --set)
  --try 'k=v,...;...' evaluate each configuration (overrides on top of --set; '' = the start itself)
  --search            coordinate search over the servable parameters (grid in this file)
  --rounds <n>        coordinate search rounds (default 2)
  --min-gain <x>      a value is kept when it beats the best mean nDCG by more than x (default 0.0002)
  -h, --help          this help`;

/**
 * Servable SystemParams only (playWeight stays binary); values around the defaults plus bolder
 * moves, the defaults included so that later rounds can move back. itemExponent is left out: with
 * binary input every profile weight is 1, so it has no effect.
 */
export const MULTISEED_GRID: Grid = {
  itemBlend: [0.4, 0.5, 0.6, 0.7],
  beta: [0.3, 0.35, 0.4, 0.45, 0.5],
  idf: [0.4, 0.5, 0.6, 0.75],
  tagWeight: [0.1, 0.2, 0.3, 0.4],
  contentBlend: [0.15, 0.2, 0.25, 0.3],
  neighbors: [70, 100, 150, 200],
  itemTopK: [100, 200, 300],
  contentTopK: [30, 50, 100],
  itemBeta: [0.3, 0.4, 0.5],
  itemAlpha: [0.6, 0.7, 0.8],
  alpha: [1.5, 2, 2.5],
  tagLimit: [30, 50, 100],
  genreWeight: [0, 0.1],
  normalize: ['sum', 'none', 'l2'],
};

interface SeedRun {
  seed: number;
  data: EvalData;
  cache: NonNullable<Parameters<typeof runSystem>[2]>;
}

interface Result {
  score: number;
  metrics: Metrics[];
  seconds: number;
}

const { values } = parseArgs({
  options: {
    dataset: { type: 'string', default: '../shared/datasets/lastfm-hetrec2011' },
    seeds: { type: 'string', default: '42,1,2' },
    set: { type: 'string' },
    try: { type: 'string' },
    search: { type: 'boolean', default: false },
    rounds: { type: 'string', default: '2' },
    'min-gain': { type: 'string', default: '0.0002' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help || (!values.search && values.try === undefined)) {
  console.log(HELP);
  process.exit(values.help ? 0 : 1);
}
const seeds = values.seeds.split(',').map(Number);
if (!seeds.every(Number.isInteger)) throw new Error('--seeds must be integers');
const started = performance.now();
const elapsed = () => `${((performance.now() - started) / 1000).toFixed(0)}s`;

const ds = await loadLastfm(values.dataset);
const runs: SeedRun[] = seeds.map((seed) => ({
  seed,
  data: splitData(ds, { seed, k: 10, core: 10, validation: true, tags: 'heldout-free' }).data,
  cache: { neighbors: new Map(), models: new Map() },
}));
const start: SystemParams = { ...DEFAULT_SYSTEM, ...parseSystemParams(values.set) };

const memo = new Map<string, Result>();
async function evaluate(p: SystemParams): Promise<Result> {
  const key = JSON.stringify(p);
  const hit = memo.get(key);
  if (hit) return hit;
  const t0 = performance.now();
  for (const r of runs) await prepareItemModel(r.data, p, r.cache);
  const metrics = runs.map((r) => runSystem(r.data, p, r.cache).metrics);
  for (const r of runs) {
    // Lists for stale similarity / RP3 settings: bounded, recomputed when needed again.
    if ((r.cache.neighbors?.size ?? 0) > 6) r.cache.neighbors!.clear();
    if ((r.cache.models?.size ?? 0) > 4) r.cache.models!.clear();
  }
  const res = {
    score: metrics.reduce((s, m) => s + m['ndcg@k'], 0) / metrics.length,
    metrics,
    seconds: (performance.now() - t0) / 1000,
  };
  memo.set(key, res);
  return res;
}

const diff = (p: SystemParams) =>
  Object.entries(p)
    .filter(([k, v]) => (DEFAULT_SYSTEM as Record<string, unknown>)[k] !== v)
    .map(([k, v]) => `${k}=${v}`)
    .join(',') || '(defaults)';
const line = (label: string, r: Result, better = false) =>
  `${label}\tmean nDCG ${r.score.toFixed(4)}\t${r.metrics
    .map((m, i) => `s${seeds[i]} ${m['ndcg@k'].toFixed(4)}`)
    .join(
      ' ',
    )}\tmean P ${(r.metrics.reduce((s, m) => s + m['precision@k'], 0) / r.metrics.length).toFixed(4)}\t${r.seconds.toFixed(0)}s @${elapsed()}${better ? '  ← better' : ''}`;

if (values.try !== undefined) {
  for (const s of values.try.split(';')) {
    const p = { ...start, ...parseSystemParams(s.trim() || undefined) };
    console.log(line(diff(p), await evaluate(p)));
  }
}
if (values.search) {
  const { params, best } = await coordinateSearch(
    start,
    MULTISEED_GRID,
    evaluate,
    (label, t, better) => console.log(line(label, t, better)),
    { rounds: Number(values.rounds), minGain: Number(values['min-gain']) },
  );
  console.log(`best: ${diff(params)}`);
  console.log(line('best', best));
}
