/**
 * A real ListenBrainz client against the local API: liblistenbrainz from PyPI (in the project's
 * venv, .data/venv, installed the way `npm run fuzz` installs schemathesis), pointed at the local
 * HTTP API. Single, import and playing-now submissions, feedback, a wrong token, and the
 * listener's profile and recommendations changing; plus listen → profile freshness.
 */
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalPipeline } from '../../local/pipeline.ts';
import { createToken } from '../../shared/adapters/dynamodb/users.ts';
import { ensurePythonPackages } from '../../tools/python/venv.ts';
import { checkedFetch } from '../support/contract.ts';
import { eventually, provisionedTestEnv, startTestPipeline } from '../support/infra.ts';

const BEARER = 'liblb-test-bearer-0123456789';
const USER = 'liblb-dora';
const MBID = '5b11f4ce-a62d-471e-81fc-a69a8278c7da';
const SCRIPT = resolve(import.meta.dirname, 'listenbrainz_client.py');

interface Profile {
  genres: { genre: string }[];
  topArtists: { artistId: string; name: string | null }[];
  topTracks: { trackId: string; title: string | null }[];
  counts: { plays: number; likes: number; events: number };
}

describe('liblistenbrainz against the local API', () => {
  let pipeline: LocalPipeline;
  let python: string;
  let token: string;
  /** Recommendations before the listener submitted anything (popular items, no profile yet). */
  let initial: { strategy: string; items: { trackId: string }[] };

  const client = async (steps: Record<string, unknown>[]) => {
    const { stdout } = await promisify(execFile)(python, [SCRIPT, JSON.stringify(steps)], {
      env: {
        ...process.env,
        TUNESTREAM_API: pipeline.url,
        TUNESTREAM_TOKEN: token,
        TUNESTREAM_BEARER: BEARER,
        TUNESTREAM_USER: USER,
      },
      timeout: 60_000,
    });
    return JSON.parse(stdout) as Record<string, unknown>[];
  };
  const get = async (path: string) => {
    const res = await checkedFetch(pipeline.url, path, { headers: { authorization: `Bearer ${BEARER}` } });
    return { status: res.status, body: res.body as Record<string, unknown> };
  };
  const profileWhen = (check: (p: Profile) => boolean, what: string) =>
    eventually(
      async () => {
        const res = await get(`/users/${USER}/profile`);
        const p = res.body as unknown as Profile;
        return res.status === 200 && check(p) ? p : undefined;
      },
      { what },
    );

  beforeAll(async () => {
    python = ensurePythonPackages(['liblistenbrainz']);
    const t = await provisionedTestEnv('liblb');
    pipeline = await startTestPipeline(t, { authToken: BEARER, userTokenCacheSeconds: 0 });
    token = await createToken({ client: t.documentClient(), table: t.topology.tableNames.users }, USER);
    const headers = { authorization: `Bearer ${BEARER}`, 'content-type': 'application/json' };
    const res = await checkedFetch(pipeline.url, '/tracks', {
      method: 'POST',
      headers,
      body: JSON.stringify({
        tracks: [
          { artistId: 'art-portishead', name: 'Portishead', genres: ['trip-hop'], updatedAt: 1_300_000_000_000 },
          {
            trackId: 'trk-roads',
            title: 'Roads',
            artistId: 'art-portishead',
            artistName: 'Portishead',
            genres: ['trip-hop'],
            mbid: MBID,
            popularity: 80,
            updatedAt: 1_300_000_000_000,
          },
          {
            trackId: 'trk-teardrop',
            title: 'Teardrop',
            artistId: 'art-massive-attack',
            artistName: 'Massive Attack',
            genres: ['trip-hop'],
            popularity: 90,
            updatedAt: 1_300_000_000_000,
          },
        ],
      }),
    });
    expect(res.status).toBe(202);
    await eventually(async () => ((await get('/tracks/trk-teardrop')).status === 200 ? true : undefined), {
      what: 'catalog',
    });
    // Another listener who plays both, so recommendations have a neighbour to draw from.
    await checkedFetch(pipeline.url, '/events', {
      method: 'POST',
      headers,
      body: JSON.stringify({
        events: ['trk-roads', 'trk-teardrop'].map((trackId, i) => ({
          userId: 'liblb-erin',
          trackId,
          artistId: i === 0 ? 'art-portishead' : 'art-massive-attack',
          ts: Date.now() - 1000,
          type: 'play',
        })),
      }),
    });
    initial = (await get(`/users/${USER}/recommendations?limit=10`)).body as typeof initial;
  }, 300_000);
  afterAll(async () => {
    await pipeline?.stop();
  });

  it('validates the token and refuses a wrong one with 401', async () => {
    const [valid, invalid, wrong] = await client([
      { step: 'validate' },
      { step: 'validate', token: 'not-a-token' },
      { step: 'single', token: 'not-a-token', artist: 'Portishead', track: 'Roads' },
    ]);
    expect(valid).toEqual({ valid: true });
    expect(invalid).toEqual({ error: 'InvalidAuthTokenException' });
    expect(wrong).toEqual({
      error: 'ListenBrainzAPIException',
      status_code: 401,
      message: 'Invalid authorization token.',
    });
  });

  it('single, import and playing-now submissions reach the profile; playing now is not a play', async () => {
    const [single] = await client([{ step: 'single', artist: 'Portishead', track: 'Roads', duration_ms: 300_000 }]);
    expect(single).toEqual({ status: 'ok' });
    const first = await profileWhen((p) => p.counts.plays === 1, 'single listen');
    expect(first.topTracks).toEqual([expect.objectContaining({ trackId: 'trk-roads', title: 'Roads' })]);
    expect(first.genres.map((g) => g.genre)).toContain('trip-hop');

    const [imported, playing] = await client([
      { step: 'import', artist: 'Beth Gibbons', track: 'Mysteries', count: 3 },
      { step: 'playing_now', artist: 'Portishead', track: 'Glory Box' },
    ]);
    expect(imported).toEqual({ status: 'ok' });
    expect(playing).toEqual({ status: 'ok' });
    const after = await profileWhen((p) => p.counts.plays === 4, 'import');
    // Unknown to the catalog, yet named.
    expect(after.topArtists).toContainEqual(
      expect.objectContaining({ artistId: 'name:beth-gibbons', name: 'Beth Gibbons' }),
    );
    expect(after.topArtists.every((a) => a.name !== null)).toBe(true);
    expect(after.topTracks.every((t) => t.title !== null)).toBe(true);
  });

  it('feedback by recording MBID likes the catalog track, and recommendations change', async () => {
    expect(initial.strategy).toBe('popular');
    const [liked] = await client([{ step: 'feedback', score: 1, recording_mbid: MBID }]);
    expect(liked).toEqual({ status: 'ok' });
    const p = await profileWhen((x) => x.counts.likes === 1, 'like');
    expect(p.topTracks[0]).toMatchObject({ trackId: 'trk-roads' });
    const [bad] = await client([{ step: 'feedback', score: 1, recording_mbid: 'not-an-mbid' }]);
    expect(bad).toMatchObject({ error: 'ListenBrainzAPIException', status_code: 400 });
    // Erin's Teardrop, via the neighbour list (refreshed after the new listens).
    const after = await eventually(
      async () => {
        const res = await get(`/users/${USER}/recommendations?limit=10`);
        const items = res.body.items as { trackId: string }[];
        return items.some((i) => i.trackId === 'trk-teardrop') ? res : undefined;
      },
      { what: 'recommendation of trk-teardrop' },
    );
    expect(after.body.strategy).toBe('collaborative');
    expect(initial.items.map((i) => i.trackId)).not.toContain('trk-teardrop');
    // What the listener already plays is not recommended.
    expect((after.body.items as { trackId: string }[]).map((i) => i.trackId)).not.toContain('trk-roads');
  });

  it('a listen is in the profile within a second', async () => {
    const [r] = await client([{ step: 'freshness', artist: 'Portishead', track: 'Sour Times', count: 20 }]);
    const latencies = ((r as { latencies: number[] }).latencies ?? []).sort((a, b) => a - b);
    expect(latencies).toHaveLength(20);
    const p99 = latencies[Math.ceil(0.99 * latencies.length) - 1]!;
    process.stderr.write(
      `[liblistenbrainz] listen → profile: p50 ${(latencies[9]! * 1000).toFixed(0)} ms, p99 ${(p99 * 1000).toFixed(0)} ms\n`,
    );
    // 1 s is the goal (measured with npm start in README); the bound leaves room for a loaded CI machine.
    expect(p99).toBeLessThan(3);
  });
});
