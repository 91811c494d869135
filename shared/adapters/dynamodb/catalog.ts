/**
 * The catalog table's items (their shape and keys: shared/domain/catalog/catalog.ts): read by id, upserted
 * last-writer-wins, queried per genre by popularity (GSI `by-genre-popularity`), and scanned for
 * tags by the item model builder. The same table holds the name index (name-index.ts).
 */
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { type CatalogItem, type CatalogKind, genreKey } from '../../domain/catalog/catalog.ts';
import { batchGet, conditionalPut, sanitizeScores, scanAll } from './requests.ts';
import type { Stores } from './stores.ts';

export async function getCatalogItems(s: Stores, itemIds: readonly string[]): Promise<Map<string, CatalogItem>> {
  return batchGet<CatalogItem>(s, s.tableNames.catalog, 'itemId', itemIds, false);
}

/** Last writer (by updatedAt) wins, whatever order upserts arrive in; a replay is a no-op. */
export async function putCatalogItemIfNewer(s: Stores, item: CatalogItem): Promise<boolean> {
  return conditionalPut(s, {
    TableName: s.tableNames.catalog,
    Item: { ...item, genres: sanitizeScores(item.genres) },
    ConditionExpression: 'attribute_not_exists(itemId) OR updatedAt < :u',
    ExpressionAttributeValues: { ':u': item.updatedAt },
  });
}

/** The most popular catalog items of a kind in a genre (GSI, descending popularity). */
export async function popularInGenre(
  s: Stores,
  kind: CatalogKind,
  genre: string,
  limit: number,
): Promise<CatalogItem[]> {
  const res = await s.client.send(
    new QueryCommand({
      TableName: s.tableNames.catalog,
      IndexName: 'by-genre-popularity',
      KeyConditionExpression: 'genreKey = :g',
      ExpressionAttributeValues: { ':g': genreKey(kind, genre) },
      ScanIndexForward: false,
      Limit: limit,
    }),
  );
  s.counter.reads++;
  return (res.Items ?? []) as CatalogItem[];
}

/** Tag counts of every catalog item that has tags. */
export async function scanCatalogTags(
  s: Stores,
  onItem: (item: { itemId: string; tags: Record<string, number> }) => void,
  segments = 4,
): Promise<void> {
  await scanAll(
    s,
    s.tableNames.catalog,
    ['itemId', 'tags'],
    (item) => onItem({ itemId: item.itemId as string, tags: item.tags as Record<string, number> }),
    segments,
    'attribute_exists(#p1)',
  );
}
