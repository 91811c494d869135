/**
 * The "now" part of the ranking: what the listener played in the last minutes pulls in those
 * items' co-listening and content neighbours (the item model's lists), mixed with the long-term
 * part by the session's strength s, the share of the answer's positions it takes (after p
 * positions, round(s · p) come from the now list: finish.ts, `interleaveNow`):
 *
 *   now(i)   = Σ_j w_j · (a · similar_j(i) / max similar_j + b · content_j(i) / max content_j), max-normalized
 *   w_j      = typeWeight · 2^(−age_j / halfLife)   for plays within the window (skips and dislikes: 0, avoided)
 *   s        = maxStrength · (1 − e^(−Σ w_j / saturation))
 *
 * a : b is the long-term part's ω : κ (co-listening : content). Each seed list is normalized by its
 * own top weight, so a seed with a long list weighs no more than one with a short list.
 *
 * Why these defaults: a listening session is a few songs to an hour; with a 15-minute half-life a
 * play still counts half a quarter of an hour later and ~6 % after an hour (the window), so a
 * change of mood shows in the next answer and fades by the evening. One fresh play gives s ≈ 0.44,
 * three ≈ 0.67 (the long-term part keeps a third of the list), so a single stray play cannot take
 * the list over. Without a session (nothing within the window) s = 0 and the answer is exactly the
 * long-term one (`rankCandidates` does not even compute this part).
 */
import type { RecentListen } from '../profile/profile.ts';
import type { PreparedItems } from './types.ts';

/** What the session is made of: the profile's recent list (`Profile.recent`, newest first). */
export type { RecentListen };

export interface SessionParams {
  /** A session play's weight halves every this long. */
  halfLifeMs: number;
  /** Plays older than this are not part of the session. */
  windowMs: number;
  /** The largest share of the answer the session takes. */
  maxStrength: number;
  /** Σ of play weights at which the strength reaches 63 % of `maxStrength`. */
  saturation: number;
  /** Weight of a like relative to a play. */
  likeWeight: number;
}

export const DEFAULT_SESSION: Readonly<SessionParams> = Object.freeze({
  halfLifeMs: 15 * 60_000,
  windowMs: 60 * 60_000,
  maxStrength: 0.7,
  saturation: 1,
  likeWeight: 1.5,
});

export interface Session {
  /** Seed item → its weight (Σ over its plays in the window). */
  seeds: Map<string, number>;
  /** s in [0, maxStrength]: 0 without a session. */
  strength: number;
  /** Every item of the kind in the recent list (just played, skipped or disliked): never answered again. */
  recent: Set<string>;
}

/** The session of one kind from the profile's recent list, at `now`. */
export function sessionOf(
  recent: readonly RecentListen[],
  kind: 'track' | 'artist',
  now: number,
  params: SessionParams = DEFAULT_SESSION,
): Session {
  const seeds = new Map<string, number>();
  const ids = new Set<string>();
  let total = 0;
  for (const listen of recent) {
    const id = kind === 'track' ? listen.trackId : listen.artistId;
    if (id === undefined) continue;
    ids.add(id);
    const age = Math.max(0, now - listen.ts);
    if (age > params.windowMs) continue;
    const typeWeight = listen.type === 'play' ? 1 : listen.type === 'like' ? params.likeWeight : 0;
    if (typeWeight === 0) continue;
    const w = typeWeight * 2 ** (-age / params.halfLifeMs);
    seeds.set(id, (seeds.get(id) ?? 0) + w);
    total += w;
  }
  // A skipped or disliked item is not a seed even if it was also played.
  for (const listen of recent) {
    const id = kind === 'track' ? listen.trackId : listen.artistId;
    if (id !== undefined && (listen.type === 'skip' || listen.type === 'dislike') && seeds.has(id)) {
      total -= seeds.get(id)!;
      seeds.delete(id);
    }
  }
  const strength = seeds.size === 0 ? 0 : params.maxStrength * (1 - Math.exp(-total / params.saturation));
  return { seeds, strength, recent: ids };
}

/** A seed's lists from the item model (co-listening and content); either may be absent. */
export interface SeedLists {
  similar?: PreparedItems | undefined;
  content?: PreparedItems | undefined;
}

export interface NowScore {
  /** In (0, 1]: max-normalized over the answer. */
  score: number;
  /** The seed that contributed most. */
  seed: string;
}

/**
 * now(i) for every item the seeds' lists reach (the seeds themselves and `exclude`d items left
 * out), max-normalized; `weights`: the long-term blend's ω (co-listening) and κ (content).
 */
export function nowScores(
  seeds: ReadonlyMap<string, number>,
  listsOf: (id: string) => SeedLists | undefined,
  weights: { itemBlend: number; contentBlend: number },
  exclude?: (id: string) => boolean,
): Map<string, NowScore> {
  const total = weights.itemBlend + weights.contentBlend;
  const a = total > 0 ? weights.itemBlend / total : 0.5;
  const b = total > 0 ? weights.contentBlend / total : 0.5;
  const sums = new Map<string, { score: number; seed: string; best: number }>();
  for (const [seed, w] of seeds) {
    const lists = listsOf(seed);
    if (!lists) continue;
    for (const [share, list] of [
      [a, lists.similar],
      [b, lists.content],
    ] as const) {
      if (!list || share === 0) continue;
      let top = 0;
      for (const x of list.weights) if (x > top) top = x;
      if (!(top > 0)) continue;
      for (let k = 0; k < list.ids.length; k++) {
        const id = list.ids[k]!;
        const x = list.weights[k]!;
        if (!(x > 0) || seeds.has(id) || exclude?.(id)) continue;
        const add = (w * share * x) / top;
        const cur = sums.get(id);
        if (cur === undefined) sums.set(id, { score: add, seed, best: add });
        else {
          cur.score += add;
          if (add > cur.best) {
            cur.best = add;
            cur.seed = seed;
          }
        }
      }
    }
  }
  let max = 0;
  for (const s of sums.values()) if (s.score > max) max = s.score;
  const out = new Map<string, NowScore>();
  if (max > 0) for (const [id, s] of sums) out.set(id, { score: s.score / max, seed: s.seed });
  return out;
}
