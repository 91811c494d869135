/**
 * The chaos workload and its batch reference: a catalog of artists with artist-level genres,
 * listeners with Zipf-distributed activity and small personal tastes (so top-artist/track lists
 * stay within capacity and stay exact), shuffled timestamps and client-duplicated eventIds.
 * The reference includes each listener's session (`recent`), compared listen by listen.
 * Deterministic for a seed.
 */
import type { ListenEventV1 } from '../../shared/domain/events/events.ts';
import { GENRES, type GenreWeights, MOODS, normalizeGenreWeights } from '../../shared/domain/genres.ts';
import {
  type ApplyContext,
  buildProfile,
  DAY_MS,
  type Profile,
  type RecentListen,
} from '../../shared/domain/profile/profile.ts';
import { rng, zipf } from '../../shared/random.ts';

export { rng };

export interface Workload {
  artists: { artistId: string; name: string; genres: GenreWeights }[];
  /** In production order; client duplicates follow their original. */
  events: ListenEventV1[];
  users: number;
  duplicates: number;
}

export function generateWorkload(opts: {
  events: number;
  users: number;
  seed: number;
  duplicateRate?: number;
}): Workload {
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
    events.push(e);
    // A client retry: the same event (same eventId) sent again right after.
    if (rand() < dupRate && events.length < opts.events) {
      events.push({ ...e });
      duplicates++;
    }
  }
  return { artists, events, users: opts.users, duplicates };
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
