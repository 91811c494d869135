/**
 * The catalog: tracks and artists as the catalog table stores them and every reader uses them,
 * how an upsert from the tracks topic becomes items, and the keys — `t#<trackId>` /
 * `a#<artistId>` for items (in the catalog, the item model and on the tracks topic),
 * `t#<genre>` / `a#<genre>` for the popularity index. Pure: the store is
 * shared/adapters/dynamodb/catalog.ts.
 */
import type { CatalogRecordV1, TrackUpsertInput } from '../events/events.ts';
import { type GenreWeights, genreWeightsFromTags, normalizeGenreWeights, primaryGenre } from '../genres.ts';

/** A catalog item's kind, as the API names it. */
export type CatalogKind = 'track' | 'artist';
/** The same kind as the one-letter key prefix (the item model's lists and manifests are per prefix). */
export type ItemKind = 't' | 'a';

export const itemKindOf = (kind: CatalogKind): ItemKind => (kind === 'track' ? 't' : 'a');

/** `t#<id>` / `a#<id>`: an item's key in the catalog and the item model. */
export const itemKey = (kind: ItemKind, id: string): string => `${kind}#${id}`;
export const trackItemId = (trackId: string): string => itemKey('t', trackId);
export const artistItemId = (artistId: string): string => itemKey('a', artistId);
export const catalogItemId = (kind: CatalogKind, id: string): string => itemKey(itemKindOf(kind), id);
/** The popularity index's partition key: the item's primary genre, per kind. */
export const genreKey = (kind: CatalogKind, genre: string): string => itemKey(itemKindOf(kind), genre);

/** The key of the item an upsert is about: also the record key on the tracks topic. */
export const upsertItemId = (upsert: { trackId: string } | { artistId: string }): string =>
  'trackId' in upsert ? trackItemId(upsert.trackId) : artistItemId(upsert.artistId);

/** The kind and id of an item key; undefined for the table's other keys (name index entries, manifests). */
export function parseItemKey(itemId: string): { kind: ItemKind; id: string } | undefined {
  const kind = itemId[0];
  if ((kind !== 't' && kind !== 'a') || itemId[1] !== '#') return undefined;
  return { kind, id: itemId.slice(2) };
}

export interface CatalogItem {
  itemId: string;
  kind: CatalogKind;
  id: string;
  /** The track's title or the artist's name. */
  name: string;
  artistId?: string;
  artistName?: string;
  /** Normalized (sums to 1), sparse; empty when nothing is known. */
  genres: GenreWeights;
  primaryGenre?: string;
  /** `genreKey(kind, primaryGenre)`, when there is a primary genre. */
  genreKey?: string;
  /** 0–100; 0 when unknown. */
  popularity: number;
  durationMs?: number;
  /** Tag → count (top tags, lower-case), where the source has tags: the item model's content lists. */
  tags?: Record<string, number>;
  /** The last-writer-wins key. */
  updatedAt: number;
}

type GenresInput = TrackUpsertInput['genres'];
type TagsInput = TrackUpsertInput['tags'];

/** Explicit genres win over tags; both go through `tagToGenre`. */
function resolveGenreWeights(genres: GenresInput, tags: TagsInput): GenreWeights {
  if (genres !== undefined) {
    const w = normalizeGenreWeights(genres);
    if (Object.keys(w).length > 0) return w;
  }
  if (tags !== undefined && tags.length > 0) return genreWeightsFromTags(tags);
  return {};
}

/** Tags kept per catalog item (the content lists use the strongest; this bounds the item size). */
export const MAX_ITEM_TAGS = 50;

/**
 * Raw tag counts for the item model's content neighbours: lower-case, whitespace collapsed, a
 * bare tag counts 1, repeats add up; the `max` strongest (ties by tag). The genre mapping alone
 * is too coarse for content similarity (EVALUATION.md), so the tags themselves are kept.
 */
export function tagCounts(tags: TagsInput, max = MAX_ITEM_TAGS): Record<string, number> | undefined {
  if (tags === undefined || tags.length === 0) return undefined;
  const counts = new Map<string, number>();
  for (const t of tags) {
    const [raw, n] = typeof t === 'string' ? [t, 1] : [t.tag, t.count ?? 1];
    const tag = raw.trim().toLowerCase().replace(/\s+/g, ' ');
    if (tag === '' || !(n > 0)) continue;
    counts.set(tag, (counts.get(tag) ?? 0) + n);
  }
  if (counts.size === 0) return undefined;
  const top = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, max);
  return Object.fromEntries(top);
}

function primaryGenreFields(kind: CatalogKind, genres: GenreWeights) {
  const primary = primaryGenre(genres);
  return primary ? { primaryGenre: primary, genreKey: genreKey(kind, primary) } : {};
}

/**
 * Catalog items for one upsert: the track, plus a seed item for its artist (genres and popularity
 * from the track, updatedAt 0: any real upsert of the artist wins); or the artist.
 */
export function catalogItemsOf(record: CatalogRecordV1): CatalogItem[] {
  const genres = resolveGenreWeights(record.genres, record.tags);
  const popularity = record.popularity ?? 0;
  const tags = tagCounts(record.tags);
  if ('trackId' in record) {
    const track: CatalogItem = {
      itemId: trackItemId(record.trackId),
      kind: 'track',
      id: record.trackId,
      name: record.title,
      artistName: record.artistName,
      genres,
      popularity,
      updatedAt: record.updatedAt,
      ...(record.artistId ? { artistId: record.artistId } : {}),
      ...(record.durationMs ? { durationMs: record.durationMs } : {}),
      ...(tags ? { tags } : {}),
      ...primaryGenreFields('track', genres),
    };
    if (!record.artistId) return [track];
    const artistSeed: CatalogItem = {
      itemId: artistItemId(record.artistId),
      kind: 'artist',
      id: record.artistId,
      name: record.artistName,
      genres,
      popularity,
      updatedAt: 0,
      ...primaryGenreFields('artist', genres),
    };
    return [track, artistSeed];
  }
  return [
    {
      itemId: artistItemId(record.artistId),
      kind: 'artist',
      id: record.artistId,
      name: record.name,
      genres,
      popularity,
      updatedAt: record.updatedAt,
      ...(tags ? { tags } : {}),
      ...primaryGenreFields('artist', genres),
    },
  ];
}
