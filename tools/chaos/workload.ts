/**
 * The chaos workload and its batch reference: a catalog of artists with artist-level genres,
 * listeners with Zipf-distributed activity and small personal tastes (so top-artist/track lists
 * stay within capacity and stay exact), shuffled timestamps and client-duplicated eventIds.
 * The reference includes each listener's session (`recent`), compared listen by listen.
 * Served lists for a share of listeners, shown before some of their listens (a share of the plays
 * name them), and the attribution counters' reference over them. Deterministic for a seed.
 */
import type { CounterRow } from '../../shared/adapters/dynamodb/experiments.ts';
import type { ListenEventV1 } from '../../shared/domain/events/events.ts';
import {
  attributePlay,
  type Contribution,
  counterKeyString,
  HOUR_MS,
  playContributions,
  type StoredList,
  servedContribution,
  storedListOf,
} from '../../shared/domain/experiments/attribution.ts';
import { newRecommendationId } from '../../shared/domain/experiments/recommendation-id.ts';
import type { ServedListV1 } from '../../shared/domain/experiments/served-list.ts';
import { variantOf } from '../../shared/domain/experiments/variants.ts';
import { GENRES, type GenreWeights, MOODS, normalizeGenreWeights } from '../../shared/domain/genres.ts';
import {
  type ApplyContext,
  buildProfile,
  DAY_MS,
  type Profile,
  type RecentListen,
} from '../../shared/domain/profile/profile.ts';
import { rng, zipf } from '../../shared/random.ts';
import { experiments } from '../../shared/topology.ts';

export { rng };

export interface Workload {
  artists: { artistId: string; name: string; genres: GenreWeights }[];
  /** In production order; client duplicates follow their original. */
  events: ListenEventV1[];
  users: number;
  duplicates: number;
  /** In production order (all before the listens); produced twice (a recorder retry) follow their original. */
  servedLists: ServedListV1[];
  servedDuplicates: number;
  /** Listen records that name a recommendationId (a served list's or, rarely, one never served). */
  naming: number;
}

export interface ServedListOptions {
  /** Share of listeners who are served lists (default 0.5). */
  servedShare?: number;
  /** Chance that a listen of theirs follows a list shown to them (default 0.1). */
  listsPerListen?: number;
  /** Chance that the listen after a list names it (default 0.4). */
  explicitRate?: number;
}

export function generateWorkload(
  opts: {
    events: number;
    users: number;
    seed: number;
    duplicateRate?: number;
  } & ServedListOptions,
): Workload {
  const rand = rng(opts.seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)]!;
  const artistCount = 400;
  const artists = Array.from({ length: artistCount }, (_, i) => {
    const raw: Record<string, number> = {};
    for (let g = 1 + Math.floor(rand() * 3); g > 0; g--) raw[pick(GENRES)] = 1 + Math.floor(rand() * 9);
    return { artistId: `chaos-art-${i}`, name: `Artist ${i}`, genres: normalizeGenreWeights(raw) };
  });
  const popularArtist = zipf(artistCount, 1.0, rand);
  const activeUser = zipf(opts.users, 1.05, rand);
  // Each listener's taste: ≤ 12 artists × 5 tracks, well inside the 100-entry top lists.
  const tastes = Array.from({ length: opts.users }, () =>
    Array.from({ length: 2 + Math.floor(rand() * 11) }, () => popularArtist()),
  );
  const base = Date.UTC(2026, 0, 1);
  const served = servedListMaker(opts, artists, tastes);
  const events: ListenEventV1[] = [];
  let duplicates = 0;
  const dupRate = opts.duplicateRate ?? 0.02;
  for (let i = 0; events.length < opts.events; i++) {
    const u = activeUser();
    const a = pick(tastes[u]!);
    const r = rand();
    const type = r < 0.7 ? 'play' : r < 0.82 ? 'skip' : r < 0.94 ? 'like' : 'dislike';
    const e: ListenEventV1 = {
      eventId: `chaos-ev-${opts.seed}-${i}`,
      userId: `chaos-user-${u}`,
      artistId: artists[a]!.artistId,
      trackId: `chaos-trk-${a}-${Math.floor(rand() * 5)}`,
      // Shuffled: any order within ~300 days, so the profile's anchor moves back and forth.
      ts: base + Math.floor(rand() * 300 * DAY_MS),
      type,
      v: 1,
    };
    if (type === 'play') {
      e.durationMs = 120_000 + Math.floor(rand() * 240_000);
      e.msPlayed = Math.floor(rand() * e.durationMs);
    }
    if (rand() < 0.05) e.rating = Math.round(rand() * 10) / 2;
    if (rand() < 0.1) e.mood = pick(MOODS);
    served.before(u, e);
    events.push(e);
    // A client retry: the same event (same eventId) sent again right after.
    if (rand() < dupRate && events.length < opts.events) {
      events.push({ ...e });
      duplicates++;
    }
  }
  const naming = events.filter((e) => e.recommendationId !== undefined).length;
  return { artists, events, users: opts.users, duplicates, ...served.result(), naming };
}

