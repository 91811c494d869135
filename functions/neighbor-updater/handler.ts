/**
 * Trigger on `profile-updates` → nearest-neighbour lists and the neighbour index.
 *
 * A refresh never reads every profile: the index table keeps one compact vector per user under a
 * cell derived from the vector (top-2 genres + their ratio), and a refresh reads only the cells
 * most likely to hold near neighbours, best first, until the budget is spent or no unread cell
 * can beat the current k-th neighbour. Cells read for one user are reused for the others in the
 * batch. A user is refreshed only when the profile moved enough and not more often than the
 * configured interval. Where cheap, the refreshed user is also inserted into its neighbours' lists.
 */
import type { Context, MSKEvent } from 'aws-lambda';
import {
  directoryMarkers,
  getNeighborLists,
  type IndexEntry,
  type NeighborList,
  putNeighborList,
  queryCell,
  readOccupiedCells,
  type Stores,
  storesFromEnv,
  writeIndexEntries,
} from '../../shared/adapters/dynamodb.ts';
import { ProfileUpdateV1 } from '../../shared/domain/events.ts';
import {
  cellOf,
  decodeVector,
  encodeVector,
  mergeNeighbors,
  type Neighbor,
  probePlan,
  shouldRefresh,
} from '../../shared/domain/neighbor-index.ts';
import { genreVector } from '../../shared/domain/similarity.ts';
import { MetricUnit, observability, wrap } from '../../shared/handlers/observability.ts';
import { forEachLimit, runTrigger } from '../../shared/handlers/trigger.ts';
import type { ResolvedSettings } from '../../shared/topology.ts';

const FUNCTION_NAME = 'neighbor-updater';
/** How many of a refreshed user's closest neighbours get the user inserted into their lists. */
const REVERSE_FANOUT = 5;
const tools = observability(FUNCTION_NAME);

interface Refresh {
  update: ProfileUpdateV1;
  vector: Float64Array;
  encoded: string;
  cell: string;
  previous: NeighborList | undefined;
}

/** Occupied cells, cached per container: stale by at most DIRECTORY_TTL_MS, plus what this container wrote. */
const DIRECTORY_TTL_MS = 15_000;
let directory: { cells: Set<string>; loadedAt: number } | undefined;

async function occupiedCells(stores: Stores, now: number): Promise<Set<string>> {
  if (!directory || now - directory.loadedAt > DIRECTORY_TTL_MS) {
    directory = { cells: await readOccupiedCells(stores), loadedAt: now };
  }
  return directory.cells;
}

/** Reads index cells once per batch, however many users probe them. */
class CellReader {
  private readonly cells = new Map<string, Promise<{ userId: string; vec: Float64Array }[]>>();
  itemsRead = 0;
  cellsRead = 0;
  constructor(private readonly stores: Stores) {}
  read(cell: string) {
    let pending = this.cells.get(cell);
    if (!pending) {
      this.cellsRead++;
      pending = queryCell(this.stores, cell).then((entries) => {
        this.itemsRead += entries.length;
        return entries.map((e) => ({ userId: e.userId, vec: decodeVector(e.vec) }));
      });
      this.cells.set(cell, pending);
    }
    return pending;
  }
}

/** Top-k neighbours of `vector` from the index, reading cells best first within the budget. */
export async function searchIndex(
  reader: CellReader,
  vector: Float64Array,
  selfId: string,
  k: number,
  budget: { maxCells: number; maxItems: number },
  occupied: ReadonlySet<string>,
): Promise<Neighbor[]> {
  // Best cells first, empty ones skipped: the budget is spent on cells that hold users.
  const plan = probePlan(vector)
    .filter((p) => occupied.has(p.cell))
    .slice(0, budget.maxCells);
  // maxBoundFrom[i]: the best any cell from i on could still offer (stop when it cannot beat the k-th).
  const maxBoundFrom = new Float64Array(plan.length + 1);
  for (let i = plan.length - 1; i >= 0; i--) maxBoundFrom[i] = Math.max(maxBoundFrom[i + 1]!, plan[i]!.bound);
  const best = new Map<string, number>();
  let worst = Number.NEGATIVE_INFINITY;
  let itemsSeen = 0;
  const WAVE = 8; // cells queried concurrently
  for (let i = 0; i < plan.length; i += WAVE) {
    if (best.size >= k && maxBoundFrom[i]! <= worst) break;
    if (itemsSeen >= budget.maxItems) break;
    const wave = await Promise.all(plan.slice(i, i + WAVE).map((p) => reader.read(p.cell)));
    for (const entries of wave) {
      for (const { userId, vec } of entries) {
        itemsSeen++;
        if (userId === selfId) continue;
        // Orthogonal tastes are not neighbours, however few users there are.
        let dot = 0;
        for (let d = 0; d < vec.length; d++) dot += vec[d]! * vector[d]!;
        if (!(dot > 0)) continue;
        const prev = best.get(userId);
        if (prev === undefined || dot > prev) best.set(userId, dot);
      }
    }
    if (best.size >= k) {
      worst = [...best.values()].sort((a, b) => b - a)[k - 1]!;
    }
  }
  return mergeNeighbors(
    [],
    [...best].map(([userId, similarity]) => ({ userId, similarity: Math.round(similarity * 1e6) / 1e6 })),
    k,
  );
}

