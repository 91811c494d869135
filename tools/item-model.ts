/**
 * `npm run item-model -- [--archive DIR] [--load] [--parquet DIR] [--out DIR] [--json FILE] …`: the
 * item model from the event archive, on demand: DuckDB embedded runs `sql/item-model/*.sql` over
 * the archive's window (progress on stderr). With --load it runs the whole local build as the
 * schedule does — the build lease, catalog tags in, the streaming loader's changed-only writes and
 * manifests, the announcement — against the local infrastructure (started here, or KAFKA_BROKERS /
 * DYNAMODB_ENDPOINT of a running `npm start`); with --load --parquet DIR only the loader runs, on a
 * build already written as Parquet (what the benchmark measures the loader's memory with).
 * Without --load, the parts are written as Parquet under --out (as Athena UNLOADs them) and
 * nothing else. The summary (rows, seconds, bytes, peak memory) goes to stdout and --json.
 * Ctrl-C interrupts the running query.
 */
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { applyFunctionEnv, functionEnv } from '../local/runtime/functions.ts';
import { dirArchiveHours } from '../shared/adapters/archive-hours.ts';
import { archiveSize, openArchiveDb } from '../shared/adapters/duckdb.ts';
import { unloadItemModelSql } from '../shared/batch/duckdb-item-model.ts';
import { itemModelSqlParams } from '../shared/batch/item-model-sql.ts';
import { chooseWindow, windowLimits } from '../shared/batch/window.ts';
import { resolveSettings } from '../shared/topology.ts';

/** Bad arguments: the message and the usage, exit 2. */
class UsageError extends Error {
  override readonly name = 'UsageError';
}

const USAGE = `Usage: npm run item-model -- [options]

Builds the item model from the event archive with the item model's SQL (sql/item-model/) on
DuckDB embedded — the same SQL Athena runs in the cloud — over the build's window (the newest
hours, at most ITEM_MODEL_WINDOW_DAYS and ITEM_MODEL_WINDOW_GB).

Options:
  --archive DIR      the archive (year=/month=/day=/hour= JSON lines); default ARCHIVE_DIR or .data/archive
  --load             also load it: catalog tags from DynamoDB, changed lists, manifests, announcement
                     (starts Kafka + DynamoDB Local, or uses KAFKA_BROKERS / DYNAMODB_ENDPOINT)
  --parquet DIR      with --load: load this build's Parquet (<DIR>/<part>/*.parquet) instead of
                     running the SQL; the loader alone (no announcement)
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
ITEM_MODEL_MIN_SUPPORT, ITEM_MODEL_SIMILAR_K, ITEM_MODEL_CONTENT_K, ITEM_MODEL_CONTENT_TAGS,
ITEM_MODEL_WINDOW_DAYS, ITEM_MODEL_WINDOW_GB.
`;

type Values = ReturnType<typeof parse>['values'];
const log = (line: string) => process.stderr.write(`[item-model] ${line}\n`);

function parse() {
  return parseArgs({
    options: {
      archive: { type: 'string' },
      load: { type: 'boolean', default: false },
      parquet: { type: 'string' },
      'env-prefix': { type: 'string' },
      'memory-limit': { type: 'string' },
      out: { type: 'string' },
      'pair-rows': { type: 'string' },
      threads: { type: 'string' },
      json: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
}

function positive(values: Values, name: 'pair-rows' | 'threads'): number | undefined {
  const v = values[name];
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 1)
    throw new UsageError(`--${name} must be a positive integer, got ${JSON.stringify(v)}`);
  return n;
}

async function main(): Promise<number> {
  const { values } = parse();
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (values.parquet && !values.load) throw new UsageError('--parquet goes with --load');
  const pairRows = positive(values, 'pair-rows');
  const threads = positive(values, 'threads');
  const dir = resolve(values.archive ?? (process.env.ARCHIVE_DIR || '.data/archive'));
  const started = performance.now();
  let peakRss = process.memoryUsage.rss();
  let peakHeap = process.memoryUsage().heapUsed;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage.rss());
    peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
  }, 200);
  sampler.unref();
  const summary = values.load ? await withInfrastructure(values, dir) : await sqlOnly(values, dir, pairRows, threads);
  clearInterval(sampler);
  peakRss = Math.max(peakRss, process.memoryUsage.rss());
  const out = {
    ...summary,
    seconds: (performance.now() - started) / 1000,
    peakRssMb: Math.round(peakRss / 1e6),
    peakHeapMb: Math.round(peakHeap / 1e6),
  };
  process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  if (values.json) writeFileSync(values.json, `${JSON.stringify(out, null, 2)}\n`);
  return 0;
}

