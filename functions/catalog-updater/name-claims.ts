/**
 * The catalog-updater's claims on names: every catalog item it stores also claims its name (and
 * its MusicBrainz / Spotify aliases) in the name index (the entries:
 * shared/domain/catalog/name-resolution.ts; the store: shared/adapters/dynamodb/name-index.ts), so
 * listens that arrive by name resolve to it. Within a batch only the strongest claim per key is
 * written.
 */

import { putIndexEntry } from '../../shared/adapters/dynamodb/name-index.ts';
import type { Stores } from '../../shared/adapters/dynamodb/stores.ts';
import type { CatalogItem } from '../../shared/domain/catalog/catalog.ts';
import { indexEntriesOf, type NameIndexEntry } from '../../shared/domain/catalog/name-resolution.ts';
import { forEachLimit } from '../../shared/handlers/trigger.ts';

export function indexEntriesOfItems(
  items: readonly (CatalogItem & { mbid?: string; spotifyId?: string })[],
): NameIndexEntry[] {
  const best = new Map<string, NameIndexEntry>();
  for (const item of items) {
    for (const e of indexEntriesOf(item)) {
      const seen = best.get(e.itemId);
      if (!seen || e.rank > seen.rank || (e.rank === seen.rank && e.updatedAt > seen.updatedAt)) best.set(e.itemId, e);
    }
  }
  return [...best.values()];
}

export async function writeIndexEntries(stores: Stores, entries: readonly NameIndexEntry[]): Promise<number> {
  let written = 0;
  await forEachLimit([...entries], 16, async (e) => {
    if (await putIndexEntry(stores, e)) written++;
  });
  return written;
}
