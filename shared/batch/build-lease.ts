/**
 * One item model build at a time: a lease item (`build#lease`) in the item-model table, taken
 * with a conditional put before a build touches its output and released when it ends. Without it
 * an hourly schedule and a build that runs past the hour overlap, and the second build's
 * `prepare` empties the Parquet the first is writing or loading.
 *
 * A build that dies without releasing (a state machine timeout, a killed process) blocks the next
 * ones until its lease expires: the cloud's lease lasts the state machine's timeout and a margin
 * (`batchLayer.leaseSeconds`); a local build renews a short lease while it runs (`holdLease`).
 * The key sorts apart from the item lists (`a#`, `t#`) the loader scans.
 */
import { DeleteCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Stores } from '../adapters/dynamodb/stores.ts';

export const LEASE_ITEM_ID = 'build#lease';

const isConditionFailure = (err: unknown) => (err as Error)?.name === 'ConditionalCheckFailedException';

/**
 * Takes the lease for `holder` until `now + seconds` (also when `holder` already holds it: a
 * retried prepare). False when another holder's lease has not expired.
 */
export async function acquireBuildLease(
  s: Stores,
  holder: string,
  seconds: number,
  now = Date.now(),
): Promise<boolean> {
  const nowSeconds = Math.floor(now / 1000);
  try {
    await s.client.send(
      new PutCommand({
        TableName: s.tableNames.itemModel,
        Item: { itemId: LEASE_ITEM_ID, holder, acquiredAt: now, expiresAt: nowSeconds + seconds },
        ConditionExpression: 'attribute_not_exists(itemId) OR expiresAt < :now OR holder = :holder',
        ExpressionAttributeValues: { ':now': nowSeconds, ':holder': holder },
      }),
    );
    s.counter.writes++;
    return true;
  } catch (err) {
    if (isConditionFailure(err)) return false;
    throw err;
  }
}

/** Extends `holder`'s lease; false when it no longer holds it. */
export async function renewBuildLease(s: Stores, holder: string, seconds: number, now = Date.now()): Promise<boolean> {
  try {
    await s.client.send(
      new UpdateCommand({
        TableName: s.tableNames.itemModel,
        Key: { itemId: LEASE_ITEM_ID },
        UpdateExpression: 'SET expiresAt = :until',
        ConditionExpression: 'holder = :holder',
        ExpressionAttributeValues: { ':holder': holder, ':until': Math.floor(now / 1000) + seconds },
      }),
    );
    s.counter.writes++;
    return true;
  } catch (err) {
    if (isConditionFailure(err)) return false;
    throw err;
  }
}

/** Releases `holder`'s lease (nothing when someone else holds it: never frees another build's). */
export async function releaseBuildLease(s: Stores, holder: string): Promise<boolean> {
  try {
    await s.client.send(
      new DeleteCommand({
        TableName: s.tableNames.itemModel,
        Key: { itemId: LEASE_ITEM_ID },
        ConditionExpression: 'holder = :holder',
        ExpressionAttributeValues: { ':holder': holder },
      }),
    );
    s.counter.writes++;
    return true;
  } catch (err) {
    if (isConditionFailure(err)) return false;
    throw err;
  }
}

/**
 * Runs `work` under a short lease renewed while it runs (a local build: a killed process blocks
 * the next build for `seconds` at most). Undefined, without running it, when another build holds
 * the lease.
 */
export async function holdLease<T>(
  s: Stores,
  holder: string,
  work: () => Promise<T>,
  seconds = 120,
): Promise<T | undefined> {
  if (!(await acquireBuildLease(s, holder, seconds))) return undefined;
  const timer = setInterval(() => void renewBuildLease(s, holder, seconds).catch(() => {}), (seconds * 1000) / 4);
  timer.unref();
  try {
    return await work();
  } finally {
    clearInterval(timer);
    await releaseBuildLease(s, holder);
  }
}
