/**
 * `npm run soak -- --rate 200 --minutes 3`: a steady stream of listen events through the local
 * pipeline (in this process, like one warm Lambda container per function), sampling every
 * --interval seconds the consumer lag of each trigger (from the broker), RSS, heap and open handles
 * (process.getActiveResourcesInfo()). Prints each sample and a summary; --out writes JSON.
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { Partitioners } from 'kafkajs';
import { onShutdown, provisionTopology, startInfrastructure } from '../../local/infra/index.ts';
import { startLocalPipeline } from '../../local/pipeline.ts';
import { putCatalogItemIfNewer } from '../../shared/adapters/dynamodb/catalog.ts';
import { createStores } from '../../shared/adapters/dynamodb/stores.ts';
import { createKafka } from '../../shared/adapters/kafka-client.ts';
import { logKafkaClientsIn } from '../../shared/adapters/kafka-log.ts';
import { catalogItemsOf } from '../../shared/domain/catalog/catalog.ts';
import { generateWorkload } from '../chaos/workload.ts';

const USAGE = `Usage: npm run soak -- [options]

Options:
  --rate <n>       listen events per second (default 200)
  --minutes <n>    duration (default 3)
  --interval <s>   sampling interval, seconds (default 10)
  --out <file>     write samples and summary as JSON
  -h, --help       show this help
Ctrl-C stops early and still prints the summary.
`;

const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '200' },
    minutes: { type: 'string', default: '3' },
    interval: { type: 'string', default: '10' },
    out: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}
const rate = Number(values.rate);
const minutes = Number(values.minutes);
const interval = Number(values.interval);
if (!(rate > 0) || !(minutes > 0) || !(interval > 0))
  throw new Error('--rate, --minutes and --interval must be positive');

interface Sample {
  t: number;
  produced: number;
  lag: Record<string, number>;
  rssMiB: number;
  heapMiB: number;
  handles: number;
  handleTypes: Record<string, number>;
}

const log = (line: string) => process.stderr.write(`[soak] ${line}\n`);
const infra = await startInfrastructure({ log, logDir: '.data/soak-logs' });
log(`kafkajs logs to ${logKafkaClientsIn(infra.logDir)}`);
const samples: Sample[] = [];
let stopping = false;
let pipelineStop: (() => Promise<void>) | undefined;
onShutdown(async () => {
  stopping = true;
  await pipelineStop?.();
  await infra.stop();
});

const topology = await provisionTopology(infra, `soak${randomBytes(3).toString('hex')}-`);
const total = Math.ceil(rate * minutes * 60);
const work = generateWorkload({ events: total, users: 5000, seed: 1122, duplicateRate: 0.01 });
const stores = createStores({ endpoint: infra.dynamodbEndpoint, region: 'us-east-1' }, topology.tableNames);
for (const a of work.artists) {
  for (const item of catalogItemsOf({
    artistId: a.artistId,
    name: a.name,
    genres: a.genres,
    popularity: 50,
    updatedAt: 1,
  }))
    await putCatalogItemIfNewer(stores, item);
}
const pipeline = await startLocalPipeline({
  topology,
  kafkaBrokers: infra.kafkaBrokers,
  dynamodbEndpoint: infra.dynamodbEndpoint,
  port: 0,
  log,
});
pipelineStop = pipeline.stop;
const producer = createKafka({ brokers: infra.kafkaBrokers, auth: 'none', clientId: 'soak' }).producer({
  createPartitioner: Partitioners.DefaultPartitioner,
});
await producer.connect();

const mib = (b: number) => Math.round((b / 1048576) * 10) / 10;
const started = Date.now();
let produced = 0;
const sample = async () => {
  const lag: Record<string, number> = {};
  for (const m of pipeline.mappings) {
    lag[m.groupId.slice(topology.prefix.length)] = Object.values(await m.lag()).reduce((a, b) => a + b, 0);
  }
  const handleTypes: Record<string, number> = {};
  const resources = process.getActiveResourcesInfo();
  for (const r of resources) handleTypes[r] = (handleTypes[r] ?? 0) + 1;
  const mem = process.memoryUsage();
  const s: Sample = {
    t: Math.round((Date.now() - started) / 1000),
    produced,
    lag,
    rssMiB: mib(mem.rss),
    heapMiB: mib(mem.heapUsed),
    handles: resources.length,
    handleTypes,
  };
  samples.push(s);
  log(
    `t=${s.t}s produced=${produced} lag ${Object.entries(lag)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')} rss=${s.rssMiB}MiB heap=${s.heapMiB}MiB handles=${s.handles}`,
  );
};

// Steady rate: every 100 ms, send what the wall clock says is due (a slow send is made up next tick).
const sampler = setInterval(() => void sample(), interval * 1000);
const tickMs = 100;
for (let tick = 1; produced < total && !stopping; tick++) {
  const due = Math.min(total, Math.floor(((Date.now() - started) / 1000) * rate));
  const slice = work.events.slice(produced, due);
  if (slice.length > 0) {
    await producer.send({
      topic: topology.topicNames.listenEvents,
      messages: slice.map((e) => ({ key: e.userId, value: JSON.stringify(e) })),
    });
    produced = due;
  }
  const wait = started + tick * tickMs - Date.now();
  if (wait > 0) await sleep(wait);
}
clearInterval(sampler);
if (!stopping) await sample();
await producer.disconnect();

/** Least-squares slope of y over t, per minute. */
const slope = (ys: number[], ts: number[]) => {
  const n = ys.length;
  if (n < 2) return 0;
  const mt = ts.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (ts[i]! - mt) * (ys[i]! - my);
    den += (ts[i]! - mt) ** 2;
  }
  return den === 0 ? 0 : (num / den) * 60;
};
// The first sample includes warm-up (connections, JIT, caches); growth is judged after it.
const steady = samples.length > 2 ? samples.slice(1) : samples;
const ts = steady.map((s) => s.t);
const summary = {
  rate,
  minutes,
  produced,
  achievedRate: Math.round(produced / ((Date.now() - started) / 1000)),
  samples: samples.length,
  // Per trigger: a flat lag means the consumer keeps up; a positive slope means it falls behind.
  lag: Object.fromEntries(
    Object.keys(steady[0]?.lag ?? {}).map((k) => {
      const ys = steady.map((s) => s.lag[k] ?? 0);
      return [k, { first: ys[0], max: Math.max(...ys), last: ys.at(-1), slopePerMin: Math.round(slope(ys, ts)) }];
    }),
  ),
  rssMiB: {
    first: steady[0]?.rssMiB,
    last: steady.at(-1)?.rssMiB,
    slopePerMin:
      Math.round(
        slope(
          steady.map((s) => s.rssMiB),
          ts,
        ) * 10,
      ) / 10,
  },
  heapMiB: {
    first: steady[0]?.heapMiB,
    last: steady.at(-1)?.heapMiB,
    slopePerMin:
      Math.round(
        slope(
          steady.map((s) => s.heapMiB),
          ts,
        ) * 10,
      ) / 10,
  },
  handles: {
    min: Math.min(...steady.map((s) => s.handles)),
    max: Math.max(...steady.map((s) => s.handles)),
    last: steady.at(-1)?.handles,
  },
};
process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
if (values.out) writeFileSync(values.out, `${JSON.stringify({ summary, samples }, null, 2)}\n`);
await pipeline.stop();
pipelineStop = undefined;
await infra.stop();
process.exit(0);
