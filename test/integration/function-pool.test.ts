/**
 * The local runtime's worker-thread pool (warm containers for HTTP functions) on DynamoDB Local:
 * the same answers as the in-process path, invocations spread over the workers, the workers'
 * DynamoDB requests reported back, handler errors propagated, a clean close; and the read API's
 * recommendation reads (one BatchGet for the profile and the candidate set, catalog names from
 * the per-container cache).
 */
import { readFileSync } from 'node:fs';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CounterDelta, type FunctionPool, startFunctionPool } from '../../local/runtime/function-pool.ts';
import { applyFunctionEnv, functionEnv, invokeFunction } from '../../local/runtime/functions.ts';
import { CatalogItemCache } from '../../shared/adapters/catalog-cache.ts';
import { putCandidateSets } from '../../shared/adapters/dynamodb/candidates.ts';
import { putProfilesIfUnchanged } from '../../shared/adapters/dynamodb/profiles.ts';
import { resetStores, type Stores, storesFromEnv } from '../../shared/adapters/dynamodb/stores.ts';
import type { Profile } from '../../shared/domain/profile/profile.ts';
import { packCandidateSet } from '../../shared/domain/ranking/candidate-codec.ts';
import { buildCandidates } from '../../shared/domain/ranking/components.ts';
import { tableEnvVar } from '../../shared/topology.ts';
import { provisionedTestEnv, type TestEnv } from '../support/infra.ts';

const sample = (name: string): APIGatewayProxyEventV2 =>
  JSON.parse(readFileSync(new URL(`../../events/${name}`, import.meta.url), 'utf8'));

function withUser(event: APIGatewayProxyEventV2, userId: string): APIGatewayProxyEventV2 {
  return {
    ...event,
    rawPath: `/users/${userId}/recommendations`,
    pathParameters: { userId },
    requestContext: {
      ...event.requestContext,
      http: { ...event.requestContext.http, path: `/users/${userId}/recommendations` },
    },
  };
}

