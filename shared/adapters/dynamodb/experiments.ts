/**
 * The attribution tables: served lists (one item per listener and served-lists batch, the lists as
 * a compact JSON string, each list's first hit in a map) and the experiment counters (one item per
 * hour, variant, route and strategy, with the Kafka offset each source partition has applied:
 * a counter update carries the offsets it adds, so a redelivered batch adds nothing twice).
 */

import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import {
  type Contribution,
  type CounterKey,
  counterKeyString,
  HOUR_MS,
  parseCounterKey,
  type StoredList,
  sumAfter,
} from '../../domain/experiments/attribution.ts';
import { firstIdAt } from '../../domain/experiments/recommendation-id.ts';
import { decodeFingerprints, encodeFingerprints } from '../../domain/experiments/served-list.ts';
import { ConfigurationError } from '../../errors.ts';
import { tableEnvVar } from '../../topology.ts';
import { createDocumentClient, dynamoConnectionFromEnv } from './client.ts';
import { RequestCounter } from './stores.ts';
import { deleteKeys, keysOf } from './users.ts';

export interface ExperimentsStore {
  client: DynamoDBDocumentClient;
  servedTable: string;
  countersTable: string;
  counter: RequestCounter;
}

let cached: ExperimentsStore | undefined;

/**
 * The container's store, made once; a process whose env names other tables (an evaluation or a
 * benchmark starting a second pipeline) gets a new one rather than the first run's tables.
 */
export function experimentsStoreFromEnv(env: Record<string, string | undefined> = process.env): ExperimentsStore {
  const servedTable = env[tableEnvVar('servedLists')];
  const countersTable = env[tableEnvVar('experimentCounters')];
  if (!cached || cached.servedTable !== servedTable || cached.countersTable !== countersTable) {
    if (!servedTable) throw new ConfigurationError(`${tableEnvVar('servedLists')} is not set`);
    if (!countersTable) throw new ConfigurationError(`${tableEnvVar('experimentCounters')} is not set`);
    cached = {
      client: createDocumentClient(dynamoConnectionFromEnv(env)),
      servedTable,
      countersTable,
      counter: new RequestCounter(),
    };
  }
  return cached;
}

const units = (res: { ConsumedCapacity?: { CapacityUnits?: number } | { CapacityUnits?: number }[] }) =>
  Array.isArray(res.ConsumedCapacity)
    ? res.ConsumedCapacity.reduce((a, c) => a + (c.CapacityUnits ?? 0), 0)
    : (res.ConsumedCapacity?.CapacityUnits ?? 0);

// ---------------------------------------------------------------------------------------------
// Served lists

/**
 * One conditional write, counted: true when written, false when its condition failed (the
 * attributor's writes are all conditional: that is how a redelivery or a duplicate tells itself).
 */
async function sendConditional(s: ExperimentsStore, command: PutCommand | UpdateCommand): Promise<boolean> {
  s.counter.writes++;
  try {
    const res = await s.client.send(command as PutCommand);
    s.counter.writeUnits += units(res);
    return true;
  } catch (err) {
    if (err instanceof ConditionalCheckFailedException) return false;
    throw err;
  }
}

/** A stored list and the item (group) it lives in. */
export interface StoredListRef extends StoredList {
  groupSk: string;
}

interface WireList {
  id: string;
  t: number;
  r: StoredList['route'];
  k: StoredList['kind'];
  v: string;
  s: string;
  src: string;
  /** Item fingerprints (served-list.ts), base64url. */
  f: string;
}

const toWire = (l: StoredList): WireList => ({
  id: l.id,
  t: l.servedAt,
  r: l.route,
  k: l.kind,
  v: l.variant,
  s: l.strategy,
  src: l.source,
  f: encodeFingerprints(l.items),
});

/** The serving time one stored group spans at most (servedGroups), and how early a reader starts. */
export const GROUP_SPAN_MS = HOUR_MS;

/**
 * A listener's new lists of one batch as the groups to store: in id (serving time) order, each
 * spanning at most GROUP_SPAN_MS. A reader finds a group by its first list's id, starting only
 * that much before its window; a batch read from a backlog can hold a listener's lists of days.
 */
export function servedGroups<T extends StoredList>(lists: readonly T[]): T[][] {
  const out: T[][] = [];
  for (const l of [...lists].sort((a, b) => (a.id < b.id ? -1 : 1))) {
    const group = out.at(-1);
    if (group && l.servedAt - group[0]!.servedAt <= GROUP_SPAN_MS) group.push(l);
    else out.push([l]);
  }
  return out;
}

