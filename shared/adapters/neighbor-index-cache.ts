/**
 * The neighbour index as one container sees it, cached per Lambda container (the neighbour
 * updater's reads and writes of the index table go through it):
 * - the directory of occupied cells, stale by at most `directoryTtlMs`, plus what this container wrote;
 * - the cells read recently, shared across batches: under steady load most cells a refresh needs
 *   were read by the previous batches, and re-querying them is most of a refresh's reads and
 *   latency. Entries this container writes (`write`) are applied to the cached cells at once;
 *   other containers' writes show up within `cellTtlMs` (a neighbour list is approximate anyway and
 *   is redone on the next refresh). Bounded by `maxItems` entries (oldest cells evicted first): a
 *   decoded entry is ~0.4–1 KB, so at most ~100 MB of the function's 1 GB.
 * Entries are decoded with the artist weights the caller passes (the item model's, per batch); a
 * cached cell keeps the weights it was decoded with until it expires.
 */
import {
  type IndexCandidate,
  indexTaste,
  type Neighbor,
  NeighborSearch,
  type SearchBudget,
} from '../domain/neighbors/neighbor-search.ts';
import { decodeVector } from '../domain/neighbors/taste-codec.ts';
import type { SimilarityWeights, TasteFeatures } from '../domain/similarity.ts';
import {
  DIRECTORY_PK,
  directoryMarkers,
  type IndexEntry,
  queryCell,
  readOccupiedCells,
  writeIndexEntries,
} from './dynamodb/neighbor-index.ts';
import type { Stores } from './dynamodb/stores.ts';

/** An artist's weight in a taste (IDF from the item model's listener counts); none: all weigh 1. */
export type ArtistWeight = ((id: string) => number) | undefined;

function candidateOf(e: IndexEntry, artistWeight: ArtistWeight): IndexCandidate {
  return {
    userId: e.userId,
    taste: indexTaste(decodeVector(e.vec), e.artists, artistWeight),
    ...(e.top ? { top: e.top } : {}),
  };
}

export class NeighborIndexCache {
  private directory: { cells: Set<string>; loadedAt: number } | undefined;
  /** One directory read at a time: concurrent batches (parallel partitions) share it. */
  private directoryLoad: Promise<Set<string>> | undefined;
  /**
   * Every cell this container has put entries into. A directory read that started before one of
   * these writes does not hold its cell; without this set, replacing the directory with that read
   * lost the cell for a whole `directoryTtlMs`, and every refresh in that time was blind to its
   * users (issue #27: the demo's shoegaze listeners found only hip-hop neighbours under load, and
   * kept them until the next scheduled build).
   */
  private readonly written = new Set<string>();
  /** Per cell, how many writes this container made to it: a query overlapping a write is not cached. */
  private readonly cellWrites = new Map<string, number>();
  private readonly cells = new Map<string, { at: number; entries: Map<string, IndexCandidate> }>();
  private items = 0;

  constructor(
    private readonly directoryTtlMs = 15_000,
    private readonly cellTtlMs = 5_000,
    private readonly maxItems = 100_000,
  ) {}

  /** The occupied cells (a live set: this container's writes are added to it). */
  async occupiedCells(stores: Stores, now: number): Promise<ReadonlySet<string>> {
    return this.directorySet(stores, now);
  }

  private async directorySet(stores: Stores, now: number): Promise<Set<string>> {
    if (this.directory && now - this.directory.loadedAt <= this.directoryTtlMs) return this.directory.cells;
    if (!this.directoryLoad) {
      const load = readOccupiedCells(stores).then((cells) => {
        for (const c of this.written) cells.add(c);
        this.directory = { cells, loadedAt: now };
        return cells;
      });
      this.directoryLoad = load;
      load.then(
        () => {
          if (this.directoryLoad === load) this.directoryLoad = undefined;
        },
        () => {
          if (this.directoryLoad === load) this.directoryLoad = undefined;
        },
      );
    }
    return this.directoryLoad;
  }

  /** Forgets the cached cells (the directory stays): a cold container, for benchmarks and tests. */
  clearCells(): void {
    this.cells.clear();
    this.items = 0;
  }

