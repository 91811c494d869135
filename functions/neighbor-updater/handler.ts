/**
 * Trigger on `profile-updates` → nearest-neighbour lists and the neighbour index.
 *
 * A refresh never reads every profile: the index table keeps one compact vector per user under a
 * cell derived from the vector (top-2 genres + their ratio), and a refresh reads only the cells
 * most likely to hold near neighbours, best first, until the budget is spent or no unread cell
 * can beat the current k-th neighbour. Cells read for one user are reused for the others in the
 * batch and, for a few seconds, by the container (`NeighborIndexCache`). A user is refreshed only
 * when the profile moved enough and not more often than the configured interval. Where cheap, the
 * refreshed user is also inserted into its neighbours' lists.
 */
import type { Context, MSKEvent } from 'aws-lambda';
import {
  getNeighborLists,
  type IndexEntry,
  type NeighborList,
  type NeighborListWrite,
  putNeighborLists,
  type Stores,
  storesFromEnv,
} from '../../shared/adapters/dynamodb.ts';
import { ItemModelCache } from '../../shared/adapters/item-model-cache.ts';
import { NeighborIndexCache, searchIndex } from '../../shared/adapters/neighbor-index-cache.ts';
import { ProfileUpdateV1 } from '../../shared/domain/events.ts';
import { cellOf } from '../../shared/domain/neighbor-cells.ts';
import { indexTaste, mergeNeighbors, type Neighbor } from '../../shared/domain/neighbor-search.ts';
import { indexRewriteDue, shouldRefresh } from '../../shared/domain/refresh-policy.ts';
import { genreVector, idfWeight, type TasteFeatures } from '../../shared/domain/similarity.ts';
import { artistSketchKey, decodeArtistSketch, decodeVector, encodeVector } from '../../shared/domain/taste-codec.ts';
import { packTopItems } from '../../shared/domain/top-items-codec.ts';
import { MetricUnit, observability, wrap } from '../../shared/handlers/observability.ts';
import { forEachLimit, runTrigger } from '../../shared/handlers/trigger.ts';
import type { ResolvedSettings } from '../../shared/topology.ts';
import { buildCandidateSets, currentModelKey, writeCandidateSets } from './candidate-sets.ts';

const FUNCTION_NAME = 'neighbor-updater';
/** How many of a refreshed user's closest neighbours get the user inserted into their lists. */
const REVERSE_FANOUT = 5;
const tools = observability(FUNCTION_NAME);

interface Refresh {
  update: ProfileUpdateV1;
  /** Whether the user's index entry moved enough to be rewritten (`indexRewriteDue`). */
  indexDue: boolean;
  artistsKey: number;
  vector: Float64Array;
  /** Genre vector + artist sketch: what the search ranks candidates against. */
  taste: TasteFeatures;
  encoded: string;
  cell: string;
  previous: NeighborList | undefined;
}

/** Listener counts for the IDF weights (the item model is rebuilt on a schedule; checked every 5 min). */
const itemModel = new ItemModelCache(5 * 60_000);
/** Occupied cells (15 s) and recently read cells (5 s) of the index, per container. */
const index = new NeighborIndexCache();

