import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ListenEventV1, TrackUpsertInput } from '../../../shared/domain/events/events.ts';
import { eventsimEvents } from '../../../tools/loaders/eventsim.ts';
import { artistUpserts, eventsPerPair, loadLastfm, pairEvents } from '../../../tools/loaders/lastfm.ts';
import { BadLineError, LoadStats } from '../../../tools/loaders/lines.ts';
import { spotifyHistoryEvents } from '../../../tools/loaders/spotify-history.ts';
import { spotifyTracks } from '../../../tools/loaders/spotify-tracks.ts';

const crlf = (lines: string[]) => `${lines.join('\r\n')}\r\n`;

function lastfmDir(badUserArtists = false): string {
  const dir = mkdtempSync(join(tmpdir(), 'lastfm-'));
  writeFileSync(join(dir, 'artists.dat'), crlf(['id\tname\turl\tpictureURL', '1\tBjörk\tu\tp', '2\tMotörhead\tu\tp']));
  // Latin-1 bytes: "música electrónica" has é/ó as single bytes 0xE9/0xF3.
  writeFileSync(
    join(dir, 'tags.dat'),
    Buffer.from(crlf(['tagID\ttagValue', '1\telectronic', '2\theavy metal', '3\tmúsica electrónica']), 'latin1'),
  );
  writeFileSync(
    join(dir, 'user_taggedartists.dat'),
    crlf([
      'userID\tartistID\ttagID\tday\tmonth\tyear',
      '7\t1\t1\t1\t4\t2009',
      '7\t1\t3\t1\t6\t2009',
      '7\t2\t2\t1\t5\t1956', // an impossible year, as in the real file: not used for the window
    ]),
  );
  writeFileSync(
    join(dir, 'user_artists.dat'),
    crlf(['userID\tartistID\tweight', '7\t1\t1000', '7\t2\t3', ...(badUserArtists ? ['7\tx\t3'] : []), '8\t2\t1']),
  );
  return dir;
}

describe('Last.fm loader', () => {
  it('reads CRLF files, decodes tags.dat as Latin-1 and maps tags to genre weights', async () => {
    const progress: string[] = [];
    const ds = await loadLastfm(lastfmDir(), { onProgress: (m) => progress.push(m) });
    expect(ds.artists.get('1')).toBe('Björk');
    expect(ds.userArtists).toEqual([
      { userId: '7', artistId: '1', plays: 1000 },
      { userId: '7', artistId: '2', plays: 3 },
      { userId: '8', artistId: '2', plays: 1 },
    ]);
    expect(Object.keys(ds.tagging.artistGenres.get('1')!)).toContain('electronic');
    expect(Object.keys(ds.tagging.artistGenres.get('2')!)).toContain('metal');
    expect(ds.tagging.userWindows.get('7')).toEqual([Date.UTC(2009, 3, 1), Date.UTC(2009, 5, 1)]);
    expect(progress.join('\n')).toContain('user_artists.dat: 3 lines read');
    const upserts = artistUpserts(ds.artists, ds.tagging.artistGenres, Date.UTC(2011, 0, 1));
    expect(upserts.map((u) => u.name)).toEqual(['Björk', 'Motörhead']);
  });

  it('a malformed line fails with its line number, or is skipped and counted with skipBad', async () => {
    const dir = lastfmDir(true);
    const err = await loadLastfm(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BadLineError);
    expect((err as BadLineError).line).toBe(4);
    expect((err as Error).message).toMatch(/user_artists\.dat:4: expected 3 integer columns/);
    const progress: string[] = [];
    const ds = await loadLastfm(dir, { skipBad: true, onProgress: (m) => progress.push(m) });
    expect(ds.userArtists).toHaveLength(3);
    expect(progress.join('\n')).toMatch(/4 lines read, 1 bad lines skipped/);
  });

  it('turns play counts into a capped, deterministic, valid set of events inside the window', () => {
    expect([1, 3, 1000, 1e9].map(eventsPerPair)).toEqual([1, 2, 10, 16]);
    const w: [number, number] = [Date.UTC(2009, 0, 1), Date.UTC(2009, 6, 1)];
    const evs = pairEvents({ userId: '7', artistId: '1', plays: 1000 }, w);
    expect(evs).toHaveLength(10);
    expect(pairEvents({ userId: '7', artistId: '1', plays: 1000 }, w)).toEqual(evs);
    expect(new Set(evs.map((e) => e.eventId)).size).toBe(10);
    for (const e of evs) {
      expect(ListenEventV1.safeParse(e).success).toBe(true);
      expect(e.ts >= w[0] && e.ts <= w[1]).toBe(true);
    }
  });
});