/**
 * Served lists, drawn from their own random stream (the listens of a seed stay what they were).
 * A list precedes a listen by up to 30 h: most fall within the 24 h window, some just outside.
 * Its items: the listen's artist (usually) among the listener's taste and popular artists, 5–26
 * of them so some hits land past the counted positions.
 */
function servedListMaker(
  opts: { seed: number } & ServedListOptions,
  artists: readonly { artistId: string }[],
  tastes: readonly number[][],
) {
  const rand = rng(opts.seed ^ 0x5e7ed);
  const popular = zipf(artists.length, 1.0, rand);
  const withLists = tastes.map(() => rand() < (opts.servedShare ?? 0.5));
  const lists: ServedListV1[] = [];
  let servedDuplicates = 0;
  const itemsFor = (u: number, anchor: string) => {
    const length = 5 + Math.floor(rand() * 21);
    const others = new Set<string>();
    while (others.size < length) {
      const taste = tastes[u]!;
      const id = artists[rand() < 0.6 ? taste[Math.floor(rand() * taste.length)]! : popular()]!.artistId;
      if (id !== anchor) others.add(id);
    }
    const items = [...others];
    if (rand() < 0.9) items.splice(Math.floor(rand() * (length + 1)), 0, anchor);
    return items;
  };
  return {
    /** Maybe serves listener `u` a list before `e`, which `e` may then name (sets its recommendationId). */
    before(u: number, e: ListenEventV1): void {
      if (!withLists[u] || e.artistId === undefined) {
        // A well-formed id nobody served: attributed implicitly (here: not at all).
        if (rand() < 0.005) e.recommendationId = newRecommendationId(e.ts, rand);
        return;
      }
      if (rand() >= (opts.listsPerListen ?? 0.1)) return;
      const ts = e.ts - Math.floor(rand() * 30 * HOUR_MS);
      const list: ServedListV1 = {
        v: 1,
        id: newRecommendationId(ts, rand),
        userId: e.userId,
        route: 'recommendations',
        kind: 'artist',
        variant: variantOf(e.userId, experiments).name,
        strategy: 'collaborative',
        ts,
        items: itemsFor(u, e.artistId),
      };
      lists.push(list);
      if (rand() < 0.02) {
        lists.push(structuredClone(list));
        servedDuplicates++;
      }
      if (rand() < (opts.explicitRate ?? 0.4)) e.recommendationId = list.id;
    },
    result: () => ({ servedLists: lists, servedDuplicates }),
  };
}

/** The batch reference: every user's profile built at once from the deduplicated events. */
export function referenceProfiles(
  events: readonly ListenEventV1[],
  ctx: ApplyContext<ListenEventV1>,
): Map<string, Profile> {
  const seen = new Set<string>();
  const byUser = new Map<string, ListenEventV1[]>();
  for (const e of events) {
    if (seen.has(e.eventId)) continue;
    seen.add(e.eventId);
    const list = byUser.get(e.userId);
    if (list) list.push(e);
    else byUser.set(e.userId, [e]);
  }
  const out = new Map<string, Profile>();
  for (const [userId, list] of byUser) out.set(userId, buildProfile(userId, list, ctx));
  return out;
}

