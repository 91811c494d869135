/**
 * The item model's SQL on DuckDB (the local engine): the intermediate parts (`user_items`,
 * `pair_items`, `pair_basket`) materialized once, then each output part's file as it is in the
 * repo. `unloadItemModelSql` writes each output part as Parquet (`COPY … TO`, the local UNLOAD:
 * `<dir>/<part>/*.parquet`) and hands nothing to JavaScript — what keeps a large build's memory
 * bounded; `runItemModelSql` returns the rows as an `ItemModelResult` (small archives).
 *
 * The co-listening pass aggregates Σ|u|² pair rows; on one machine it runs in buckets of items
 * (`i mod B`) sized so each bucket's aggregate stays within `pairRowsPerBucket`.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { ArchiveDb } from '../adapters/duckdb.ts';
import { ConfigurationError } from '../errors.ts';
import { type ItemModelResult, readItemModelResult } from './item-model-result.ts';
import {
  DEFAULT_ITEM_MODEL_SQL,
  type ItemModelPart,
  type ItemModelSqlParams,
  itemModelQuery,
  OUTPUT_PARTS,
  type OutputPart,
  type PairBucket,
  WHOLE,
} from './item-model-sql.ts';

/** Pair rows (before aggregation) per bucket of the co-listening pass: ~1–2 GB of DuckDB memory. */
export const DEFAULT_PAIR_ROWS_PER_BUCKET = 40_000_000;

export interface SqlRunStats {
  seconds: Partial<Record<ItemModelPart, number>>;
  userItems: number;
  /** Pair rows the co-listening pass aggregates (Σ per user and kind of |basket|² − |basket|). */
  pairRows: number;
  pairBuckets: number;
  /** Items with a co-listening / content list. */
  similarRows: number;
  contentRows: number;
  /** Parquet bytes written per output part (with an output directory). */
  parquetBytes?: Partial<Record<OutputPart, number>>;
}

export interface SqlRunOptions {
  log?: (line: string) => void;
  pairRowsPerBucket?: number;
}

const quote = (s: string) => `'${s.replaceAll("'", "''")}'`;

/** The build with its rows handed back (small archives: tests, the evaluation). */
export async function runItemModelSql(
  db: ArchiveDb,
  params: Readonly<ItemModelSqlParams> = DEFAULT_ITEM_MODEL_SQL,
  opts: SqlRunOptions = {},
): Promise<{ result: ItemModelResult; stats: SqlRunStats }> {
  const kept = new Map<OutputPart, Record<string, unknown>[]>(OUTPUT_PARTS.map((p) => [p, []]));
  const stats = await runParts(db, params, opts, async (part, query) => {
    const rows = await db.rows(query);
    kept.get(part)!.push(...rows);
    return rows.length;
  });
  return { result: await readItemModelResult(async (part) => kept.get(part)!), stats };
}

/**
 * The build written as Parquet under `outDir` (`<part>/part-NNNN.parquet`; each part's directory
 * is emptied first), as Athena's UNLOADs write it: nothing is handed to JavaScript.
 */
export async function unloadItemModelSql(
  db: ArchiveDb,
  outDir: string,
  params: Readonly<ItemModelSqlParams> = DEFAULT_ITEM_MODEL_SQL,
  opts: SqlRunOptions = {},
): Promise<SqlRunStats> {
  // Only the parts' own directories are emptied: --out may name a directory that holds more.
  for (const p of OUTPUT_PARTS) {
    rmSync(join(outDir, p), { recursive: true, force: true });
    mkdirSync(join(outDir, p), { recursive: true });
  }
  const parquetBytes: Partial<Record<OutputPart, number>> = {};
  const stats = await runParts(db, params, opts, async (part, query, pairs) => {
    const file = join(outDir, part, `part-${String(pairs.bucket).padStart(4, '0')}.parquet`);
    const [copied] = await db.rows<{ Count: number | bigint }>(
      `COPY (${query}) TO ${quote(file)} (FORMAT parquet, COMPRESSION snappy, ROW_GROUP_SIZE ${ROW_GROUP_ROWS[part]})`,
    );
    const [size] = await db.rows<{ bytes: number | bigint | null }>(
      `SELECT sum(total_compressed_size) AS bytes FROM parquet_metadata(${quote(file)})`,
    );
    parquetBytes[part] = (parquetBytes[part] ?? 0) + Number(size?.bytes ?? 0);
    return Number(copied?.Count ?? 0);
  });
  return { ...stats, parquetBytes };
}

