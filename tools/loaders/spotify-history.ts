/**
 * Spotify extended streaming history (`Streaming_History_Audio_*.json`: one JSON array per file).
 * Files are a few MB each, so a file is parsed whole (the array is not line-oriented); a bad
 * entry is reported with its array index. Podcasts (no track URI) are skipped and counted.
 * skipped == true → a `skip` event, else a `play` with msPlayed.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { ListenEventV1 } from '../../shared/domain/events/events.ts';
import { BadLineError, LoadStats } from './lines.ts';
import { artistIdOf } from './names.ts';

export async function historyFiles(path: string): Promise<string[]> {
  if (!(await stat(path)).isDirectory()) return [path];
  return (await readdir(path))
    .filter((f) => /^Streaming_History_Audio_.*\.json$/.test(f))
    .sort()
    .map((f) => join(path, f));
}

export async function* spotifyHistoryEvents(
  path: string,
  opts: { skipBad?: boolean; stats?: LoadStats; userId?: string } = {},
): AsyncGenerator<ListenEventV1> {
  const stats = opts.stats ?? new LoadStats(opts.skipBad === true);
  const userId = opts.userId ?? 'spotify-me';
  for (const file of await historyFiles(path)) {
    let arr: unknown;
    try {
      arr = JSON.parse(await readFile(file, 'utf8'));
    } catch (err) {
      throw new BadLineError(file, 1, `not a JSON file: ${(err as Error).message}`);
    }
    if (!Array.isArray(arr)) throw new BadLineError(file, 1, 'expected a JSON array of streams');
    for (const [i, e] of (arr as Record<string, unknown>[]).entries()) {
      stats.lines++;
      const uri = e?.spotify_track_uri;
      if (uri === null || uri === undefined) continue; // podcast episode / audiobook: no track
      const ts = typeof e.ts === 'string' ? Date.parse(e.ts) : Number.NaN;
      const track = typeof uri === 'string' ? /^spotify:track:([A-Za-z0-9]+)$/.exec(uri)?.[1] : undefined;
      if (!track || !Number.isFinite(ts) || typeof e.ms_played !== 'number') {
        stats.reject(
          `${basename(file)}[${i}]`,
          i,
          'needs spotify_track_uri "spotify:track:<id>", ISO ts and ms_played',
        );
        continue;
      }
      const artist = typeof e.master_metadata_album_artist_name === 'string' ? e.master_metadata_album_artist_name : '';
      const country =
        typeof e.conn_country === 'string' && /^[A-Za-z]{2}$/.test(e.conn_country) ? e.conn_country : undefined;
      yield {
        eventId: `spotify-${track}-${ts}`,
        userId,
        trackId: track,
        ...(artist ? { artistId: artistIdOf(artist), artistName: artist.slice(0, 512) } : {}),
        ...(typeof e.master_metadata_track_name === 'string'
          ? { trackName: e.master_metadata_track_name.slice(0, 512) }
          : {}),
        ts,
        type: e.skipped === true ? 'skip' : 'play',
        msPlayed: Math.max(0, Math.round(e.ms_played)),
        ...(typeof e.platform === 'string' ? { platform: e.platform.slice(0, 64) } : {}),
        ...(country ? { country: country.toUpperCase() } : {}),
      };
    }
  }
}
