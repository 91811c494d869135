/**
 * The item model build, locally: the schedule of `item-model-builder` (and `npm run invoke --
 * item-model-builder`) runs this instead of the cloud's function. The same steps as the cloud's
 * state machine: the build lease (one build at a time: the schedule and `npm run item-model --
 * --load` may race), the window of archive hours (`ARCHIVE_DIR`, default `.data/archive`;
 * shared/batch/window.ts), DuckDB embedded running the item model's SQL (`sql/item-model/`) over
 * the window with the catalog's tags into Parquet (a temporary directory, or `ITEM_MODEL_BUILD_DIR`
 * to keep it; as Athena UNLOADs to S3), the same streaming loader reading it back, and the
 * announcement on `profile-updates` so active listeners' candidate sets are rebuilt with it.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Context, ScheduledEvent } from 'aws-lambda';
import { dirArchiveHours } from '../../shared/adapters/archive-hours.ts';
import { appendItemTags, archiveSize, openArchiveDb } from '../../shared/adapters/duckdb.ts';
import { scanCatalogTags } from '../../shared/adapters/dynamodb/catalog.ts';
import { type Stores, storesFromEnv } from '../../shared/adapters/dynamodb/stores.ts';
import { localParquetFiles } from '../../shared/adapters/parquet.ts';
import { announceFrom } from '../../shared/batch/announce.ts';
import { holdLease } from '../../shared/batch/build-lease.ts';
import { parquetSource } from '../../shared/batch/build-source.ts';
import { type SqlRunStats, unloadItemModelSql } from '../../shared/batch/duckdb-item-model.ts';
import { type LoadSummary, loadBuild } from '../../shared/batch/item-model-loader.ts';
import { itemModelSqlParams } from '../../shared/batch/item-model-sql.ts';
import { type BuildWindow, chooseWindow, windowLimits } from '../../shared/batch/window.ts';
import { resolveSettings } from '../../shared/topology.ts';

export interface LocalBuildSummary extends LoadSummary {
  archive: { dir: string; files: number; bytes: number };
  /** The hours the build read (undefined: the archive is empty, nothing was built). */
  window?: BuildWindow;
  sql?: SqlRunStats;
  tagRows: number;
  announced: number;
  seconds: number;
  /** Why nothing ran: another build held the lease, or the archive is empty. */
  skipped?: 'busy' | 'empty';
}

export interface LocalBuildOptions {
  archiveDir?: string;
  /** Where the SQL's output parts go as Parquet (the local UNLOAD destination). */
  outDir?: string;
  now?: number;
  log?: (line: string) => void;
  announce?: boolean;
}

export async function buildItemModelLocally(stores: Stores, opts: LocalBuildOptions = {}): Promise<LocalBuildSummary> {
  const started = performance.now();
  const dir = resolve(opts.archiveDir ?? (process.env.ARCHIVE_DIR || '.data/archive'));
  const built = await holdLease(stores, `local-${randomUUID()}`, () => build(stores, dir, opts, started));
  if (built) return built;
  opts.log?.('another build holds the lease: skipped');
  return skippedSummary(dir, 'busy', started);
}

async function build(
  stores: Stores,
  dir: string,
  opts: LocalBuildOptions,
  started: number,
): Promise<LocalBuildSummary> {
  const log = opts.log ?? (() => {});
  const settings = resolveSettings();
  const now = opts.now ?? Date.now();
  const window = await chooseWindow(dirArchiveHours(dir), windowLimits(settings, now));
  if (!window) return skippedSummary(dir, 'empty', started);
  const size = await archiveSize(dir);
  log(
    `archive ${dir}: ${size.files} objects, ${(size.bytes / 1e6).toFixed(1)} MB; window ${window.fromHour}–${window.toHour}: ${window.hours} hours, ${(window.bytes / 1e6).toFixed(1)} MB`,
  );
  // A build's own directory, removed after the load unless one was named (ITEM_MODEL_BUILD_DIR).
  const named = opts.outDir ?? process.env.ITEM_MODEL_BUILD_DIR;
  const outDir = named ? resolve(named) : mkdtempSync(join(tmpdir(), 'tunestream-item-model-'));
  try {
    let sql: SqlRunStats;
    let tagRows = 0;
    const db = await openArchiveDb(dir);
    try {
      const items: { kind: string; itemId: string; tags: Record<string, number> }[] = [];
      await scanCatalogTags(stores, ({ itemId, tags }) =>
        items.push({ kind: itemId.slice(0, 1), itemId: itemId.slice(2), tags }),
      );
      tagRows = await appendItemTags(db, items);
      log(`catalog: ${items.length} items with tags (${tagRows} tag rows)`);
      sql = await unloadItemModelSql(db, outDir, { ...itemModelSqlParams(settings), window }, { log });
    } finally {
      db.close();
    }
    // The loader streams the Parquet as the cloud's streams the UNLOAD output.
    const source = parquetSource((part) => localParquetFiles(join(outDir, part)));
    const summary = await loadBuild(stores, source, {
      now,
      tolerance: settings.ITEM_MODEL_LIST_TOLERANCE,
      log,
    });
    const announced =
      summary.published && summary.modelId && opts.announce !== false
        ? await announceFrom(stores, source, summary.modelId)
        : 0;
    return { ...summary, archive: { dir, ...size }, window, sql, tagRows, announced, seconds: seconds(started) };
  } finally {
    if (!named) rmSync(outDir, { recursive: true, force: true });
  }
}

const seconds = (started: number) => (performance.now() - started) / 1000;

async function skippedSummary(dir: string, why: 'busy' | 'empty', started: number): Promise<LocalBuildSummary> {
  const load = { users: 0, items: 0, withSimilar: 0, withContent: 0, listsWritten: 0, listsDeleted: 0 };
  return {
    modelId: undefined,
    published: false,
    kinds: { a: { ...load }, t: { ...load } },
    itemsWritten: 0,
    archive: { dir, ...(await archiveSize(dir)) },
    tagRows: 0,
    announced: 0,
    seconds: seconds(started),
    skipped: why,
  };
}

export const handler = async (_event: ScheduledEvent | Record<string, never>, _context?: Context) =>
  buildItemModelLocally(storesFromEnv());
