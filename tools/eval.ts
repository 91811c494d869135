/**
 * Offline evaluation on Last.fm HetRec 2011 (Elliot's protocol; see EVALUATION.md).
 *   npm run eval -- --dataset ../shared/datasets/lastfm-hetrec2011 [--seed 42] [--k 10] [--online] [--out r.json]
 */
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { logKafkaClientsIn } from '../shared/adapters/kafka-log.ts';
import { wilson } from '../shared/domain/experiments/confidence.ts';
import { settings } from '../shared/topology.ts';
import { type AttributionReplayResult, runAttributionReplay } from './eval/attribution-replay.ts';
import { attributionJson, attributionTable, type OfflineHitRates } from './eval/attribution-report.ts';
import { splitData } from './eval/data.ts';
import {
  DEFAULT_RP3BETA,
  DEFAULT_SYSTEM,
  type NeighborMode,
  parseSystemParams,
  type Rp3betaParams,
  runMostPop,
  runRp3beta,
  runSystem,
  runUserKnn,
  type SystemParams,
} from './eval/evaluate.ts';
import { formatItemSizes } from './eval/item-sizes.ts';
import { type ItemToItemResult, itemToItemCheck, itemToItemTable } from './eval/item-to-item.ts';
import { EVAL_LOG_DIR, type OnlineResult, runPipelineEval } from './eval/online.ts';
import type { Metrics } from './eval/protocol.ts';
import { prepareItemModel } from './eval/sql-model.ts';
import { checkStreaming } from './eval/streaming.ts';
import { tune } from './eval/tune.ts';
import { loadLastfm } from './loaders/lastfm.ts';

const HELP = `Usage: npm run eval -- --dataset <lastfm-hetrec2011 dir> [options]

Binarize user_artists.dat, iterative 10-core, seeded per-user 80/20 hold-out, train the
pipeline's domain code on the training part, rank all artists for every test user and report
Precision/Recall/nDCG@k and item coverage, with MostPop, UserKNN (cosine, k=100) and RP3beta baselines.
Also the item-to-item check: seeded by a test user's training artist, the hit rate@k of their
held-out artists among the product's similar artists and RP3beta's item-item list (EVALUATION.md).

Options:
  --dataset <dir>      Last.fm hetrec-2011 directory (required)
  --seed <n>           split seed (default 42)
  --k <n>              cut-off (default 10)
  --core <n>           k-core threshold (default 10)
  --validation         evaluate on a validation split carved from the training part
                       (training split 80/20 again, seed + 1); the test split is never read
  --neighbors <mode>   exact (default): top-K by similarity over full profiles; index: the deployed
                       neighbour-updater search (genre cells within NEIGHBOR_MAX_CELLS/ITEMS,
                       ranked by neighborScore over the genre vector + IDF-weighted artist sketch,
                       with the deployed NEIGHBORS_K and NEIGHBOR_GENRE_WEIGHT / _ARTIST_WEIGHT /
                       _IDF_EXPONENT unless --set overrides them): the product's neighbours
  --tags <mode>        heldout-free (default): artist genres and tag counts (tag profiles, content
                       neighbours) without any user's tags on that user's held-out (test /
                       validation) artists; all: from every tag row (leaks; for comparison only)
  --set key=value,...  override system parameters (${Object.keys(DEFAULT_SYSTEM).join(', ')})
  --pipeline           also run the evaluation through the product: start Kafka + DynamoDB Local (or
                       use KAFKA_BROKERS / DYNAMODB_ENDPOINT) and the local pipeline with the
                       deployed settings, feed the catalog and the training events through Kafka,
                       build the item model, and ask GET /recommendations for every test user
  --online             prove the attribution's counts: train through the pipeline as --pipeline
                       does, with two ranking variants by bucket (RANKING_VARIANTS): control (the
                       product's ranking, buckets 0–499) and popular (popularity only: genreBlend 1,
                       popularityPrior 1, no session; 500–999); serve every test user's
                       recommendations, wait until each served list is recorded, replay the held-out
                       artists as plays at now (first without recommendationId: implicit
                       attribution; then naming the answer for listed artists: explicit), and compare
                       the attributor's counters (served, lists with a hit, hits, explicit, positions,
                       plays) per variant with the counts from the kept answers: any difference is
                       printed as ATTRIBUTION MISMATCH and the exit code is 1. Reports each variant's
                       hit rate with its 95 % Wilson interval, whether the two are apart, and the
                       listeners needed (subsampling and a power calculation). Not with --pipeline
                       (the in-process handlers keep one world's tables per process)
  --tune               coordinate search of the parameters on the validation split (implies --validation)
  --check-streaming    verify that shuffled, duplicated streaming replay builds the batch profiles
  --rp3 alpha=a,beta=b,topK=k  RP3beta baseline parameters (default alpha=0.7,beta=0.4,topK=200, tuned on validation)
  --no-baselines       skip MostPop / UserKNN / RP3beta and the item-to-item check
  --out <file.json>    write the results as JSON
  --skip-bad           skip (and count) malformed dataset lines instead of failing
  -h, --help           this help`;

