/**
 * `npm run bench [-- <name>…] [--quick] [--out <file.json>]`: the tunestream benchmarks on the real
 * Kafka broker and DynamoDB Local (started here, or external via KAFKA_BROKERS / DYNAMODB_ENDPOINT).
 */
import { existsSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { onShutdown } from '../local/infra/index.ts';
import { functions, triggers } from '../shared/topology.ts';
import { attributionBench } from './attribution.ts';
import { batchBench, batchDriftBench } from './batch.ts';
import { billMarkdown } from './bill-table.ts';
import { codecBench } from './codec.ts';
import { billRows, perEvent } from './cost-model.ts';
import { log, stopInfrastructure } from './env.ts';
import { indexBench } from './index-recall.ts';
import { costPerMillionEvents, PRICES, sig, type WriteShare } from './lib.ts';
import { pipelineBench } from './pipeline-bench.ts';
import { endToEnd, profilePath } from './profile-path.ts';
import { refreshRate } from './refresh-rate.ts';
import { responsivenessBench } from './responsiveness.ts';
import { startBench } from './start-time.ts';

const NAMES = [
  'profilePath',
  'endToEnd',
  'dynamodb',
  'freshness',
  'index',
  'api',
  'refreshRate',
  'cost',
  'codec',
  'batch',
  'batchDrift',
  'start',
  'responsiveness',
  'attribution',
] as const;
type Name = (typeof NAMES)[number];

const USAGE = `Usage: npm run bench [-- <name>…] [--quick] [--out <file.json>] [--lastfm <dir>]

Runs the benchmarks (all by default) on the real Kafka broker and DynamoDB Local, prints a table.

Names: ${NAMES.join(', ')}
  (dynamodb needs profilePath's figures and a populated pipeline; cost needs profilePath, dynamodb
   and refreshRate: they are run when asked for; codec is pure: the profile codec against msgpackr;
   batch: the item model's SQL on DuckDB over a generated archive, BATCH_BENCH_EVENTS sizes;
   batchDrift: lists a build rewrites after 1 % new events, by the loader's tolerance;
   start: \`npm start\` ready time, quiet and beside CPU-bound processes — START_BENCH_RUNS
   (default 10, --quick 2) of each, START_BENCH_BURNERS busy processes (default 1); not in the default set;
   responsiveness: on the Last.fm world (--lastfm) through the pipeline, listeners play a session of
   1…5 plays of an artist from genres they do not play: the share of the top 10 recommendations and
   radio from its neighbourhood, play → answer latency, DynamoDB requests per answer with a session
   (60 listeners, --quick 12; several minutes); not in the default set, best run on its own;
   attribution: recording and attributing answers on the local pipeline — served-list bytes,
   DynamoDB units per answer and per play, and their price per million answers)

Options:
  --quick          smoke run, about two minutes (index stops at 100k profiles)
  --out <file>     also write the figures as JSON
  --lastfm <dir>   Last.fm hetrec-2011 directory (default ../shared/datasets/lastfm-hetrec2011)
  -h, --help       show this help

Environment: KAFKA_BROKERS, DYNAMODB_ENDPOINT use external services instead of starting JVMs.
`;

type Figures = Record<string, Record<string, unknown>>;

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      quick: { type: 'boolean', default: false },
      out: { type: 'string' },
      lastfm: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const unknown = positionals.filter((p) => !(NAMES as readonly string[]).includes(p));
  if (unknown.length > 0) throw new Error(`unknown benchmark(s) ${unknown.join(', ')} (see --help)`);
  // `start` runs whole `npm start`s for many minutes, `responsiveness` a Last.fm world: only when asked for.
  const want = new Set<Name>(
    positionals.length > 0 ? (positionals as Name[]) : NAMES.filter((n) => n !== 'start' && n !== 'responsiveness'),
  );
  // Derived figures need their inputs.
  if (want.has('cost')) for (const n of ['profilePath', 'dynamodb', 'refreshRate'] as const) want.add(n);
  if (want.has('dynamodb')) want.add('profilePath');
  const quick = values.quick;
  const defaultLastfm = resolve('../shared/datasets/lastfm-hetrec2011');
  const lastfm = values.lastfm ?? (existsSync(defaultLastfm) ? defaultLastfm : undefined);
  if (!lastfm && (want.has('index') || want.has('responsiveness')))
    log(`no Last.fm dataset at ${defaultLastfm}: index skips its Last.fm part, responsiveness is skipped`);

  onShutdown(stopInfrastructure);
  const started = performance.now();
  const figures: Figures = {};
  const meta = {
    date: new Date().toISOString(),
    quick,
    node: process.version,
    loadavgAtStart: loadavg().map((x) => Number(x.toFixed(2))),
    command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(),
  };

  if (want.has('index')) figures.index = await indexBench(quick, lastfm);
  if (want.has('profilePath')) figures.profilePath = await profilePath(quick);
  if (want.has('refreshRate')) figures.refreshRate = refreshRate(quick);
  if (want.has('codec')) figures.codec = codecBench(quick);
  if (want.has('batch')) figures.batch = await batchBench(quick);
  if (want.has('batchDrift')) figures.batchDrift = await batchDriftBench(quick);
  if (want.has('endToEnd')) figures.endToEnd = await endToEnd(quick);
  if (want.has('start')) figures.start = await startBench(quick);
  if (want.has('responsiveness')) figures.responsiveness = await responsivenessBench(quick, lastfm);
  if (want.has('attribution')) figures.attribution = await attributionBench(quick);
  if (want.has('freshness') || want.has('api') || want.has('dynamodb')) {
    const p = await pipelineBench(quick, {
      freshness: want.has('freshness'),
      api: want.has('api'),
      dynamodb: want.has('dynamodb'),
    });
    if (p.freshness) figures.freshness = p.freshness as Record<string, unknown>;
    if (p.api) figures.api = p.api as Record<string, unknown>;
    if (p.dynamodb) {
      const pp = figures.profilePath as Awaited<ReturnType<typeof profilePath>>;
      const at = pp.byBatchSize.find((b) => b.batchSize === 1000)!;
      figures.dynamodb = {
        writesPerEvent: at.writesPerEvent,
        writesPerEventByBatchSize: Object.fromEntries(pp.byBatchSize.map((b) => [b.batchSize, b.writesPerEvent])),
        writeRequestsPerEvent: at.writeRequestsPerEvent,
        ...(p.dynamodb as Record<string, unknown>),
        readRequestsPerRecommendation: (p.api as { readRequestsPerRecommendation?: number } | undefined)
          ?.readRequestsPerRecommendation,
      };
    }
  }
  if (want.has('cost')) figures.cost = cost(figures);
  meta.loadavgAtStart.push(...loadavg().map((x) => Number(x.toFixed(2))));
  const result = { meta: { ...meta, seconds: (performance.now() - started) / 1000 }, ...figures };
  process.stdout.write(table(figures));
  if (values.out) {
    writeFileSync(values.out, `${JSON.stringify(result, null, 2)}\n`);
    log(`wrote ${values.out}`);
  }
}

