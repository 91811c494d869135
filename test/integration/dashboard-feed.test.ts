/**
 * The dashboard-stats function over the local runtime's sources (local/dashboard/), with names
 * and genres from the catalog table on DynamoDB Local. The feed is handed batches as its Kafka
 * consumer hands them over (the dashboard e2e test runs the consumer itself): a re-delivered
 * batch shows and counts each listen once, a bad record's dead letters count once.
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dashboardStats } from '../../functions/dashboard-stats/dashboard.ts';
import type { Stats, StreamPage } from '../../functions/dashboard-stats/types.ts';
import { DashboardFeed, type FeedBatch } from '../../local/dashboard/feed.ts';
import { localSources } from '../../local/dashboard/sources.ts';
import { putCatalogItemIfNewer } from '../../shared/adapters/dynamodb/catalog.ts';
import { createStores, type Stores } from '../../shared/adapters/dynamodb/stores.ts';
import { catalogItemsOf } from '../../shared/domain/catalog/catalog.ts';
import { deadLetterOf, type ListenEventV1 } from '../../shared/domain/events/events.ts';
import { provisionedTestEnv, REGION } from '../support/infra.ts';

describe('the dashboard over local sources', () => {
  let stores: Stores;
  const now = Date.now();

  beforeAll(async () => {
    const env = await provisionedTestEnv('dashfeed');
    stores = createStores({ endpoint: env.dynamodbEndpoint, region: REGION }, env.topology.tableNames);
    const items = catalogItemsOf({
      trackId: 'trk-alison',
      title: 'Alison',
      artistId: 'art-slowdive',
      artistName: 'Slowdive',
      genres: ['shoegaze'],
      updatedAt: now,
    });
    for (const item of items) await putCatalogItemIfNewer(stores, item);
  });
  afterAll(() => stores?.client.destroy());

  const batch = (partition: number, events: Partial<ListenEventV1>[], firstOffset = 0): FeedBatch => ({
    partition,
    messages: events.map((e, i) => ({
      offset: String(firstOffset + i),
      timestamp: String(now),
      value: Buffer.from(JSON.stringify({ userId: 'u1', ts: now, type: 'play', ...e })),
    })),
  });
  // The experiments route has its own test (dashboard-experiments.test.ts).
  const noCounters = { counters: async () => [] };
  const get = async <T>(answer: ReturnType<typeof dashboardStats>, rawPath: string, query = {}) => {
    const res = await answer({ rawPath, queryStringParameters: query } as unknown as APIGatewayProxyEventV2);
    expect(res.statusCode).toBe(200);
    return JSON.parse(res.body as string) as T;
  };

  it('shows and counts each listen once, names and genres from the catalog, notices shown but not counted', async () => {
    const feed = new DashboardFeed(stores, 2000, now);
    const plays = batch(0, [
      { eventId: 'e1', trackId: 'trk-alison', platform: 'web', country: 'PT' },
      { eventId: 'e2', trackId: 'trk-unknown', artistId: 'art-slowdive', type: 'like' },
      { eventId: 'e3', artistId: 'art-nobody', platform: 'ios' },
    ]);
    await feed.addListens(plays, false, now);
    await feed.addListens(plays, false, now); // re-delivered after a rebalance
    await feed.addListens(batch(1, [{ eventId: 'e1', trackId: 'trk-alison' }]), true, now); // now playing
    await feed.addListens(batch(0, [{ eventId: 'bad' }], 3), false, now); // neither track nor artist
    const answer = dashboardStats(localSources(feed, [], noCounters));

    const page = await get<StreamPage>(answer, '/api/stream');
    expect(page.events.map((e) => [e.eventId, e.type, e.title, e.artistName, e.genre])).toEqual([
      ['e1', 'playing_now', 'Alison', 'Slowdive', 'shoegaze'],
      ['e3', 'play', null, null, null],
      ['e2', 'like', null, null, 'shoegaze'], // the artist's genre
      ['e1', 'play', 'Alison', 'Slowdive', 'shoegaze'],
    ]);
    // The cursor starts at the feed's start time: a page open across a restart keeps a cursor below it.
    expect(page.cursor).toBe(now * 1000 + 4);
    expect((await get<StreamPage>(answer, '/api/stream', { since: String(page.cursor) })).events).toEqual([]);
    expect((await get<StreamPage>(answer, '/api/stream', { type: 'like' })).events.map((e) => e.eventId)).toEqual([
      'e2',
    ]);

    const stats = await get<Stats>(answer, '/api/stats');
    expect(stats.totalEvents).toBe(3);
    expect(stats.eventsPerSecond).toBe(0.05); // 3 in the last minute
    expect(stats.genres.map((g) => [g.genre, g.count])).toEqual([
      ['shoegaze', 2],
      ['unknown', 1],
    ]);
    expect(stats.genres[0]!.topTracks[0]).toEqual({
      trackId: 'trk-alison',
      title: 'Alison',
      artistName: 'Slowdive',
      plays: 1,
    });
    expect(stats.facets).toEqual({ platforms: ['ios', 'web'], countries: ['PT'] });
    expect(stats.errors.map((e) => e.source)).toEqual(['listen-events']);
  });

  it('counts a bad record once however many consumers dead-letter it', async () => {
    const feed = new DashboardFeed(stores, 2000, now);
    const source = { topic: 'listen-events', partition: 2, offset: 7, valueBase64: 'eA==' };
    for (const fn of ['profile-updater', 'event-archiver'])
      feed.addDeadLetter(Buffer.from(JSON.stringify(deadLetterOf(source, 'invalid-json', 'oops', fn, now))));
    feed.addDeadLetter(Buffer.from('{"not":"a dead letter"}'));
    const stats = await get<Stats>(dashboardStats(localSources(feed, [], noCounters)), '/api/stats');
    expect(stats.deadLetters.count).toBe(2);
    expect(stats.deadLetters.byReason).toEqual({ 'invalid-json': 1 });
    expect(stats.deadLetters.latest).toEqual([
      expect.objectContaining({ reason: 'invalid-json', sourceTopic: 'listen-events', partition: 2, offset: 7 }),
    ]);
    expect(JSON.stringify(stats.deadLetters.latest)).not.toContain('eA=='); // never the record's bytes
    expect(stats.errors.map((e) => e.source).sort()).toEqual(['dead-letters', 'profile-updater']);
  });
});
