/**
 * Trigger on `profile-updates` → nearest-neighbour lists, the neighbour index and candidate sets.
 *
 * A refresh never reads every profile: the index table keeps one compact vector per user under a
 * cell derived from the vector (top-2 genres + their ratio), and a refresh reads only the cells
 * most likely to hold near neighbours, best first, until the budget is spent or no unread cell
 * can beat the current k-th neighbour. Cells read for one user are reused for the others in the
 * batch and, for a few seconds, by the container (`NeighborIndexCache`). Who is refreshed and what
 * the index gets is decided by `planRefreshes`: a user is refreshed only when the profile moved
 * enough and not more often than the configured interval. Where cheap, the refreshed user is also
 * inserted into its neighbours' lists.
 *
 * @triggeredBy profile-updates
 * @producesTo dead-letters
 */
import type { Context, MSKEvent } from 'aws-lambda';
import {
  getNeighborLists,
  type NeighborListWrite,
  putNeighborLists,
} from '../../shared/adapters/dynamodb/neighbors.ts';
import { type Stores, storesFromEnv } from '../../shared/adapters/dynamodb/stores.ts';
import { ItemModelCache } from '../../shared/adapters/item-model-cache.ts';
import { NeighborIndexCache, searchIndex } from '../../shared/adapters/neighbor-index-cache.ts';
import { ProfileUpdateV1 } from '../../shared/domain/events/events.ts';
import type { Neighbor } from '../../shared/domain/neighbors/neighbor-search.ts';
import {
  newestPerUser,
  planRefreshes,
  refreshedList,
  reverseCandidates,
  withEntrants,
} from '../../shared/domain/neighbors/refresh-plan.ts';
import { idfWeight } from '../../shared/domain/similarity.ts';
import { MetricUnit, observability, wrap } from '../../shared/handlers/observability.ts';
import { forEachLimit, runTrigger } from '../../shared/handlers/trigger.ts';
import type { ResolvedSettings } from '../../shared/topology.ts';
import { buildCandidateSets, currentModelKey, writeCandidateSets } from './candidate-sets.ts';

const FUNCTION_NAME = 'neighbor-updater';
/** How many of a refreshed user's closest neighbours get the user inserted into their lists. */
const REVERSE_FANOUT = 5;
const tools = observability(FUNCTION_NAME);
/** Listener counts for the IDF weights (the item model is rebuilt on a schedule; checked every 5 min). */
const itemModel = new ItemModelCache(5 * 60_000);
/** Occupied cells (15 s) and recently read cells (5 s) of the index, per container. */
const index = new NeighborIndexCache();

/** For benchmarks and tests that want a cold container. */
export function clearCellCache(): void {
  index.clearCells();
}

/** The item model key candidates are built under; a build announced in the batch is read now, not when the cache expires. */
async function modelKeyFor(updates: Iterable<ProfileUpdateV1>, stores: Stores, now: number): Promise<string> {
  const modelKey = await currentModelKey(itemModel, stores, now);
  if ([...updates].every((u) => u.itemModel === undefined || u.itemModel === modelKey)) return modelKey;
  itemModel.invalidate();
  return currentModelKey(itemModel, stores, now);
}

