/**
 * The evaluation data for one split, as `npm run eval` builds it: binarize, k-core, seeded 80/20
 * hold-out (and, with `validation`, 80/20 again inside the training part with seed + 1), artist
 * genres and tag counts without the held-out pairs' tag rows (unless `tags: 'all'`).
 */
import { artistGenresOf, type LastfmDataset } from '../loaders/lastfm.ts';
import type { EvalData } from './evaluate.ts';
import { dedupe, getOrInit, type Interaction, kCore, randomSplit } from './protocol.ts';

export type TagMode = 'heldout-free' | 'all';

export interface SplitOptions {
  seed: number;
  k: number;
  core: number;
  validation: boolean;
  tags: TagMode;
}

export interface SplitData {
  data: EvalData;
  /** Pairs after the k-core filter. */
  interactions: number;
  users: number;
  /** Tag rows that are a user's tags on one of their held-out artists. */
  leakedTagRows: number;
  tagRows: number;
}

export function splitData(ds: LastfmDataset, o: SplitOptions): SplitData {
  const rows: Interaction[] = ds.userArtists.map((r) => ({ user: r.userId, item: r.artistId, plays: r.plays }));
  const filtered = kCore(dedupe(rows), o.core);
  const users = new Set(filtered.map((r) => r.user));
  const items = [...new Set(filtered.map((r) => r.item))].sort();
  let { train, test } = randomSplit(filtered, o.seed, 0.2);
  const heldOut = new Set(test.map((r) => `${r.user}\u0000${r.item}`));
  if (o.validation) ({ train, test } = randomSplit(train, o.seed + 1, 0.2));
  for (const r of test) heldOut.add(`${r.user}\u0000${r.item}`);
  const isHeldOut = (a: { userId: string; artistId: string }) => heldOut.has(`${a.userId}\u0000${a.artistId}`);
  const genres =
    o.tags === 'all' ? ds.tagging.artistGenres : artistGenresOf(ds.tagging.assignments, (a) => isHeldOut(a));
  // Artist tag counts for the content neighbours, without held-out pairs' tags (unless `all`).
  const tags = new Map<string, Record<string, number>>();
  for (const a of ds.tagging.assignments) {
    if (o.tags !== 'all' && isHeldOut(a)) continue;
    const t = getOrInit(tags, a.artistId, () => ({}) as Record<string, number>);
    t[a.tag] = (t[a.tag] ?? 0) + 1;
  }
  return {
    data: { train, test, items, genres, tags, k: o.k },
    interactions: filtered.length,
    users: users.size,
    leakedTagRows: ds.tagging.assignments.filter(isHeldOut).length,
    tagRows: ds.tagging.assignments.length,
  };
}
