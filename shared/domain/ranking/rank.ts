/**
 * The one ranking. `rankCandidates` ranks a user's candidates — the stored candidate set the read
 * API reads with the profile, or none (then the genre part or popular items answer) — with what
 * just changed: the profile's items are excluded at once, the genre filter and the kind apply.
 * `recommend` is the same ranking over a list built on the spot from the neighbours' items and the
 * item model's lists (the offline evaluation; nothing else): one path, so the product and the
 * evaluation cannot drift.
 */
import type { Profile } from '../profile/profile.ts';
import { blendComponents } from './blend.ts';
import { buildCandidates } from './components.ts';
import { finishRanking, type NowPart, openRanking } from './finish.ts';
import type { RankingParams } from './params.ts';
import type {
  CandidateItem,
  CandidateKind,
  CandidateList,
  CollaborativeScore,
  NeighborItems,
  PreparedItems,
  RecommendResult,
} from './types.ts';

export interface RankCandidatesInput {
  kind: CandidateKind;
  /** The stored list of this kind; undefined when none was built yet (genre / popular fallback). */
  list?: CandidateList | undefined;
  /** The user's CURRENT profile: its genres, and its top items of the kind are excluded. */
  profile?: Pick<Profile, 'genres' | 'topArtists' | 'topTracks'> | undefined;
  /** Excluded on top of the profile's items. */
  exclude?: ReadonlySet<string> | undefined;
  /** Catalog items (popular in genre): genre info, genre filter and fallbacks, as `RecommendInput.candidates`. */
  catalog?: readonly CandidateItem[] | undefined;
  /** Only items of this genre (any tag spelling; an unknown genre matches nothing). */
  genre?: string | undefined;
  limit?: number | undefined;
  params?: Partial<RankingParams> | undefined;
  /** The session's "now" part (session.ts); absent or of strength 0: the long-term answer alone. */
  now?: NowPart | undefined;
}

/**
 * Read-time ranking of a stored candidate list: the result `recommend()` gives for the same
 * inputs (with its `exclude` = the profile's items ∪ `exclude`), whenever the list kept every
 * candidate that matters (see `BuildCandidatesResult.droppedBest`).
 */
export function rankCandidates(input: RankCandidatesInput): RecommendResult {
  const list = input.list;
  if (list && list.kind !== input.kind)
    throw new Error(`candidate list is for ${list.kind}s, asked for ${input.kind}s`);
  const opened = openRanking({
    ...input,
    exclude: (own) => {
      const exclude = new Set(Object.keys(own));
      for (const id of input.exclude ?? []) exclude.add(id);
      return exclude;
    },
  });
  if ('answer' in opened) return opened.answer;
  const { params, allowed } = opened;

  const positions: number[] = [];
  if (list) for (let p = 0; p < list.ids.length; p++) if (allowed(list.ids[p]!)) positions.push(p);
  const { scores: collab, max: maxCollab } = list
    ? blendComponents(list, positions, params)
    : { scores: new Map<string, CollaborativeScore>(), max: 0 };

  return finishRanking(opened, collab, maxCollab, input.now);
}

export interface RecommendInput {
  /** Undefined for an unknown user. */
  /** The user's profile; ranking reads only its genres and top items. */
  profile?: Pick<Profile, 'genres' | 'topArtists' | 'topTracks'> | undefined;
  neighbors?: readonly NeighborItems[];
  kind: 'track' | 'artist';
  /** Catalog items for genre match and the popular fallback (also the genre info of collaborative items). */
  candidates?: readonly CandidateItem[];
  /** Only items of this genre (any tag spelling; an unknown genre matches nothing). */
  genre?: string | undefined;
  limit?: number;
  /** Excluded on top of the user's own top list of this kind (always excluded). */
  exclude?: ReadonlySet<string>;
  /**
   * Listener counts for the β penalty (the item model's); without them no penalty applies (catalog
   * popularity is a 0–100 score on another scale, not a count).
   */
  popularity?: ReadonlyMap<string, number>;
  /**
   * Item–item neighbour lists (`itemNeighborLists`), looked up for the user's own items of this
   * kind; used when params.itemBlend > 0.
   */
  itemNeighbors?: (id: string) => PreparedItems | undefined;
  /** Content (tag) neighbour lists (`contentNeighborLists`); used when params.contentBlend > 0. */
  contentNeighbors?: (id: string) => PreparedItems | undefined;
  params?: Partial<RankingParams>;
}

/**
 * The ranking over candidates built now, untruncated, from the inputs: exactly what the product
 * answers for a candidate set built from the same inputs while the set kept every candidate that
 * matters (`BuildCandidatesResult.droppedBest`).
 */
export function recommend(input: RecommendInput): RecommendResult {
  const own = input.profile ? (input.kind === 'track' ? input.profile.topTracks : input.profile.topArtists) : {};
  const { list } = buildCandidates({
    kind: input.kind,
    ownItems: own,
    neighbors: input.neighbors ?? [],
    popularity: input.popularity,
    itemNeighbors: input.itemNeighbors,
    contentNeighbors: input.contentNeighbors,
    params: input.params,
    size: Number.POSITIVE_INFINITY,
  });
  return rankCandidates({
    kind: input.kind,
    list,
    profile: input.profile,
    exclude: input.exclude,
    catalog: input.candidates,
    genre: input.genre,
    limit: input.limit,
    params: input.params,
  });
}