/** The listener's stored lists served at or after `fromMs` (strongly consistent unless told). */
export async function servedListsSince(
  s: ExperimentsStore,
  userId: string,
  fromMs: number,
  consistent = true,
): Promise<StoredListRef[]> {
  const out: StoredListRef[] = [];
  let start: Record<string, unknown> | undefined;
  // A group's sk is its first list's id and its lists are at most GROUP_SPAN_MS later, so start
  // that much earlier and filter by each list's own time.
  const from = firstIdAt(Math.max(0, fromMs - GROUP_SPAN_MS));
  do {
    const res = await s.client.send(
      new QueryCommand({
        TableName: s.servedTable,
        KeyConditionExpression: 'userId = :u AND sk >= :from',
        ExpressionAttributeValues: { ':u': userId, ':from': from },
        ConsistentRead: consistent,
        ReturnConsumedCapacity: 'TOTAL',
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    );
    s.counter.reads++;
    // DynamoDB bills a Query at least one read unit (half, eventually consistent), found or not;
    // DynamoDB Local reports 0 for an empty one.
    s.counter.readUnits += Math.max(units(res), consistent ? 1 : 0.5);
    for (const item of res.Items ?? []) {
      const hits = (item.hits ?? {}) as Record<string, string>;
      for (const w of JSON.parse(item.lists as string) as WireList[]) {
        if (w.t < fromMs) continue;
        out.push({
          id: w.id,
          servedAt: w.t,
          route: w.r,
          kind: w.k,
          variant: w.v,
          strategy: w.s,
          source: w.src,
          items: decodeFingerprints(w.f),
          firstHit: hits[w.id],
          groupSk: item.sk as string,
        });
      }
    }
    start = res.LastEvaluatedKey;
  } while (start);
  return out;
}

/**
 * Stores a group of a listener's new lists (servedGroups) as one item: one write for the lists of
 * one batch, served within GROUP_SPAN_MS. Never overwrites: a group that exists already (a
 * redelivered batch) is left with its hits.
 */
export async function putServedGroup(
  s: ExperimentsStore,
  userId: string,
  lists: readonly StoredList[],
  expiresAtSeconds: number,
): Promise<boolean> {
  const sorted = [...lists].sort((a, b) => (a.id < b.id ? -1 : 1));
  s.counter.itemsWritten++;
  return sendConditional(
    s,
    new PutCommand({
      TableName: s.servedTable,
      Item: {
        userId,
        sk: sorted[0]!.id,
        lists: JSON.stringify(sorted.map(toWire)),
        hits: {},
        expiresAt: expiresAtSeconds,
      },
      ConditionExpression: 'attribute_not_exists(sk)',
      ReturnConsumedCapacity: 'TOTAL',
    }),
  );
}

/** Marks the list's first hit; true when `hit` (hitMark of a listen record) is (now or already) that first hit. */
export async function markFirstHit(
  s: ExperimentsStore,
  userId: string,
  ref: StoredListRef,
  hit: string,
): Promise<boolean> {
  return sendConditional(
    s,
    new UpdateCommand({
      TableName: s.servedTable,
      Key: { userId, sk: ref.groupSk },
      UpdateExpression: 'SET hits.#l = :e',
      ConditionExpression: 'attribute_exists(sk) AND (attribute_not_exists(hits.#l) OR hits.#l = :e)',
      ExpressionAttributeNames: { '#l': ref.id },
      ExpressionAttributeValues: { ':e': hit },
      ReturnConsumedCapacity: 'TOTAL',
    }),
  );
}

/** Forgetting: every stored list of the listener (and their hits). Returns how many items went. */
export async function deleteServedLists(s: ExperimentsStore, userId: string): Promise<number> {
  const table = { client: s.client, table: s.servedTable };
  const keys = await keysOf(table, userId);
  await deleteKeys(table, keys);
  return keys.length;
}

// ---------------------------------------------------------------------------------------------
// Counters

const DAY_HOURS = 24;
/** Counters are kept this long (the panel shows days; the CloudWatch metrics keep the history). */
const COUNTER_TTL_SECONDS = 400 * 24 * 3600;

const dayOf = (k: CounterKey) => Math.floor(k.hour / DAY_HOURS);

/**
 * Adds the contributions of one batch of one source partition (`watermarkField`, e.g. `wm_l3`)
 * to their counter items, exactly once: each update adds only the offsets after the item's
 * watermark for that partition and moves it to `batchLastOffset`. A partition is processed by one
 * invocation at a time, so a failed condition means a previous attempt got further: read, add the
 * rest.
 */
export async function applyContributions(
  s: ExperimentsStore,
  watermarkField: string,
  batchLastOffset: number,
  grouped: ReadonlyMap<string, readonly Contribution[]>,
): Promise<void> {
  await Promise.all(
    [...grouped.values()].map(async (contributions) => {
      const key = contributions[0]!.key;
      const itemKey = { day: dayOf(key), key: counterKeyString(key) };
      const first = Math.min(...contributions.map((c) => c.offset));
      if (await addCounts(s, itemKey, watermarkField, batchLastOffset, sumAfter(contributions, -1), { below: first }))
        return;
      const got = await s.client.send(
        new GetCommand({
          TableName: s.countersTable,
          Key: itemKey,
          ConsistentRead: true,
          ProjectionExpression: '#w',
          ExpressionAttributeNames: { '#w': watermarkField },
        }),
      );
      s.counter.reads++;
      const watermark = Number(got.Item?.[watermarkField] ?? -1);
      const rest = sumAfter(contributions, watermark);
      if (Object.keys(rest).length === 0) return;
      if (!(await addCounts(s, itemKey, watermarkField, batchLastOffset, rest, { equals: watermark })))
        throw new Error(`counter ${itemKey.key}: ${watermarkField} moved while this batch was applied`);
    }),
  );
}

async function addCounts(
  s: ExperimentsStore,
  itemKey: { day: number; key: string },
  watermarkField: string,
  batchLastOffset: number,
  fields: Record<string, number>,
  condition: { below: number } | { equals: number },
): Promise<boolean> {
  const names: Record<string, string> = { '#w': watermarkField, '#x': 'expiresAt' };
  const values: Record<string, unknown> = {
    ':last': batchLastOffset,
    ':x': Math.floor(Date.now() / 1000) + COUNTER_TTL_SECONDS,
  };
  const adds: string[] = [];
  Object.entries(fields).forEach(([f, n], i) => {
    names[`#f${i}`] = f;
    values[`:f${i}`] = n;
    adds.push(`#f${i} :f${i}`);
  });
  let conditionExpression: string;
  if ('below' in condition) {
    values[':c'] = condition.below;
    conditionExpression = 'attribute_not_exists(#w) OR #w < :c';
  } else if (condition.equals < 0) {
    conditionExpression = 'attribute_not_exists(#w)';
  } else {
    values[':c'] = condition.equals;
    conditionExpression = '#w = :c';
  }
  return sendConditional(
    s,
    new UpdateCommand({
      TableName: s.countersTable,
      Key: itemKey,
      UpdateExpression: `SET #w = :last, #x = :x${adds.length > 0 ? ` ADD ${adds.join(', ')}` : ''}`,
      ConditionExpression: conditionExpression,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
      ReturnConsumedCapacity: 'TOTAL',
    }),
  );
}

export interface CounterRow {
  key: CounterKey;
  fields: Record<string, number>;
}

/** Every counter of the hours [fromHour, toHour]: one Query per day. */
export async function readCounters(s: ExperimentsStore, fromHour: number, toHour: number): Promise<CounterRow[]> {
  const rows: CounterRow[] = [];
  for (let day = Math.floor(fromHour / DAY_HOURS); day <= Math.floor(toHour / DAY_HOURS); day++) {
    let start: Record<string, unknown> | undefined;
    do {
      const res = await s.client.send(
        new QueryCommand({
          TableName: s.countersTable,
          KeyConditionExpression: '#d = :d',
          ExpressionAttributeNames: { '#d': 'day' },
          ExpressionAttributeValues: { ':d': day },
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      s.counter.reads++;
      for (const item of res.Items ?? []) {
        const key = parseCounterKey(item.key as string);
        if (!key || key.hour < fromHour || key.hour > toHour) continue;
        const fields: Record<string, number> = {};
        for (const [f, v] of Object.entries(item))
          if (typeof v === 'number' && f !== 'day' && f !== 'expiresAt' && !f.startsWith('wm_')) fields[f] = v;
        rows.push({ key, fields });
      }
      start = res.LastEvaluatedKey;
    } while (start);
  }
  return rows;
}
