/**
 * Trigger on `tracks` → catalog table. Upserts are last-writer-wins by `updatedAt`, enforced by a
 * condition on the write, so replays and out-of-order arrivals converge to the same catalog. A
 * track also seeds its artist's item (genres from the track) when that artist is not yet known.
 *
 * @triggeredBy tracks
 * @producesTo dead-letters
 */
import type { Context, MSKEvent } from 'aws-lambda';
import { putCatalogItemIfNewer } from '../../shared/adapters/dynamodb/catalog.ts';
import { storesFromEnv } from '../../shared/adapters/dynamodb/stores.ts';
import { type CatalogItem, catalogItemsOf, upsertItemId } from '../../shared/domain/catalog/catalog.ts';
import { CatalogRecordV1 } from '../../shared/domain/events/events.ts';
import { observability, wrap } from '../../shared/handlers/observability.ts';
import { forEachLimit, runTrigger } from '../../shared/handlers/trigger.ts';
import { indexEntriesOfItems, writeIndexEntries } from './name-claims.ts';

const FUNCTION_NAME = 'catalog-updater';
const tools = observability(FUNCTION_NAME);

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
          upsertItemId(value),
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