/**
 * Rows per Parquet row group, the unit the loader decodes at once (parquet.ts): 2,048 lists of
 * ≤ 200 neighbours is a few tens of MB in JavaScript (DuckDB's default, 122,880 rows, would be
 * gigabytes); 2,048 is DuckDB's smallest.
 */
const ROW_GROUP_ROWS: Record<OutputPart, number> = {
  similar: 2048,
  content: 2048,
  listeners: 65_536,
  users: 2048,
  active_users: 65_536,
};

type Sink = (part: OutputPart, query: string, pairs: Readonly<PairBucket>) => Promise<number>;

async function runParts(
  db: ArchiveDb,
  params: Readonly<ItemModelSqlParams>,
  opts: SqlRunOptions,
  sink: Sink,
): Promise<SqlRunStats> {
  const perBucket = opts.pairRowsPerBucket ?? DEFAULT_PAIR_ROWS_PER_BUCKET;
  if (!Number.isSafeInteger(perBucket) || perBucket < 1)
    throw new ConfigurationError(`pair rows per bucket must be a positive integer, got ${perBucket}`);
  const log = opts.log ?? (() => {});
  const stats: SqlRunStats = { seconds: {}, userItems: 0, pairRows: 0, pairBuckets: 1, similarRows: 0, contentRows: 0 };
  const timed = async <T>(part: ItemModelPart, f: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    log(`${part}…`);
    const out = await f();
    const s = (performance.now() - t0) / 1000;
    stats.seconds[part] = (stats.seconds[part] ?? 0) + s;
    log(`${part} done in ${s.toFixed(1)} s`);
    return out;
  };
  const materialize = (part: ItemModelPart) =>
    timed(part, () => db.run(`CREATE OR REPLACE TEMP TABLE ${part} AS ${itemModelQuery(part, params)}`));
  const output = (part: OutputPart, pairs: Readonly<PairBucket> = WHOLE) =>
    timed(part, () => sink(part, itemModelQuery(part, params, pairs), pairs));

  await materialize('user_items');
  const [count] = await db.rows<{ n: number | bigint }>('SELECT count(*) AS n FROM user_items');
  stats.userItems = Number(count?.n ?? 0);
  log(`user_items: ${stats.userItems} rows`);
  await output('users');
  await output('listeners');

  await materialize('pair_items');
  await materialize('pair_basket');
  const [pairs] = await db.rows<{ n: number | bigint | null }>(
    'SELECT sum(n * (n - 1)) AS n FROM (SELECT count(*) AS n FROM pair_basket GROUP BY user_no) baskets',
  );
  stats.pairRows = Number(pairs?.n ?? 0);
  stats.pairBuckets = Math.max(1, Math.ceil(stats.pairRows / perBucket));
  log(`co-listening: ${stats.pairRows} pair rows in ${stats.pairBuckets} bucket(s)`);
  for (let bucket = 0; bucket < stats.pairBuckets; bucket++) {
    stats.similarRows += await output('similar', { buckets: stats.pairBuckets, bucket });
    if (stats.pairBuckets > 1)
      log(`similar: bucket ${bucket + 1}/${stats.pairBuckets}, ${stats.similarRows} lists so far`);
  }
  stats.contentRows = await output('content');
  await output('active_users');
  for (const t of ['pair_basket', 'pair_items', 'user_items']) await db.run(`DROP TABLE ${t}`);
  return stats;
}