  /**
   * Puts and deletes index entries (plus directory markers for cells that were empty) and applies
   * them to the cached cells and the directory.
   */
  async write(
    stores: Stores,
    puts: readonly IndexEntry[],
    deletes: readonly { cell: string; userId: string }[],
    now: number,
    artistWeight: ArtistWeight,
  ): Promise<void> {
    const occupied = await this.directorySet(stores, now);
    const newCells = [...new Set(puts.map((e) => e.cell).filter((c) => !occupied.has(c)))];
    for (const { cell } of [...puts, ...deletes]) this.cellWrites.set(cell, (this.cellWrites.get(cell) ?? 0) + 1);
    await writeIndexEntries(stores, [...puts, ...directoryMarkers(newCells)], deletes);
    for (const e of puts) this.written.add(e.cell);
    for (const d of deletes) {
      const cached = this.cells.get(d.cell);
      if (cached?.entries.delete(d.userId)) this.items--;
    }
    for (const e of puts) {
      const cached = this.cells.get(e.cell);
      if (!cached || e.cell === DIRECTORY_PK) continue;
      if (!cached.entries.has(e.userId)) this.items++;
      cached.entries.set(e.userId, candidateOf(e, artistWeight));
    }
    // The directory now in use (a reload may have replaced the one read above).
    const current = this.directory?.cells ?? occupied;
    for (const e of puts) current.add(e.cell);
  }

  /** A reader for one batch: cells decoded with `artistWeight`, fresh cached ones served from memory. */
  reader(stores: Stores, now: number, artistWeight: ArtistWeight): CellReader {
    return new CellReader(
      (cell) => {
        const cached = this.cells.get(cell);
        return cached && now - cached.at < this.cellTtlMs ? cached.entries : undefined;
      },
      async (cell) => {
        const writesBefore = this.cellWrites.get(cell) ?? 0;
        const byUser = new Map<string, IndexCandidate>();
        for (const e of await queryCell(stores, cell)) byUser.set(e.userId, candidateOf(e, artistWeight));
        // A write of this container overlapped the query: its result may miss that write (which
        // found no cached cell to apply itself to), so it serves this search only.
        if ((this.cellWrites.get(cell) ?? 0) === writesBefore) this.remember(cell, byUser, now);
        return byUser;
      },
    );
  }

  private remember(cell: string, entries: Map<string, IndexCandidate>, at: number): void {
    const old = this.cells.get(cell);
    if (old) {
      this.items -= old.entries.size;
      this.cells.delete(cell);
    }
    this.cells.set(cell, { at, entries });
    this.items += entries.size;
    // Maps iterate in insertion order: the first cells are the oldest.
    for (const [c, v] of this.cells) {
      if (this.items <= this.maxItems) break;
      this.cells.delete(c);
      this.items -= v.entries.size;
    }
  }
}

/** Reads index cells once per batch (and from the container's recent cells), however many users probe them. */
export class CellReader {
  private readonly pending = new Map<string, Promise<IndexCandidate[]>>();
  /** Packed top items of every user seen in the cells read (neighbours' candidates come from these). */
  readonly tops = new Map<string, Uint8Array>();
  itemsRead = 0;
  cellsRead = 0;
  cellsFromCache = 0;

  constructor(
    private readonly cached: (cell: string) => ReadonlyMap<string, IndexCandidate> | undefined,
    private readonly query: (cell: string) => Promise<ReadonlyMap<string, IndexCandidate>>,
  ) {}

  read(cell: string): Promise<IndexCandidate[]> {
    let pending = this.pending.get(cell);
    if (!pending) {
      const cached = this.cached(cell);
      if (cached) {
        this.cellsFromCache++;
        pending = Promise.resolve(this.seen(cached));
      } else {
        this.cellsRead++;
        pending = this.query(cell).then((byUser) => {
          this.itemsRead += byUser.size;
          return this.seen(byUser);
        });
      }
      this.pending.set(cell, pending);
    }
    return pending;
  }

  private seen(entries: ReadonlyMap<string, IndexCandidate>): IndexCandidate[] {
    const list = [...entries.values()];
    for (const e of list) if (e.top) this.tops.set(e.userId, e.top);
    return list;
  }
}

/**
 * Top-k neighbours of `taste` from the index: cells best first by genre within the budget,
 * candidates ranked by `neighborScore` (the same search the offline evaluation runs).
 */
export async function searchIndex(
  reader: CellReader,
  taste: TasteFeatures,
  selfId: string,
  k: number,
  budget: SearchBudget,
  occupied: ReadonlySet<string>,
  weights: Readonly<Pick<SimilarityWeights, 'genreWeight' | 'artistWeight'>>,
): Promise<Neighbor[]> {
  const search = new NeighborSearch(taste, selfId, k, budget, occupied, weights);
  for (let cells = search.nextCells(); cells; cells = search.nextCells()) {
    const wave = await Promise.all(cells.map((c) => reader.read(c)));
    for (const entries of wave) search.offer(entries);
  }
  return search.result();
}