function parseRp3(s: string | undefined): Partial<Rp3betaParams> {
  const out: Record<string, number> = {};
  for (const kv of s ? s.split(',') : []) {
    const [k, v] = kv.split('=');
    if (!k || v === undefined || !(k in DEFAULT_RP3BETA) || Number.isNaN(Number(v)))
      throw new Error(`--rp3: unknown or malformed "${kv}" (alpha, beta, topK)`);
    out[k] = Number(v);
  }
  return out;
}

const fmt = (x: number) => x.toFixed(4);
export function table(rows: [string, Metrics][], k: number): string {
  const head = `| model | P@${k} | R@${k} | nDCG@${k} | coverage |\n| --- | --- | --- | --- | --- |`;
  return [
    head,
    ...rows.map(
      ([n, m]) =>
        `| ${n} | ${fmt(m['precision@k'])} | ${fmt(m['recall@k'])} | ${fmt(m['ndcg@k'])} | ${fmt(m.coverage)} |`,
    ),
  ].join('\n');
}

const asJson = (m: Metrics, k: number) => ({
  [`precision@${k}`]: m['precision@k'],
  [`recall@${k}`]: m['recall@k'],
  [`ndcg@${k}`]: m['ndcg@k'],
  coverage: m.coverage,
  users: m.users,
});

