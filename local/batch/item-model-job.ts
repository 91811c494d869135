/**
 * The item model build, locally: the schedule of `item-model-builder` (and `npm run invoke --
 * item-model-builder`) runs this instead of the cloud's function. DuckDB embedded runs the item
 * model's SQL (`sql/item-model/`) over the event archive (`ARCHIVE_DIR`, default `.data/archive`)
 * with the catalog's tags into Parquet (a temporary directory, or `ITEM_MODEL_BUILD_DIR` to keep
 * it; as Athena UNLOADs to S3), and the same loader the cloud's state machine ends with reads it and
 * writes the changed lists and the manifests, then the build is announced on `profile-updates` (as the
 * cloud's loader does) so active listeners' candidate sets are rebuilt with it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Context, ScheduledEvent } from 'aws-lambda';
import { appendItemTags, archiveSize, openArchiveDb } from '../../shared/adapters/duckdb.ts';
import { scanCatalogTags } from '../../shared/adapters/dynamodb/catalog.ts';
import { type Stores, storesFromEnv } from '../../shared/adapters/dynamodb/stores.ts';
import { parquetDirRows } from '../../shared/adapters/parquet.ts';
import { announceBuild } from '../../shared/batch/announce.ts';
import { type SqlRunStats, unloadItemModelSql } from '../../shared/batch/duckdb-item-model.ts';
import { type LoadSummary, loadItemModel } from '../../shared/batch/item-model-loader.ts';
import { type ItemModelResult, readItemModelResult } from '../../shared/batch/item-model-result.ts';
import { itemModelSqlParams } from '../../shared/batch/item-model-sql.ts';
import { resolveSettings } from '../../shared/topology.ts';

export interface LocalBuildSummary extends LoadSummary {
  archive: { dir: string; files: number; bytes: number };
  sql: SqlRunStats;
  tagRows: number;
  announced: number;
  seconds: number;
}

export async function buildItemModelLocally(
  stores: Stores,
  opts: {
    archiveDir?: string;
    /** Where the SQL's output parts go as Parquet (the local UNLOAD destination). */
    outDir?: string;
    now?: number;
    log?: (line: string) => void;
    announce?: boolean;
  } = {},
): Promise<LocalBuildSummary> {
  const started = performance.now();
  const log = opts.log ?? (() => {});
  const settings = resolveSettings();
  const dir = resolve(opts.archiveDir ?? (process.env.ARCHIVE_DIR || '.data/archive'));
  const size = await archiveSize(dir);
  log(`archive ${dir}: ${size.files} objects, ${(size.bytes / 1e6).toFixed(1)} MB`);
  // A build's own directory (two builds may run at once: the schedule and `npm run item-model`),
  // removed after the load unless one was named (ITEM_MODEL_BUILD_DIR) for inspection.
  const named = opts.outDir ?? process.env.ITEM_MODEL_BUILD_DIR;
  const outDir = named ? resolve(named) : mkdtempSync(join(tmpdir(), 'tunestream-item-model-'));
  let sql: SqlRunStats;
  let result: ItemModelResult;
  let tagRows = 0;
  try {
    const db = await openArchiveDb(dir);
    try {
      const items: { kind: string; itemId: string; tags: Record<string, number> }[] = [];
      await scanCatalogTags(stores, ({ itemId, tags }) =>
        items.push({ kind: itemId.slice(0, 1), itemId: itemId.slice(2), tags }),
      );
      tagRows = await appendItemTags(db, items);
      log(`catalog: ${items.length} items with tags (${tagRows} tag rows)`);
      sql = await unloadItemModelSql(db, outDir, itemModelSqlParams(settings), { log });
    } finally {
      db.close();
    }
    // The loader reads the Parquet as the cloud's reads the UNLOAD output.
    result = await readItemModelResult(async (part) => (await parquetDirRows(join(outDir, part))).rows);
  } finally {
    if (!named) rmSync(outDir, { recursive: true, force: true });
  }
  const summary = await loadItemModel(stores, result, {
    ...(opts.now !== undefined ? { now: opts.now } : {}),
    tolerance: settings.ITEM_MODEL_LIST_TOLERANCE,
    log,
  });
  const announced =
    summary.published && summary.modelId && opts.announce !== false
      ? await announceBuild(stores, result.activeUsers, summary.modelId)
      : 0;
  return {
    ...summary,
    archive: { dir, ...size },
    sql,
    tagRows,
    announced,
    seconds: (performance.now() - started) / 1000,
  };
}

export const handler = async (_event: ScheduledEvent | Record<string, never>, _context?: Context) =>
  buildItemModelLocally(storesFromEnv());
