/**
 * Parquet reading with hyparquet (pure JS, no native code): the item model's output parts as the
 * engines leave them — Athena's UNLOAD objects in S3 (batch-bucket.ts), DuckDB's `COPY … TO`
 * files locally. One reader for both, so the loader sees the same rows from either engine.
 *
 * The loader streams: `parquetBatches` decodes one row group at a time from an `AsyncBuffer`
 * that reads byte ranges (a file handle here, ranged GETs in S3), so what it holds is one row
 * group's rows, whatever the build's size. The writers bound row groups: DuckDB's `COPY` is told
 * a row count (duckdb-item-model.ts), Athena's writer closes one at 128 MB of Parquet.
 */
import { open, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type AsyncBuffer, parquetMetadataAsync, parquetReadObjects } from 'hyparquet';

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

/** A Parquet object to stream: its size, and byte-range reads while it is open. */
export interface ParquetFile {
  readonly name: string;
  readonly byteLength: number;
  open(): Promise<AsyncBuffer & { close(): Promise<void> }>;
}

/** The `.parquet` files of a directory (none when it does not exist), in name order. */
export async function localParquetFiles(dir: string): Promise<ParquetFile[]> {
  const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => n.endsWith('.parquet')).sort();
  const files: ParquetFile[] = [];
  for (const name of names) {
    const path = join(dir, name);
    const handle = await open(path);
    const { size } = await handle.stat().finally(() => handle.close());
    files.push({ name: path, byteLength: size, open: () => fileBuffer(path, size) });
  }
  return files;
}

async function fileBuffer(path: string, byteLength: number): Promise<AsyncBuffer & { close(): Promise<void> }> {
  const handle = await open(path);
  return {
    byteLength,
    async slice(start: number, end = byteLength) {
      const out = new Uint8Array(Math.max(0, end - start));
      let done = 0;
      while (done < out.byteLength) {
        const { bytesRead } = await handle.read(out, done, out.byteLength - done, start + done);
        if (bytesRead === 0) throw new Error(`${path}: unexpected end of file at ${start + done}`);
        done += bytesRead;
      }
      return out.buffer;
    },
    close: () => handle.close(),
  };
}

/** Rows of the files, one row group at a time (an empty object has none). */
export async function* parquetBatches(files: readonly ParquetFile[]): AsyncGenerator<Record<string, unknown>[]> {
  for (const f of files) {
    if (f.byteLength === 0) continue;
    const file = await f.open();
    try {
      const metadata = await parquetMetadataAsync(file);
      let rowStart = 0;
      for (const group of metadata.row_groups) {
        const rowEnd = rowStart + Number(group.num_rows);
        if (rowEnd > rowStart)
          yield (await parquetReadObjects({ file, metadata, rowStart, rowEnd })) as Record<string, unknown>[];
        rowStart = rowEnd;
      }
    } finally {
      await file.close();
    }
  }
}

/** Rows the files hold, from their footers (nothing decoded). */
export async function parquetRowCount(files: readonly ParquetFile[]): Promise<number> {
  let rows = 0;
  for (const f of files) {
    if (f.byteLength === 0) continue;
    const file = await f.open();
    try {
      rows += Number((await parquetMetadataAsync(file)).num_rows);
    } finally {
      await file.close();
    }
  }
  return rows;
}
