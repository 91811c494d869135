/**
 * Forgetting a listener: the one place where every per-user item is deleted (`deletePerUserItems`),
 * and the tombstones that keep the user out of what is rebuilt later (the archive replay).
 */
import { DeleteCommand, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { ArchiveStore } from './archive.ts';
import { deleteServedLists, type ExperimentsStore } from './dynamodb/experiments.ts';
import { writeIndexEntries } from './dynamodb/neighbor-index.ts';
import { getNeighborList } from './dynamodb/neighbors.ts';
import type { Stores } from './dynamodb/stores.ts';
import { DELETED_SK, deleteUserItems, type UsersStore } from './dynamodb/users.ts';

export interface ForgetReport {
  profile: boolean;
  neighbors: boolean;
  /** The precomputed recommendation candidates. */
  candidates: boolean;
  indexEntry: boolean;
  /** Tokens and feedback items in the users table. */
  userItems: number;
  /** Items of served lists (and their hits) kept for attribution. */
  servedLists: number;
}

async function deleteItem(s: Stores, table: string, key: Record<string, string>): Promise<boolean> {
  const res = await s.client.send(new DeleteCommand({ TableName: table, Key: key, ReturnValues: 'ALL_OLD' }));
  s.counter.writes++;
  return res.Attributes !== undefined;
}

/**
 * Deletes every item that belongs to one user. Each delete is idempotent, so a retry after a
 * partial failure finishes the job.
 * Every per-user item is listed here, next to the profile: a new one must be added here too.
 */
export async function deletePerUserItems(
  s: Stores,
  users: UsersStore,
  experiments: ExperimentsStore,
  userId: string,
): Promise<ForgetReport> {
  // The index entry's cell is on the neighbour list (where the last refresh put the user).
  const list = await getNeighborList(s, userId);
  let indexEntry = false;
  if (list?.cell) {
    await writeIndexEntries(s, [], [{ cell: list.cell, userId }]);
    indexEntry = true;
  }
  // The attribution counters stay: they count lists and plays, not who played them.
  const [profile, neighbors, candidates, userItems, servedLists] = await Promise.all([
    deleteItem(s, s.tableNames.profiles, { userId }),
    deleteItem(s, s.tableNames.neighbors, { userId }),
    deleteItem(s, s.tableNames.candidates, { userId }),
    deleteUserItems(users, userId),
    deleteServedLists(experiments, userId),
  ]);
  return { profile, neighbors, candidates, indexEntry, userItems, servedLists };
}

/** The tombstone in the users table: the first deletion time is kept (idempotent). */
export async function recordDeletion(users: UsersStore, userId: string, now: number): Promise<number> {
  try {
    await users.client.send(
      new PutCommand({
        TableName: users.table,
        Item: { userId, sk: DELETED_SK, deletedAt: now },
        ConditionExpression: 'attribute_not_exists(userId)',
      }),
    );
    return now;
  } catch (err) {
    if ((err as Error).name !== 'ConditionalCheckFailedException') throw err;
    const res = await users.client.send(new GetCommand({ TableName: users.table, Key: { userId, sk: DELETED_SK } }));
    return (res.Item?.deletedAt as number | undefined) ?? now;
  }
}

/** Archive tombstones: `deletions/<userId>.json`; archive replays skip the user's earlier events. */
export const deletionKey = (userId: string): string => `deletions/${encodeURIComponent(userId)}.json`;

export async function archiveDeletion(archive: ArchiveStore, userId: string, deletedAt: number): Promise<void> {
  await archive.writeObject(deletionKey(userId), `${JSON.stringify({ userId, deletedAt })}\n`);
}
