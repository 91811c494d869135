/**
 * The item model's loader in the cloud, the Lambda steps of the batch layer's state machine
 * (Step Functions on the topology's schedule; cdk/constructs/batch.ts):
 *
 * 1. `prepare`: empties the UNLOAD destination (`builds/current/`) and exports the catalog's tags
 *    as JSON lines (`tags/catalog.jsonl`) for the `item_tags` table.
 * 2. Athena runs the item model's SQL (sql/item-model/), each part an UNLOAD to Parquet.
 * 3. `load`: reads the Parquet, writes only the lists that changed, the count shards, the
 *    manifests last (shared/batch/item-model-loader.ts), and announces a new build on
 *    `profile-updates` so active listeners' candidate sets are rebuilt with it.
 *
 * Locally the same schedule runs local/batch/item-model-job.ts: the same SQL on DuckDB, the same
 * loader. A build is a pure function of the archive and the catalog: a repeated run finds every
 * list unchanged and writes nothing.
 *
 * @producesTo profile-updates
 * @schedule every-60-minutes
 */
import type { Context } from 'aws-lambda';
import { BATCH_PREFIXES, clearPrefix, putText, readParquetPrefix } from '../../shared/adapters/batch-bucket.ts';
import { scanCatalogTags } from '../../shared/adapters/dynamodb/catalog.ts';
import { storesFromEnv } from '../../shared/adapters/dynamodb/stores.ts';
import { announceBuild } from '../../shared/batch/announce.ts';
import { type LoadSummary, loadItemModel } from '../../shared/batch/item-model-loader.ts';
import { readItemModelResult } from '../../shared/batch/item-model-result.ts';
import { ConfigurationError } from '../../shared/errors.ts';
import { MetricUnit, observability, wrap } from '../../shared/handlers/observability.ts';
import { resolveSettings } from '../../shared/topology.ts';

const FUNCTION_NAME = 'item-model-builder';
const tools = observability(FUNCTION_NAME);

export type LoaderEvent = { action: 'prepare' } | { action: 'load' };

function bucket(): string {
  const b = process.env.BATCH_BUCKET;
  if (!b) throw new ConfigurationError('BATCH_BUCKET is not set');
  return b;
}

export async function prepare(): Promise<{ cleared: number; taggedItems: number }> {
  const b = bucket();
  const cleared = await clearPrefix(b, BATCH_PREFIXES.unload);
  const lines: string[] = [];
  let taggedItems = 0;
  await scanCatalogTags(storesFromEnv(), ({ itemId, tags }) => {
    taggedItems++;
    const kind = itemId.slice(0, 1);
    const id = itemId.slice(2);
    for (const tag in tags)
      if (tags[tag]! > 0) lines.push(JSON.stringify({ kind, item_id: id, tag, tag_count: tags[tag] }));
  });
  await putText(b, `${BATCH_PREFIXES.tags}catalog.jsonl`, lines.length > 0 ? `${lines.join('\n')}\n` : '');
  tools.logger.info('batch prepared', { cleared, taggedItems, tagRows: lines.length });
  return { cleared, taggedItems };
}

export async function load(): Promise<LoadSummary & { announced: number; parquetBytes: number }> {
  const started = performance.now();
  const b = bucket();
  let parquetBytes = 0;
  const result = await readItemModelResult(async (part) => {
    const r = await readParquetPrefix(b, `${BATCH_PREFIXES.unload}${part}/`);
    parquetBytes += r.bytes;
    return r.rows;
  });
  const stores = storesFromEnv();
  const summary = await loadItemModel(stores, result, {
    tolerance: resolveSettings().ITEM_MODEL_LIST_TOLERANCE,
    log: (l) => tools.logger.info(l),
  });
  const announced =
    summary.published && summary.modelId ? await announceBuild(stores, result.activeUsers, summary.modelId) : 0;
  const seconds = (performance.now() - started) / 1000;
  tools.logger.info('item model loaded', { ...summary, announced, parquetBytes, seconds });
  tools.metrics.addMetric('itemModelItemsWritten', MetricUnit.Count, summary.itemsWritten);
  tools.metrics.addMetric('itemModelLoadSeconds', MetricUnit.Seconds, seconds);
  return { ...summary, announced, parquetBytes };
}

export const handler = wrap(async (event: LoaderEvent, _context: Context) => {
  if (event?.action === 'prepare') return prepare();
  if (event?.action === 'load') return load();
  throw new Error(`unknown action ${JSON.stringify((event as { action?: unknown })?.action)}`);
}, tools);
