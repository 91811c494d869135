/**
 * The neighbour updater's per-container index cache (`NeighborIndexCache`) against DynamoDB Local:
 * a cell cached by one batch must still show users this container wrote into it afterwards
 * (write-through), and a warm cache must save the cell Queries a cold container makes — through
 * the handler, and on the adapter alone.
 */
import type { MSKEvent } from 'aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { applyFunctionEnv } from '../../local/runtime/functions.ts';
import { buildMskEvent } from '../../local/runtime/msk-event.ts';
import { readOccupiedCells } from '../../shared/adapters/dynamodb/neighbor-index.ts';
import { getNeighborList } from '../../shared/adapters/dynamodb/neighbors.ts';
import { createStores, resetStores, type Stores } from '../../shared/adapters/dynamodb/stores.ts';
import { NeighborIndexCache } from '../../shared/adapters/neighbor-index-cache.ts';
import type { ProfileUpdateV1 } from '../../shared/domain/events/events.ts';
import { cellOf } from '../../shared/domain/neighbors/neighbor-cells.ts';
import { encodeVector } from '../../shared/domain/neighbors/taste-codec.ts';
import { packTopItems } from '../../shared/domain/neighbors/top-items-codec.ts';
import { genreVector } from '../../shared/domain/similarity.ts';
import { provisionedTestEnv, type TestEnv } from '../support/infra.ts';

