/**
 * Parquet reading with hyparquet (pure JS, no native code): the item model's output parts as the
 * engines leave them — Athena's UNLOAD objects in S3 (batch-bucket.ts), DuckDB's `COPY … TO`
 * files locally. One reader for both, so the loader sees the same rows from either engine.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parquetReadObjects } from 'hyparquet';

/** Rows of one Parquet file (BIGINT columns as bigint, LIST columns as arrays). */
export async function parquetRows(bytes: Uint8Array): Promise<Record<string, unknown>[]> {
  if (bytes.byteLength === 0) return [];
  const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  return (await parquetReadObjects({ file })) as Record<string, unknown>[];
}

/** Rows of every `.parquet` file in a directory (none when it does not exist), in name order. */
export async function parquetDirRows(dir: string): Promise<{ rows: Record<string, unknown>[]; bytes: number }> {
  const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => n.endsWith('.parquet')).sort();
  const rows: Record<string, unknown>[] = [];
  let bytes = 0;
  for (const name of names) {
    const body = await readFile(join(dir, name));
    bytes += body.byteLength;
    for (const r of await parquetRows(body)) rows.push(r);
  }
  return { rows, bytes };
}
