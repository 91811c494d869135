/**
 * The cloud loader reads Athena's UNLOAD output (Parquet, Snappy) with hyparquet: Parquet written
 * by a real engine (DuckDB's writer, as Athena's is a real one) reads back into the same item
 * model result as the engine's own rows.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parquetRows } from '../../../shared/adapters/batch-bucket.ts';
import { openArchiveDb } from '../../../shared/adapters/duckdb.ts';
import {
  addListeners,
  addNeighbors,
  emptyResult,
  type ListenerRow,
  type NeighborRow,
} from '../../../shared/batch/item-model-result.ts';

const dir = mkdtempSync(join(tmpdir(), 'tunestream-parquet-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('Parquet into the item model result', () => {
  it('reads neighbour and listener rows as the engine returns them', async () => {
    const db = await openArchiveDb(join(dir, 'empty-archive'));
    const neighbors = `SELECT CASE WHEN i % 2 = 0 THEN 'a' ELSE 't' END AS kind, 'item-' || CAST(i % 7 AS VARCHAR) AS item_id,
        'n-' || CAST(i AS VARCHAR) AS neighbor_id, 1.0 / (i + 1) AS weight, CAST(i AS BIGINT) AS neighbor_rank
      FROM range(0, 300) t(i)`;
    const listeners = `SELECT 'a' AS kind, 'item-' || CAST(i AS VARCHAR) AS item_id, CAST(i * 3 AS BIGINT) AS listeners
      FROM range(0, 50) t(i)`;
    await db.run(`COPY (${neighbors}) TO '${join(dir, 'n.parquet')}' (FORMAT parquet, COMPRESSION snappy)`);
    await db.run(`COPY (${listeners}) TO '${join(dir, 'l.parquet')}' (FORMAT parquet, COMPRESSION snappy)`);
    const direct = emptyResult();
    addNeighbors(direct, 'similar', await db.rows<NeighborRow>(neighbors));
    addListeners(direct, await db.rows<ListenerRow>(listeners));
    db.close();

    const viaParquet = emptyResult();
    const nRows = await parquetRows(readFileSync(join(dir, 'n.parquet')));
    expect(nRows).toHaveLength(300);
    expect(typeof nRows[0]!.neighbor_rank).toBe('bigint');
    addNeighbors(viaParquet, 'similar', nRows as unknown as NeighborRow[]);
    addListeners(viaParquet, (await parquetRows(readFileSync(join(dir, 'l.parquet')))) as unknown as ListenerRow[]);
    expect(viaParquet.kinds.a.similar).toEqual(direct.kinds.a.similar);
    expect(viaParquet.kinds.t.similar).toEqual(direct.kinds.t.similar);
    expect(viaParquet.kinds.a.listeners).toEqual(direct.kinds.a.listeners);
    expect(viaParquet.kinds.a.listeners.get('item-49')).toBe(147);
  });
});
