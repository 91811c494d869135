/**
 * The item-model table as the batch layer's loader writes it: lists per item that are rewritten
 * only when they changed (and deleted when a build no longer has them), count shards per build,
 * and the manifest last. Items: `a#<id>` / `t#<id>` (lists), `counts#<k>#<modelId>#<n>`,
 * `model#<k>` (the manifest the readers follow) — the layout the read path uses.
 */
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { ItemKind } from '../domain/catalog.ts';
import type { PackedCounts, PackedList } from '../domain/item-model.ts';
import { batchWrite, scanAll } from './dynamodb/requests.ts';
import type { Stores } from './dynamodb/stores.ts';
import { countsItemId, type ItemModelManifest, listOf, manifestItemId } from './dynamodb.ts';

export interface StoredLists {
  itemId: string;
  similar?: PackedList;
  content?: PackedList;
  /** Set on lists written by the former scan-and-sample builder (they expired by TTL). */
  expiresAt?: number;
}

/** Every item's stored lists (a parallel scan, projected; manifests and count shards left out). */
export async function scanItemModelLists(s: Stores, onItem: (item: StoredLists) => void, segments = 4): Promise<void> {
  await scanAll(
    s,
    s.tableNames.itemModel,
    ['itemId', 'similarIds', 'similarW', 'contentIds', 'contentW', 'expiresAt'],
    (item) => {
      const similar = listOf(item, 'similar');
      const content = listOf(item, 'content');
      onItem({
        itemId: item.itemId as string,
        ...(similar ? { similar } : {}),
        ...(content ? { content } : {}),
        ...(typeof item.expiresAt === 'number' ? { expiresAt: item.expiresAt } : {}),
      });
    },
    segments,
    'begins_with(#p0, :a) OR begins_with(#p0, :t)',
    { ':a': 'a#', ':t': 't#' },
  );
}

export interface ListsWrite {
  itemId: string;
  modelId: string;
  listeners: number;
  similar?: PackedList;
  content?: PackedList;
}

const listAttributes = (prefix: string, list: PackedList | undefined): Record<string, unknown> =>
  list ? { [`${prefix}Ids`]: list.ids, [`${prefix}W`]: list.weights } : {};

/** Puts changed lists (whole items, no TTL: an item leaves by `deletes`) and deletes dropped ones. */
export async function writeItemModelLists(
  s: Stores,
  puts: readonly ListsWrite[],
  deletes: readonly string[],
): Promise<void> {
  await batchWrite(s, s.tableNames.itemModel, [
    ...puts.map((e) => ({
      PutRequest: {
        Item: {
          itemId: e.itemId,
          modelId: e.modelId,
          listeners: e.listeners,
          ...listAttributes('similar', e.similar),
          ...listAttributes('content', e.content),
        },
      },
    })),
    ...deletes.map((itemId) => ({ DeleteRequest: { Key: { itemId } } })),
  ]);
}

/** A build's count shards (no TTL while current: `retireCounts` sets one once superseded). */
export async function putItemModelCounts(
  s: Stores,
  kind: ItemKind,
  modelId: string,
  counts: readonly PackedCounts[],
): Promise<void> {
  await batchWrite(
    s,
    s.tableNames.itemModel,
    counts.map((c, n) => ({
      PutRequest: { Item: { itemId: countsItemId(kind, modelId, n), ids: c.ids, counts: c.counts } },
    })),
  );
}

/** The manifest: written after everything it names. */
export async function publishItemModelManifest(
  s: Stores,
  kind: ItemKind,
  manifest: Omit<ItemModelManifest, 'itemId'>,
): Promise<void> {
  await batchWrite(s, s.tableNames.itemModel, [
    { PutRequest: { Item: { ...manifest, itemId: manifestItemId(kind) } } },
  ]);
}

/** A superseded build's count shards expire (a reader still loading them has until then). */
export async function retireCounts(s: Stores, kind: ItemKind, m: ItemModelManifest, expiresAt: number): Promise<void> {
  for (let n = 0; n < m.countShards; n++) {
    await s.client
      .send(
        new UpdateCommand({
          TableName: s.tableNames.itemModel,
          Key: { itemId: countsItemId(kind, m.modelId, n) },
          UpdateExpression: 'SET expiresAt = :e',
          ConditionExpression: 'attribute_exists(itemId)',
          ExpressionAttributeValues: { ':e': expiresAt },
        }),
      )
      .catch((err: Error) => {
        if (err.name !== 'ConditionalCheckFailedException') throw err;
      });
    s.counter.writes++;
  }
}