/** --load: the whole local build, or (--parquet) the loader alone on a build's Parquet. */
async function withInfrastructure(values: Values, dir: string): Promise<Record<string, unknown>> {
  const { onShutdown, provisionTopology, startInfrastructure } = await import('../local/infra/index.ts');
  const infra = await startInfrastructure({ log: (l) => log(`[infra] ${l}`) });
  onShutdown(() => infra.stop());
  try {
    const topology = await provisionTopology(infra, values['env-prefix']);
    applyFunctionEnv(
      functionEnv({ topology, kafkaBrokers: infra.kafkaBrokers, dynamodbEndpoint: infra.dynamodbEndpoint }),
    );
    const { storesFromEnv } = await import('../shared/adapters/dynamodb/stores.ts');
    const stores = storesFromEnv();
    if (values.parquet) {
      const parquet = resolve(values.parquet);
      const { localParquetFiles } = await import('../shared/adapters/parquet.ts');
      const { parquetSource } = await import('../shared/batch/build-source.ts');
      const { loadBuild } = await import('../shared/batch/item-model-loader.ts');
      const source = parquetSource((part) => localParquetFiles(join(parquet, part)));
      const load = await loadBuild(stores, source, { tolerance: resolveSettings().ITEM_MODEL_LIST_TOLERANCE, log });
      return { parquet, load, requests: { ...stores.counter } };
    }
    const { buildItemModelLocally } = await import('../local/batch/item-model-job.ts');
    return { ...(await buildItemModelLocally(stores, { archiveDir: dir, log })) };
  } finally {
    const kafkaAdapter = await import('../shared/adapters/kafka.ts');
    await kafkaAdapter.disconnectProducer();
    await infra.stop();
  }
}

/** The SQL alone over the archive's window, the parts written as Parquet under --out. */
async function sqlOnly(
  values: Values,
  dir: string,
  pairRows: number | undefined,
  threads: number | undefined,
): Promise<Record<string, unknown>> {
  const outDir = resolve(values.out ?? '.data/item-model-build');
  const size = await archiveSize(dir);
  const settings = resolveSettings();
  const window = await chooseWindow(dirArchiveHours(dir), windowLimits(settings, Date.now()));
  log(
    `archive ${dir}: ${size.files} objects, ${(size.bytes / 1e6).toFixed(1)} MB; window ${window ? `${window.fromHour}–${window.toHour}, ${window.hours} hours, ${(window.bytes / 1e6).toFixed(1)} MB` : 'none (empty archive)'}`,
  );
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
    const sql = await unloadItemModelSql(
      db,
      outDir,
      { ...itemModelSqlParams(settings), ...(window ? { window } : {}) },
      { log, ...(pairRows ? { pairRowsPerBucket: pairRows } : {}) },
    );
    log(`parquet: ${outDir}`);
    return { archive: { dir, ...size }, window, out: outDir, sql };
  } finally {
    process.off('SIGINT', interrupt);
    db.close();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`item-model: ${(err as Error)?.message ?? err}\n`);
    if (err instanceof UsageError) process.stderr.write('(npm run item-model -- --help)\n');
    process.exit(err instanceof UsageError ? 2 : 1);
  },
);
