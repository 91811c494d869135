/**
 * Spotify tracks CSV (the Hugging Face "spotify-tracks-dataset" columns): streamed through
 * csv-parse (quoted fields with commas are common in titles). → TrackUpsert. `artists` is
 * ";"-separated; the first artist is the track's artist (its id: normalized name).
 */
import { createReadStream } from 'node:fs';
import { parse } from 'csv-parse';
import { TrackUpsertInput as TrackSchema, type TrackUpsertInput } from '../../shared/domain/events/events.ts';
import { tagToGenre } from '../../shared/domain/genres.ts';
import { BadLineError, LoadStats } from './lines.ts';
import { artistIdOf } from './names.ts';

export async function* spotifyTracks(
  file: string,
  opts: { skipBad?: boolean; stats?: LoadStats; updatedAt?: number } = {},
): AsyncGenerator<TrackUpsertInput> {
  const stats = opts.stats ?? new LoadStats(opts.skipBad === true);
  const parser = createReadStream(file).pipe(
    parse({ columns: true, bom: true, skip_empty_lines: true, relax_column_count: opts.skipBad === true, info: true }),
  );
  try {
    for await (const { record, info } of parser as AsyncIterable<{
      record: Record<string, string>;
      info: { lines: number };
    }>) {
      stats.lines++;
      const line = info.lines;
      const artistName = record.artists?.split(';')[0]?.trim();
      const duration = Number(record.duration_ms);
      const popularity = Number(record.popularity);
      const genre = record.track_genre ? tagToGenre(record.track_genre) : null;
      const candidate = {
        trackId: record.track_id,
        title: record.track_name,
        artistName,
        ...(artistName ? { artistId: artistIdOf(artistName) } : {}),
        ...(Number.isInteger(duration) && duration > 0 ? { durationMs: duration } : {}),
        ...(Number.isFinite(popularity) ? { popularity } : {}),
        // Unknown genres go in as tags (ignored by tagToGenre), known ones as the explicit genre.
        ...(genre ? { genres: [genre] } : record.track_genre ? { tags: [record.track_genre] } : {}),
        ...(opts.updatedAt !== undefined ? { updatedAt: opts.updatedAt } : {}),
      };
      const parsed = TrackSchema.safeParse(candidate);
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!;
        stats.reject(file, line, `${issue.path.join('.') || 'row'}: ${issue.message}`);
        continue;
      }
      yield parsed.data;
    }
  } catch (err) {
    if (err instanceof BadLineError) throw err;
    const e = err as Error & { lines?: number };
    throw new BadLineError(file, e.lines ?? stats.lines + 1, `CSV: ${e.message}`);
  }
}
