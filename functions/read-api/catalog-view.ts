/**
 * What the read routes share: their query parameters, the per-container caches over the catalog
 * and the item model, and how a catalog item is shown. Popular items per genre change slowly
 * (catalog popularity) and every recommendation asks for a few genres; names and artists of
 * answered items, and the item model's lists, likewise: caching them per container for a short
 * while saves most of the read requests.
 */
import { z } from 'zod';
import { CatalogItemCache } from '../../shared/adapters/catalog-cache.ts';
import { popularInGenre } from '../../shared/adapters/dynamodb/catalog.ts';
import type { RankingProfile } from '../../shared/adapters/dynamodb/profiles.ts';
import type { Stores } from '../../shared/adapters/dynamodb/stores.ts';
import { ItemModelCache } from '../../shared/adapters/item-model-cache.ts';
import { type CatalogItem, type CatalogKind, catalogItemId } from '../../shared/domain/catalog/catalog.ts';
import { tagToGenre } from '../../shared/domain/genres.ts';
import { genreDistribution } from '../../shared/domain/profile/profile.ts';
import type { CandidateItem } from '../../shared/domain/ranking/types.ts';
import { resolveSettings } from '../../shared/topology.ts';

export const settings = resolveSettings();

/** When a user has no taste yet, popular items come from these genres. */
const HEADLINE_GENRES = ['pop', 'rock', 'hip-hop', 'electronic', 'indie', 'rnb'];
const CANDIDATES_PER_GENRE = 40;
const POPULAR_TTL_MS = 30_000;

export const limitParam = (max: number, fallback: number) =>
  z.coerce
    .number()
    .int('must be an integer')
    .min(1, 'must be at least 1')
    .max(max, `must be at most ${max}`)
    .default(fallback);

export const genreParam = z
  .string()
  .refine((g) => tagToGenre(g) !== null, 'unknown genre (see GET /genres)')
  .transform((g) => tagToGenre(g)!)
  .optional();

export const kindParam = z.enum(['track', 'artist']).default('track');

/** An item id as a query value: what the catalog accepts, without spaces or control characters. */
export const itemIdParam = z
  .string()
  .min(1, 'must not be empty')
  .max(256, 'must be at most 256 characters')
  .regex(/^[^\s\p{Cc}]+$/u, 'must be an item id (no spaces or control characters)');

/** `exclude=a,b,c`: ids never answered; at most EXCLUDE_MAX_IDS. */
export const excludeParam = z
  .string()
  .optional()
  .transform((v, ctx) => {
    const ids = (v ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    if (ids.length > settings.EXCLUDE_MAX_IDS)
      ctx.addIssue({ code: 'custom', message: `at most ${settings.EXCLUDE_MAX_IDS} ids (got ${ids.length})` });
    for (const id of ids) {
      const checked = itemIdParam.safeParse(id);
      if (!checked.success)
        ctx.addIssue({ code: 'custom', message: `${JSON.stringify(id)}: ${checked.error.issues[0]!.message}` });
    }
    return new Set(ids);
  });

export const maxPerArtistParam = (fallback: number) =>
  z.coerce
    .number()
    .int('must be an integer')
    .min(1, 'must be at least 1')
    .max(100, 'must be at most 100')
    .default(fallback);

const popularCache = new Map<string, { at: number; items: Promise<CatalogItem[]> }>();

export function popularCached(
  stores: Stores,
  kind: CatalogKind,
  genre: string,
  now = Date.now(),
): Promise<CatalogItem[]> {
  const key = `${kind}#${genre}`;
  const hit = popularCache.get(key);
  if (hit && now - hit.at < POPULAR_TTL_MS) return hit.items;
  const items = popularInGenre(stores, kind, genre, CANDIDATES_PER_GENRE);
  // Neither a failed query nor an empty genre (a catalog still loading) is served from the cache.
  items.then(
    (list) => list.length === 0 && popularCache.delete(key),
    () => popularCache.delete(key),
  );
  popularCache.set(key, { at: now, items });
  return items;
}

/** Names, artists and genres of answered items outside the popular lists (same TTL). */
export const itemCache = new CatalogItemCache(50_000, POPULAR_TTL_MS);

/** The item model (listener counts, item lists): rebuilt on a schedule, so minutes of caching are fine. */
export const itemModel = new ItemModelCache(5 * 60_000);

/** Catalog items by id: the popular lists already read, the rest from the item cache. */
export async function catalogOf(
  stores: Stores,
  kind: CatalogKind,
  known: Map<string, CatalogItem>,
  ids: Iterable<string>,
): Promise<Map<string, CatalogItem>> {
  const missing = [...new Set(ids)].filter((id) => !known.has(id)).map((id) => catalogItemId(kind, id));
  if (missing.length > 0) for (const item of (await itemCache.get(stores, missing)).values()) known.set(item.id, item);
  return known;
}

/** Genre candidates: the requested genre, else the user's top genres, else headline genres. */
export function candidateGenres(genre: string | undefined, profile: RankingProfile | undefined): string[] {
  if (genre) return [genre];
  const top = profile ? Object.keys(genreDistribution(profile)) : [];
  return top.length > 0 ? top.slice(0, 3) : HEADLINE_GENRES;
}

/** The popular items of `genres`, by id. */
export async function popularOf(stores: Stores, kind: CatalogKind, genres: readonly string[]) {
  const lists = await Promise.all(genres.map((g) => popularCached(stores, kind, g)));
  return new Map(lists.flat().map((item) => [item.id, item]));
}

export function toCandidate(item: CatalogItem): CandidateItem {
  return { id: item.id, genres: item.genres ?? {}, popularity: item.popularity ?? 0 };
}

export function describe(kind: CatalogKind, item: CatalogItem | undefined, id: string) {
  if (kind === 'artist') return { artistId: id, name: item?.name ?? null, genres: item?.genres ?? {} };
  return {
    trackId: id,
    title: item?.name ?? null,
    artistId: item?.artistId ?? null,
    artistName: item?.artistName ?? null,
    genres: item?.genres ?? {},
  };
}

/** How an item is named in a reason: a track by its title and artist, an artist by name. */
export function labelOf(item: CatalogItem | undefined, id: string): string {
  if (!item?.name) return id;
  return item.kind === 'track' && item.artistName ? `${item.name} by ${item.artistName}` : item.name;
}