/** Differences between a stored profile and its reference (empty when equal within `rel`). */
export function compareProfiles(got: Profile | undefined, want: Profile, rel = 1e-9): string[] {
  if (!got) return ['missing'];
  const diffs: string[] = [];
  for (const k of ['events', 'plays', 'skips', 'likes', 'dislikes'] as const) {
    if (got.counts[k] !== want.counts[k]) diffs.push(`counts.${k} ${got.counts[k]} ≠ ${want.counts[k]}`);
  }
  for (const k of ['anchorTs', 'firstEventTs', 'lastEventTs'] as const) {
    if (got[k] !== want[k]) diffs.push(`${k} ${got[k]} ≠ ${want[k]}`);
  }
  for (const field of ['genres', 'moods', 'topArtists', 'topTracks'] as const) {
    const a = got[field] ?? {};
    const b = want[field];
    // Sums of mixed-sign weights may cancel: compare against the map's scale, not the entry alone.
    const scale = Math.max(0, ...Object.values(b).map(Math.abs));
    for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
      const x = a[key] ?? 0;
      const y = b[key] ?? 0;
      if (Math.abs(x - y) > rel * Math.max(Math.abs(x), Math.abs(y), scale * 1e-3)) {
        diffs.push(`${field}.${key} ${x} ≠ ${y}`);
      }
    }
  }
  // The session is exact: the same listens (fingerprint and ts) in the same order.
  const listen = (l: RecentListen) => `${l.type} ${l.trackId ?? '-'} ${l.artistId ?? '-'} @${l.ts} #${l.fp ?? '-'}`;
  const gotRecent = (got.recent ?? []).map(listen);
  const wantRecent = want.recent.map(listen);
  if (gotRecent.length !== wantRecent.length) diffs.push(`recent: ${gotRecent.length} listens ≠ ${wantRecent.length}`);
  const at = wantRecent.findIndex((l, i) => gotRecent[i] !== l);
  if (at >= 0) diffs.push(`recent[${at}] ${gotRecent[at] ?? 'missing'} ≠ ${wantRecent[at]}`);
  return diffs;
}

/** Counter item key (counterKeyString) → field → count. */
export type CounterTotals = Map<string, Record<string, number>>;

/**
 * The attribution counters' reference: every served list once (a duplicate produce is not a
 * second list), then every listen record in production order (a listener's partition order), each
 * attributed with the pure domain code against all the listener's lists (all stored before any
 * listen is produced). A list's first hit is the first record attributed to it; a client-duplicated
 * play is a second record, so a second play and hit, but not a second list with a hit.
 */
export function referenceCounters(
  work: Pick<Workload, 'servedLists' | 'events'>,
  ctx: { windowMs: number; maxPositions: number; variantOf: (userId: string) => string },
): CounterTotals {
  const out: CounterTotals = new Map();
  const add = (c: Contribution) => {
    const k = counterKeyString(c.key);
    const fields = out.get(k) ?? {};
    for (const [f, n] of Object.entries(c.fields)) fields[f] = (fields[f] ?? 0) + n;
    out.set(k, fields);
  };
  const lists = new Map<string, StoredList[]>();
  const ids = new Set<string>();
  for (const l of work.servedLists) {
    if (ids.has(l.id)) continue;
    ids.add(l.id);
    const stored = storedListOf(l, '');
    const mine = lists.get(l.userId);
    if (mine) mine.push(stored);
    else lists.set(l.userId, [stored]);
    add(servedContribution(stored, 0));
  }
  const hit = new Set<string>();
  for (const e of work.events) {
    const a = attributePlay(e, lists.get(e.userId) ?? [], ctx.windowMs);
    const firstHit = a !== undefined && !hit.has(a.list.id);
    if (a) hit.add(a.list.id);
    const attributed = a && { attribution: a, firstHit };
    for (const c of playContributions(e, ctx.variantOf(e.userId), 0, attributed, ctx.maxPositions)) add(c);
  }
  return out;
}

/** Stored counter rows summed per item and field, against the reference: every differing field. */
export function compareCounters(rows: readonly CounterRow[], want: CounterTotals) {
  const got: CounterTotals = new Map();
  for (const r of rows) {
    const k = counterKeyString(r.key);
    const fields = got.get(k) ?? {};
    for (const [f, n] of Object.entries(r.fields)) fields[f] = (fields[f] ?? 0) + n;
    got.set(k, fields);
  }
  const out = { counters: want.size, stored: counterTotals(got), mismatches: 0, examples: [] as string[] };
  for (const k of new Set([...got.keys(), ...want.keys()])) {
    const a = got.get(k) ?? {};
    const b = want.get(k) ?? {};
    for (const f of new Set([...Object.keys(a), ...Object.keys(b)])) {
      if ((a[f] ?? 0) === (b[f] ?? 0)) continue;
      out.mismatches++;
      if (out.examples.length < 5) out.examples.push(`${k} ${f}: ${a[f] ?? 0} ≠ ${b[f] ?? 0}`);
    }
  }
  return out;
}

/** Field totals over all counter items. */
export function counterTotals(totals: CounterTotals): Record<string, number> {
  const out: Record<string, number> = {};
  for (const fields of totals.values()) for (const [f, n] of Object.entries(fields)) out[f] = (out[f] ?? 0) + n;
  return out;
}
