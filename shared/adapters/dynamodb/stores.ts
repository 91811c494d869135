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
  reset(): void {
    this.reads = this.writes = this.readUnits = this.writeUnits = this.itemsRead = this.itemsWritten = 0;
  }
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
