/**
 * Batched conditional writes (PartiQL BatchExecuteStatement) against DynamoDB Local, for profiles
 * and neighbour lists:
 * per-item conditions hold inside a batch (stale versions and inserts over existing items are
 * reported as lost, everything else lands), per-statement throttling is retried, and the write
 * units computed from item sizes equal what DynamoDB Local bills for the same items via PutItem.
 */
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getNeighborList, putNeighborList, putNeighborLists } from '../../shared/adapters/dynamodb/neighbors.ts';
import { getProfiles, type ProfileWrite, putProfilesIfUnchanged } from '../../shared/adapters/dynamodb/profiles.ts';
import { createStores, type Stores } from '../../shared/adapters/dynamodb/stores.ts';
import type { NeighborList } from '../../shared/domain/neighbors/neighbor-list-codec.ts';
import { applyRecords, emptyProfile, type Profile } from '../../shared/domain/profile/profile.ts';
import { encodeProfileState } from '../../shared/domain/profile/profile-codec.ts';
import { provisionedTestEnv, REGION, type TestEnv } from '../support/infra.ts';

/** A profile with `n` plays spread over many tracks and artists (item size grows with n). */
function profileWith(userId: string, n: number, version = 0): Profile {
  const records = Array.from({ length: n }, (_, i) => ({
    event: {
      eventId: `${userId}-${i}`,
      trackId: `track-${(i * 7919) % 5000}`,
      artistId: `artist-${(i * 104729) % 900}`,
      ts: Date.UTC(2026, 5, 1) + i * 60_000,
      type: 'play' as const,
    },
    topicPartition: 'listen-events-0',
    offset: i,
  }));
  const p = applyRecords(emptyProfile(userId), records, {
    genresOf: (e) => ({ rock: 0.5, [`g${(e.artistId ?? '').length % 7}`]: 0.25 }),
  }).profile;
  return { ...p, version };
}

/**
 * Forwards to DynamoDB Local, but for the next `throttleLast` BatchExecuteStatement requests drops
 * the last statement before forwarding and answers it with a per-statement ThrottlingError, the
 * way DynamoDB reports a throttled item inside a successful batch.
 */
async function statementThrottlingProxy(target: string) {
  const state = { throttleLast: 0, throttled: 0 };
  const upstream = new URL(target);
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let body = Buffer.concat(chunks);
      const batch = String(req.headers['x-amz-target']).endsWith('.BatchExecuteStatement');
      let dropped = false;
      if (batch && state.throttleLast > 0) {
        const input = JSON.parse(body.toString('utf8')) as { Statements: unknown[] };
        if (input.Statements.length > 1) {
          input.Statements.pop();
          body = Buffer.from(JSON.stringify(input));
          dropped = true;
          state.throttleLast--;
          state.throttled++;
        }
      }
      const headers = { ...req.headers, 'content-length': String(body.length) };
      const fwd = request(
        { host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers },
        (up) => {
          const out: Buffer[] = [];
          up.on('data', (c: Buffer) => out.push(c));
          up.on('end', () => {
            let payload = Buffer.concat(out);
            if (dropped && up.statusCode === 200) {
              const parsed = JSON.parse(payload.toString('utf8')) as { Responses: unknown[] };
              parsed.Responses.push({ Error: { Code: 'ThrottlingError', Message: 'injected' } });
              payload = Buffer.from(JSON.stringify(parsed));
            }
            res.writeHead(up.statusCode ?? 500, {
              'content-type': up.headers['content-type'] ?? 'application/x-amz-json-1.0',
              'content-length': String(payload.length),
            });
            res.end(payload);
          });
        },
      );
      fwd.on('error', (err) => res.destroy(err));
      fwd.end(body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, state, close: () => new Promise<void>((r) => server.close(() => r())) };
}