describe('neighbour updater cell cache', () => {
  let t: TestEnv;
  let stores: Stores;
  let handler: typeof import('../../functions/neighbor-updater/handler.ts');
  let offset = 0;

  const updates = (list: ProfileUpdateV1[]): MSKEvent =>
    buildMskEvent(
      list.map((u) => ({
        topic: t.topology.topicNames.profileUpdates,
        partition: 0,
        offset: offset++,
        timestamp: u.ts,
        timestampType: 'CREATE_TIME' as const,
        key: Buffer.from(u.userId).toString('base64'),
        value: Buffer.from(JSON.stringify(u)).toString('base64'),
        headers: [],
      })),
      { eventSourceArn: 'arn:aws:kafka:us-east-1:000000000000:cluster/local/x', bootstrapServers: '' },
    );
  // Same taste, so all land in one cell and are each other's nearest neighbours; version 2 adds a
  // little soul: enough drift to refresh again (0.019 ≥ NEIGHBOR_REFRESH_MIN_DRIFT), same top-2
  // genres and ratio (same cell).
  const update = (userId: string, version: number): ProfileUpdateV1 => ({
    userId,
    version,
    ts: Date.UTC(2026, 10, 1),
    genres: version > 1 ? { jazz: 0.8, blues: 0.6, soul: 0.2 } : { jazz: 0.8, blues: 0.6 },
    artists: 'miles:999,coltrane:500',
  });

  beforeAll(async () => {
    t = await provisionedTestEnv('cell-cache');
    // Reverse insertions off: only the refreshed user's own search may find the others.
    // A 1 s refresh interval (the default is a minute) so a's second update refreshes within the cache's 5 s.
    applyFunctionEnv({ ...t.env, NEIGHBOR_REVERSE_UPDATES: '0', NEIGHBOR_REFRESH_MIN_INTERVAL_SECONDS: '1' });
    resetStores();
    handler = await import('../../functions/neighbor-updater/handler.ts');
    stores = createStores({ endpoint: t.dynamodbEndpoint, region: 'us-east-1' }, t.topology.tableNames);
  });

  it('serves a cached cell with the users this container wrote into it since', async () => {
    handler.clearCellCache();
    const now = Date.now();
    const first = await handler.updateNeighbors(updates([update('cc-a', 1)]), now);
    expect(first.cellsRead).toBeGreaterThan(0);
    // b joins the cell a's search just cached; a's next refresh reads it from the cache only.
    await handler.updateNeighbors(updates([update('cc-b', 1)]), now + 100);
    // Past the 1 s refresh interval, within the cache's 5 s.
    const again = await handler.updateNeighbors(updates([update('cc-a', 2)]), now + 2_000);
    expect(again.cellsRead).toBe(0);
    expect(again.cellsFromCache).toBeGreaterThan(0);
    const list = await getNeighborList(stores, 'cc-a');
    expect(list?.profileVersion).toBe(2);
    expect(list?.neighbors.map((n) => n.userId)).toContain('cc-b');
  });

  it('queries again once the cached cell is older than its time to live', async () => {
    handler.clearCellCache();
    const now = Date.now();
    await handler.updateNeighbors(updates([update('cc-c', 1)]), now);
    const later = await handler.updateNeighbors(updates([update('cc-c', 2)]), now + 60_000);
    expect(later.cellsFromCache).toBe(0);
    expect(later.cellsRead).toBeGreaterThan(0);
    const list = await getNeighborList(stores, 'cc-c');
    expect(list?.neighbors.map((n) => n.userId).sort()).toEqual(['cc-a', 'cc-b']);
  });

  describe('NeighborIndexCache', () => {
    // Metal only: nobody above shares a genre or an artist with these users, so their searches never rank them.
    const vec = encodeVector(genreVector({ metal: 1 }));
    const cell = cellOf(genreVector({ metal: 1 }));
    const entry = (userId: string, extra: { artists?: string; top?: Uint8Array } = {}) => ({
      cell,
      userId,
      vec,
      profileVersion: 1,
      ...extra,
    });

    it('reads a cell once per batch, serves it from memory while fresh, with its own writes applied', async () => {
      const cache = new NeighborIndexCache();
      const now = Date.now();
      const top = packTopItems(new Map([['t1', 1]]), new Map([['a1', 1]]));
      await cache.write(stores, [entry('ic-a', { top })], [], now, undefined);
      // The empty cell got a directory marker, and the container's directory knows it at once.
      expect((await readOccupiedCells(stores)).has(cell)).toBe(true);
      expect((await cache.occupiedCells(stores, now)).has(cell)).toBe(true);

      const first = cache.reader(stores, now, undefined);
      const [a, again] = await Promise.all([first.read(cell), first.read(cell)]);
      expect(a.map((e) => e.userId)).toEqual(['ic-a']);
      expect(again).toEqual(a);
      expect({ cellsRead: first.cellsRead, itemsRead: first.itemsRead, fromCache: first.cellsFromCache }).toEqual({
        cellsRead: 1,
        itemsRead: 1,
        fromCache: 0,
      });
      expect(first.tops.get('ic-a')).toEqual(top);

      // Written after the cell was cached: b in, a out, visible to the next batch without a Query.
      await cache.write(stores, [entry('ic-b')], [{ cell, userId: 'ic-a' }], now + 100, undefined);
      const warm = cache.reader(stores, now + 1_000, undefined);
      expect((await warm.read(cell)).map((e) => e.userId)).toEqual(['ic-b']);
      expect({ cellsRead: warm.cellsRead, fromCache: warm.cellsFromCache }).toEqual({ cellsRead: 0, fromCache: 1 });

      // Past the time to live the cell is queried again, and DynamoDB says the same.
      const later = cache.reader(stores, now + 60_000, undefined);
      expect((await later.read(cell)).map((e) => e.userId)).toEqual(['ic-b']);
      expect(later.cellsRead).toBe(1);

      cache.clearCells();
      const cold = cache.reader(stores, now + 61_000, undefined);
      await cold.read(cell);
      expect(cold.cellsRead).toBe(1);
    });

    it('keeps every cell it wrote in its directory when batches write in parallel (#27)', async () => {
      // Two batches of different partitions, as Lambda runs them, each into a cell nobody occupied:
      // both read the directory at once. Each read misses the other's new cell; the directory the
      // container keeps must still hold both, or the next refreshes cannot see those users.
      const cache = new NeighborIndexCache();
      const now = Date.now();
      const cellOfTaste = (genres: Record<string, number>) => cellOf(genreVector(genres));
      const rare = [
        { cell: cellOfTaste({ gospel: 1, children: 0.2 }), userId: 'ic-p1' },
        { cell: cellOfTaste({ children: 1, gospel: 0.2 }), userId: 'ic-p2' },
      ].map((e) => ({ ...e, vec: encodeVector(genreVector({ gospel: 1 })), profileVersion: 1 }));
      expect(rare[0]!.cell).not.toBe(rare[1]!.cell);
      await Promise.all(rare.map((e) => cache.write(stores, [e], [], now, undefined)));
      const occupied = await cache.occupiedCells(stores, now + 1_000);
      expect(rare.filter((e) => !occupied.has(e.cell)).map((e) => e.cell)).toEqual([]);
    });

    it('decodes artists with the weights the reader is given', async () => {
      const cache = new NeighborIndexCache();
      const now = Date.now();
      await cache.write(stores, [entry('ic-w', { artists: 'x:999,y:999' })], [], now, undefined);
      cache.clearCells();
      const heavyY = (id: string) => (id === 'y' ? 3 : 1);
      const [w] = (await cache.reader(stores, now, heavyY).read(cell)).filter((e) => e.userId === 'ic-w');
      expect(w!.taste.artists.get('y')! / w!.taste.artists.get('x')!).toBeCloseTo(3, 6);
    });
  });
});