describe('function pool and read-api reads', () => {
  let t: TestEnv;
  let stores: Stores;
  let pool: FunctionPool;
  const counted: CounterDelta = { reads: 0, writes: 0, readUnits: 0, writeUnits: 0, itemsRead: 0 };

  beforeAll(async () => {
    t = await provisionedTestEnv('pool');
    applyFunctionEnv({
      ...functionEnv({ topology: t.topology, kafkaBrokers: t.kafkaBrokers, dynamodbEndpoint: t.dynamodbEndpoint }),
      POWERTOOLS_METRICS_DISABLED: 'true',
      POWERTOOLS_LOG_LEVEL: 'ERROR',
    });
    resetStores();
    stores = storesFromEnv();
    const put = (table: string, Item: Record<string, unknown>) =>
      stores.client.send(new PutCommand({ TableName: table, Item }));
    const now = Date.now();
    for (let i = 0; i < 6; i++) {
      const genres = { rock: 1 };
      await put(stores.tableNames.catalog, {
        itemId: `t#trk${i}`,
        kind: 'track',
        id: `trk${i}`,
        name: `Track ${i}`,
        // One artist each: the answer's per-artist cap (2 by default) leaves them all.
        artistId: `ar${i}`,
        artistName: `Artist ${i}`,
        genres,
        primaryGenre: 'rock',
        // Only the first three are popular enough to be in the genre's candidates below.
        ...(i < 3 ? { genreKey: 't#rock' } : {}),
        popularity: 50 - i,
        updatedAt: now,
      });
    }
    const profile = (userId: string, tracks: string[]): Profile => ({
      userId,
      version: 1,
      anchorTs: now,
      genres: { rock: 2 },
      moods: {},
      topArtists: { ar1: 1 },
      topTracks: Object.fromEntries(tracks.map((id, i) => [id, 3 - i])),
      counts: { plays: 3, skips: 0, likes: 0, dislikes: 0, events: 3 },
      firstEventTs: now,
      lastEventTs: now,
      offsets: {},
      recentEventIds: [],
      recent: [],
    });
    // Through the adapter's own write path, whatever its item encoding.
    await putProfilesIfUnchanged(stores, [
      { profile: profile('ana', ['trk0']), readVersion: 0 },
      { profile: profile('ben', ['trk0', 'trk4', 'trk5']), readVersion: 0 },
      { profile: profile('cy', ['trk3', 'trk4']), readVersion: 0 },
    ]);
    // ana's candidate set, as the neighbour updater builds it from ben's and cy's top tracks.
    const track = buildCandidates({
      kind: 'track',
      ownItems: { trk0: 3 },
      neighbors: [
        { userId: 'ben', similarity: 0.9, topItems: { trk0: 3, trk4: 2, trk5: 1 } },
        { userId: 'cy', similarity: 0.8, topItems: { trk3: 2, trk4: 1 } },
      ],
    }).list;
    const state = packCandidateSet({ track, builtAt: Date.now(), profileVersion: 1 });
    expect(
      await putCandidateSets(stores, [
        { userId: 'ana', profileVersion: 1, builtAt: Date.now(), state, existed: false },
      ]),
    ).toEqual(new Set());
    pool = startFunctionPool({
      name: 'read-api',
      size: 2,
      onCounters: (d) => {
        for (const k of Object.keys(counted) as (keyof CounterDelta)[]) counted[k] += d[k];
      },
    });
  });
  afterAll(async () => {
    await pool?.close();
  });

  it('answers as the in-process handler does, and reports its DynamoDB reads', async () => {
    const event = withUser(sample('read-api-recommendations.json'), 'ana');
    const inProcess = (await invokeFunction('read-api', event)) as { statusCode: number; body: string };
    const before = counted.reads;
    const pooled = (await pool.invoke(event)) as { statusCode: number; body: string };
    expect(pooled.statusCode).toBe(200);
    // The same answer; each answer names itself (its own recommendationId).
    const { recommendationId: a, ...pooledAnswer } = JSON.parse(pooled.body) as Record<string, unknown>;
    const { recommendationId: b, ...inProcessAnswer } = JSON.parse(inProcess.body) as Record<string, unknown>;
    expect(pooledAnswer).toEqual(inProcessAnswer);
    expect(a).not.toBe(b);
    const body = JSON.parse(pooled.body) as { strategy: string; items: { trackId: string; title: string | null }[] };
    expect(body.strategy).toBe('collaborative');
    // trk4 and trk5 come from the neighbours, outside the popular candidates: named all the same.
    expect(body.items.find((i) => i.trackId === 'trk4')?.title).toBe('Track 4');
    expect(counted.reads - before).toBeGreaterThan(0);
  });

  it('spreads concurrent invocations over its workers', async () => {
    const event = sample('read-api-genres.json');
    const all = Array.from({ length: 8 }, () => pool.invoke(event));
    expect(pool.stats()).toEqual({ workers: 2, inFlight: [4, 4] });
    for (const res of await Promise.all(all)) expect((res as { statusCode: number }).statusCode).toBe(200);
    expect(pool.stats().inFlight).toEqual([0, 0]);
  });

  it('rejects with the handler error, and refuses invocations once closed', async () => {
    const table = tableEnvVar('candidates');
    const saved = process.env[table];
    process.env[table] = `${t.prefix}no-such-table`; // workers copy the env when they start
    const broken = startFunctionPool({ name: 'read-api', size: 1 });
    process.env[table] = saved;
    try {
      await expect(broken.invoke(withUser(sample('read-api-recommendations.json'), 'ana'))).rejects.toMatchObject({
        name: 'ResourceNotFoundException',
      });
    } finally {
      await broken.close();
    }
    expect(broken.stats().workers).toBe(0);
    await expect(broken.invoke(sample('read-api-genres.json'))).rejects.toThrow(/closed/);
  });

  it('reads a recommendation with one request (profile + candidate set) once popular lists and names are cached', async () => {
    const event = withUser(sample('read-api-recommendations.json'), 'ana');
    await invokeFunction('read-api', event); // warm: popular-by-genre and names cached
    stores.counter.reset();
    const res = (await invokeFunction('read-api', event)) as { body: string };
    expect(stores.counter.reads).toBe(1);
    // trk4: both neighbours; trk3 before trk5 (cy's stronger item against ben's weakest); trk0 is ana's own.
    const ids = (JSON.parse(res.body) as { items: { trackId: string }[] }).items.map((i) => i.trackId);
    expect(ids.slice(0, 3)).toEqual(['trk4', 'trk3', 'trk5']);
    expect(ids).not.toContain('trk0');
  });

  it('CatalogItemCache reads each id once per TTL, unknown ids for a shorter while', async () => {
    const cache = new CatalogItemCache(100, 1000, 100);
    stores.counter.reset();
    const first = await cache.get(stores, ['t#trk1', 't#missing'], 0);
    expect([...first.keys()]).toEqual(['t#trk1']);
    expect(stores.counter.reads).toBe(1);
    await cache.get(stores, ['t#trk1', 't#missing'], 50);
    expect(stores.counter.reads).toBe(1);
    await cache.get(stores, ['t#trk1', 't#missing'], 500); // the miss expired, the hit did not
    expect(stores.counter.reads).toBe(2);
    expect(stores.counter.itemsRead).toBe(1);
    expect((await cache.get(stores, ['t#trk1'], 2000)).get('t#trk1')?.name).toBe('Track 1');
    expect(stores.counter.reads).toBe(3);
  });
});
