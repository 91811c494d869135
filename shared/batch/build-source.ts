/**
 * A build's output parts as the loader reads them: in bounded batches of rows, never whole. From
 * Parquet (either engine's: Athena's UNLOAD objects, DuckDB's `COPY … TO` files) one row group at
 * a time, or from rows already in memory (`resultSource`: tests and the small in-process builds).
 * Rows have the parts' columns (sql/item-model/*.sql); `listRows` turns list rows into packed lists.
 */
import { type ParquetFile, parquetBatches, parquetRowCount } from '../adapters/parquet.ts';
import type { ItemKind } from '../domain/catalog/catalog.ts';
import { type PackedList, packList } from '../domain/item-model/item-model.ts';
import type { ItemModelResult } from './item-model-result.ts';
import type { OutputPart } from './item-model-sql.ts';

export type Row = Record<string, unknown>;

export interface BuildSource {
  /** A part's rows in bounded batches (one Parquet row group at a time). */
  batches(part: OutputPart): AsyncIterable<readonly Row[]>;
  /** How many rows the part holds (Parquet footers: nothing decoded). */
  rowCount(part: OutputPart): Promise<number>;
}

/** The parts as Parquet files (`files(part)`: a directory's, or the objects under an S3 prefix). */
export function parquetSource(files: (part: OutputPart) => Promise<ParquetFile[]>): BuildSource {
  return {
    async *batches(part) {
      yield* parquetBatches(await files(part));
    },
    rowCount: async (part) => parquetRowCount(await files(part)),
  };
}

/** Rows of a result already in memory, as the SQL gives them, in batches of `batch`. */
export function resultSource(result: ItemModelResult, batch = 1000): BuildSource {
  const rowsOf = (part: OutputPart): Row[] => {
    const kinds: ItemKind[] = ['a', 't'];
    switch (part) {
      case 'users':
        return kinds.map((kind) => ({ kind, users: result.kinds[kind].users }));
      case 'listeners':
        return kinds.flatMap((kind) =>
          [...result.kinds[kind].listeners].map(([item_id, listeners]) => ({ kind, item_id, listeners })),
        );
      case 'similar':
      case 'content':
        return kinds.flatMap((kind) =>
          [...result.kinds[kind][part]].map(([item_id, l]) => ({
            kind,
            item_id,
            neighbor_ids: l.ids,
            weights: [...l.weights],
          })),
        );
      case 'active_users':
        return result.activeUsers.map((user_id) => ({ user_id }));
    }
  };
  return {
    async *batches(part) {
      const rows = rowsOf(part);
      for (let i = 0; i < rows.length; i += batch) yield rows.slice(i, i + batch);
    },
    rowCount: async (part) => rowsOf(part).length,
  };
}

const isKind = (k: unknown): k is ItemKind => k === 'a' || k === 't';

/** An item's list from a `similar` / `content` row (undefined for another kind or an empty list). */
export function listRow(row: Row): { kind: ItemKind; itemId: string; list: PackedList } | undefined {
  if (!isKind(row.kind)) return undefined;
  const ids = row.neighbor_ids as readonly string[] | undefined;
  const weights = row.weights as readonly number[] | undefined;
  if (!ids || !weights || ids.length === 0) return undefined;
  if (ids.length !== weights.length)
    throw new Error(`list of ${row.kind}#${String(row.item_id)}: ${ids.length} ids, ${weights.length} weights`);
  return {
    kind: row.kind,
    itemId: String(row.item_id),
    list: packList({ ids: [...ids], weights: Float64Array.from(weights) }),
  };
}

/** A `listeners` row (undefined for another kind). */
export function listenerRow(row: Row): { kind: ItemKind; itemId: string; listeners: number } | undefined {
  return isKind(row.kind)
    ? { kind: row.kind, itemId: String(row.item_id), listeners: Number(row.listeners) }
    : undefined;
}
