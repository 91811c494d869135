/**
 * Every sample in events/ runs through its function against the real Kafka broker and DynamoDB
 * Local, as `npm run invoke` does, and gets the answer the sample is meant to show.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyFunctionEnv, functionEnv, invokeFunction } from '../../local/runtime/functions.ts';
import { registerToken, usersStoreFromEnv } from '../../shared/adapters/dynamodb/users.ts';
import { disconnectProducer } from '../../shared/adapters/kafka.ts';
import type { FunctionName } from '../../shared/topology.ts';
import { provisionedTestEnv } from '../support/infra.ts';
import { sample } from '../support/samples.ts';

/** The samples name the un-prefixed topics; point them at this file's prefixed ones. */
function retarget(event: { records: Record<string, { topic: string }[]> }, prefix: string) {
  const records: Record<string, { topic: string }[]> = {};
  for (const [key, list] of Object.entries(event.records)) {
    records[`${prefix}${key}`] = list.map((r) => ({ ...r, topic: `${prefix}${r.topic}` }));
  }
  return { ...event, records };
}

describe('events/ samples', () => {
  let prefix: string;
  beforeAll(async () => {
    const t = await provisionedTestEnv('samples');
    prefix = t.prefix;
    applyFunctionEnv({
      ...functionEnv({ topology: t.topology, kafkaBrokers: t.kafkaBrokers, dynamodbEndpoint: t.dynamodbEndpoint }),
      POWERTOOLS_METRICS_DISABLED: 'true',
      POWERTOOLS_LOG_LEVEL: 'ERROR',
    });
  });
  afterAll(() => disconnectProducer());

  const invoke = (fn: FunctionName, file: string) =>
    invokeFunction(fn, sample(file)) as Promise<Record<string, unknown>>;

  it('ingest-events accepts the valid events and rejects the one without a track or artist', async () => {
    const res = await invoke('ingest-events', 'ingest-events.json');
    expect(res.statusCode).toBe(202);
    const body = JSON.parse(res.body as string);
    expect(body.accepted).toBe(2);
    expect(body.rejected).toEqual([
      { index: 2, errors: [{ path: 'events[2].trackId', message: 'either trackId or artistId is required' }] },
    ]);
  });

  it('ingest-tracks accepts tracks and artists', async () => {
    const res = await invoke('ingest-tracks', 'ingest-tracks.json');
    expect(res.statusCode).toBe(202);
    expect(JSON.parse(res.body as string)).toEqual({ accepted: 3, rejected: [] });
  });

  it('the triggers apply their samples and dead-letter the poison record', async () => {
    const catalog = await invokeFunction('catalog-updater', retarget(sample('catalog-updater.json'), prefix));
    expect(catalog).toMatchObject({ records: 2, valid: 2, deadLettered: 0 });
    const profiles = await invokeFunction('profile-updater', retarget(sample('profile-updater.json'), prefix));
    expect(profiles).toMatchObject({ records: 3, valid: 2, deadLettered: 1, applied: 2 });
    const again = await invokeFunction('profile-updater', retarget(sample('profile-updater.json'), prefix));
    expect(again).toMatchObject({ applied: 0, duplicates: 2 });
    const archived = await invokeFunction('event-archiver', retarget(sample('event-archiver.json'), prefix));
    expect(archived).toMatchObject({ records: 3, valid: 2, deadLettered: 1 });
    const neighbors = await invokeFunction('neighbor-updater', retarget(sample('neighbor-updater.json'), prefix));
    expect(neighbors).toMatchObject({ records: 1, valid: 1 });
  });

  it('item-model-builder builds from the archive the samples wrote', async () => {
    const built = (await invokeFunction('item-model-builder', sample('item-model-builder.json'))) as {
      archive: { files: number };
      kinds: Record<'a' | 't', { users: number; items: number }>;
    };
    expect(built.archive.files).toBeGreaterThanOrEqual(1);
    expect(built.kinds.a.users).toBeGreaterThanOrEqual(1);
    expect(built.kinds.a.items).toBeGreaterThanOrEqual(1);
  });

  it('the read routes answer their samples', async () => {
    const profile = await invoke('read-api', 'read-api-profile.json');
    expect(profile.statusCode).toBe(200);
    expect(JSON.parse(profile.body as string).genres.map((g: { genre: string }) => g.genre)).toContain('shoegaze');
    const recs = await invoke('read-api', 'read-api-recommendations.json');
    expect(recs.statusCode).toBe(200);
    expect(JSON.parse(recs.body as string).strategy).toMatch(/genre|popular|collaborative/);
    expect((await invoke('read-api', 'read-api-neighbors.json')).statusCode).toBe(200);
    const track = await invoke('read-api', 'read-api-track.json');
    expect(JSON.parse(track.body as string)).toMatchObject({
      trackId: 'trk-shoegaze-1',
      title: 'Alison',
      genres: { shoegaze: 0.5, indie: 0.5 },
    });
    const radio = await invoke('read-api', 'read-api-radio.json');
    expect(radio.statusCode).toBe(200);
    expect(JSON.parse(radio.body as string)).toMatchObject({ basis: 'seed', seed: { trackId: 'trk-shoegaze-1' } });
    const similar = await invoke('read-api', 'read-api-similar-tracks.json');
    expect(similar.statusCode).toBe(200);
    expect(JSON.parse(similar.body as string)).toMatchObject({ trackId: 'trk-shoegaze-1', name: 'Alison' });
    const genres = JSON.parse((await invoke('read-api', 'read-api-genres.json')).body as string).genres;
    expect(genres.length).toBeGreaterThanOrEqual(30);
  });

  it('the ListenBrainz samples: the token authorizer, a Navidrome listen, feedback; and forgetting a user', async () => {
    const users = usersStoreFromEnv();
    await registerToken(users, 'demo-ana', '00000000-0000-4000-8000-000000000000');
    expect(await invokeFunction('token-authorizer', sample('token-authorizer.json'))).toEqual({
      isAuthorized: true,
      context: { userId: 'demo-ana', problem: '' },
    });
    const listen = await invoke('listenbrainz-api', 'listenbrainz-api.json');
    expect(listen).toMatchObject({ statusCode: 200, body: JSON.stringify({ status: 'ok' }) });
    const feedback = await invoke('listenbrainz-api', 'listenbrainz-api-feedback.json');
    expect(feedback.statusCode).toBe(200);
    const forgotten = await invoke('user-admin', 'user-admin.json');
    expect(forgotten.statusCode).toBe(200);
    expect(JSON.parse(forgotten.body as string)).toMatchObject({ userId: 'demo-forgotten' });
  });
});
