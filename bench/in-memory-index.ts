/**
 * The reference implementations the index benchmark and tests measure the deployed search
 * against: exact top-k by cosine, and an in-memory index with the same cells and probe order.
 * Not used by the functions.
 */

import { GENRE_COUNT } from '../shared/domain/genres.ts';
import {
  type CellScheme,
  cellOf,
  DEFAULT_SCHEME,
  normalized,
  rankCells,
  unitDot,
} from '../shared/domain/neighbors/neighbor-cells.ts';
import { byNeighbor, type Neighbor } from '../shared/domain/neighbors/neighbor-search.ts';
import { decodeVector, encodeVector } from '../shared/domain/neighbors/taste-codec.ts';

/** Bounded best-k collector (k is small: a sorted insert beats a heap). */
class TopK {
  readonly items: Neighbor[] = [];
  constructor(readonly k: number) {}
  get worst(): number {
    return this.items.length < this.k ? Number.NEGATIVE_INFINITY : this.items[this.items.length - 1]!.similarity;
  }
  offer(userId: string, similarity: number): void {
    if (this.k <= 0) return;
    const items = this.items;
    if (items.length === this.k) {
      const last = items[items.length - 1]!;
      if (similarity < last.similarity || (similarity === last.similarity && userId >= last.userId)) return;
      items.pop();
    }
    let i = items.length;
    const n = { userId, similarity };
    while (i > 0 && byNeighbor(n, items[i - 1]!) < 0) i--;
    items.splice(i, 0, n);
  }
}

/** Exact k nearest by cosine (for recall measurement). */
export function exactTopK(
  vectors: Iterable<readonly [string, ArrayLike<number>]>,
  query: ArrayLike<number>,
  k: number,
  excludeUserId?: string,
): Neighbor[] {
  const q = normalized(query);
  const top = new TopK(k);
  for (const [id, v] of vectors) {
    if (id === excludeUserId) continue;
    top.offer(id, unitDot(q, v instanceof Float64Array && v.length === GENRE_COUNT ? v : normalized(v)));
  }
  return top.items;
}

export interface QueryOptions {
  /** Cells to read at most (DynamoDB Query calls; empty cells count). Default 256. */
  maxCells?: number;
  /** Stop after the cell that brings the items read to this many. Default unbounded. */
  maxItems?: number;
  excludeUserId?: string;
}

export interface QueryResult {
  neighbors: Neighbor[];
  itemsRead: number;
  cellsRead: number;
  /** True when the search stopped on the bound (the result is then exact). */
  exact: boolean;
}

/** In-memory model of the neighbour-index table (cell → userId → vector). */
export class InMemoryNeighborIndex {
  private readonly cells = new Map<string, Map<string, Float64Array>>();
  private readonly cellByUser = new Map<string, string>();

  constructor(private readonly opts: { scheme?: CellScheme; quantize?: boolean } = {}) {}

  get size(): number {
    return this.cellByUser.size;
  }

  get cellCount(): number {
    return this.cells.size;
  }

  /** Writes the user to its cell and removes it from the previous one if the cell changed. Returns the cell. */
  upsert(userId: string, vector: ArrayLike<number>): string {
    const v = this.opts.quantize ? decodeVector(encodeVector(vector)) : normalized(vector);
    const cell = cellOf(v, this.opts.scheme);
    const prev = this.cellByUser.get(userId);
    if (prev !== undefined && prev !== cell) this.cells.get(prev)?.delete(userId);
    let items = this.cells.get(cell);
    if (items === undefined) {
      items = new Map();
      this.cells.set(cell, items);
    }
    items.set(userId, v);
    this.cellByUser.set(userId, cell);
    return cell;
  }

  remove(userId: string): boolean {
    const cell = this.cellByUser.get(userId);
    if (cell === undefined) return false;
    this.cells.get(cell)?.delete(userId);
    this.cellByUser.delete(userId);
    return true;
  }

  cellOfUser(userId: string): string | undefined {
    return this.cellByUser.get(userId);
  }

  cellSize(cell: string): number {
    return this.cells.get(cell)?.size ?? 0;
  }

  *entries(): IterableIterator<[string, Float64Array]> {
    for (const items of this.cells.values()) yield* items;
  }

  query(vector: ArrayLike<number>, k: number, opts: QueryOptions = {}): QueryResult {
    const maxCells = opts.maxCells ?? 256;
    const maxItems = opts.maxItems ?? Number.POSITIVE_INFINITY;
    const q = normalized(vector);
    const top = new TopK(k);
    let itemsRead = 0;
    let cellsRead = 0;
    let exact = false;
    if (q.every((x) => x === 0)) return { neighbors: [], itemsRead: 0, cellsRead: 0, exact: true };
    const r = rankCells(q, this.opts.scheme ?? DEFAULT_SCHEME);
    for (let i = 0; ; i++) {
      if (i >= r.order.length || (top.items.length === k && r.maxBoundFrom[i]! <= top.worst)) {
        exact = true;
        break;
      }
      if (cellsRead >= maxCells || itemsRead >= maxItems) break;
      cellsRead++;
      const items = this.cells.get(r.name(r.order[i]!));
      if (items === undefined) continue;
      for (const [id, v] of items) {
        itemsRead++;
        if (id !== opts.excludeUserId) top.offer(id, unitDot(q, v));
      }
    }
    return { neighbors: top.items, itemsRead, cellsRead, exact };
  }
}
