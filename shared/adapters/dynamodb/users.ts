/**
 * The users table: listeners' API tokens, stored as SHA-256 hashes (a leaked table does not leak
 * tokens; tokens are 122 random bits, so an unsalted hash is enough), their ListenBrainz feedback
 * state, and a forgotten listener's deletion tombstone. Token lookups go through the
 * `by-token-hash` GSI.
 */
import { createHash, randomUUID } from 'node:crypto';
import {
  BatchWriteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
} from '@aws-sdk/lib-dynamodb';
import type { FeedbackState } from '../../domain/events/listenbrainz.ts';
import { ConfigurationError } from '../../errors.ts';
import { tableEnvVar } from '../../topology.ts';
import { createDocumentClient, dynamoConnectionFromEnv } from './client.ts';

export interface UsersStore {
  client: DynamoDBDocumentClient;
  table: string;
}

let cached: UsersStore | undefined;

export function usersStoreFromEnv(env: Record<string, string | undefined> = process.env): UsersStore {
  if (!cached) {
    const table = env[tableEnvVar('users')];
    if (!table) throw new ConfigurationError(`${tableEnvVar('users')} is not set`);
    cached = { client: createDocumentClient(dynamoConnectionFromEnv(env)), table };
  }
  return cached;
}

export const hashToken = (token: string): string => createHash('sha256').update(token, 'utf8').digest('hex');
const TOKEN_SK = 'token#';
const FEEDBACK_SK = 'feedback#';
/** The sort key of the user's deletion tombstone (written by forget.ts's `recordDeletion`). */
export const DELETED_SK = 'deleted';

/** A new token for the user (returned once, stored hashed). Users may hold several tokens. */
export async function createToken(s: UsersStore, userId: string, now = Date.now()): Promise<string> {
  return registerToken(s, userId, randomUUID(), now);
}

/** Stores a given token (hashed) for the user: `npm run fuzz` makes its bearer token a listener's too. */
export async function registerToken(s: UsersStore, userId: string, token: string, now = Date.now()): Promise<string> {
  const tokenHash = hashToken(token);
  await s.client.send(
    new PutCommand({
      TableName: s.table,
      Item: { userId, sk: `${TOKEN_SK}${tokenHash}`, tokenHash, createdAt: now },
    }),
  );
  return token;
}

/** The user a token belongs to, or undefined. */
export async function userIdForToken(s: UsersStore, token: string): Promise<string | undefined> {
  if (!token || token.length > 256) return undefined;
  const res = await s.client.send(
    new QueryCommand({
      TableName: s.table,
      IndexName: 'by-token-hash',
      KeyConditionExpression: 'tokenHash = :h',
      ExpressionAttributeValues: { ':h': hashToken(token) },
      Limit: 1,
    }),
  );
  return res.Items?.[0]?.userId as string | undefined;
}

/** A table keyed (userId, sk): the users table, the served lists. */
export interface UserKeyedTable {
  client: DynamoDBDocumentClient;
  table: string;
}

/** Every key of one user (strongly consistent: forgetting must see what was written just before). */
export async function keysOf(
  s: UserKeyedTable,
  userId: string,
  skPrefix?: string,
): Promise<{ userId: string; sk: string }[]> {
  const keys: { userId: string; sk: string }[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const res = await s.client.send(
      new QueryCommand({
        TableName: s.table,
        KeyConditionExpression: skPrefix ? 'userId = :u AND begins_with(sk, :p)' : 'userId = :u',
        ExpressionAttributeValues: skPrefix ? { ':u': userId, ':p': skPrefix } : { ':u': userId },
        ProjectionExpression: 'userId, sk',
        ConsistentRead: true,
        ExclusiveStartKey: start,
      }),
    );
    for (const item of res.Items ?? []) keys.push({ userId: item.userId as string, sk: item.sk as string });
    start = res.LastEvaluatedKey;
  } while (start);
  return keys;
}

/** Deletes keys, 25 per BatchWriteItem, unprocessed ones resent with backoff. */
export async function deleteKeys(s: UserKeyedTable, keys: readonly { userId: string; sk: string }[]): Promise<void> {
  for (let i = 0; i < keys.length; i += 25) {
    let pending: Record<string, unknown>[] | undefined = keys
      .slice(i, i + 25)
      .map((Key) => ({ DeleteRequest: { Key } }));
    for (let attempt = 0; pending && pending.length > 0; attempt++) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(1000, 25 * 2 ** attempt)));
      const res = await s.client.send(new BatchWriteCommand({ RequestItems: { [s.table]: pending } }));
      pending = res.UnprocessedItems?.[s.table] as Record<string, unknown>[] | undefined;
    }
  }
}

/** Revokes every token of the user; returns how many there were. */
export async function revokeTokens(s: UsersStore, userId: string): Promise<number> {
  const keys = await keysOf(s, userId, TOKEN_SK);
  await deleteKeys(s, keys);
  return keys.length;
}

export async function countTokens(s: UsersStore, userId: string): Promise<number> {
  return (await keysOf(s, userId, TOKEN_SK)).length;
}

/** Every item of the user (tokens and feedback) but its deletion tombstone: forgetting a listener. */
export async function deleteUserItems(s: UsersStore, userId: string): Promise<number> {
  const keys = (await keysOf(s, userId)).filter((k) => k.sk !== DELETED_SK);
  await deleteKeys(s, keys);
  return keys.length;
}

export async function getFeedback(
  s: UsersStore,
  userId: string,
  recording: string,
): Promise<FeedbackState | undefined> {
  const res = await s.client.send(
    new GetCommand({ TableName: s.table, Key: { userId, sk: `${FEEDBACK_SK}${recording}` }, ConsistentRead: true }),
  );
  if (!res.Item) return undefined;
  const { score, ts, trackId, artistId } = res.Item;
  return { score, ts, trackId, ...(artistId ? { artistId } : {}) } as FeedbackState;
}

export async function putFeedback(
  s: UsersStore,
  userId: string,
  recording: string,
  state: FeedbackState,
): Promise<void> {
  await s.client.send(
    new PutCommand({ TableName: s.table, Item: { userId, sk: `${FEEDBACK_SK}${recording}`, ...state } }),
  );
}