/**
 * Cost per million events from the measured figures: profile writes (profile path, batch 1000)
 * plus neighbour refreshes (items and units per refresh from the dynamodb benchmark) times
 * refreshes per event, two ways: the steady-state rate measured by refreshRate (headline) and the
 * upper bound of one refresh per profile write.
 */
function cost(f: Figures) {
  const pp = f.profilePath as Awaited<ReturnType<typeof profilePath>>;
  const at = pp.byBatchSize.find((b) => b.batchSize === 1000)!;
  const d = f.dynamodb as {
    batchOf200: {
      wallMsPerRefresh: number;
      readUnitsPerRefresh: number;
      itemsWrittenPerRefresh: number;
      writeUnitsPerRefresh: number;
      writesByKind?: Record<string, WriteShare>;
    };
  };
  const rr = f.refreshRate as ReturnType<typeof refreshRate>;
  const profileTrigger = triggers.find((t) => t.function === 'profile-updater')!;
  const neighborTrigger = triggers.find((t) => t.function === 'neighbor-updater')!;
  // Neighbour writes are billed by item size (a list of K neighbours spans several 1 KB units; an
  // index entry is one), measured by the dynamodb benchmark.
  const inputsAt = (refreshesPerEvent: number) => ({
    lambdas: [
      {
        name: 'profile-updater',
        memoryMb: functions['profile-updater'].memoryMb,
        msPerEvent: at.wallMsPerEvent,
        invocationsPerEvent: 1 / profileTrigger.batchSize,
      },
      {
        name: 'neighbor-updater',
        memoryMb: functions['neighbor-updater'].memoryMb,
        msPerEvent: d.batchOf200.wallMsPerRefresh * refreshesPerEvent,
        invocationsPerEvent: refreshesPerEvent / neighborTrigger.batchSize,
      },
    ],
    writeUnitsPerEvent: at.writeUnitsPerEvent + d.batchOf200.writeUnitsPerRefresh * refreshesPerEvent,
    readUnitsPerEvent: at.readUnitsPerEvent + d.batchOf200.readUnitsPerRefresh * refreshesPerEvent,
  });
  const inputs = inputsAt(rr.refreshesPerEvent);
  // Where the write units per event go: the profile path's items, and each kind of item a
  // refresh writes times the steady-state refresh rate.
  const writeUnitsByKind: Record<string, number> = {};
  for (const [k, w] of Object.entries(at.writesByKind ?? {})) writeUnitsByKind[k] = w.units;
  for (const [k, w] of Object.entries(d.batchOf200.writesByKind ?? {}))
    writeUnitsByKind[k] = (writeUnitsByKind[k] ?? 0) + w.units * rr.refreshesPerEvent;
  log(
    `cost: write units per event by kind: ${Object.entries(writeUnitsByKind)
      .map(([k, u]) => `${k} ${u.toFixed(3)}`)
      .join(', ')}`,
  );
  const upperInputs = inputsAt(at.usersPerEvent);
  const monthly = billRows(inputs);
  log(`cost: the monthly bill (docs/deploy.md)\n${billMarkdown(monthly)}`);
  return {
    ...costPerMillionEvents(inputs),
    // Lambda + DynamoDB per million events by capacity mode (provisioned at 70 % utilization).
    byCapacity: { onDemand: perEvent(inputs, 'on-demand'), provisioned: perEvent(inputs, 'provisioned') },
    monthly,
    inputs,
    writeUnitsPerEventByKind: writeUnitsByKind,
    refreshesPerEventSteadyState: rr.refreshesPerEvent,
    upperBound: {
      refreshesPerEvent: at.usersPerEvent,
      usdPerMillionEvents: costPerMillionEvents(upperInputs).usdPerMillionEvents,
      inputs: upperInputs,
    },
    prices: PRICES,
    pricesDate: '2026-11-22 (us-east-1 on-demand list prices)',
  };
}

