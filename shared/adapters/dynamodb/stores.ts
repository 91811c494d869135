/**
 * What every table store takes: the SDK client, the hot paths' wire client, the table names and
 * a request counter, made once per container from the environment (`storesFromEnv`). The users
 * table has its own, smaller handle (`users.ts`): only the API's auth and admin paths use it.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ConfigurationError } from '../../errors.ts';
import { type TableKey, tableEnvVar } from '../../topology.ts';
import { createDocumentClient, createDynamoWire, type DynamoConnection, dynamoConnectionFromEnv } from './client.ts';
import type { DynamoWire } from './wire.ts';

/**
 * Counts every request and unit consumed, for benchmarks and logs. `reads` / `writes` are HTTP
 * requests (what costs client CPU and latency); `itemsWritten` and the units are what DynamoDB
 * bills (a batched request writes up to 25 items, each billed on its own).
 */
export class RequestCounter {
  reads = 0;
  writes = 0;
  readUnits = 0;
  writeUnits = 0;
  itemsRead = 0;
  itemsWritten = 0;
  /**
   * Items written by `<table>/<kind>` (kinds: `put`, `delete`, `marker`, or what the store names
   * its statements: `write`, `refresh`, `reverse`): where the write units go (benchmarks).
   */
  readonly writeTallies = new Map<string, WriteTally>();
  /**
   * Whether single conditional puts are sized for the tallies too (benchmarks). Off in the
   * functions: a put's size is otherwise never computed (DynamoDB reports its units), and sizing
   * means marshalling the item a second time on the refresh path.
   */
  sizePuts = false;
  reset(): void {
    this.reads = this.writes = this.readUnits = this.writeUnits = this.itemsRead = this.itemsWritten = 0;
    this.writeTallies.clear();
  }
  /** One item written: its size as billed (0 when unknown, e.g. a delete's key) and its units. */
  tally(label: string, bytes: number, units: number): void {
    let t = this.writeTallies.get(label);
    if (!t) {
      t = { items: 0, units: 0, bytes: 0, maxBytes: 0, overOneKb: 0, byUnits: {} };
      this.writeTallies.set(label, t);
    }
    t.items++;
    t.units += units;
    t.bytes += bytes;
    if (bytes > t.maxBytes) t.maxBytes = bytes;
    if (bytes > 1024) t.overOneKb++;
    t.byUnits[units] = (t.byUnits[units] ?? 0) + 1;
  }
}

/** Items of one kind written: count, units, bytes (sum and max), how many over 1 KB, items by units. */
export interface WriteTally {
  items: number;
  units: number;
  bytes: number;
  maxBytes: number;
  overOneKb: number;
  byUnits: Record<number, number>;
}

export interface Stores {
  client: DynamoDBDocumentClient;
  /** The hot paths' requests (wire.ts); everything else goes through `client`. */
  wire: DynamoWire;
  tableNames: Record<TableKey, string>;
  counter: RequestCounter;
}

let cached: Stores | undefined;

/** The container's stores (client created once, reused across invocations). */
export function storesFromEnv(env: Record<string, string | undefined> = process.env): Stores {
  if (!cached) {
    const tableNames = {} as Record<TableKey, string>;
    for (const key of ['profiles', 'neighbors', 'neighborIndex', 'catalog', 'itemModel', 'candidates'] as TableKey[]) {
      const name = env[tableEnvVar(key)];
      if (!name) throw new ConfigurationError(`${tableEnvVar(key)} is not set`);
      tableNames[key] = name;
    }
    cached = createStores(dynamoConnectionFromEnv(env), tableNames);
  }
  return cached;
}

/** Stores on a connection: the SDK client, the hot paths' wire client (same credentials), a counter. */
export function createStores(conn: DynamoConnection, tableNames: Record<TableKey, string>): Stores {
  const client = createDocumentClient(conn);
  return { client, wire: createDynamoWire(conn, client), tableNames, counter: new RequestCounter() };
}

/** For tests that switch environments within one process. */
export function resetStores(): void {
  cached = undefined;
}
