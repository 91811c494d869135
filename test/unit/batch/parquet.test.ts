/**
 * The loader reads the engines' Parquet (Athena's UNLOAD objects, DuckDB's `COPY … TO` files)
 * with hyparquet: Parquet written by a real engine (DuckDB's writer, as Athena's is a real one)
 * reads back into the same item model result as the engine's own rows — LIST columns included.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openArchiveDb } from '../../../shared/adapters/duckdb.ts';
import { parquetDirRows, parquetRows } from '../../../shared/adapters/parquet.ts';
import { readItemModelResult } from '../../../shared/batch/item-model-result.ts';
import type { OutputPart } from '../../../shared/batch/item-model-sql.ts';

const dir = mkdtempSync(join(tmpdir(), 'tunestream-parquet-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const QUERIES: Record<OutputPart, string> = {
  users: `SELECT 'a' AS kind, CAST(12 AS BIGINT) AS users`,
  listeners: `SELECT 'a' AS kind, 'item-' || CAST(i AS VARCHAR) AS item_id, CAST(i * 3 AS BIGINT) AS listeners
    FROM range(0, 50) t(i)`,
  similar: `SELECT CASE WHEN i % 2 = 0 THEN 'a' ELSE 't' END AS kind, 'item-' || CAST(i AS VARCHAR) AS item_id,
      list_transform(range(0, i % 5), k -> 'n-' || CAST(k AS VARCHAR)) AS neighbor_ids,
      list_transform(range(0, i % 5), k -> 1.0 / (k + 1)) AS weights
    FROM range(1, 40) t(i) WHERE i % 5 > 0`,
  content: `SELECT 'a' AS kind, 'item-3' AS item_id, ['item-4', 'item-5'] AS neighbor_ids, [0.5, 0.25] AS weights`,
  active_users: `SELECT 'u' || CAST(i AS VARCHAR) AS user_id, CAST(i AS BIGINT) AS last_ts FROM range(0, 3) t(i)`,
};

describe('Parquet into the item model result', () => {
  it('reads every output part as the engine returns it', async () => {
    const db = await openArchiveDb(join(dir, 'empty-archive'));
    const direct = new Map<OutputPart, Record<string, unknown>[]>();
    for (const [part, q] of Object.entries(QUERIES) as [OutputPart, string][]) {
      mkdirSync(join(dir, part));
      await db.run(`COPY (${q}) TO '${join(dir, part, 'part-0000.parquet')}' (FORMAT parquet, COMPRESSION snappy)`);
      direct.set(part, await db.rows(q));
    }
    db.close();
    const fromEngine = await readItemModelResult(async (part) => direct.get(part)!);
    const fromParquet = await readItemModelResult(async (part) => (await parquetDirRows(join(dir, part))).rows);
    expect(fromParquet).toEqual(fromEngine);
    expect(fromParquet.kinds.a.users).toBe(12);
    expect(fromParquet.kinds.a.listeners.get('item-49')).toBe(147);
    expect(fromParquet.kinds.t.similar.get('item-3')).toEqual({
      ids: ['n-0', 'n-1', 'n-2'],
      weights: Float64Array.from([1, 1 / 2, 1 / 3]),
    });
    expect(fromParquet.kinds.a.content.get('item-3')?.ids).toEqual(['item-4', 'item-5']);
    expect(fromParquet.activeUsers).toEqual(['u0', 'u1', 'u2']);
    const raw = await parquetRows(readFileSync(join(dir, 'listeners', 'part-0000.parquet')));
    expect(typeof raw[0]!.listeners).toBe('bigint');
  });
});