/** For benchmarks and tests that want a cold container. */
export function clearCellCache(): void {
  index.clearCells();
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
      // A build announced by the item model builder is read now, not when the cache expires.
      let modelKey = await currentModelKey(itemModel, stores, now);
      if ([...latest.values()].some((u) => u.itemModel !== undefined && u.itemModel !== modelKey)) {
        itemModel.invalidate();
        modelKey = await currentModelKey(itemModel, stores, now);
      }
      const [lists, listeners] = await Promise.all([
        getNeighborLists(stores, [...latest.keys()]),
        settings.NEIGHBOR_IDF_EXPONENT > 0 ? itemModel.listeners(stores, 'a', now) : undefined,
      ]);
      const artistWeight = listeners ? idfWeight(listeners, settings.NEIGHBOR_IDF_EXPONENT) : undefined;
      const refreshes: Refresh[] = [];
      let stale = 0;
      for (const update of latest.values()) {
        const previous = lists.get(update.userId);
        // An older update changes nothing; the same version is refreshed again only to rebuild
        // candidates under a new item model.
        const modelChanged = previous !== undefined && previous.candidatesModelId !== modelKey;
        if (
          previous &&
          (previous.profileVersion > update.version || (previous.profileVersion === update.version && !modelChanged))
        ) {
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
        // A new item model also rebuilds the user's candidates (with a refresh) on their next update.
        if (!due && !modelChanged) continue;
        const encoded = encodeVector(vector);
        const cell = cellOf(decodeVector(encoded));
        const artistsKey = artistSketchKey(update.artists);
        refreshes.push({
          update,
          indexDue: indexRewriteDue(previous, { cell, vector, artistsKey }, settings.NEIGHBOR_INDEX_MIN_DRIFT),
          artistsKey,
          vector,
          taste: indexTaste(vector, update.artists, artistWeight),
          encoded,
          cell,
          previous,
        });
      }
      if (refreshes.length === 0) return { refreshed: 0, stale, reverseInserts: 0 };

      // Index first (plus directory markers for cells that were empty), so users refreshed in
      // this batch can find each other. Only entries that moved materially are rewritten: others
      // rank this user by the entry, and a small drift changes nobody's list.
      const moved = refreshes.filter((r) => r.indexDue);
      const indexPuts = moved.map(
        (r): IndexEntry => ({
          cell: r.cell,
          userId: r.update.userId,
          vec: r.encoded,
          ...(r.update.artists ? { artists: r.update.artists } : {}),
          ...(r.update.topTracks || r.update.topArtists
            ? { top: packTopItems(decodeArtistSketch(r.update.topTracks), decodeArtistSketch(r.update.topArtists)) }
            : {}),
          profileVersion: r.update.version,
        }),
      );
      const indexDeletes = moved
        .filter((r) => r.previous?.cell && r.previous.cell !== r.cell)
        .map((r) => ({ cell: r.previous!.cell, userId: r.update.userId }));
      await index.write(stores, indexPuts, indexDeletes, now, artistWeight);
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
            {
              maxCells: settings.NEIGHBOR_MAX_CELLS,
              maxItems: settings.NEIGHBOR_MAX_ITEMS,
            },
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
      const own: NeighborListWrite[] = refreshes.map((r) => ({
        list: {
          userId: r.update.userId,
          neighbors: computed.get(r.update.userId) ?? [],
          refreshedAt: now,
          snapshot: r.encoded,
          profileVersion: r.update.version,
          cell: r.cell,
          indexedVec: r.indexDue ? r.encoded : r.previous!.indexedVec,
          indexedArtistsKey: r.indexDue ? r.artistsKey : r.previous!.indexedArtistsKey,
          candidatesModelId: modelKey,
          candidatesTopKey: setOf.get(r.update.userId)?.topKey ?? 0,
          rev: (r.previous?.rev ?? 0) + 1,
        },
        mode: 'refresh',
        existed: r.previous !== undefined,
      }));
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
        indexWrites: indexPuts.length,
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
  const writes: NeighborListWrite[] = [];
  for (const [ownerId, candidates] of wanted) {
    const list = lists.get(ownerId);
    if (!list) continue; // not refreshed yet: its own first refresh will find these users
    // Write only when someone enters the list. A member's similarity drifting a little is not
    // worth a write; the owner's own next refresh updates it.
    const present = new Set(list.neighbors.map((n) => n.userId));
    const full = list.neighbors.length >= settings.NEIGHBORS_K;
    const worst = list.neighbors.at(-1)?.similarity ?? 0;
    const entering = candidates.filter((c) => !present.has(c.userId) && (!full || c.similarity > worst));
    if (entering.length === 0) continue;
    const merged = mergeNeighbors(list.neighbors, entering, settings.NEIGHBORS_K);
    writes.push({ list: { ...list, neighbors: merged, rev: list.rev + 1 }, mode: 'reverse', existed: true });
  }
  const lost = await putNeighborLists(stores, writes);
  return writes.length - lost.size;
}

export const handler = wrap((event: MSKEvent, _context: Context) => updateNeighbors(event), tools);