type ResponsivenessByK = {
  k: number;
  recShareMedian: number;
  radioShareMedian: number;
  recJustPlayedMedian: number;
  latencyP50Ms?: number;
  latencyP99Ms?: number;
}[];

/** One line per number of session plays: the shares of the top 10 and the latency. */
function responsivenessLines(byK: ResponsivenessByK | undefined): string[] {
  return (byK ?? []).map(
    (r) =>
      `responsiveness k=${r.k}: top 10 from the neighbourhood, median: recommendations ${sig(r.recShareMedian * 10)}, radio ${sig(r.radioShareMedian * 10)} ("just played" ${sig(r.recJustPlayedMedian * 10)})${r.latencyP50Ms !== undefined ? `; play → answer p50 / p99 ${sig(r.latencyP50Ms)} / ${sig(r.latencyP99Ms!)} ms` : ''}`,
  );
}

function table(f: Figures): string {
  const get = (path: string): unknown =>
    path.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], f);
  const rows: [string, string, string][] = [
    ['profilePath.eventsPerSecPerCore', '≥ 50,000', 'events per CPU-second, batch 1000'],
    ['endToEnd.ratioToRawConsume', '≥ 0.5', 'profile-updater ESM rate / raw kafkajs consume'],
    ['endToEnd.rawConsumePerSec', '', 'events/s'],
    ['endToEnd.profileUpdaterPerSec', '', 'events/s'],
    ['endToEnd.dynamoRequestsPerSec', '', 'DynamoDB Local requests/s during the e2e run'],
    ['dynamodb.writesPerEvent', '≤ 0.5', 'items written per event, batch 1000'],
    ['dynamodb.writeRequestsPerEvent', '', 'write requests per event, batch 1000'],
    ['dynamodb.itemsReadPerRefresh', '', 'index items, one user per batch'],
    ['refreshRate.refreshesPerEvent', '', 'neighbour refreshes per event, steady state (domain only)'],
    ['dynamodb.batchOf200.itemsReadPerRefresh', '', 'index items, 200 users per batch'],
    ['dynamodb.batchOf200.writeUnitsPerRefresh', '', 'write units (by item size), 200 users per batch'],
    ['dynamodb.oneUserPerBatch.readRequestsPerRefresh', '', ''],
    ['dynamodb.oneUserPerBatchWarmCellCache.readRequestsPerRefresh', '', 'with the container cell cache warm'],
    ['dynamodb.readRequestsPerRecommendation', '', ''],
    ['freshness.profileP50Ms', '', 'POST 202 → profile'],
    ['freshness.profileP99Ms', '≤ 1000', ''],
    ['freshness.neighborsP50Ms', '', 'POST 202 → neighbours'],
    ['freshness.neighborsP99Ms', '≤ 1500', ''],
    ['index.recallAt10', '≥ 0.95', `at N = ${get('index.n') ?? '?'}`],
    ['index.fractionRead', '≤ 0.02', ''],
    ['index.hnswRecallAt10', '', 'HNSW M=16 ef=64'],
    ['api.p50Ms', '', '200 req/s'],
    ['api.p99Ms', '≤ 25', ''],
    ['api.readRequestsPerRecommendation', '', 'DynamoDB requests'],
    ['api.serverCpuMsPerRecommendation', '', 'serving process CPU (all threads)'],
    ['api.dynamodbLocalCpuMsPerRecommendation', '', 'DynamoDB Local JVM CPU'],
    ['api.handlerOnly.cpuMsPerRequest', '≤ 1.5', 'the handler alone, as in a Lambda container'],
    ['api.handlerOnly.p50Ms', '', 'handler alone, sequential'],
    ['api.handlerOnly.p99Ms', '', ''],
    ['api.handlerOnly.wireBatchGetCpuMs', '', 'its one BatchGet alone (wire client)'],
    ['api.handlerOnly.sdkBatchGetCpuMs', '', 'the same BatchGet through the SDK DocumentClient'],
    ['api.handlerOnly.httpFloorCpuMs', '', 'a trivial keep-alive HTTP round trip on this machine'],
    ['api.handlerOnly.servedListCpuMs', '≤ 0.3', 'recording an answer: variant, id, served-list line and its write'],
    ['api.handlerOnly.servedLineBytes', '', 'bytes CloudWatch Logs ingests per answer'],
    ['api.handlerOnly.recordingAlternatives.recording.wallP50Ms', '', 'the log line: wall time per answer'],
    ['api.handlerOnly.recordingAlternatives.produceServedList.wallP50Ms', '', 'a Kafka produce (acks=all) instead'],
    ['api.handlerOnly.recordingAlternatives.produceServedList.cpuMs', '', ''],
    ['api.handlerOnly.recordingAlternatives.putServedList.wallP50Ms', '', 'a DynamoDB put instead'],
    ['api.handlerOnly.recordingAlternatives.putServedList.cpuMs', '', ''],
    ['api.itemModelBuild.seconds', '', 'item model build (scan + lists + writes)'],
    ['api.itemModelBuild.itemsWritten', '', 'item model items written per build'],
    ['api.itemModelBuild.writeUnits', '', 'item model write units per build (by item size)'],
    ['start.quiet.readyP50Seconds', '', '`npm start` ready, quiet machine'],
    ['start.quiet.readyP95Seconds', '≤ 20', ''],
    ['start.loaded.readyP50Seconds', '', 'beside START_BENCH_BURNERS CPU-bound processes'],
    ['start.loaded.readyP95Seconds', '≤ 30', ''],
    ['start.loaded.ready', '= starts', `of ${get('start.loaded.starts') ?? '?'} loaded starts`],
    ['attribution.perAnswer.lineBytes', '', 'served-list line, bytes CloudWatch Logs ingests (+26 per event)'],
    ['attribution.perAnswer.writeUnits', '', 'served lists stored: write units per answer'],
    ['attribution.perAnswer.readUnits', '', 'their duplicate check: read units per answer'],
    ['attribution.perPlay.readUnits', '', "a play: its listener's lists read"],
    ['attribution.perPlay.writeUnits', '', 'a play: first hits marked (counters per batch)'],
    ['attribution.usdPerMillionAnswers.total', '≤ 0.30', 'logs + recorder + served-list store, provisioned at 70 %'],
    ['attribution.usdPerMillionPlays', '', 'what plays add (on the events bill)'],
    ['responsiveness.after3Plays.radioInNeighbourhood', '≥ 5', 'of the top 10 radio, median, after 3 plays'],
    ['responsiveness.after3Plays.recommendationsInNeighbourhood', '≥ 3', 'of the top 10 recommendations, median'],
    ['responsiveness.latencyP50Ms', '', 'play 202 → an answer with it in the session'],
    ['responsiveness.latencyP99Ms', '≤ 1500', ''],
    ['responsiveness.readRequests.recommendationWithSession.secondPass', '', 'DynamoDB requests per recommendation'],
    ['responsiveness.readRequests.recommendationWithoutSession.secondPass', '', 'the same world, no session'],
    [
      'responsiveness.readRequests.newSessions.meanPerAnswer',
      '≤ 1.5',
      'new sessions: a recommendation and a radio per play',
    ],
    ['cost.usdPerMillionEvents', '', 'Lambda + DynamoDB on demand; MSK apart'],
    ['cost.byCapacity.provisioned.usdPerMillionEvents', '≤ 0.50', 'Lambda + DynamoDB provisioned (70 % utilization)'],
    ['cost.upperBound.usdPerMillionEvents', '', 'if every profile write refreshed neighbours'],
    ['cost.mskUsdPerMonth3Brokers', '', 'fixed'],
  ];
  const lines = ['', 'figure                                           goal       value      note'];
  for (const [key, goal, note] of rows) {
    const v = get(key);
    if (v === undefined) continue;
    lines.push(
      `${key.padEnd(48)} ${goal.padEnd(10)} ${(typeof v === 'number' ? sig(v) : String(v)).padEnd(10)} ${note}`,
    );
  }
  const sizes = get('index.bySize') as
    | {
        n: number;
        recallAt10: number;
        fractionRead: number;
        hnsw?: { recallAt10: number; usPerQuery: number };
        usPerQuery: number;
      }[]
    | undefined;
  for (const s of sizes ?? [])
    lines.push(
      `index N=${s.n}: recall@10 ${sig(s.recallAt10)} reading ${sig(s.fractionRead * 100)}% (${sig(s.usPerQuery)} µs/query); HNSW ${sig(s.hnsw?.recallAt10 ?? Number.NaN)} (${sig(s.hnsw?.usPerQuery ?? Number.NaN)} µs/query)`,
    );
  const lf = get('index.lastfm') as
    | { users?: number; recallAt10?: number; fractionRead?: number; hnsw?: { recallAt10: number }; skipped?: string }
    | undefined;
  if (lf?.users)
    lines.push(
      `index Last.fm (${lf.users} users): recall@10 ${sig(lf.recallAt10!)} reading ${sig(lf.fractionRead! * 100)}%; HNSW ${sig(lf.hnsw?.recallAt10 ?? Number.NaN)}`,
    );
  else if (lf?.skipped) lines.push(`index Last.fm: skipped (${lf.skipped})`);
  lines.push(...responsivenessLines(get('responsiveness.byK') as ResponsivenessByK | undefined));
  const pp = get('profilePath.byBatchSize') as
    | {
        batchSize: number;
        eventsPerCpuSecond: number;
        writesPerEvent: number;
        writeRequestsPerEvent: number;
        wallMsPerEvent: number;
      }[]
    | undefined;
  for (const b of pp ?? [])
    lines.push(
      `profilePath batch ${b.batchSize}: ${sig(b.eventsPerCpuSecond)} events/CPU-s, ${sig(b.writesPerEvent)} items written/event (${sig(b.writeRequestsPerEvent)} requests), ${sig(b.wallMsPerEvent * 1000)} µs wall/event`,
    );
  return `${lines.join('\n')}\n\n`;
}

main()
  .then(() => stopInfrastructure())
  .then(
    () => process.exit(0),
    (err: unknown) => {
      log(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      void stopInfrastructure().finally(() => process.exit(1));
    },
  );
