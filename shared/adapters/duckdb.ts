/**
 * DuckDB embedded (`@duckdb/node-api`): the local engine of the batch layer. Opens an in-memory
 * database with the archive registered as tables — `events` over the hour-partitioned JSON lines
 * under the archive directory (`year=/month=/day=/hour=`, as Athena's table over S3), `deletions`
 * over its tombstones — and runs SQL on it. The one place that imports DuckDB.
 */
import { readdir, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';

/** The archive's event columns as both engines see them (the Glue table declares the same). */
export const EVENT_COLUMNS: Readonly<Record<string, string>> = Object.freeze({
  eventId: 'VARCHAR',
  userId: 'VARCHAR',
  trackId: 'VARCHAR',
  artistId: 'VARCHAR',
  ts: 'BIGINT',
  type: 'VARCHAR',
  msPlayed: 'BIGINT',
  durationMs: 'BIGINT',
  rating: 'DOUBLE',
  platform: 'VARCHAR',
  country: 'VARCHAR',
  mood: 'VARCHAR',
});

const quote = (s: string) => `'${s.replaceAll("'", "''")}'`;
const columnsStruct = (cols: Readonly<Record<string, string>>) =>
  `{${Object.entries(cols)
    .map(([k, v]) => `${quote(k)}: ${quote(v)}`)
    .join(', ')}}`;

/** Files and bytes of the archive's event objects (what a scan reads: JSON lines are read whole). */
export async function archiveSize(dir: string): Promise<{ files: number; bytes: number }> {
  let files = 0;
  let bytes = 0;
  const walk = async (d: string, depth: number): Promise<void> => {
    const entries = await readdir(d, { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      if (e.isDirectory() && depth < 4 && /^(year|month|day|hour)=/.test(e.name))
        await walk(join(d, e.name), depth + 1);
      else if (e.isFile() && depth === 4 && e.name.endsWith('.jsonl')) {
        files++;
        bytes += (await stat(join(d, e.name))).size;
      }
    }
  };
  await walk(resolve(dir), 0);
  return { files, bytes };
}

export interface ArchiveDb {
  readonly connection: DuckDBConnection;
  /** Runs statements (no result). */
  run(sql: string): Promise<void>;
  /** Runs a query; rows as plain JS objects (BIGINT → number when safe). */
  rows<T = Record<string, unknown>>(sql: string): Promise<T[]>;
  /** Cancels the running query (Ctrl-C). */
  interrupt(): void;
  close(): void;
}

export interface ArchiveDbOptions {
  /** DuckDB's memory limit, e.g. '2GB' (DuckDB spills to `tempDirectory` beyond it). */
  memoryLimit?: string;
  threads?: number;
  tempDirectory?: string;
}

/**
 * An in-memory DuckDB with `events` and `deletions` over the archive directory (empty tables
 * when the archive has no objects yet) and an empty `item_tags` table to fill.
 */
export async function openArchiveDb(archiveDir: string, opts: ArchiveDbOptions = {}): Promise<ArchiveDb> {
  const root = resolve(archiveDir);
  const config: Record<string, string> = {};
  if (opts.memoryLimit) config.memory_limit = opts.memoryLimit;
  if (opts.threads) config.threads = String(opts.threads);
  // Where DuckDB spills what exceeds its memory limit (its default is .tmp in the cwd).
  config.temp_directory = opts.tempDirectory ?? join(tmpdir(), 'tunestream-duckdb');
  const instance = await DuckDBInstance.create(':memory:', config);
  const connection = await instance.connect();
  const db: ArchiveDb = {
    connection,
    async run(sql) {
      await connection.run(sql);
    },
    async rows<T>(sql: string) {
      const reader = await connection.runAndReadAll(sql);
      return reader.getRowObjectsJS() as T[];
    },
    interrupt: () => connection.interrupt(),
    close() {
      connection.closeSync();
      instance.closeSync();
    },
  };
  try {
    const { files } = await archiveSize(root);
    const emptyEvents = `SELECT ${Object.entries(EVENT_COLUMNS)
      .map(([k, v]) => `CAST(NULL AS ${v}) AS ${k}`)
      .join(
        ', ',
      )}, CAST(NULL AS VARCHAR) AS year, CAST(NULL AS VARCHAR) AS month, CAST(NULL AS VARCHAR) AS day, CAST(NULL AS VARCHAR) AS hour WHERE false`;
    await db.run(
      files > 0
        ? `CREATE VIEW events AS SELECT * FROM read_json(${quote(join(root, 'year=*/month=*/day=*/hour=*/*.jsonl'))},
             format = 'newline_delimited', hive_partitioning = true, hive_types_autocast = false,
             ignore_errors = true, columns = ${columnsStruct(EVENT_COLUMNS)})`
        : `CREATE VIEW events AS ${emptyEvents}`,
    );
    const tombstones = (await readdir(join(root, 'deletions')).catch(() => [] as string[])).filter((f) =>
      f.endsWith('.json'),
    );
    await db.run(
      tombstones.length > 0
        ? `CREATE VIEW deletions AS SELECT * FROM read_json(${quote(join(root, 'deletions/*.json'))},
             format = 'newline_delimited', ignore_errors = true,
             columns = ${columnsStruct({ userId: 'VARCHAR', deletedAt: 'BIGINT' })})`
        : 'CREATE VIEW deletions AS SELECT CAST(NULL AS VARCHAR) AS userId, CAST(NULL AS BIGINT) AS deletedAt WHERE false',
    );
    await db.run('CREATE TABLE item_tags (kind VARCHAR, item_id VARCHAR, tag VARCHAR, tag_count DOUBLE)');
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}

/** Appends rows to `item_tags` (kind 'a' / 't'). */
export async function appendItemTags(
  db: ArchiveDb,
  rows: Iterable<{ kind: string; itemId: string; tags: Readonly<Record<string, number>> }>,
): Promise<number> {
  const appender = await db.connection.createAppender('item_tags');
  let n = 0;
  try {
    for (const r of rows)
      for (const tag in r.tags) {
        const c = r.tags[tag]!;
        if (!(c > 0)) continue;
        appender.appendVarchar(r.kind);
        appender.appendVarchar(r.itemId);
        appender.appendVarchar(tag);
        appender.appendDouble(c);
        appender.endRow();
        n++;
      }
    appender.flushSync();
  } finally {
    appender.closeSync();
  }
  return n;
}