describe('Spotify tracks CSV loader', () => {
  it('parses quoted fields, maps genres, and reports a bad row with its line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sp-'));
    const file = join(dir, 't.csv');
    writeFileSync(
      file,
      [
        ',track_id,artists,album_name,track_name,popularity,duration_ms,explicit,track_genre',
        '0,abc,Nat King Cole;Someone,"Xmas, 2022","O Holy Night, Remastered",12,176226,False,jazz',
        '1,def,Band,Al,,5,1000,False,rock',
        '2,ghi,Other,Al,Song,7,2000,False,not-a-genre-xyz',
      ].join('\n'),
    );
    await expect(async () => {
      for await (const _ of spotifyTracks(file));
    }).rejects.toThrow(/t\.csv:3: title: must not be empty/);
    const stats = new LoadStats(true);
    const out: unknown[] = [];
    for await (const t of spotifyTracks(file, { stats })) out.push(t);
    expect(stats.bad).toBe(1);
    expect(out).toHaveLength(2);
    const first = TrackUpsertInput.parse(out[0]);
    expect(first).toMatchObject({
      trackId: 'abc',
      title: 'O Holy Night, Remastered',
      artistName: 'Nat King Cole',
      artistId: 'name:nat-king-cole',
      durationMs: 176226,
      popularity: 12,
      genres: ['jazz'],
    });
    expect(out[1]).toMatchObject({ tags: ['not-a-genre-xyz'] });
  });
});

describe('eventsim loader', () => {
  it('keeps NextSong pages, maps to catalog tracks by normalized name, and fails on bad JSON', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'es-'));
    const file = join(dir, 'e.json');
    const ua = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_9_4)';
    const rows = [
      { page: 'Home', userId: '39', ts: 1541105830796 },
      {
        page: 'NextSong',
        userId: '39',
        artist: 'Beyoncé',
        song: 'Halo',
        length: 261.5,
        ts: 1541105830796,
        sessionId: 1,
        itemInSession: 2,
        userAgent: ua,
        level: 'paid',
      },
      {
        page: 'NextSong',
        userId: '40',
        artist: 'Muse',
        song: 'Uprising',
        length: 300,
        ts: 1541105830797,
        sessionId: 2,
        itemInSession: 0,
      },
    ];
    writeFileSync(file, `${rows.map((r) => JSON.stringify(r)).join('\n')}\n{oops\n`);
    const catalog = new Map([['beyonce|halo', 'T1']]);
    const stats = new LoadStats(true);
    const out = [];
    for await (const e of eventsimEvents(file, { catalog, stats })) out.push(e);
    expect(stats.bad).toBe(1);
    expect(out).toHaveLength(2);
    expect(out[0]).toMatchObject({
      userId: 'eventsim-39',
      trackId: 'T1',
      artistId: 'name:beyonce',
      msPlayed: 261500,
      platform: 'macos',
    });
    expect(out[1]!.trackId).toBeUndefined();
    expect(out[1]!.artistId).toBe('name:muse');
    for (const e of out) expect(ListenEventV1.safeParse(e).success).toBe(true);
    await expect(async () => {
      for await (const _ of eventsimEvents(file));
    }).rejects.toThrow(/e\.json:4: not JSON/);
  });
});

describe('Spotify streaming history loader', () => {
  it('maps plays and skips, skips podcasts, rejects a malformed entry', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sh-'));
    const base = {
      platform: 'android',
      conn_country: 'se',
      master_metadata_album_artist_name: 'Robyn',
      master_metadata_track_name: 'Dancing On My Own',
    };
    writeFileSync(
      join(dir, 'Streaming_History_Audio_2023.json'),
      JSON.stringify([
        {
          ...base,
          ts: '2023-01-02T10:00:00Z',
          ms_played: 200000,
          spotify_track_uri: 'spotify:track:abc',
          skipped: false,
        },
        { ...base, ts: '2023-01-02T10:04:00Z', ms_played: 3000, spotify_track_uri: 'spotify:track:abc', skipped: true },
        {
          ts: '2023-01-02T11:00:00Z',
          ms_played: 1000,
          spotify_track_uri: null,
          spotify_episode_uri: 'spotify:episode:x',
        },
        { ts: 'yesterday', ms_played: 1, spotify_track_uri: 'spotify:track:zzz' },
      ]),
    );
    writeFileSync(join(dir, 'unrelated.json'), '[]');
    const stats = new LoadStats(true);
    const out = [];
    for await (const e of spotifyHistoryEvents(dir, { stats })) out.push(e);
    expect(out.map((e) => e.type)).toEqual(['play', 'skip']);
    expect(out[0]).toMatchObject({
      trackId: 'abc',
      country: 'SE',
      platform: 'android',
      msPlayed: 200000,
      artistId: 'name:robyn',
    });
    expect(stats.bad).toBe(1);
    for (const e of out) expect(ListenEventV1.safeParse(e).success).toBe(true);
    await expect(async () => {
      for await (const _ of spotifyHistoryEvents(dir));
    }).rejects.toThrow(/\[3\]/);
  });
});
