/**
 * The recommendation candidates of the users a batch refreshed: built from what the refresh
 * already holds — the user's own strongest items (from the profile update), the neighbours' top
 * items (from the index entries the search read) and the item model's lists (container cache) —
 * so a refresh reads no profile. A set is written (25 per request, conditioned on the profile
 * version) only when it would answer differently: its top 20 per kind changed, or it was built
 * under another item model.
 */
import { putCandidateSets } from '../../shared/adapters/dynamodb/candidates.ts';
import type { Stores } from '../../shared/adapters/dynamodb/stores.ts';
import type { ItemModelCache } from '../../shared/adapters/item-model-cache.ts';
import type { ProfileUpdateV1 } from '../../shared/domain/events/events.ts';
import type { Neighbor } from '../../shared/domain/neighbors/neighbor-search.ts';
import { decodeArtistSketch } from '../../shared/domain/neighbors/taste-codec.ts';
import { type TopItems, unpackTopItems } from '../../shared/domain/neighbors/top-items-codec.ts';
import { candidatesModelKey, packCandidateSet } from '../../shared/domain/ranking/candidate-codec.ts';
import { buildCandidates } from '../../shared/domain/ranking/components.ts';
import { rankCandidates } from '../../shared/domain/ranking/rank.ts';
import { trimCandidates } from '../../shared/domain/ranking/trim.ts';
import type { CandidateKind, CandidateList, NeighborItems } from '../../shared/domain/ranking/types.ts';

/** Recommendations per kind whose ids key a set (`topKey`): a set whose key is unchanged is not rewritten. */
const KEYED_TOP = 20;

/**
 * A set's item must fit one write unit (1 KB, billed by attribute names and values): the state's
 * budget leaves room for the key and the two numbers. Long ids (a catalog of UUIDs rather than
 * Last.fm's small numbers) get fewer candidates per kind instead of a second unit per refresh.
 */
const WRITE_UNIT_BYTES = 1024;
const ITEM_OVERHEAD_BYTES = 'userId'.length + 'profileVersion'.length + 9 + 'builtAt'.length + 9 + 'state'.length;
const MIN_CANDIDATES = 10;

export function stateBudget(userId: string): number {
  return WRITE_UNIT_BYTES - ITEM_OVERHEAD_BYTES - Buffer.byteLength(userId);
}

/**
 * Packs the lists (16-bit scores relative to each component's max: ~30 % fewer bytes than
 * float32, at an error ≤ 8e-6 of the max, below the API's score rounding), trimming both kinds
 * proportionally (best kept, as `buildCandidates` keeps them) until the state fits `budget`.
 */
export function packWithinBudget(
  lists: Partial<Record<CandidateKind, CandidateList>>,
  meta: { modelId: string; builtAt: number; profileVersion: number },
  budget: number,
): { state: Uint8Array; lists: Partial<Record<CandidateKind, CandidateList>> } {
  let current = lists;
  for (;;) {
    const state = packCandidateSet({ ...current, ...meta }, { precision: 'u16' });
    const sizes = (['track', 'artist'] as const).map((k) => current[k]?.ids.length ?? 0);
    if (state.byteLength <= budget || Math.max(...sizes) <= MIN_CANDIDATES) return { state, lists: current };
    const ratio = (budget / state.byteLength) * 0.97;
    const next: Partial<Record<CandidateKind, CandidateList>> = {};
    for (const kind of ['track', 'artist'] as const) {
      const list = current[kind];
      if (!list) continue;
      const size = Math.max(MIN_CANDIDATES, Math.min(list.ids.length - 1, Math.floor(list.ids.length * ratio)));
      next[kind] = trimCandidates(list, size).list;
    }
    current = next;
  }
}

export interface CandidateRefresh {
  update: ProfileUpdateV1;
  neighbors: readonly Neighbor[];
}

export interface BuiltCandidateSet {
  userId: string;
  profileVersion: number;
  state: Uint8Array;
  /** FNV-1a of the set's top `KEYED_TOP` ids per kind (before read-time exclusions). */
  topKey: number;
}

/** The item model builds the candidates depend on, as one key (a new build of either kind changes it). */
export async function currentModelKey(itemModel: ItemModelCache, stores: Stores, now: number): Promise<string> {
  const [a, t] = await Promise.all([itemModel.modelId(stores, 'a', now), itemModel.modelId(stores, 't', now)]);
  return candidatesModelKey(a, t);
}

