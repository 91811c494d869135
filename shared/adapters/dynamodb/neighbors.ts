/**
 * The neighbours table: one item per user, the user's neighbour list (`NeighborList`, encoded by
 * neighbor-list-codec.ts). A refresh writes its own list unless a newer profile version's is
 * stored; a reverse insertion writes only if nobody wrote the list since it was read (`rev`).
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import {
  decodeNeighborListState,
  encodeNeighborListState,
  type NeighborList,
} from '../../domain/neighbors/neighbor-list-codec.ts';
import { batchGet, conditionalPut, conditionalStatement, executeConditionalBatch, statementTexts } from './requests.ts';
import type { Stores } from './stores.ts';

/**
 * Stored as `userId`, the two write conditions (`profileVersion`, `rev`) and `state`, the rest in
 * one binary value that fits one write unit at K = 50. Items of the older wide format are read as
 * they are and rewritten compactly.
 */
const LEGACY_NEIGHBOR_LIST_ATTRIBUTES = ['neighbors', 'refreshedAt', 'snapshot', 'cell'] as const;

export function neighborListFromItem(item: Record<string, unknown>): NeighborList {
  const userId = item.userId as string;
  const head = { userId, profileVersion: Number(item.profileVersion ?? 0), rev: Number(item.rev ?? 0) };
  if (item.state instanceof Uint8Array) return { ...head, ...decodeNeighborListState(userId, item.state) };
  const legacy = item as Partial<NeighborList>;
  return {
    ...head,
    neighbors: legacy.neighbors ?? [],
    refreshedAt: legacy.refreshedAt ?? 0,
    snapshot: legacy.snapshot ?? '',
    cell: legacy.cell ?? '',
    indexedVec: '',
    indexedArtistsKey: 0,
    candidatesModelId: '',
    candidatesTopKey: 0,
  };
}

function neighborListItem(list: NeighborList): Record<string, unknown> {
  return {
    userId: list.userId,
    profileVersion: list.profileVersion,
    rev: list.rev,
    state: encodeNeighborListState(list),
  };
}

export async function getNeighborLists(s: Stores, userIds: readonly string[]): Promise<Map<string, NeighborList>> {
  const items = await batchGet<Record<string, unknown>>(s, s.tableNames.neighbors, 'userId', userIds, false);
  const out = new Map<string, NeighborList>();
  for (const [id, item] of items) out.set(id, neighborListFromItem(item));
  return out;
}

export async function getNeighborList(s: Stores, userId: string): Promise<NeighborList | undefined> {
  const res = await s.client.send(new GetCommand({ TableName: s.tableNames.neighbors, Key: { userId } }));
  s.counter.reads++;
  return res.Item ? neighborListFromItem(res.Item) : undefined;
}

/**
 * Writes a user's own refreshed list unless a list for a newer profile version is stored
 * (`mode: 'refresh'`), or inserts another user into it only if nobody wrote it since it was read
 * (`mode: 'reverse'`, conditioned on `rev`). Returns false when the condition fails.
 */
export async function putNeighborList(s: Stores, list: NeighborList, mode: 'refresh' | 'reverse'): Promise<boolean> {
  const condition =
    mode === 'refresh'
      ? {
          ConditionExpression: 'attribute_not_exists(userId) OR profileVersion <= :pv',
          ExpressionAttributeValues: { ':pv': list.profileVersion },
        }
      : { ConditionExpression: 'rev = :rev', ExpressionAttributeValues: { ':rev': list.rev - 1 } };
  return conditionalPut(s, { TableName: s.tableNames.neighbors, Item: neighborListItem(list), ...condition });
}

const NEIGHBOR_LIST_ATTRIBUTES = ['userId', 'profileVersion', 'rev', 'state'] as const;

export interface NeighborListWrite {
  list: NeighborList;
  /**
   * `refresh`: the user's own list, unless a list for a newer profile version is stored;
   * `reverse`: another user inserted, only if nobody wrote the list since it was read (`rev`).
   */
  mode: 'refresh' | 'reverse';
  /** Whether a list was stored when it was read (decides INSERT or conditional UPDATE). */
  existed: boolean;
}

/**
 * `putNeighborList` for many lists, 25 per request (PartiQL). Returns the users whose write did
 * not happen because its condition failed. A refresh whose INSERT finds a list created meanwhile
 * is retried once as a single conditional put, which decides by profile version as above.
 */
export async function putNeighborLists(
  s: Stores,
  writes: readonly NeighborListWrite[],
  concurrency = 4,
): Promise<Set<string>> {
  const remove = LEGACY_NEIGHBOR_LIST_ATTRIBUTES;
  const table = s.tableNames.neighbors;
  const refreshText = statementTexts(table, NEIGHBOR_LIST_ATTRIBUTES, '"profileVersion" <= ?', remove, 'refresh');
  const reverseText = statementTexts(table, NEIGHBOR_LIST_ATTRIBUTES, '"rev" = ?', remove, 'reverse');
  const statements = writes.map(({ list, mode, existed }) =>
    conditionalStatement(
      mode === 'refresh' ? refreshText : reverseText,
      neighborListItem(list),
      NEIGHBOR_LIST_ATTRIBUTES,
      existed ? (mode === 'refresh' ? list.profileVersion : list.rev - 1) : undefined,
    ),
  );
  const lost = await executeConditionalBatch(s, statements, concurrency);
  for (const w of writes) {
    if (
      w.mode === 'refresh' &&
      !w.existed &&
      lost.has(w.list.userId) &&
      (await putNeighborList(s, w.list, 'refresh'))
    ) {
      lost.delete(w.list.userId);
    }
  }
  return lost;
}
