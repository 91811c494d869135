/**
 * The item-model table: `a#<id>` / `t#<id>` (an item's listener count and neighbour lists, keys
 * from shared/domain/catalog/catalog.ts), `model#<k>` (the manifest of the latest build, which readers
 * follow) and `counts#<k>#<modelId>#<n>` (that build's listener counts, sharded). The read path
 * reads manifests, counts and lists; the batch layer's loader writes lists that changed (and
 * deletes dropped ones), a build's count shards, and the manifest last.
 */
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { type ItemKind, itemKey } from '../../domain/catalog/catalog.ts';
import type { PackedCounts, PackedList } from '../../domain/item-model/item-model.ts';
import { DataIntegrityError } from '../../errors.ts';
import { batchGet, batchWrite, scanAll } from './requests.ts';
import type { Stores } from './stores.ts';

/** A build's manifest, as stored under `manifestItemId(kind)`. */
export interface ItemModelManifest {
  itemId: string;
  modelId: string;
  builtAt: number;
  users: number;
  sampledUsers: number;
  items: number;
  countShards: number;
  /**
   * An order-independent digest of the build's listener counts (shared/batch/counts-stream.ts):
   * the next build compares digests instead of holding both builds' counts. Absent on manifests
   * written before it existed.
   */
  countsDigest?: string;
}

export const manifestItemId = (kind: ItemKind) => `model#${kind}`;
export const countsItemId = (kind: ItemKind, modelId: string, shard: number) => `counts#${kind}#${modelId}#${shard}`;

/** A stored item-model list (`<prefix>Ids`, `<prefix>W`), or undefined when the item has none. */
function listOf(item: Record<string, unknown>, prefix: string): PackedList | undefined {
  const ids = item[`${prefix}Ids`];
  const weights = item[`${prefix}W`];
  return typeof ids === 'string' && weights instanceof Uint8Array ? { ids, weights } : undefined;
}

export async function getItemModelManifest(s: Stores, kind: ItemKind): Promise<ItemModelManifest | undefined> {
  const res = await s.client.send(
    new GetCommand({ TableName: s.tableNames.itemModel, Key: { itemId: manifestItemId(kind) } }),
  );
  s.counter.reads++;
  return res.Item as ItemModelManifest | undefined;
}

/** The listener-count shards of a build (all of them, or an error: a partial map would skew β). */
export async function getItemModelCounts(s: Stores, kind: ItemKind, m: ItemModelManifest): Promise<PackedCounts[]> {
  const ids = Array.from({ length: m.countShards }, (_, n) => countsItemId(kind, m.modelId, n));
  const found = await batchGet<Record<string, unknown>>(s, s.tableNames.itemModel, 'itemId', ids, false);
  return ids.map((id) => {
    const item = found.get(id);
    if (!item || typeof item.ids !== 'string' || !(item.counts instanceof Uint8Array))
      throw new DataIntegrityError(`item model ${m.modelId}: count shard ${id} is missing`);
    return { ids: item.ids, counts: item.counts };
  });
}

const LIST_ATTRIBUTES = ['itemId', 'similarIds', 'similarW', 'contentIds', 'contentW'] as const;

/** Items' neighbour lists (absent items have no entry). */
export async function getItemModelEntries(
  s: Stores,
  itemIds: readonly string[],
): Promise<Map<string, { similar?: PackedList; content?: PackedList }>> {
  const found = await batchGet<Record<string, unknown>>(
    s,
    s.tableNames.itemModel,
    'itemId',
    itemIds,
    false,
    LIST_ATTRIBUTES,
  );
  const out = new Map<string, { similar?: PackedList; content?: PackedList }>();
  for (const [id, item] of found) {
    const { itemId: _, expiresAt: __, ...lists } = storedListsOf(item);
    out.set(id, lists);
  }
  return out;
}

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
    [...LIST_ATTRIBUTES, 'expiresAt'],
    (item) => onItem(storedListsOf(item)),
    segments,
    'begins_with(#p0, :a) OR begins_with(#p0, :t)',
    { ':a': itemKey('a', ''), ':t': itemKey('t', '') },
  );
}

/**
 * Stored lists of these items, by item id (absent items have no entry). The loader's read of a
 * chunk of a build: what it diffs the build's lists against, and the list it keeps when it
 * rewrites the other.
 */
export async function getStoredLists(s: Stores, itemIds: readonly string[]): Promise<Map<string, StoredLists>> {
  const found = await batchGet<Record<string, unknown>>(s, s.tableNames.itemModel, 'itemId', itemIds, false, [
    ...LIST_ATTRIBUTES,
    'expiresAt',
  ]);
  const out = new Map<string, StoredLists>();
  for (const [id, item] of found) out.set(id, storedListsOf(item));
  return out;
}

function storedListsOf(item: Record<string, unknown>): StoredLists {
  const similar = listOf(item, 'similar');
  const content = listOf(item, 'content');
  return {
    itemId: item.itemId as string,
    ...(similar ? { similar } : {}),
    ...(content ? { content } : {}),
    ...(typeof item.expiresAt === 'number' ? { expiresAt: item.expiresAt } : {}),
  };
}

/**
 * Every stored item's key and which lists it holds (the weights are projected: the smaller half
 * of a list, enough to tell it exists). The loader's clean-up pass, one item at a time.
 */
export async function scanItemModelListKeys(
  s: Stores,
  onItem: (itemId: string, has: { similar: boolean; content: boolean }) => void,
  segments = 4,
): Promise<void> {
  await scanAll(
    s,
    s.tableNames.itemModel,
    ['itemId', 'similarW', 'contentW'],
    (item) =>
      onItem(item.itemId as string, {
        similar: item.similarW instanceof Uint8Array,
        content: item.contentW instanceof Uint8Array,
      }),
    segments,
    'begins_with(#p0, :a) OR begins_with(#p0, :t)',
    { ':a': itemKey('a', ''), ':t': itemKey('t', '') },
  );
}

export interface ListsWrite {
  itemId: string;
  modelId: string;
  /** Informational (the read path takes listener counts from the count shards). */
  listeners?: number;
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
          ...(e.listeners !== undefined ? { listeners: e.listeners } : {}),
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

/** One count shard of a build (the loader writes them as it streams the listener counts). */
export async function putItemModelCountShard(
  s: Stores,
  kind: ItemKind,
  modelId: string,
  shard: number,
  counts: PackedCounts,
): Promise<void> {
  await batchWrite(s, s.tableNames.itemModel, [
    { PutRequest: { Item: { itemId: countsItemId(kind, modelId, shard), ids: counts.ids, counts: counts.counts } } },
  ]);
}

/** One count shard of a build, or an error (a partial build must not pass for a whole one). */
export async function getItemModelCountShard(
  s: Stores,
  kind: ItemKind,
  m: ItemModelManifest,
  shard: number,
): Promise<PackedCounts> {
  const id = countsItemId(kind, m.modelId, shard);
  const found = await batchGet<Record<string, unknown>>(s, s.tableNames.itemModel, 'itemId', [id], false);
  const item = found.get(id);
  if (!item || typeof item.ids !== 'string' || !(item.counts instanceof Uint8Array))
    throw new DataIntegrityError(`item model ${m.modelId}: count shard ${id} is missing`);
  return { ids: item.ids, counts: item.counts };
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