function topKeyOf(lists: Partial<Record<CandidateKind, CandidateList>>): number {
  let h = 0x811c9dc5;
  for (const kind of ['track', 'artist'] as const) {
    const list = lists[kind];
    const top = list ? rankCandidates({ kind, list, limit: KEYED_TOP }).items : [];
    for (const item of top) {
      for (let i = 0; i < item.id.length; i++) h = Math.imul(h ^ item.id.charCodeAt(i), 0x01000193);
      h = Math.imul(h ^ 0x1f, 0x01000193);
    }
    h = Math.imul(h ^ 0x1e, 0x01000193);
  }
  return h >>> 0 || 1;
}

export async function buildCandidateSets(
  stores: Stores,
  itemModel: ItemModelCache,
  refreshes: readonly CandidateRefresh[],
  tops: ReadonlyMap<string, Uint8Array>,
  opts: { size: number; modelKey: string; now: number },
): Promise<{ sets: BuiltCandidateSet[]; neighborsWithoutTop: number }> {
  if (refreshes.length === 0) return { sets: [], neighborsWithoutTop: 0 };
  const decoded = new Map<string, TopItems | null>();
  const topOf = (userId: string): TopItems | null => {
    let t = decoded.get(userId);
    if (t === undefined) {
      const bytes = tops.get(userId);
      t = bytes ? unpackTopItems(bytes) : null;
      decoded.set(userId, t);
    }
    return t;
  };
  const own = refreshes.map((r) => ({
    track: decodeArtistSketch(r.update.topTracks),
    artist: decodeArtistSketch(r.update.topArtists),
  }));
  const kinds: [CandidateKind, 't' | 'a'][] = [
    ['track', 't'],
    ['artist', 'a'],
  ];
  // One item-model lookup per kind for every refreshed user's own items (cached per container).
  const lookups = await Promise.all(
    kinds.map(async ([kind, key]) => {
      const ids = [...new Set(own.flatMap((o) => [...o[kind].keys()]))];
      const [lists, listeners] = await Promise.all([
        itemModel.lists(stores, key, ids, opts.now),
        itemModel.listeners(stores, key, opts.now),
      ]);
      return { lists, listeners };
    }),
  );
  let neighborsWithoutTop = 0;
  const sets = refreshes.map((r, i): BuiltCandidateSet => {
    const lists: Partial<Record<CandidateKind, CandidateList>> = {};
    kinds.forEach(([kind], k) => {
      const neighbors: NeighborItems[] = [];
      for (const n of r.neighbors) {
        const top = topOf(n.userId);
        if (!top) {
          if (k === 0) neighborsWithoutTop++;
          continue;
        }
        neighbors.push({
          userId: n.userId,
          similarity: n.similarity,
          topItems: kind === 'track' ? top.tracks : top.artists,
        });
      }
      const { lists: itemLists, listeners } = lookups[k]!;
      lists[kind] = buildCandidates({
        kind,
        ownItems: own[i]![kind],
        neighbors,
        ...(listeners ? { popularity: listeners } : {}),
        // Always given, as the read API always gave them: their presence alone sets the blend.
        itemNeighbors: (id: string) => itemLists.get(id)?.similar,
        contentNeighbors: (id: string) => itemLists.get(id)?.content,
        size: opts.size,
      }).list;
    });
    const packed = packWithinBudget(
      lists,
      { modelId: opts.modelKey, builtAt: opts.now, profileVersion: r.update.version },
      stateBudget(r.update.userId),
    );
    return {
      userId: r.update.userId,
      profileVersion: r.update.version,
      state: packed.state,
      topKey: topKeyOf(packed.lists),
    };
  });
  return { sets, neighborsWithoutTop };
}

/** Writes the sets; `existed` says which users had one (INSERT or UPDATE; a wrong guess costs a retry). */
export async function writeCandidateSets(
  stores: Stores,
  sets: readonly BuiltCandidateSet[],
  existed: (userId: string) => boolean,
  now: number,
): Promise<{ written: number; bytes: number }> {
  const lost = await putCandidateSets(
    stores,
    sets.map((s) => ({
      userId: s.userId,
      profileVersion: s.profileVersion,
      builtAt: now,
      state: s.state,
      existed: existed(s.userId),
    })),
  );
  return { written: sets.length - lost.size, bytes: sets.reduce((a, s) => a + s.state.byteLength, 0) };
}
