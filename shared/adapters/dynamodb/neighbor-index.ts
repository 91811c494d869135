/**
 * The neighbour index table: PK cell, SK userId, the user's compact taste vector alongside (cell
 * geometry and codecs: shared/domain/neighbors/neighbor-cells.ts, taste-codec.ts), and under `DIRECTORY_PK`
 * a marker per occupied cell.
 */
import { batchWrite, jsItem, type WireItem } from './requests.ts';
import type { Stores } from './stores.ts';

/** One user's entry in one cell, as stored. */
export interface IndexEntry {
  cell: string;
  userId: string;
  vec: string;
  /** The user's artist sketch (`encodeArtistSketch`); absent for entries written before it existed. */
  artists?: string;
  /**
   * The user's strongest tracks and artists (`packTopItems`), for the candidate lists of users who
   * find this one as a neighbour; absent for entries written before it existed.
   */
  top?: Uint8Array;
  profileVersion: number;
}

/** Every entry of one cell (paginated Query). */
export async function queryCell(s: Stores, cell: string): Promise<IndexEntry[]> {
  const out: IndexEntry[] = [];
  let start: WireItem | undefined;
  do {
    const res = await s.wire.call<{
      Items?: WireItem[];
      LastEvaluatedKey?: WireItem;
      ConsumedCapacity?: { CapacityUnits?: number };
    }>('Query', {
      TableName: s.tableNames.neighborIndex,
      KeyConditionExpression: '#c = :c',
      ExpressionAttributeNames: { '#c': 'cell' },
      ExpressionAttributeValues: { ':c': { S: cell } },
      ...(start ? { ExclusiveStartKey: start } : {}),
      ReturnConsumedCapacity: 'TOTAL',
    });
    s.counter.reads++;
    s.counter.readUnits += res.ConsumedCapacity?.CapacityUnits ?? 0;
    for (const item of res.Items ?? []) out.push(jsItem(item) as unknown as IndexEntry);
    s.counter.itemsRead += res.Items?.length ?? 0;
    start = res.LastEvaluatedKey;
  } while (start);
  return out;
}

/**
 * The directory of occupied cells lives in the same table under PK `#directory` (SK = cell), so
 * a refresh can skip empty cells instead of spending a Query on each. Markers are only ever put
 * (idempotent, order-free); a cell that empties keeps its marker and costs one wasted Query.
 */
export const DIRECTORY_PK = '#directory';

export async function readOccupiedCells(s: Stores): Promise<Set<string>> {
  const entries = await queryCell(s, DIRECTORY_PK);
  return new Set(entries.map((e) => e.userId));
}

export function directoryMarkers(cells: Iterable<string>): IndexEntry[] {
  return [...new Set(cells)].map((cell) => ({ cell: DIRECTORY_PK, userId: cell, vec: '', profileVersion: 0 }));
}

/** Moves users' index entries: puts the new cell entries and deletes the entries of cells they left. */
export async function writeIndexEntries(
  s: Stores,
  puts: readonly IndexEntry[],
  deletes: readonly { cell: string; userId: string }[],
): Promise<void> {
  await batchWrite(
    s,
    s.tableNames.neighborIndex,
    [...puts.map((Item) => ({ PutRequest: { Item } })), ...deletes.map((Key) => ({ DeleteRequest: { Key } }))],
    (r) =>
      'PutRequest' in r ? ((r.PutRequest.Item as IndexEntry).cell === DIRECTORY_PK ? 'marker' : 'put') : 'delete',
  );
}
