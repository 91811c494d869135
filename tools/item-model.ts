/**
 * `npm run item-model -- [--archive DIR] [--load] [--out DIR] [--json FILE] …`: the item model from
 * the event archive, on demand: DuckDB embedded runs `sql/item-model/*.sql` over the archive
 * (progress on stderr). With --load it runs the whole local build as the schedule does — catalog
 * tags in, the loader's changed-only writes and manifests, the announcement — against the local
 * infrastructure (started here, or KAFKA_BROKERS / DYNAMODB_ENDPOINT of a running `npm start`).
 * Without it, the parts are written as Parquet under --out (as Athena UNLOADs them) and nothing
 * else: the summary (rows, seconds, bytes read and written, peak memory) is what the benchmark
 * measures. Ctrl-C interrupts the running query.
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { applyFunctionEnv, functionEnv } from '../local/runtime/functions.ts';
import { archiveSize, openArchiveDb } from '../shared/adapters/duckdb.ts';
import { unloadItemModelSql } from '../shared/batch/duckdb-item-model.ts';
import { itemModelSqlParams } from '../shared/batch/item-model-sql.ts';
import { resolveSettings } from '../shared/topology.ts';

/** Bad arguments: the message and the usage, exit 2. */
class UsageError extends Error {
  override readonly name = 'UsageError';
}

const USAGE = `Usage: npm run item-model -- [options]

Builds the item model from the event archive with the item model's SQL (sql/item-model/) on
DuckDB embedded — the same SQL Athena runs in the cloud.

Options:
  --archive DIR      the archive (year=/month=/day=/hour= JSON lines); default ARCHIVE_DIR or .data/archive
  --load             also load it: catalog tags from DynamoDB, changed lists, manifests, announcement
                     (starts Kafka + DynamoDB Local, or uses KAFKA_BROKERS / DYNAMODB_ENDPOINT)
  --env-prefix P     the topology's resource prefix with --load (default none, as npm start)
  --out DIR          without --load: where the parts go as Parquet (<DIR>/<part>/*.parquet, as
                     Athena's UNLOAD writes them); default .data/item-model-build (each
                     <part>/ emptied first)
  --memory-limit M   DuckDB's memory limit, e.g. 2GB (it spills to disk beyond it)
  --pair-rows N      pair rows per bucket of the co-listening pass (default 40000000): fewer
                     means more buckets and less memory
  --threads N        DuckDB threads (default: the cores)
  --json FILE        write the summary as JSON
  -h, --help         this help

Settings (env overrides, shared/topology.ts): ITEM_MODEL_TOP_ITEMS, ITEM_MODEL_PAIR_ITEMS,
ITEM_MODEL_MIN_SUPPORT, ITEM_MODEL_SIMILAR_K, ITEM_MODEL_CONTENT_K, ITEM_MODEL_CONTENT_TAGS.
`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      archive: { type: 'string' },
      load: { type: 'boolean', default: false },
      'env-prefix': { type: 'string' },
      'memory-limit': { type: 'string' },
      out: { type: 'string' },
      'pair-rows': { type: 'string' },
      threads: { type: 'string' },
      json: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const positive = (name: 'pair-rows' | 'threads'): number | undefined => {
    const v = values[name];
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isSafeInteger(n) || n < 1)
      throw new UsageError(`--${name} must be a positive integer, got ${JSON.stringify(v)}`);
    return n;
  };
  const pairRows = positive('pair-rows');
  const threads = positive('threads');
  const log = (line: string) => process.stderr.write(`[item-model] ${line}\n`);
  const dir = resolve(values.archive ?? (process.env.ARCHIVE_DIR || '.data/archive'));
  const started = performance.now();
  let peakRss = process.memoryUsage.rss();
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage.rss());
  }, 200);
  sampler.unref();
  let summary: Record<string, unknown>;
  if (values.load) {
    const { onShutdown, provisionTopology, startInfrastructure } = await import('../local/infra/index.ts');
    const infra = await startInfrastructure({ log: (l) => log(`[infra] ${l}`) });
    onShutdown(() => infra.stop());
    try {
      const topology = await provisionTopology(infra, values['env-prefix']);
      applyFunctionEnv(
        functionEnv({ topology, kafkaBrokers: infra.kafkaBrokers, dynamodbEndpoint: infra.dynamodbEndpoint }),
      );
      const { buildItemModelLocally } = await import('../local/batch/item-model-job.ts');
      const { storesFromEnv } = await import('../shared/adapters/dynamodb/stores.ts');
      summary = { ...(await buildItemModelLocally(storesFromEnv(), { archiveDir: dir, log })) };
    } finally {
      const kafkaAdapter = await import('../shared/adapters/kafka.ts');
      await kafkaAdapter.disconnectProducer();
      await infra.stop();
    }
  } else {
    const outDir = resolve(values.out ?? '.data/item-model-build');
    const size = await archiveSize(dir);
    log(`archive ${dir}: ${size.files} objects, ${(size.bytes / 1e6).toFixed(1)} MB`);
    const db = await openArchiveDb(dir, {
      ...(values['memory-limit'] ? { memoryLimit: values['memory-limit'] } : {}),
      ...(threads ? { threads } : {}),
    });
    const interrupt = () => {
      log('interrupted: cancelling the query');
      db.interrupt();
    };
    process.once('SIGINT', interrupt);
    try {
      const sql = await unloadItemModelSql(db, outDir, itemModelSqlParams(resolveSettings()), {
        log,
        ...(pairRows ? { pairRowsPerBucket: pairRows } : {}),
      });
      log(`parquet: ${outDir}`);
      summary = { archive: { dir, ...size }, out: outDir, sql };
    } finally {
      process.off('SIGINT', interrupt);
      db.close();
    }
  }
  clearInterval(sampler);
  peakRss = Math.max(peakRss, process.memoryUsage.rss());
  const out = { ...summary, seconds: (performance.now() - started) / 1000, peakRssMb: Math.round(peakRss / 1e6) };
  process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  if (values.json) writeFileSync(values.json, `${JSON.stringify(out, null, 2)}\n`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`item-model: ${(err as Error)?.message ?? err}\n`);
    if (err instanceof UsageError) process.stderr.write('(npm run item-model -- --help)\n');
    process.exit(err instanceof UsageError ? 2 : 1);
  },
);