describe('batched conditional profile writes', () => {
  let t: TestEnv;
  let stores: Stores;
  const storesAt = (endpoint: string): Stores => createStores({ endpoint, region: REGION }, t.topology.tableNames);

  beforeAll(async () => {
    t = await provisionedTestEnv('profile-store');
    stores = storesAt(t.dynamodbEndpoint);
  });

  it('writes 60 users in 3 requests and reports exactly the users whose condition failed', async () => {
    // First: 60 new users (inserts).
    const first: ProfileWrite[] = Array.from({ length: 60 }, (_, i) => ({
      profile: profileWith(`batch-user-${i}`, 1 + (i % 9), 1),
      readVersion: 0,
    }));
    stores.counter.reset();
    expect(await putProfilesIfUnchanged(stores, first)).toEqual(new Set());
    expect(stores.counter.writes).toBe(3);
    expect(stores.counter.itemsWritten).toBe(60);

    // Second: updates read at version 1 for most; stale versions for users 0–4; a second insert for
    // users 5–7 (someone else created them first).
    const second: ProfileWrite[] = first.map(({ profile }, i) => ({
      profile: { ...profileWith(profile.userId, 12), version: 2 },
      readVersion: i < 5 ? 7 : i < 8 ? 0 : 1,
    }));
    const lost = await putProfilesIfUnchanged(stores, second);
    expect([...lost].sort()).toEqual(Array.from({ length: 8 }, (_, i) => `batch-user-${i}`).sort());

    const stored = await getProfiles(
      stores,
      first.map((w) => w.profile.userId),
    );
    for (const [i, w] of second.entries()) {
      const expected = i < 8 ? first[i]!.profile : w.profile;
      expect(stored.get(w.profile.userId)).toEqual(expected);
    }
  });

  it('resends statements throttled inside a batch until they land', async () => {
    const proxy = await statementThrottlingProxy(t.dynamodbEndpoint);
    try {
      proxy.state.throttleLast = 2;
      const viaProxy = storesAt(proxy.url);
      const writes = Array.from({ length: 30 }, (_, i) => ({
        profile: profileWith(`throttled-user-${i}`, 3, 1),
        readVersion: 0,
      }));
      expect(await putProfilesIfUnchanged(viaProxy, writes)).toEqual(new Set());
      expect(proxy.state.throttled).toBe(2);
      const stored = await getProfiles(
        stores,
        writes.map((w) => w.profile.userId),
      );
      expect(stored.size).toBe(30);
      expect(stored.get('throttled-user-24')).toEqual(writes[24]!.profile);
    } finally {
      await proxy.close();
    }
  });

  it('reads a legacy (wide-map) profile item and rewrites it compactly on its next change', async () => {
    // The wide format predates the session (`recent`): such an item reads with an empty one.
    const { recent: _, ...legacy } = profileWith('legacy-user', 12, 3);
    const legacyItem = marshall(
      { ...legacy, recentEventIds: legacy.recentEventIds.map((fp) => fp.toString(36)) },
      { removeUndefinedValues: true },
    );
    await stores.client.send(new PutItemCommand({ TableName: t.topology.tableNames.profiles, Item: legacyItem }));
    const read = (await getProfiles(stores, ['legacy-user'])).get('legacy-user');
    expect(read).toEqual({ ...legacy, recent: [] });
    const next = applyRecords(read!, [
      { event: { eventId: 'legacy-next', trackId: 'track-1', ts: Date.UTC(2026, 5, 2), type: 'play' } },
    ]).profile;
    expect(await putProfilesIfUnchanged(stores, [{ profile: next, readVersion: 3 }])).toEqual(new Set());
    const { Item } = await stores.client.send(
      new GetItemCommand({ TableName: t.topology.tableNames.profiles, Key: { userId: { S: 'legacy-user' } } }),
    );
    expect(Object.keys(Item ?? {}).sort()).toEqual(['state', 'userId', 'version']);
    expect((await getProfiles(stores, ['legacy-user'])).get('legacy-user')).toEqual(next);
    expect(next.recent.map((l) => l.ts)).toEqual([Date.UTC(2026, 5, 2)]);
  });

  it('bills write units from item sizes within one unit of what DynamoDB Local reports for PutItem', async () => {
    // Write units follow AWS's documented item-size rules (attributeSize); DynamoDB Local's own
    // accounting is not byte-exact (small attributes cost it a fixed ~60 bytes), so the two may
    // straddle a 1 KB boundary for large items.
    for (const n of [0, 1, 5, 20, 60, 150, 400]) {
      const profile = profileWith(`size-user-${n}`, n, 1);
      // The compact item as the store writes it (DynamoDB bills an update by the larger of the old
      // and new item, so the stored item must have the same shape for the two figures to compare).
      const item = marshall({ userId: profile.userId, version: 1, state: encodeProfileState(profile) });
      const res = await stores.client.send(
        new PutItemCommand({ TableName: t.topology.tableNames.profiles, Item: item, ReturnConsumedCapacity: 'TOTAL' }),
      );
      const local = res.ConsumedCapacity?.CapacityUnits ?? 0;
      stores.counter.reset();
      expect(await putProfilesIfUnchanged(stores, [{ profile: { ...profile, version: 2 }, readVersion: 1 }])).toEqual(
        new Set(),
      );
      expect(stores.counter.itemsWritten).toBe(1);
      expect(
        Math.abs(stores.counter.writeUnits - local),
        `n=${n}: ours ${stores.counter.writeUnits}, local ${local}`,
      ).toBeLessThanOrEqual(1);
    }
  });

  it('neighbour lists: a K = 50 list is one write unit; a legacy list is read and rewritten compactly', async () => {
    const neighbors = Array.from({ length: 50 }, (_, i) => ({
      userId: `lastfm-user-${1000 + i * 37}`,
      similarity: Math.round((0.9 - i * 0.01) * 1e6) / 1e6,
    }));
    const list: NeighborList = {
      userId: 'k50-user',
      neighbors,
      refreshedAt: 1_790_000_000_000,
      snapshot: '3:999,7:512,12:88,40:9',
      profileVersion: 4,
      cell: 'rock/indie/2',
      indexedVec: '3:999,7:512,12:88,40:9',
      indexedArtistsKey: 123456,
      candidatesModelId: 'm-1|m-2',
      candidatesTopKey: 99,
      rev: 2,
    };
    stores.counter.reset();
    expect(await putNeighborLists(stores, [{ list, mode: 'refresh', existed: false }])).toEqual(new Set());
    expect(stores.counter.writeUnits).toBe(1);
    expect(await getNeighborList(stores, 'k50-user')).toEqual(list);

    const {
      indexedVec: _v,
      indexedArtistsKey: _k,
      candidatesModelId: _m,
      candidatesTopKey: _t,
      ...wide
    } = { ...list, userId: 'legacy-list' };
    await stores.client.send(new PutItemCommand({ TableName: t.topology.tableNames.neighbors, Item: marshall(wide) }));
    const legacy = await getNeighborList(stores, 'legacy-list');
    expect(legacy).toEqual({
      ...wide,
      indexedVec: '',
      indexedArtistsKey: 0,
      candidatesModelId: '',
      candidatesTopKey: 0,
    });
    const reverse = { ...legacy!, neighbors: legacy!.neighbors.slice(0, 49), rev: legacy!.rev + 1 };
    expect(await putNeighborLists(stores, [{ list: reverse, mode: 'reverse', existed: true }])).toEqual(new Set());
    const { Item } = await stores.client.send(
      new GetItemCommand({ TableName: t.topology.tableNames.neighbors, Key: { userId: { S: 'legacy-list' } } }),
    );
    expect(Object.keys(Item ?? {}).sort()).toEqual(['profileVersion', 'rev', 'state', 'userId']);
    expect(await getNeighborList(stores, 'legacy-list')).toEqual(reverse);
  });

  it('neighbour lists: refreshes never overwrite a newer version, reverse inserts need the rev read', async () => {
    const list = (userId: string, profileVersion: number, rev: number, mark: string): NeighborList => ({
      userId,
      neighbors: [{ userId: mark, similarity: 0.5 }],
      refreshedAt: 1,
      snapshot: '0:999',
      profileVersion,
      cell: 'jazz/-',
      indexedVec: '0:999',
      indexedArtistsKey: 7,
      candidatesModelId: '',
      candidatesTopKey: 0,
      rev,
    });
    // Stored: a at version 5 (rev 3), b at version 1 (rev 1), c created by "someone else" at version 1.
    expect(await putNeighborList(stores, list('nl-a', 5, 3, 'x'), 'refresh')).toBe(true);
    expect(await putNeighborList(stores, list('nl-b', 1, 1, 'x'), 'refresh')).toBe(true);
    expect(await putNeighborList(stores, list('nl-c', 1, 1, 'x'), 'refresh')).toBe(true);
    const lost = await putNeighborLists(stores, [
      { list: list('nl-a', 4, 4, 'older'), mode: 'refresh', existed: true }, // older version: refused
      { list: list('nl-b', 2, 2, 'newer'), mode: 'refresh', existed: true }, // newer: written
      { list: list('nl-c', 2, 2, 'raced'), mode: 'refresh', existed: false }, // INSERT races, falls back: written
      { list: list('nl-d', 1, 1, 'fresh'), mode: 'refresh', existed: false }, // new: written
    ]);
    expect([...lost]).toEqual(['nl-a']);
    expect((await getNeighborList(stores, 'nl-a'))?.neighbors[0]?.userId).toBe('x');
    expect((await getNeighborList(stores, 'nl-b'))?.neighbors[0]?.userId).toBe('newer');
    expect((await getNeighborList(stores, 'nl-c'))?.neighbors[0]?.userId).toBe('raced');
    expect((await getNeighborList(stores, 'nl-d'))?.neighbors[0]?.userId).toBe('fresh');

    // Reverse inserts condition on the rev they read (stored a: rev 3, b: rev 2).
    const reverse = await putNeighborLists(stores, [
      { list: list('nl-a', 5, 4, 'rev-ok'), mode: 'reverse', existed: true },
      { list: list('nl-b', 2, 2, 'rev-stale'), mode: 'reverse', existed: true },
    ]);
    expect([...reverse]).toEqual(['nl-b']);
    expect((await getNeighborList(stores, 'nl-a'))?.rev).toBe(4);
    expect((await getNeighborList(stores, 'nl-b'))?.neighbors[0]?.userId).toBe('newer');
  });

  afterAll(() => {
    stores?.client.destroy();
  });
});
