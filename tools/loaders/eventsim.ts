/**
 * Eventsim (Sparkify) JSON lines: one page view per line; listens are page == "NextSong".
 * → play events (msPlayed = durationMs = length, a full play: eventsim only logs song starts
 * it lets finish). With a catalog (normalized "artist|song" → trackId), songs map to catalog
 * tracks; otherwise artist-level plays with a stable id from the artist's normalized name.
 * Kept: `userAgent` → platform (coarse OS family). Dropped deliberately: `level` (billing tier,
 * not taste), `location` (free-text metro area; ListenEventV1 only has an ISO country, and all
 * users are US), names/gender (personal data, no use for recommendations).
 */
import type { ListenEventV1 } from '../../shared/domain/events/events.ts';
import { LoadStats, readLines } from './lines.ts';
import { artistIdOf, normalizeName } from './names.ts';

export function platformOf(userAgent: unknown): string | undefined {
  if (typeof userAgent !== 'string') return undefined;
  if (/iPhone|iPad/.test(userAgent)) return 'ios';
  if (/Android/.test(userAgent)) return 'android';
  if (/Windows/.test(userAgent)) return 'windows';
  if (/Macintosh/.test(userAgent)) return 'macos';
  if (/Linux/.test(userAgent)) return 'linux';
  return 'other';
}

export const catalogKey = (artist: string, song: string) => `${normalizeName(artist)}|${normalizeName(song)}`;

export async function* eventsimEvents(
  file: string,
  opts: { skipBad?: boolean; stats?: LoadStats; catalog?: ReadonlyMap<string, string> } = {},
): AsyncGenerator<ListenEventV1> {
  const stats = opts.stats ?? new LoadStats(opts.skipBad === true);
  for await (const { line, lineNo } of readLines(file)) {
    stats.lines++;
    let r: Record<string, unknown>;
    try {
      r = JSON.parse(line);
    } catch (err) {
      stats.reject(file, lineNo, `not JSON: ${(err as Error).message}`);
      continue;
    }
    if (r.page !== 'NextSong') continue;
    const { userId, artist, song, ts, length, sessionId, itemInSession } = r;
    if (typeof artist !== 'string' || !artist || typeof song !== 'string' || typeof ts !== 'number') {
      stats.reject(file, lineNo, 'NextSong without artist, song or numeric ts');
      continue;
    }
    if ((typeof userId !== 'string' && typeof userId !== 'number') || userId === '') {
      stats.reject(file, lineNo, 'NextSong without userId');
      continue;
    }
    const trackId = opts.catalog?.get(catalogKey(artist, song));
    const ms = typeof length === 'number' && length > 0 ? Math.round(length * 1000) : undefined;
    const platform = platformOf(r.userAgent);
    yield {
      // sessionId + itemInSession identify the page view: replays are idempotent.
      eventId: `eventsim-${userId}-${sessionId}-${itemInSession}-${ts}`,
      userId: `eventsim-${userId}`,
      ...(trackId ? { trackId } : {}),
      artistId: artistIdOf(artist),
      trackName: song.slice(0, 512),
      artistName: artist.slice(0, 512),
      ts: Math.round(ts),
      type: 'play',
      ...(ms ? { msPlayed: ms, durationMs: ms } : {}),
      ...(platform ? { platform } : {}),
    };
  }
}
