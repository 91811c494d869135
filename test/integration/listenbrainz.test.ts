/**
 * The ListenBrainz-compatible routes and name resolution through the whole local pipeline: user
 * tokens (hashed, via the token authorizer), listens by name resolved to the catalog (genres,
 * ids, display names of unknown names), playing_now not counted, feedback and its withdrawal,
 * ListenBrainz's error shape for malformed payloads.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalPipeline } from '../../local/pipeline.ts';
import { createToken, hashToken, revokeTokens, type UsersStore } from '../../shared/adapters/dynamodb/users.ts';
import { checkedFetch } from '../support/contract.ts';
import { eventually, provisionedTestEnv, startTestPipeline } from '../support/infra.ts';

interface ProfileView {
  genres: { genre: string }[];
  topArtists: { artistId: string; name: string | null }[];
  topTracks: { trackId: string; title: string | null; artistName: string | null; weight: number }[];
  counts: { plays: number; skips: number; likes: number; events: number };
}

const BEARER = 'lb-test-bearer-token-0123456789';
const MBID = '0f0a6b4c-1111-4222-8333-444455556666';

describe('ListenBrainz API and name resolution', () => {
  let pipeline: LocalPipeline;
  let users: UsersStore;
  let token: string;
  const now = Math.floor(Date.now() / 1000);

  const call = async (method: string, path: string, headers: Record<string, string>, body?: unknown) => {
    const res = await checkedFetch(pipeline.url, path, {
      method,
      headers,
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: res.status, body: (res.body ?? {}) as Record<string, unknown> };
  };
  const lb = (path: string, body?: unknown, t = token) =>
    call(body === undefined ? 'GET' : 'POST', path, { authorization: `Token ${t}` }, body);
  const api = (method: string, path: string, body?: unknown) =>
    call(method, path, { authorization: `Bearer ${BEARER}`, 'content-type': 'application/json' }, body);
  const profile = async (userId: string) =>
    (await api('GET', `/users/${userId}/profile`)).body as unknown as ProfileView;
  const single = (artist: string, track: string, at = now - 60, extra: Record<string, unknown> = {}) => ({
    listen_type: 'single',
    payload: [{ listened_at: at, track_metadata: { artist_name: artist, track_name: track, additional_info: extra } }],
  });

  beforeAll(async () => {
    const t = await provisionedTestEnv('lb');
    users = { client: t.documentClient(), table: t.topology.tableNames.users };
    pipeline = await startTestPipeline(t, { authToken: BEARER, userTokenCacheSeconds: 0 });
    token = await createToken(users, 'lb-alice');
    // The catalog: an artist with genres (Last.fm style) and a track (Spotify style, name-based artist).
    const res = await api('POST', '/tracks', {
      tracks: [
        {
          artistId: 'lastfm-a1',
          name: 'Björk',
          tags: [{ tag: 'electronic', count: 10 }],
          updatedAt: 1_300_000_000_000,
        },
        {
          trackId: 'sp-joga',
          title: 'Jóga',
          artistId: 'name:bjork',
          artistName: 'Björk',
          genres: ['electronic'],
          updatedAt: 1_300_000_000_000,
        },
      ],
    });
    expect(res.status).toBe(202);
    await eventually(async () => ((await api('GET', '/tracks/sp-joga')).status === 200 ? true : undefined), {
      what: 'catalog',
    });
  });
  afterAll(async () => {
    await pipeline?.stop();
  });

  it('stores tokens hashed and says whose a token is', async () => {
    const items = await users.client.send(
      new (await import('@aws-sdk/lib-dynamodb')).QueryCommand({
        TableName: users.table,
        KeyConditionExpression: 'userId = :u',
        ExpressionAttributeValues: { ':u': 'lb-alice' },
      }),
    );
    expect(JSON.stringify(items.Items)).not.toContain(token);
    expect(items.Items?.[0]?.tokenHash).toBe(hashToken(token));
    expect((await lb('/1/validate-token')).body).toEqual({
      code: 200,
      message: 'Token valid.',
      valid: true,
      user_name: 'lb-alice',
    });
    expect((await lb('/1/validate-token', undefined, 'nope')).body).toMatchObject({ valid: false });
  });

  it('refuses a wrong, malformed or missing token with 401', async () => {
    const wrong = await lb('/1/submit-listens', single('Björk', 'Jóga'), 'not-a-token');
    expect(wrong).toEqual({ status: 401, body: { code: 401, error: 'Invalid authorization token.' } });
    const malformed = await call('POST', '/1/submit-listens', { authorization: 'Basic abc' }, single('a', 'b'));
    expect(malformed.body).toEqual({ code: 401, error: 'Provided Authorization header is invalid.' });
    expect((await call('POST', '/1/submit-listens', {}, single('a', 'b'))).status).toBe(401);
    // The admin bearer token is not a listener's token.
    expect((await lb('/1/submit-listens', single('a', 'b'), BEARER)).status).toBe(401);
  });

  it('answers malformed payloads with ListenBrainz 400s that name the field', async () => {
    const cases: [unknown, string, RegExp][] = [
      ['{not json', '', /Cannot parse JSON document/],
      [{ listen_type: 'single' }, '', /listen_type and payload are required/],
      [{ listen_type: 'x', payload: [] }, 'listen_type', /valid listen_type/],
      [{ listen_type: 'single', payload: [] }, 'payload', /does not contain any listens/],
      [
        { ...single('a', 'b'), payload: [...single('a', 'b').payload, ...single('a', 'b').payload] },
        'payload',
        /only one/,
      ],
      [
        { listen_type: 'single', payload: [{ track_metadata: { artist_name: 'a', track_name: 'b' } }] },
        'payload[0].listened_at',
        /must contain the key listened_at/,
      ],
      [single('a', 'b', now + 7200), 'payload[0].listened_at', /too high/],
      [single('a', 'b', 1000), 'payload[0].listened_at', /too low/],
      [single('', 'b'), 'payload[0].track_metadata.artist_name', /required track_metadata.artist_name/],
      [
        single('a', 'b', now, { recording_mbid: 'nope' }),
        'payload[0].track_metadata.additional_info.recording_mbid',
        /MBID format invalid/,
      ],
      [
        single('a', 'b', now, { duration_ms: -5 }),
        'payload[0].track_metadata.additional_info.duration_ms',
        /positive integer/,
      ],
      [
        {
          listen_type: 'playing_now',
          payload: [{ listened_at: now, track_metadata: { artist_name: 'a', track_name: 'b' } }],
        },
        'payload[0].listened_at',
        /must not contain listened_at/,
      ],
      [
        { listen_type: 'import', payload: Array.from({ length: 1001 }, () => single('a', 'b').payload[0]) },
        'payload',
        /more than 1000 listens/,
      ],
    ];
    for (const [body, field, reason] of cases) {
      const res = await lb('/1/submit-listens', body);
      expect(res.status, JSON.stringify(body).slice(0, 120)).toBe(400);
      expect(res.body.code).toBe(400);
      expect(res.body.error).toMatch(reason);
      if (field) {
        expect(res.body.field).toBe(field);
        expect(res.body.error).toContain(field);
      }
    }
    const fb = await lb('/1/feedback/recording-feedback', { recording_mbid: MBID, score: 2 });
    expect(fb).toMatchObject({ status: 400, body: { code: 400, field: 'score' } });
  });

  it('resolves listens by name: catalog ids and genres, and names for what the catalog does not know', async () => {
    expect((await lb('/1/submit-listens', single('BJÖRK', 'joga', now - 100, { recording_mbid: MBID }))).body).toEqual({
      status: 'ok',
    });
    const p = await eventually(
      async () => {
        const out = await profile('lb-alice');
        return out?.counts?.plays === 1 ? out : undefined;
      },
      { what: 'profile', intervalMs: 20 },
    );
    expect(p.genres.map((g: { genre: string }) => g.genre)).toContain('electronic');
    expect(p.topArtists).toEqual([expect.objectContaining({ artistId: 'lastfm-a1', name: 'Björk' })]);
    expect(p.topTracks).toEqual([expect.objectContaining({ trackId: 'sp-joga', title: 'Jóga' })]);

    // An import with an artist nobody knows: a stable name-based id, and its name.
    await lb('/1/submit-listens', {
      listen_type: 'import',
      payload: [1, 2].map((i) => ({
        listened_at: now - 200 - i,
        track_metadata: { artist_name: 'Múm', track_name: `Green Grass ${i}` },
      })),
    });
    const q = await eventually(
      async () => {
        const out = await profile('lb-alice');
        return out?.counts?.plays === 3 ? out : undefined;
      },
      { what: 'import' },
    );
    expect(q.topArtists).toContainEqual(expect.objectContaining({ artistId: 'name:mum', name: 'Múm' }));
    expect(q.topTracks).toContainEqual(
      expect.objectContaining({ trackId: 'name:mum/green-grass-1', title: 'Green Grass 1', artistName: 'Múm' }),
    );
    expect(q.topArtists.every((a: { name: unknown }) => typeof a.name === 'string')).toBe(true);

    // The same listen again (a client's retry) changes nothing.
    await lb('/1/submit-listens', single('BJÖRK', 'joga', now - 100, { recording_mbid: MBID }));
    // playing_now is not a play.
    expect(
      (
        await lb('/1/submit-listens', {
          listen_type: 'playing_now',
          payload: [{ track_metadata: { artist_name: 'Björk', track_name: 'Hyperballad' } }],
        })
      ).status,
    ).toBe(200);
    await api('POST', '/events', { userId: 'lb-alice', artistId: 'art-marker', ts: Date.now(), type: 'skip' });
    const r = await eventually(
      async () => {
        const out = await profile('lb-alice');
        return out?.counts?.skips === 1 ? out : undefined;
      },
      { what: 'marker' },
    );
    expect(r.counts.plays).toBe(3);
  });

  it('POST /events resolves names too and reports the resolution', async () => {
    const res = await api('POST', '/events', {
      events: [
        {
          userId: 'lb-bob',
          artistId: 'name:bjork',
          artistName: 'Björk',
          trackName: 'Jóga',
          ts: Date.now() - 1000,
          type: 'play',
        },
        {
          userId: 'lb-bob',
          artistId: 'name:nobody-knows',
          artistName: 'Nobody Knows',
          ts: Date.now() - 900,
          type: 'play',
        },
      ],
    });
    expect(res.status).toBe(202);
    expect(res.body.resolution).toEqual({ named: 2, resolved: 1, withGenres: 1 });
    const p = await eventually(
      async () => {
        const out = await profile('lb-bob');
        return out?.counts?.plays === 2 ? out : undefined;
      },
      { what: 'bob' },
    );
    expect(p.topArtists.map((a) => [a.artistId, a.name]).sort()).toEqual([
      ['lastfm-a1', 'Björk'],
      ['name:nobody-knows', 'Nobody Knows'],
    ]);
  });

  it('turns feedback into like / dislike, and a withdrawal undoes it exactly', async () => {
    const before = await profile('lb-alice');
    const weight = (p: ProfileView) => p.topTracks.find((t) => t.trackId === 'sp-joga')?.weight ?? 0;
    expect((await lb('/1/feedback/recording-feedback', { recording_mbid: MBID, score: 1 })).body).toEqual({
      status: 'ok',
    });
    const liked = await eventually(
      async () => {
        const out = await profile('lb-alice');
        return out?.counts?.likes === 1 ? out : undefined;
      },
      { what: 'like' },
    );
    expect(weight(liked)).toBeGreaterThan(weight(before));
    // The same score again is a no-op; 0 withdraws.
    await lb('/1/feedback/recording-feedback', { recording_mbid: MBID, score: 1 });
    await lb('/1/feedback/recording-feedback', { recording_mbid: MBID, score: 0 });
    const withdrawn = await eventually(
      async () => {
        const out = await profile('lb-alice');
        return out?.counts?.events === liked.counts.events + 1 ? out : undefined;
      },
      { what: 'withdrawal' },
    );
    expect(withdrawn.counts.likes).toBe(1);
    expect(weight(withdrawn)).toBeCloseTo(weight(before), 3);
  });

  it('a revoked token no longer works', async () => {
    const other = await createToken(users, 'lb-carol');
    expect((await lb('/1/validate-token', undefined, other)).body.valid).toBe(true);
    expect(await revokeTokens(users, 'lb-carol')).toBe(1);
    expect((await lb('/1/submit-listens', single('a', 'b'), other)).status).toBe(401);
  });
});
