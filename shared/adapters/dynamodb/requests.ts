/**
 * The request plumbing every table store shares: batched reads and writes with their retries,
 * conditional PartiQL batches, conditional puts, parallel scans, and the request counter's
 * bookkeeping. Nothing here knows a table's items; the stores (profiles.ts, neighbors.ts, …) map
 * their records onto these calls and own their conditions.
 */
import { type AttributeValue, ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { PutCommand, type PutCommandInput, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { convertToAttr, marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { ThrottledError, WriteRejectedError } from '../../errors.ts';
import type { TableKey } from '../../topology.ts';
import { attributeSize } from './item-size.ts';
import type { Stores } from './stores.ts';
import { itemFromWire, itemToWire, toWire } from './wire.ts';

const MARSHALL = { removeUndefinedValues: true, convertEmptyValues: false } as const;

// DynamoDB numbers cannot be smaller in magnitude than 1e-130; decayed scores can underflow there.
const TINY = 1e-100;
/** Scores DynamoDB can hold (non-finite and underflowing ones dropped). */
export function sanitizeScores(m: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k in m) {
    const v = m[k]!;
    if (Number.isFinite(v) && Math.abs(v) >= TINY) out[k] = v;
  }
  return out;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A JS object as the wire's item (binary as base64). */
function wireItem(item: Record<string, unknown>): Record<string, unknown> {
  return itemToWire(marshall(item, MARSHALL));
}

/** The wire's item as a JS object (binary as Uint8Array, numbers as numbers). */
export function jsItem(item: Record<string, Record<string, unknown>>): Record<string, unknown> {
  return unmarshall(itemFromWire(item), { wrapNumbers: false });
}

export type WireItem = Record<string, Record<string, unknown>>;
export interface WireBatchGetOutput {
  Responses?: Record<string, WireItem[]>;
  UnprocessedKeys?: Record<string, { Keys: WireItem[] }>;
  ConsumedCapacity?: { CapacityUnits?: number }[];
}

/** Items by key, 100 per BatchGetItem, unprocessed keys resent with backoff; `attributes` projects. */
export async function batchGet<T>(
  s: Stores,
  table: string,
  keyName: string,
  ids: readonly string[],
  consistent: boolean,
  attributes?: readonly string[],
): Promise<Map<string, T>> {
  const out = new Map<string, T>();
  const unique = [...new Set(ids)];
  const projection = attributes
    ? {
        ProjectionExpression: attributes.map((_, i) => `#p${i}`).join(', '),
        ExpressionAttributeNames: Object.fromEntries(attributes.map((a, i) => [`#p${i}`, a])),
      }
    : {};
  for (let i = 0; i < unique.length; i += 100) {
    let keys: WireItem[] | undefined = unique.slice(i, i + 100).map((id) => ({ [keyName]: { S: id } }));
    for (let attempt = 0; keys && keys.length > 0; attempt++) {
      if (attempt > 0) await sleep(Math.min(1000, 25 * 2 ** attempt));
      const res: WireBatchGetOutput = await s.wire.call<WireBatchGetOutput>('BatchGetItem', {
        RequestItems: { [table]: { Keys: keys, ConsistentRead: consistent, ...projection } },
        ReturnConsumedCapacity: 'TOTAL',
      });
      s.counter.reads++;
      s.counter.readUnits += res.ConsumedCapacity?.reduce((a, c) => a + (c.CapacityUnits ?? 0), 0) ?? 0;
      for (const raw of res.Responses?.[table] ?? []) {
        s.counter.itemsRead++;
        const item = jsItem(raw);
        out.set(item[keyName] as string, item as T);
      }
      keys = res.UnprocessedKeys?.[table]?.Keys;
    }
  }
  return out;
}

/** A conditional put: true when written, false when the condition failed (someone got there first). */
export async function conditionalPut(s: Stores, input: PutCommandInput): Promise<boolean> {
  s.counter.writes++;
  s.counter.itemsWritten++;
  try {
    const res = await s.client.send(new PutCommand({ ...input, ReturnConsumedCapacity: 'TOTAL' }));
    const units = res.ConsumedCapacity?.CapacityUnits ?? 0;
    s.counter.writeUnits += units;
    if (s.counter.sizePuts) {
      const item = input.Item as Record<string, unknown>;
      s.counter.tally(`${input.TableName}/put`, marshalAttributes(item, Object.keys(item)).bytes, units);
    }
    return true;
  } catch (err) {
    if (err instanceof ConditionalCheckFailedException) return false;
    throw err;
  }
}

/** PartiQL errors on which the same conditional statement is simply sent again. */
const RETRYABLE_STATEMENT_ERRORS = new Set([
  'ThrottlingError',
  'ProvisionedThroughputExceeded',
  'RequestLimitExceeded',
  'InternalServerError',
  'TransactionConflict',
]);
const LOST_RACE_ERRORS = new Set(['ConditionalCheckFailed', 'DuplicateItem']);
const PARTIQL_BATCH = 25;
const MAX_STATEMENT_ATTEMPTS = 8;

/** One conditional PartiQL statement; `key` names the item in what the batch reports back. */
export interface ConditionalStatement {
  key: string;
  statement: string;
  parameters: AttributeValue[];
  writeUnits: number;
  /** The item's size as billed, and `<table>/<kind>` for the counter's tallies. */
  bytes: number;
  label: string;
}

/**
 * Runs conditional PartiQL statements 25 per `BatchExecuteStatement` request (each keeps its own
 * condition, which BatchWriteItem cannot), `concurrency` requests at a time. Throttled statements
 * are sent again with backoff; returns the keys whose condition failed (or whose INSERT found the
 * item already there). Each statement is billed as its own write, condition met or not.
 */
export async function executeConditionalBatch(
  s: Stores,
  statements: readonly ConditionalStatement[],
  concurrency: number,
): Promise<Set<string>> {
  const lost = new Set<string>();
  const chunks: ConditionalStatement[][] = [];
  for (let i = 0; i < statements.length; i += PARTIQL_BATCH) chunks.push(statements.slice(i, i + PARTIQL_BATCH));
  let next = 0;
  const worker = async () => {
    while (next < chunks.length) {
      let pending = chunks[next++]!;
      for (let attempt = 0; pending.length > 0; attempt++) {
        if (attempt >= MAX_STATEMENT_ATTEMPTS) {
          throw new ThrottledError(
            `conditional writes still throttled after ${attempt} attempts (${pending.length} items)`,
          );
        }
        if (attempt > 0) await sleep(Math.min(1000, 25 * 2 ** attempt) * (0.5 + Math.random()));
        const res = await s.wire.call<{ Responses?: { Error?: { Code?: string; Message?: string } }[] }>(
          'BatchExecuteStatement',
          {
            Statements: pending.map((p) => ({ Statement: p.statement, Parameters: p.parameters.map(toWire) })),
            ReturnConsumedCapacity: 'TOTAL',
          },
        );
        s.counter.writes++;
        const retry: ConditionalStatement[] = [];
        res.Responses?.forEach((r, i) => {
          const p = pending[i]!;
          s.counter.itemsWritten++;
          s.counter.writeUnits += p.writeUnits;
          s.counter.tally(p.label, p.bytes, p.writeUnits);
          const code = r.Error?.Code;
          if (!code) return;
          if (LOST_RACE_ERRORS.has(code)) lost.add(p.key);
          else if (RETRYABLE_STATEMENT_ERRORS.has(code)) retry.push(p);
          else throw new WriteRejectedError(`conditional write of ${p.key} failed: ${code}: ${r.Error?.Message ?? ''}`);
        });
        pending = retry;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, chunks.length) }, worker));
  return lost;
}

/**
 * INSERT / conditional UPDATE texts for a table whose items have exactly `attributes` (key first);
 * the UPDATE also removes `remove` (attributes of an older item format). `kind` names the writes in
 * the counter's tallies.
 */
export function statementTexts(
  table: string,
  attributes: readonly string[],
  condition: string,
  remove: readonly string[] = [],
  kind = 'write',
) {
  const quoted = table.replaceAll('"', '""');
  const [key, ...rest] = attributes;
  const removes = remove.map((a) => ` REMOVE "${a}"`).join('');
  return {
    insert: `INSERT INTO "${quoted}" VALUE {${attributes.map((a) => `'${a}': ?`).join(', ')}}`,
    update: `UPDATE "${quoted}" ${rest.map((a) => `SET "${a}" = ?`).join(' ')}${removes} WHERE "${key}" = ? AND ${condition}`,
    label: `${table}/${kind}`,
  };
}

/**
 * One item's statement: an INSERT when `condition` is undefined (the item must not exist), else
 * the conditional UPDATE with the key and the condition's value after the SET values.
 */
export function conditionalStatement(
  text: { insert: string; update: string; label: string },
  item: Record<string, unknown>,
  attributes: readonly string[],
  condition: number | undefined,
): ConditionalStatement {
  const { values, writeUnits, bytes } = marshalAttributes(item, attributes);
  return {
    key: item[attributes[0]!] as string,
    statement: condition === undefined ? text.insert : text.update,
    parameters: condition === undefined ? values : [...values.slice(1), values[0]!, { N: String(condition) }],
    writeUnits,
    bytes,
    label: text.label,
  };
}

/** Marshals `item`'s `attributes` in order and sizes them as DynamoDB bills the item. */
function marshalAttributes(item: Record<string, unknown>, attributes: readonly string[]) {
  const values = attributes.map((a) => convertToAttr(item[a], MARSHALL));
  let size = 0;
  values.forEach((v, i) => {
    size += attributes[i]!.length + attributeSize(v);
  });
  return { values, writeUnits: Math.max(1, Math.ceil(size / 1024)), bytes: size };
}

export type WriteRequest = { PutRequest: { Item: object } } | { DeleteRequest: { Key: object } };

/**
 * Write units of one request as AWS bills it: a put by the item's size (1 KB units), a delete of a
 * small item 1. DynamoDB Local reports no consumed capacity for BatchWriteItem, so the counter
 * (benchmarks, cost model) sizes the items itself.
 */
function requestWriteUnits(r: WriteRequest): { writeUnits: number; bytes: number } {
  if (!('PutRequest' in r)) return { writeUnits: 1, bytes: 0 };
  const item = r.PutRequest.Item as Record<string, unknown>;
  return marshalAttributes(item, Object.keys(item));
}

/**
 * Unconditional puts/deletes, 25 per BatchWriteItem, unprocessed items resent with backoff.
 * `kindOf` names a request in the counter's tallies (default `put` / `delete`).
 */
export async function batchWrite(
  s: Stores,
  table: string,
  requests: readonly WriteRequest[],
  kindOf: (r: WriteRequest) => string = (r) => ('PutRequest' in r ? 'put' : 'delete'),
): Promise<void> {
  const toWireRequest = (r: WriteRequest) =>
    'PutRequest' in r
      ? { PutRequest: { Item: wireItem(r.PutRequest.Item as Record<string, unknown>) } }
      : { DeleteRequest: { Key: wireItem(r.DeleteRequest.Key as Record<string, unknown>) } };
  for (let i = 0; i < requests.length; i += 25) {
    const chunk = requests.slice(i, i + 25);
    let pending: unknown[] | undefined = chunk.map(toWireRequest);
    for (let attempt = 0; pending && pending.length > 0; attempt++) {
      if (attempt > 0) await sleep(Math.min(1000, 25 * 2 ** attempt));
      const res: { UnprocessedItems?: Record<string, unknown[]> } = await s.wire.call('BatchWriteItem', {
        RequestItems: { [table]: pending },
      });
      s.counter.writes++;
      const unprocessed: unknown[] = res.UnprocessedItems?.[table] ?? [];
      const done = pending.length - unprocessed.length;
      s.counter.itemsWritten += done;
      if (attempt === 0 && unprocessed.length === 0)
        for (const r of chunk) {
          const { writeUnits, bytes } = requestWriteUnits(r);
          s.counter.writeUnits += writeUnits;
          s.counter.tally(`${table}/${kindOf(r)}`, bytes, writeUnits);
        }
      else s.counter.writeUnits += done; // rare (throttling): approximate
      pending = unprocessed.length > 0 ? unprocessed : undefined;
    }
  }
}

/** Every item of a table, whole (reports and tools; the functions scan projected). */
export async function scanTable(
  s: Stores,
  table: TableKey,
  onItem: (item: Record<string, unknown>) => void,
  segments = 4,
): Promise<void> {
  const name = s.tableNames[table];
  await Promise.all(
    Array.from({ length: segments }, async (_, segment) => {
      let start: Record<string, unknown> | undefined;
      do {
        const res = await s.client.send(
          new ScanCommand({ TableName: name, Segment: segment, TotalSegments: segments, ExclusiveStartKey: start }),
        );
        s.counter.reads++;
        for (const item of res.Items ?? []) onItem(item);
        start = res.LastEvaluatedKey;
      } while (start);
    }),
  );
}

/** Every item of a table (parallel scan segments), projected; `onItem` sees each once per page. */
export async function scanAll(
  s: Stores,
  table: string,
  attributes: readonly string[],
  onItem: (item: Record<string, unknown>) => void,
  segments: number,
  filter?: string,
  filterValues?: Record<string, unknown>,
): Promise<void> {
  const names = Object.fromEntries(attributes.map((a, i) => [`#p${i}`, a]));
  await Promise.all(
    Array.from({ length: segments }, async (_, segment) => {
      let start: Record<string, unknown> | undefined;
      do {
        const res = await s.client.send(
          new ScanCommand({
            TableName: table,
            Segment: segment,
            TotalSegments: segments,
            ProjectionExpression: Object.keys(names).join(', '),
            ExpressionAttributeNames: names,
            ...(filter ? { FilterExpression: filter } : {}),
            ...(filterValues ? { ExpressionAttributeValues: filterValues } : {}),
            ExclusiveStartKey: start,
            ReturnConsumedCapacity: 'TOTAL',
          }),
        );
        s.counter.reads++;
        s.counter.readUnits += res.ConsumedCapacity?.CapacityUnits ?? 0;
        for (const item of res.Items ?? []) {
          s.counter.itemsRead++;
          onItem(item);
        }
        start = res.LastEvaluatedKey;
      } while (start);
    }),
  );
}
