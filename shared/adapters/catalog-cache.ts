/**
 * Genre lookups for the profile path: catalog items cached per Lambda container, so a hot track's
 * genres are read from DynamoDB once, not once per listen. Misses are cached briefly too, so a
 * burst of plays of an unknown track does not read the table again and again.
 */

import { artistItemId, type CatalogItem, trackItemId } from '../domain/catalog/catalog.ts';
import type { GenreWeights } from '../domain/genres.ts';
import { getCatalogItems } from './dynamodb/catalog.ts';
import type { Stores } from './dynamodb/stores.ts';

interface Entry {
  genres: GenreWeights | undefined;
  expires: number;
}

export class CatalogGenreCache {
  private readonly entries = new Map<string, Entry>();
  constructor(
    private readonly maxEntries = 50_000,
    private readonly hitTtlMs = 10 * 60_000,
    private readonly missTtlMs = 30_000,
  ) {}

  /** Loads what the given events need (one BatchGet for the misses). */
  async prime(
    stores: Stores,
    events: readonly { trackId?: string; artistId?: string }[],
    now = Date.now(),
  ): Promise<void> {
    const wanted = new Set<string>();
    for (const e of events) {
      if (e.trackId) wanted.add(trackItemId(e.trackId));
      if (e.artistId) wanted.add(artistItemId(e.artistId));
    }
    const missing = [...wanted].filter((id) => {
      const hit = this.entries.get(id);
      return !hit || hit.expires < now;
    });
    if (missing.length === 0) return;
    const found = await getCatalogItems(stores, missing);
    if (this.entries.size + missing.length > this.maxEntries) this.entries.clear(); // simple and bounded
    for (const id of missing) {
      const item: CatalogItem | undefined = found.get(id);
      const genres = item && Object.keys(item.genres ?? {}).length > 0 ? item.genres : undefined;
      this.entries.set(id, { genres, expires: now + (genres ? this.hitTtlMs : this.missTtlMs) });
    }
  }

  /** Track genres if known, else the artist's. */
  genresOf = (e: { trackId?: string; artistId?: string }): GenreWeights | undefined =>
    (e.trackId ? this.entries.get(trackItemId(e.trackId))?.genres : undefined) ??
    (e.artistId ? this.entries.get(artistItemId(e.artistId))?.genres : undefined);
}

/**
 * Whole catalog items by item id, cached per Lambda container for the read API (names and genres
 * of recommended items). Catalog items change slowly (catalog updates); an item changed upstream
 * is served for at most `hitTtlMs` more, and an unknown id is asked again after `missTtlMs`.
 */
export class CatalogItemCache {
  private readonly entries = new Map<string, { item: CatalogItem | undefined; expires: number }>();
  constructor(
    private readonly maxEntries = 50_000,
    private readonly hitTtlMs = 30_000,
    private readonly missTtlMs = 5_000,
  ) {}

  /** Items by item id (absent when not in the catalog); one BatchGet for the ids not cached. */
  async get(stores: Stores, itemIds: readonly string[], now = Date.now()): Promise<Map<string, CatalogItem>> {
    const out = new Map<string, CatalogItem>();
    const missing: string[] = [];
    for (const id of itemIds) {
      const hit = this.entries.get(id);
      if (hit && hit.expires > now) {
        if (hit.item) out.set(id, hit.item);
      } else missing.push(id);
    }
    if (missing.length === 0) return out;
    const found = await getCatalogItems(stores, missing);
    if (this.entries.size + missing.length > this.maxEntries) this.entries.clear(); // simple and bounded
    for (const id of missing) {
      const item = found.get(id);
      this.entries.set(id, { item, expires: now + (item ? this.hitTtlMs : this.missTtlMs) });
      if (item) out.set(id, item);
    }
    return out;
  }
}
