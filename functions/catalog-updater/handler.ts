/**
 * Trigger on `tracks` → catalog table. Upserts are last-writer-wins by `updatedAt`, enforced by a
 * condition on the write, so replays and out-of-order arrivals converge to the same catalog. A
 * track also seeds its artist's item (genres from the track) when that artist is not yet known.
 */
import type { Context, MSKEvent } from 'aws-lambda';
import { z } from 'zod';
import {
  artistItemId,
  type CatalogItem,
  putCatalogItemIfNewer,
  storesFromEnv,
  trackItemId,
} from '../../shared/adapters/dynamodb.ts';
import {
  ArtistUpsertV1,
  catalogItemFromArtist,
  catalogItemFromTrack,
  TrackUpsertV1,
} from '../../shared/domain/events.ts';
import { observability, wrap } from '../../shared/handlers/observability.ts';
import { forEachLimit, runTrigger } from '../../shared/handlers/trigger.ts';
import { indexEntriesOfItems, writeIndexEntries } from './name-index.ts';

const FUNCTION_NAME = 'catalog-updater';
const tools = observability(FUNCTION_NAME);

export const CatalogRecordV1 = z.union([
  TrackUpsertV1,
  ArtistUpsertV1.extend({ updatedAt: TrackUpsertV1.shape.updatedAt }),
]);
type CatalogRecord = z.infer<typeof CatalogRecordV1>;

/** Catalog items for one record: the track, plus a seed item for its artist (updatedAt 0: any real upsert wins). */
export function catalogItemsOf(record: CatalogRecord): CatalogItem[] {
  if ('trackId' in record) {
    const t = catalogItemFromTrack(record);
    const track: CatalogItem = {
      itemId: trackItemId(t.trackId),
      kind: 'track',
      id: t.trackId,
      name: t.title,
      artistName: t.artistName,
      genres: t.genres,
      popularity: t.popularity,
      updatedAt: t.updatedAt,
      ...(t.artistId ? { artistId: t.artistId } : {}),
      ...(t.durationMs ? { durationMs: t.durationMs } : {}),
      ...(t.tags ? { tags: t.tags } : {}),
      ...(t.primaryGenre ? { primaryGenre: t.primaryGenre, genreKey: `t#${t.primaryGenre}` } : {}),
    };
    if (!t.artistId) return [track];
    const artistSeed: CatalogItem = {
      itemId: artistItemId(t.artistId),
      kind: 'artist',
      id: t.artistId,
      name: t.artistName,
      genres: t.genres,
      popularity: t.popularity,
      updatedAt: 0,
      ...(t.primaryGenre ? { primaryGenre: t.primaryGenre, genreKey: `a#${t.primaryGenre}` } : {}),
    };
    return [track, artistSeed];
  }
  const a = catalogItemFromArtist(record);
  return [
    {
      itemId: artistItemId(a.artistId),
      kind: 'artist',
      id: a.artistId,
      name: a.name,
      genres: a.genres,
      popularity: a.popularity,
      updatedAt: a.updatedAt,
      ...(a.tags ? { tags: a.tags } : {}),
      ...(a.primaryGenre ? { primaryGenre: a.primaryGenre, genreKey: `a#${a.primaryGenre}` } : {}),
    },
  ];
}

export async function updateCatalog(event: MSKEvent) {
  return runTrigger(event, {
    functionName: FUNCTION_NAME,
    schema: CatalogRecordV1,
    tools,
    work: async (valid) => {
      const stores = storesFromEnv();
      // Within a batch only the newest version of each item needs writing.
      const latest = new Map<string, CatalogItem>();
      for (const { value } of valid) {
        for (const item of catalogItemsOf(value)) {
          const seen = latest.get(item.itemId);
          if (!seen || item.updatedAt > seen.updatedAt) latest.set(item.itemId, item);
        }
      }
      let written = 0;
      await forEachLimit([...latest.values()], 16, async (item) => {
        if (await putCatalogItemIfNewer(stores, item)) written++;
      });
      // Names and aliases after the items: a listen resolved through an entry finds its item.
      const aliases = new Map(
        valid.map(({ value }) => [
          'trackId' in value ? trackItemId(value.trackId) : artistItemId(value.artistId),
          { mbid: value.mbid, spotifyId: 'spotifyId' in value ? value.spotifyId : undefined },
        ]),
      );
      const indexed = await writeIndexEntries(
        stores,
        indexEntriesOfItems(
          [...latest.values()].map((item) => {
            const a = aliases.get(item.itemId);
            return {
              ...item,
              ...(a?.mbid ? { mbid: a.mbid } : {}),
              ...(a?.spotifyId ? { spotifyId: a.spotifyId } : {}),
            };
          }),
        ),
      );
      return { catalogWrites: written, catalogStale: latest.size - written, nameIndexWrites: indexed };
    },
  });
}

export const handler = wrap((event: MSKEvent, _context: Context) => updateCatalog(event), tools);
