/**
 * The item model's loader in the cloud, the Lambda steps of the batch layer's state machine
 * (Step Functions on the topology's schedule; cdk/constructs/batch.ts):
 *
 * 1. `prepare`: takes the build lease (one build at a time: an overlapping run would empty the
 *    output another is writing), chooses the build's window of archive hours (shared/batch/
 *    window.ts), empties the UNLOAD destination (`builds/current/`) and exports the catalog's
 *    tags as JSON lines (`tags/catalog.jsonl`) for the `item_tags` table. Answers `busy` (another
 *    build holds the lease), `empty` (nothing archived) or `ready` with the window's SQL values,
 *    which the state machine passes to the queries as execution parameters.
 * 2. Athena runs the item model's SQL (sql/item-model/), each part an UNLOAD to Parquet.
 * 3. `load`: streams the Parquet into the item-model table (only the lists that changed, the
 *    count shards, the manifests last; shared/batch/item-model-loader.ts), announces a new build
 *    on `profile-updates` so active listeners' candidate sets are rebuilt, releases the lease.
 * 4. `release`: the lease, when a build ends without loading (empty archive, a failed query).
 *
 * Locally the same schedule runs local/batch/item-model-job.ts: the same SQL on DuckDB, the same
 * window, lease and loader.
 *
 * @producesTo profile-updates
 * @schedule every-60-minutes
 */
import type { Context } from 'aws-lambda';
import { s3ArchiveHours } from '../../shared/adapters/archive-hours.ts';
import { BATCH_PREFIXES, clearPrefix, putText, s3Client, s3ParquetFiles } from '../../shared/adapters/batch-bucket.ts';
import { scanCatalogTags } from '../../shared/adapters/dynamodb/catalog.ts';
import { storesFromEnv } from '../../shared/adapters/dynamodb/stores.ts';
import { announceFrom } from '../../shared/batch/announce.ts';
import { acquireBuildLease, releaseBuildLease } from '../../shared/batch/build-lease.ts';
import { parquetSource } from '../../shared/batch/build-source.ts';
import { type LoadSummary, loadBuild } from '../../shared/batch/item-model-loader.ts';
import { type RunTimeParam, windowSqlValues } from '../../shared/batch/item-model-sql.ts';
import { type ArchiveHour, type BuildWindow, chooseWindow, windowLimits } from '../../shared/batch/window.ts';
import { ConfigurationError } from '../../shared/errors.ts';
import { MetricUnit, observability, wrap } from '../../shared/handlers/observability.ts';
import { batchLayer, resolveSettings } from '../../shared/topology.ts';

const FUNCTION_NAME = 'item-model-builder';
const tools = observability(FUNCTION_NAME);

/** The state machine's execution id (`$$.Execution.Id`): the lease's holder. */
export type LoaderEvent =
  | { action: 'prepare'; execution: string }
  | { action: 'load'; execution: string }
  | { action: 'release'; execution: string };

export type PrepareResult =
  | { status: 'busy' }
  | { status: 'empty' }
  | { status: 'ready'; window: BuildWindow; sql: Record<RunTimeParam, string>; cleared: number; taggedItems: number };

function env(name: 'BATCH_BUCKET' | 'ARCHIVE_BUCKET'): string {
  const v = process.env[name];
  if (!v) throw new ConfigurationError(`${name} is not set`);
  return v;
}

/** What `prepare` does to S3 (the archive's listing, the batch bucket): replaced in tests. */
export interface PrepareIo {
  archiveHours(): AsyncIterable<ArchiveHour>;
  clearOutput(): Promise<number>;
  putTags(body: string): Promise<void>;
}

const s3Io = (): PrepareIo => ({
  archiveHours: () => s3ArchiveHours(s3Client(), env('ARCHIVE_BUCKET')),
  clearOutput: () => clearPrefix(env('BATCH_BUCKET'), BATCH_PREFIXES.unload),
  putTags: (body) => putText(env('BATCH_BUCKET'), `${BATCH_PREFIXES.tags}catalog.jsonl`, body),
});

export async function prepare(execution: string, io: PrepareIo = s3Io(), now = Date.now()): Promise<PrepareResult> {
  const stores = storesFromEnv();
  // Before anything is touched: an overlapping build would empty the output another is using.
  if (!(await acquireBuildLease(stores, execution, batchLayer.leaseSeconds, now))) {
    tools.logger.info('another build holds the lease: this one is skipped', { execution });
    return { status: 'busy' };
  }
  const window = await chooseWindow(io.archiveHours(), windowLimits(resolveSettings(), now));
  if (!window) {
    // The execution ends here (Skipped): nothing else would release the lease.
    await releaseBuildLease(stores, execution);
    tools.logger.info('the archive is empty: nothing to build');
    return { status: 'empty' };
  }
  const cleared = await io.clearOutput();
  const lines: string[] = [];
  let taggedItems = 0;
  await scanCatalogTags(stores, ({ itemId, tags }) => {
    taggedItems++;
    const kind = itemId.slice(0, 1);
    const id = itemId.slice(2);
    for (const tag in tags)
      if (tags[tag]! > 0) lines.push(JSON.stringify({ kind, item_id: id, tag, tag_count: tags[tag] }));
  });
  await io.putTags(lines.length > 0 ? `${lines.join('\n')}\n` : '');
  tools.logger.info('batch prepared', { window, cleared, taggedItems, tagRows: lines.length });
  return { status: 'ready', window, sql: windowSqlValues(window), cleared, taggedItems };
}

export async function load(execution: string): Promise<LoadSummary & { announced: number }> {
  const started = performance.now();
  const b = env('BATCH_BUCKET');
  const stores = storesFromEnv();
  const source = parquetSource((part) => s3ParquetFiles(b, `${BATCH_PREFIXES.unload}${part}/`));
  const summary = await loadBuild(stores, source, {
    tolerance: resolveSettings().ITEM_MODEL_LIST_TOLERANCE,
    log: (l) => tools.logger.info(l),
  });
  const announced = summary.published && summary.modelId ? await announceFrom(stores, source, summary.modelId) : 0;
  await releaseBuildLease(stores, execution);
  const seconds = (performance.now() - started) / 1000;
  tools.logger.info('item model loaded', { ...summary, announced, seconds });
  tools.metrics.addMetric('itemModelItemsWritten', MetricUnit.Count, summary.itemsWritten);
  tools.metrics.addMetric('itemModelLoadSeconds', MetricUnit.Seconds, seconds);
  return { ...summary, announced };
}

export async function release(execution: string): Promise<{ released: boolean }> {
  const released = await releaseBuildLease(storesFromEnv(), execution);
  tools.logger.info('build lease released', { execution, released });
  return { released };
}

export const handler = wrap(async (event: LoaderEvent, _context: Context) => {
  if (typeof event?.execution !== 'string' || event.execution === '')
    throw new ConfigurationError('the state machine passes its execution id as `execution`');
  if (event.action === 'prepare') return prepare(event.execution);
  if (event.action === 'load') return load(event.execution);
  if (event.action === 'release') return release(event.execution);
  throw new Error(`unknown action ${JSON.stringify((event as { action?: unknown })?.action)}`);
}, tools);