const OPTIONS = {
  dataset: { type: 'string' },
  seed: { type: 'string', default: '42' },
  k: { type: 'string', default: '10' },
  core: { type: 'string', default: '10' },
  validation: { type: 'boolean', default: false },
  set: { type: 'string' },
  rp3: { type: 'string' },
  neighbors: { type: 'string', default: 'exact' },
  tags: { type: 'string', default: 'heldout-free' },
  tune: { type: 'boolean', default: false },
  'check-streaming': { type: 'boolean', default: false },
  'no-baselines': { type: 'boolean', default: false },
  pipeline: { type: 'boolean', default: false },
  online: { type: 'boolean', default: false },
  out: { type: 'string' },
  'skip-bad': { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS }>>['values'];
type Log = (m: string) => void;

async function main(): Promise<void> {
  const { values } = parseArgs({ options: OPTIONS });
  if (values.help) return void console.log(HELP);
  if (!values.dataset) throw new Error('--dataset <dir> is required (see --help)');
  const seed = Number(values.seed);
  const k = Number(values.k);
  const core = Number(values.core);
  if (![seed, k, core].every(Number.isInteger) || k < 1) throw new Error('--seed, --k and --core must be integers');
  if (values.online && values.pipeline)
    throw new Error('--online and --pipeline each start a world: run them one at a time');
  if (values.online && (values.tune || values['check-streaming']))
    throw new Error('--online does not combine with --tune or --check-streaming');
  const started = performance.now();
  const log = (m: string) => console.error(`[eval ${((performance.now() - started) / 1000).toFixed(1)}s] ${m}`);

  const ds = await loadLastfm(values.dataset, { skipBad: values['skip-bad'], onProgress: log });
  if (values['check-streaming']) {
    const r = checkStreaming(ds, { seed, onProgress: log });
    console.log(r.message);
    if (!r.ok) process.exitCode = 1;
    return;
  }
  if (values.tags !== 'heldout-free' && values.tags !== 'all') throw new Error('--tags must be heldout-free or all');
  const validation = values.validation || values.tune;
  const split = splitData(ds, { seed, k, core, validation, tags: values.tags });
  logSplit(split, { ratings: ds.userArtists.length, core, seed, validation, tags: values.tags }, log);
  const { data } = split;

  if (values.tune) {
    const best = await tune(data, log);
    console.log(
      `best on validation: --set ${Object.entries(best.params)
        .map(([a, b]) => `${a}=${b}`)
        .join(',')}`,
    );
    console.log(table([['system (tuned, validation)', best.metrics]], k));
    return;
  }
  const system = await evaluateSystem(data, values, log);
  const results: [string, Metrics][] = [
    [system.mode === 'index' ? 'system (index neighbours)' : 'system', system.metrics],
  ];
  const online = values.pipeline ? await evaluatePipeline(data, log) : undefined;
  if (online) results.push(['system through the pipeline (read API)', online.metrics]);
  const attribution = values.online ? await evaluateAttribution(data, log) : undefined;
  const offlineHitRates = attribution ? offlineContext(data, system, attribution) : undefined;
  let itemToItem: ItemToItemResult | undefined;
  if (!values['no-baselines']) {
    results.push(...baselines(data, values.rp3, log));
    itemToItem = itemToItemCheck(data, system.model, rp3Params(values.rp3));
    log('item-to-item check done');
  }
  console.log(
    `\nseed ${seed}, ${validation ? 'validation' : 'test'} split, ${system.metrics.users} users, ${data.items.length} artists\n`,
  );
  console.log(table(results, k));
  if (itemToItem) {
    console.log(`\nitem to item: similar artists seeded by a training artist, ${itemToItem.users} users\n`);
    console.log(itemToItemTable(itemToItem));
  }
  if (attribution && offlineHitRates) {
    console.log(`\n${attributionTable(attribution, offlineHitRates, k)}`);
    if (attribution.mismatches.length > 0 || attribution.variantDisagreements.length > 0) {
      console.error(`eval: ATTRIBUTION MISMATCH — ${attribution.mismatches.length} counts differ (see above)`);
      process.exitCode = 1;
    }
  }
  if (values.out) {
    const out = resultsJson({
      split,
      values,
      seed,
      validation,
      k,
      core,
      system,
      online,
      results,
      itemToItem,
      started,
    });
    if (attribution && offlineHitRates)
      Object.assign(out, { attribution: attributionJson(attribution, offlineHitRates, loadavg()) });
    writeFileSync(values.out, `${JSON.stringify(out, null, 2)}\n`);
    log(`wrote ${values.out}`);
  }
}

type Split = ReturnType<typeof splitData>;

function logSplit(
  split: Split,
  o: { ratings: number; core: number; seed: number; validation: boolean; tags: string },
  log: Log,
): void {
  const { items, train, test } = split.data;
  log(
    `${o.ratings} pairs → ${o.core}-core: ${split.interactions} pairs, ${split.users} users, ${items.length} artists`,
  );
  log(
    `tags: ${split.leakedTagRows} of ${split.tagRows} tag rows are a user's tags on a held-out artist of theirs — ${o.tags === 'all' ? 'KEPT (--tags all)' : 'left out of artist genres and tag content'}`,
  );
  log(
    `split (seed ${o.seed}${o.validation ? ', VALIDATION inside training' : ''}): ${train.length} train, ${test.length} held out`,
  );
}

/** The system offline: its parameters (the deployed neighbour settings in index mode), the item model's SQL, the ranking. */
async function evaluateSystem(data: Split['data'], values: Values, log: Log) {
  const mode = values.neighbors;
  // Index mode is the product path: the neighbour updater's settings, not the exact search's.
  const deployed =
    mode === 'index'
      ? {
          genreWeight: settings.NEIGHBOR_GENRE_WEIGHT,
          artistWeight: settings.NEIGHBOR_ARTIST_WEIGHT,
          idf: settings.NEIGHBOR_IDF_EXPONENT,
          neighbors: settings.NEIGHBORS_K,
        }
      : {};
  const params = { ...DEFAULT_SYSTEM, ...deployed, ...parseSystemParams(values.set) };
  if (mode !== 'exact' && mode !== 'index') throw new Error('--neighbors must be exact or index');
  if (mode === 'index' && params.featureExponent !== 1)
    log('note: --neighbors index uses the deployed artist sketch (exponent 1); featureExponent is ignored');
  const t0 = performance.now();
  const cache = {};
  const model = await prepareItemModel(data, params, cache);
  log(`item model (SQL on DuckDB) built in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const { metrics, lists } = runSystem(data, params, cache, mode);
  const seconds = (performance.now() - t0) / 1000;
  log(`system done in ${seconds.toFixed(1)} s`);
  return { mode: mode as NeighborMode, params, metrics, lists, cache, seconds, model };
}

/** The same evaluation through the product (Kafka, the triggers, the read API). */
async function evaluatePipeline(data: Split['data'], log: Log): Promise<OnlineResult> {
  log('pipeline: starting the local infrastructure and pipeline…');
  log(`pipeline: kafkajs logs to ${logKafkaClientsIn(EVAL_LOG_DIR)}`);
  const online = await runPipelineEval(data, log);
  log(
    `pipeline: ${online.events} events fed in ${online.seconds.feed.toFixed(1)} s, drained in ${online.seconds.drain.toFixed(1)} s, item model ${online.seconds.itemModel.toFixed(1)} s, ${online.metrics.users} queries in ${online.seconds.queries.toFixed(1)} s (${online.failedQueries} failed)`,
  );
  for (const line of formatItemSizes(online.itemSizes)) log(`pipeline: item sizes: ${line}`);
  return online;
}

/** The attribution replay through the product (tools/eval/attribution-replay.ts). */
async function evaluateAttribution(data: Split['data'], log: Log): Promise<AttributionReplayResult> {
  log('online: starting the local infrastructure and pipeline with the control and popular variants…');
  log(`online: kafkajs logs to ${logKafkaClientsIn(EVAL_LOG_DIR)}`);
  const r = await runAttributionReplay(data, log);
  const s = r.seconds;
  log(
    `online: world ${s.world.toFixed(1)} s, ${r.answers} answers in ${s.serve.toFixed(1)} s, recorded in ${s.record.toFixed(1)} s, implicit replay ${s.implicit.toFixed(1)} s, explicit ${s.explicit.toFixed(1)} s`,
  );
  return r;
}

/**
 * For context: the offline harness's comparable quantity, the share of listeners with a held-out
 * artist in their top k, for the same listeners, each variant's listeners ranked with its overrides.
 */
function offlineContext(
  data: Split['data'],
  system: Awaited<ReturnType<typeof evaluateSystem>>,
  r: AttributionReplayResult,
): OfflineHitRates {
  const tests = new Map<string, Set<string>>();
  for (const t of data.test) (tests.get(t.user) ?? tests.set(t.user, new Set()).get(t.user)!).add(t.item);
  const out: OfflineHitRates = {};
  for (const v of r.variants) {
    const lists = v.ranking
      ? runSystem(data, { ...system.params, ...(v.ranking as Partial<SystemParams>) }, system.cache, system.mode).lists
      : system.lists;
    const users = [...r.answerVariants].filter(([, x]) => x === v.name).map(([u]) => u);
    const hits = users.filter((u) => (lists.get(u) ?? []).slice(0, data.k).some((i) => tests.get(u)?.has(i))).length;
    out[v.name] = { ...wilson(hits, users.length), listeners: users.length };
  }
  return out;
}

const rp3Params = (option: string | undefined): Rp3betaParams => ({ ...DEFAULT_RP3BETA, ...parseRp3(option) });

/** MostPop, UserKNN and RP3beta in the same harness, in this order. */
function baselines(data: Split['data'], rp3Option: string | undefined, log: Log): [string, Metrics][] {
  const out: [string, Metrics][] = [];
  out.push(['MostPop', runMostPop(data)]);
  log('MostPop done');
  out.push(['UserKNN (cosine, k=100)', runUserKnn(data, 100)]);
  log('UserKNN done');
  const rp3 = rp3Params(rp3Option);
  out.push([`RP3beta (α=${rp3.alpha}, β=${rp3.beta}, k=${rp3.topK})`, runRp3beta(data, rp3)]);
  log('RP3beta done');
  return out;
}

/** What --out writes: the protocol, the parameters and every model's metrics. */
function resultsJson(r: {
  split: Split;
  values: Values;
  seed: number;
  validation: boolean;
  k: number;
  core: number;
  system: Awaited<ReturnType<typeof evaluateSystem>>;
  online: OnlineResult | undefined;
  results: [string, Metrics][];
  itemToItem: ItemToItemResult | undefined;
  started: number;
}) {
  const { split, values, k, online, results } = r;
  return {
    protocol: {
      dataset: 'lastfm-hetrec2011 user_artists.dat',
      binarized: true,
      kCore: r.core,
      split: 'per-user random hold-out 80/20 (mulberry32, seeded Fisher-Yates)',
      seed: r.seed,
      validation: r.validation,
      k,
      ranking: 'full ranking over all artists, training items excluded',
      tags: values.tags,
      users: split.users,
      items: split.data.items.length,
      interactions: split.interactions,
      train: split.data.train.length,
      heldOut: split.data.test.length,
    },
    params: r.system.params,
    neighbors: r.system.mode,
    system: asJson(r.system.metrics, k),
    ...(online
      ? {
          pipeline: {
            ...asJson(online.metrics, k),
            seconds: online.seconds,
            failedQueries: online.failedQueries,
            itemSizes: online.itemSizes,
          },
        }
      : {}),
    baselines: values['no-baselines']
      ? {}
      : {
          mostpop: asJson(results[results.length - 3]![1], k),
          userknn: asJson(results[results.length - 2]![1], k),
          rp3beta: asJson(results[results.length - 1]![1], k),
        },
    ...(r.itemToItem ? { itemToItem: r.itemToItem } : {}),
    seconds: { system: r.system.seconds, total: (performance.now() - r.started) / 1000 },
  };
}

process.on('SIGINT', () => {
  console.error('\ninterrupted');
  process.exit(130);
});
main().catch((err) => {
  console.error(`eval: ${(err as Error).message}`);
  process.exit(1);
});