export async function updateNeighbors(event: MSKEvent, now = Date.now()) {
  return runTrigger(event, {
    functionName: FUNCTION_NAME,
    schema: ProfileUpdateV1,
    tools,
    work: async (valid, _all, settings): Promise<Record<string, number>> => {
      const stores = storesFromEnv();
      const latest = newestPerUser(valid.map((v) => v.value));
      const modelKey = await modelKeyFor(latest.values(), stores, now);
      const [lists, listeners] = await Promise.all([
        getNeighborLists(stores, [...latest.keys()]),
        settings.NEIGHBOR_IDF_EXPONENT > 0 ? itemModel.listeners(stores, 'a', now) : undefined,
      ]);
      const artistWeight = listeners ? idfWeight(listeners, settings.NEIGHBOR_IDF_EXPONENT) : undefined;
      const plan = planRefreshes(latest.values(), lists, {
        now,
        modelKey,
        policy: {
          minIntervalMs: settings.NEIGHBOR_REFRESH_MIN_INTERVAL_SECONDS * 1000,
          minDrift: settings.NEIGHBOR_REFRESH_MIN_DRIFT,
          fullList: settings.NEIGHBORS_K,
        },
        indexMinDrift: settings.NEIGHBOR_INDEX_MIN_DRIFT,
        artistWeight,
      });
      const { refreshes, stale } = plan;
      if (refreshes.length === 0) return { refreshed: 0, stale, reverseInserts: 0 };

      // Index first, so users refreshed in this batch can find each other.
      await index.write(stores, plan.indexPuts, plan.indexDeletes, now, artistWeight);
      const occupied = await index.occupiedCells(stores, now);
      const reader = index.reader(stores, now, artistWeight);
      const computed = new Map<string, Neighbor[]>();
      await forEachLimit(refreshes, 8, async (r) => {
        computed.set(
          r.update.userId,
          await searchIndex(
            reader,
            r.taste,
            r.update.userId,
            settings.NEIGHBORS_K,
            { maxCells: settings.NEIGHBOR_MAX_CELLS, maxItems: settings.NEIGHBOR_MAX_ITEMS },
            occupied,
            { genreWeight: settings.NEIGHBOR_GENRE_WEIGHT, artistWeight: settings.NEIGHBOR_ARTIST_WEIGHT },
          ),
        );
      });
      // Candidate sets from what the search read (no profile reads); their keys go into the lists.
      const built = await buildCandidateSets(
        stores,
        itemModel,
        refreshes.map((r) => ({ update: r.update, neighbors: computed.get(r.update.userId) ?? [] })),
        reader.tops,
        { size: settings.RECOMMENDATION_CANDIDATES, modelKey, now },
      );
      const setOf = new Map(built.sets.map((c) => [c.userId, c]));
      const own = refreshes.map(
        (r): NeighborListWrite => ({
          list: refreshedList(r, computed.get(r.update.userId) ?? [], {
            now,
            modelKey,
            candidatesTopKey: setOf.get(r.update.userId)?.topKey ?? 0,
          }),
          mode: 'refresh',
          existed: r.previous !== undefined,
        }),
      );
      // All own lists in batched conditional writes (25 per request).
      const notWritten = await putNeighborLists(stores, own);
      const written = own.length - notWritten.size;
      // Candidate sets of the lists that were written (a list lost to a newer version is someone
      // else's refresh, which writes its own), and only where the answer changed.
      const previousOf = new Map(refreshes.map((r) => [r.update.userId, r.previous]));
      const changed = built.sets.filter((c) => {
        if (notWritten.has(c.userId)) return false;
        const p = previousOf.get(c.userId);
        return !p || p.candidatesModelId !== modelKey || p.candidatesTopKey !== c.topKey;
      });
      const candidates = await writeCandidateSets(
        stores,
        changed,
        (userId) => (previousOf.get(userId)?.candidatesModelId ?? '') !== '',
        now,
      );
      const reverseInserts = settings.NEIGHBOR_REVERSE_UPDATES ? await insertReverse(stores, computed, settings) : 0;
      tools.metrics.addMetric('NeighborRefreshes', MetricUnit.Count, written);
      tools.metrics.addMetric('IndexItemsRead', MetricUnit.Count, reader.itemsRead);
      return {
        refreshed: written,
        indexWrites: plan.indexPuts.length,
        candidateSets: candidates.written,
        candidateBytes: candidates.bytes,
        candidateSetsUnchanged: built.sets.length - notWritten.size - changed.length,
        neighborsWithoutTop: built.neighborsWithoutTop,
        stale,
        reverseInserts,
        cellsRead: reader.cellsRead,
        cellsFromCache: reader.cellsFromCache,
        indexItemsRead: reader.itemsRead,
      };
    },
  });
}

/**
 * Keeps the other direction fresh where cheap: a refreshed user U is inserted into a neighbour V's
 * list when it is absent and V's list is still filling, or U now ranks among the first
 * NEIGHBOR_REVERSE_FULL_LIST_TOP of V's full list. Conditioned on V's `rev`; a lost race is left
 * to V's own next refresh.
 */
async function insertReverse(
  stores: Stores,
  computed: Map<string, Neighbor[]>,
  settings: ResolvedSettings,
): Promise<number> {
  const wanted = reverseCandidates(computed, REVERSE_FANOUT);
  if (wanted.size === 0) return 0;
  const lists = await getNeighborLists(stores, [...wanted.keys()]);
  const writes: NeighborListWrite[] = [];
  for (const [ownerId, candidates] of wanted) {
    const list = lists.get(ownerId);
    if (!list) continue; // not refreshed yet: its own first refresh will find these users
    const entered = withEntrants(list, candidates, settings.NEIGHBORS_K, settings.NEIGHBOR_REVERSE_FULL_LIST_TOP);
    if (entered) writes.push({ list: entered, mode: 'reverse', existed: true });
  }
  const lost = await putNeighborLists(stores, writes);
  return writes.length - lost.size;
}

export const handler = wrap((event: MSKEvent, _context: Context) => updateNeighbors(event), tools);