export async function updateNeighbors(event: MSKEvent, now = Date.now()) {
  return runTrigger(event, {
    functionName: FUNCTION_NAME,
    schema: ProfileUpdateV1,
    tools,
    work: async (valid, _all, settings): Promise<Record<string, number>> => {
      const stores = storesFromEnv();
      // Only the newest update per user matters.
      const latest = new Map<string, ProfileUpdateV1>();
      for (const { value } of valid) {
        const seen = latest.get(value.userId);
        if (!seen || value.version > seen.version) latest.set(value.userId, value);
      }
      const lists = await getNeighborLists(stores, [...latest.keys()]);
      const refreshes: Refresh[] = [];
      let stale = 0;
      for (const update of latest.values()) {
        const previous = lists.get(update.userId);
        if (previous && previous.profileVersion >= update.version) {
          stale++;
          continue;
        }
        const vector = genreVector(update.genres);
        const due = shouldRefresh(
          previous ? decodeVector(previous.snapshot) : undefined,
          vector,
          previous?.refreshedAt,
          now,
          {
            minIntervalMs: settings.NEIGHBOR_REFRESH_MIN_INTERVAL_SECONDS * 1000,
            minDrift: settings.NEIGHBOR_REFRESH_MIN_DRIFT,
          },
        );
        if (!due) continue;
        const encoded = encodeVector(vector);
        refreshes.push({ update, vector, encoded, cell: cellOf(decodeVector(encoded)), previous });
      }
      if (refreshes.length === 0) return { refreshed: 0, stale, reverseInserts: 0 };

      // Index first (plus directory markers for cells that were empty), so users refreshed in
      // this batch can find each other.
      const occupied = await occupiedCells(stores, now);
      const newCells = refreshes.map((r) => r.cell).filter((c) => !occupied.has(c));
      await writeIndexEntries(
        stores,
        [
          ...refreshes.map(
            (r): IndexEntry => ({
              cell: r.cell,
              userId: r.update.userId,
              vec: r.encoded,
              profileVersion: r.update.version,
            }),
          ),
          ...directoryMarkers(newCells),
        ],
        refreshes
          .filter((r) => r.previous?.cell && r.previous.cell !== r.cell)
          .map((r) => ({ cell: r.previous!.cell, userId: r.update.userId })),
      );
      for (const c of newCells) occupied.add(c);

      const reader = new CellReader(stores);
      const computed = new Map<string, Neighbor[]>();
      let written = 0;
      await forEachLimit(refreshes, 8, async (r) => {
        const neighbors = await searchIndex(
          reader,
          r.vector,
          r.update.userId,
          settings.NEIGHBORS_K,
          {
            maxCells: settings.NEIGHBOR_MAX_CELLS,
            maxItems: settings.NEIGHBOR_MAX_ITEMS,
          },
          occupied,
        );
        computed.set(r.update.userId, neighbors);
        const list: NeighborList = {
          userId: r.update.userId,
          neighbors,
          refreshedAt: now,
          snapshot: r.encoded,
          profileVersion: r.update.version,
          cell: r.cell,
          rev: (r.previous?.rev ?? 0) + 1,
        };
        if (await putNeighborList(stores, list, 'refresh')) written++;
      });
      const reverseInserts = settings.NEIGHBOR_REVERSE_UPDATES ? await insertReverse(stores, computed, settings) : 0;
      tools.metrics.addMetric('NeighborRefreshes', MetricUnit.Count, written);
      tools.metrics.addMetric('IndexItemsRead', MetricUnit.Count, reader.itemsRead);
      return {
        refreshed: written,
        stale,
        reverseInserts,
        cellsRead: reader.cellsRead,
        indexItemsRead: reader.itemsRead,
      };
    },
  });
}

/**
 * Keeps the other direction fresh where cheap: a refreshed user U that now ranks above the k-th
 * entry of a neighbour V's list is inserted there. Conditioned on V's `rev`; a lost race is left
 * to V's own next refresh.
 */
async function insertReverse(
  stores: Stores,
  computed: Map<string, Neighbor[]>,
  settings: ResolvedSettings,
): Promise<number> {
  const wanted = new Map<string, Neighbor[]>();
  for (const [userId, neighbors] of computed) {
    // Only the closest few: they are the lists the user most likely belongs in, and each one
    // considered costs a read.
    for (const n of neighbors.slice(0, REVERSE_FANOUT)) {
      if (computed.has(n.userId)) continue; // refreshed in this batch already
      let list = wanted.get(n.userId);
      if (!list) {
        list = [];
        wanted.set(n.userId, list);
      }
      list.push({ userId, similarity: n.similarity });
    }
  }
  if (wanted.size === 0) return 0;
  const lists = await getNeighborLists(stores, [...wanted.keys()]);
  let inserted = 0;
  await forEachLimit([...wanted], 8, async ([ownerId, candidates]) => {
    const list = lists.get(ownerId);
    if (!list) return; // not refreshed yet: its own first refresh will find these users
    // Write only when someone enters the list. A member's similarity drifting a little is not
    // worth a write; the owner's own next refresh updates it.
    const present = new Set(list.neighbors.map((n) => n.userId));
    const full = list.neighbors.length >= settings.NEIGHBORS_K;
    const worst = list.neighbors.at(-1)?.similarity ?? 0;
    const entering = candidates.filter((c) => !present.has(c.userId) && (!full || c.similarity > worst));
    if (entering.length === 0) return;
    const merged = mergeNeighbors(list.neighbors, entering, settings.NEIGHBORS_K);
    const ok = await putNeighborList(stores, { ...list, neighbors: merged, rev: list.rev + 1 }, 'reverse');
    if (ok) inserted++;
  });
  return inserted;
}

export const handler = wrap((event: MSKEvent, _context: Context) => updateNeighbors(event), tools);
