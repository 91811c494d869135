/**
 * Two writers on the same user: MSK batches for one listener from two different partitions of
 * listen-events, handled concurrently by the profile-updater (two event source mapping lanes, as in
 * Lambda), against DynamoDB Local. Optimistic concurrency must lose no update: the final profile
 * equals the batch reference over all events.
 */
import type { MSKEvent } from 'aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { applyFunctionEnv } from '../../local/runtime/functions.ts';
import { buildMskEvent, type MskRecord } from '../../local/runtime/msk-event.ts';
import { putCatalogItemIfNewer } from '../../shared/adapters/dynamodb/catalog.ts';
import { getProfile } from '../../shared/adapters/dynamodb/profiles.ts';
import { createStores, type Stores } from '../../shared/adapters/dynamodb/stores.ts';
import { artistItemId } from '../../shared/domain/catalog/catalog.ts';
import type { ListenEventV1 } from '../../shared/domain/events/events.ts';
import { DAY_MS } from '../../shared/domain/profile/profile.ts';
import { settings } from '../../shared/topology.ts';
import { compareProfiles, referenceProfiles } from '../../tools/chaos/workload.ts';
import { provisionedTestEnv } from '../support/infra.ts';

type Env = Awaited<ReturnType<typeof provisionedTestEnv>>;
const USER = 'concurrent-listener';
const ARTISTS = { 'art-a': { rock: 0.75, jazz: 0.25 }, 'art-b': { folk: 1 } } as Record<string, Record<string, number>>;

function batch(t: Env, partition: number, firstOffset: number, events: ListenEventV1[]): MSKEvent {
  const topic = t.topology.topicNames.listenEvents;
  const records: MskRecord[] = events.map((e, i) => ({
    topic,
    partition,
    offset: firstOffset + i,
    timestamp: e.ts,
    timestampType: 'CREATE_TIME',
    key: Buffer.from(e.userId).toString('base64'),
    value: Buffer.from(JSON.stringify(e)).toString('base64'),
    headers: [],
  }));
  return buildMskEvent(records, {
    eventSourceArn: 'arn:aws:kafka:us-east-1:000000000000:cluster/local/x',
    bootstrapServers: '',
  });
}

describe('concurrent writers on one profile', () => {
  let t: Env;
  let stores: Stores;

  beforeAll(async () => {
    t = await provisionedTestEnv('concurrency');
    applyFunctionEnv(t.env);
    stores = createStores({ endpoint: t.dynamodbEndpoint, region: 'us-east-1' }, t.topology.tableNames);
    for (const [id, genres] of Object.entries(ARTISTS)) {
      await putCatalogItemIfNewer(stores, {
        itemId: artistItemId(id),
        kind: 'artist',
        id,
        name: id,
        genres,
        popularity: 1,
        updatedAt: 1,
      });
    }
  });

  it('loses no update when two partitions write the same user at once', async () => {
    const { updateProfiles } = await import('../../functions/profile-updater/handler.ts');
    const base = Date.UTC(2026, 5, 1);
    const make = (p: number, i: number): ListenEventV1 => ({
      eventId: `conc-${p}-${i}`,
      userId: USER,
      artistId: p === 0 ? 'art-a' : 'art-b',
      trackId: `trk-${p}-${i % 7}`,
      // Interleaved and out of order across the two lanes.
      ts: base + ((i * 7919 + p * 104729) % 5000) * 60_000,
      type: i % 5 === 4 ? 'skip' : i % 6 === 5 ? 'like' : 'play',
      v: 1,
    });
    const perLane = 120;
    const batchSize = 4;
    const lanes = [0, 1].map((p) => Array.from({ length: perLane }, (_, i) => make(p, i)));
    let conflicts = 0;
    // Each lane delivers its batches in offset order (one batch in flight per partition, as Lambda
    // does); the two lanes run at the same time against the same profile item.
    await Promise.all(
      lanes.map(async (events, p) => {
        for (let i = 0; i < events.length; i += batchSize) {
          const summary = await updateProfiles(batch(t, p, i, events.slice(i, i + batchSize)));
          conflicts += summary.conflicts ?? 0;
        }
      }),
    );
    console.log(
      `concurrency: ${2 * perLane} events in ${(2 * perLane) / batchSize} batches, ${conflicts} write conflicts retried`,
    );

    const want = referenceProfiles(lanes.flat(), {
      halfLifeMs: settings.PROFILE_HALF_LIFE_DAYS * DAY_MS,
      topArtistsCapacity: settings.PROFILE_TOP_ARTISTS,
      topTracksCapacity: settings.PROFILE_TOP_TRACKS,
      recentCapacity: settings.PROFILE_RECENT_LISTENS,
      genresOf: (e) => ARTISTS[e.artistId!],
    }).get(USER)!;
    const got = await getProfile(stores, USER);
    expect(got?.counts.events).toBe(2 * perLane);
    expect(compareProfiles(got, want)).toEqual([]);
    expect(Object.keys(got!.offsets).sort()).toEqual(
      [0, 1].map((p) => `${t.topology.topicNames.listenEvents}-${p}`).sort(),
    );
  });
});
