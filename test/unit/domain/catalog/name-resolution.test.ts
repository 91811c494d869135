import { describe, expect, it } from 'vitest';
import {
  aliasKey,
  artistIdOf,
  artistNameKey,
  countResolution,
  indexEntriesOf,
  lookupKeys,
  type NameIndexEntry,
  primaryArtist,
  type ResolutionCounts,
  repairMojibake,
  resolveListen,
  spotifyTrackId,
  trackIdOf,
  trackNameKey,
} from '../../../../shared/domain/catalog/name-resolution.ts';

const entry = (itemId: string, target: Partial<NameIndexEntry>, hasGenres = true): NameIndexEntry => ({
  itemId,
  kind: 'name',
  name: 'x',
  hasGenres,
  rank: 3,
  updatedAt: 1,
  ...target,
});

describe('name keys and ids', () => {
  it('normalizes accents, case and punctuation the same way for ids and keys', () => {
    expect(artistIdOf('Björk')).toBe('name:bjork');
    expect(artistNameKey(' BJÖRK ')).toBe('n#a#bjork');
    expect(trackNameKey('Björk', 'Jóga!')).toBe('n#t#bjork|joga');
    expect(trackIdOf('Björk', 'Jóga')).toBe('name:bjork/joga');
    expect(artistNameKey('!!!')).toBeUndefined();
  });

  it('repairs double-encoded UTF-8 and tries the first of several credited artists', () => {
    expect(repairMojibake('BjÃ\u0083Â¶rk')).toBe('Björk');
    expect(repairMojibake('Beyoncé')).toBe('Beyoncé');
    expect(artistIdOf('BjÃ\u0083Â¶rk')).toBe('name:bjork');
    expect(primaryArtist('Usher featuring will.i.am')).toBe('Usher');
    expect(primaryArtist('Kid Cudi / MGMT / Ratatat')).toBe('Kid Cudi');
    expect(primaryArtist('Björk')).toBeUndefined();
    expect(artistNameKey('The Postal Service')).toBe(artistNameKey('Postal Service'));
    const entries = new Map([['n#a#usher', entry('n#a#usher', { artistId: 'lastfm-a9' })]]);
    expect(resolveListen({ artistId: 'name:x', artistName: 'Usher Featuring Lil Jon' }, entries).event.artistId).toBe(
      'lastfm-a9',
    );
  });

  it('caps long name-based ids at 128 characters, still distinct', () => {
    const a = trackIdOf('x'.repeat(100), `${'y'.repeat(100)}1`);
    const b = trackIdOf('x'.repeat(100), `${'y'.repeat(100)}2`);
    expect(a.length).toBe(128);
    expect(a).not.toBe(b);
  });

  it('reads Spotify ids from URLs and URIs; MBID aliases ignore case, Spotify ones keep it', () => {
    expect(spotifyTrackId('https://open.spotify.com/track/1rrgWMXGCGHru5bIRxGFV0?si=abc')).toBe(
      '1rrgWMXGCGHru5bIRxGFV0',
    );
    expect(spotifyTrackId('spotify:track:1rrgWMXGCGHru5bIRxGFV0')).toBe('1rrgWMXGCGHru5bIRxGFV0');
    expect(spotifyTrackId('nope')).toBeUndefined();
    expect(aliasKey('mbid', 'ABCDEF01-0000-4000-8000-000000000000')).toBe(
      'x#mbid:abcdef01-0000-4000-8000-000000000000',
    );
    expect(aliasKey('spotify', 'AbC')).toBe('x#spotify:AbC');
  });

  it('ranks catalog ids above name-based ones and known genres above none', () => {
    const [lastfm] = indexEntriesOf({
      kind: 'artist',
      id: 'lastfm-a1',
      name: 'Björk',
      genres: { pop: 1 },
      updatedAt: 5,
    });
    const [seed] = indexEntriesOf({
      kind: 'artist',
      id: 'name:bjork',
      name: 'Björk',
      genres: { pop: 1 },
      updatedAt: 0,
    });
    expect(lastfm!.itemId).toBe(seed!.itemId);
    expect(lastfm!.rank).toBeGreaterThan(seed!.rank);
    const track = indexEntriesOf({
      kind: 'track',
      id: 'sp1',
      name: 'Jóga',
      artistId: 'name:bjork',
      artistName: 'Björk',
      genres: {},
      updatedAt: 5,
      mbid: '0f0a6b4c-1111-4222-8333-444455556666',
    });
    expect(track.map((e) => e.itemId)).toEqual(['n#t#bjork|joga', 'x#mbid:0f0a6b4c-1111-4222-8333-444455556666']);
    expect(track[0]).toMatchObject({ trackId: 'sp1', artistId: 'name:bjork', hasGenres: false });
  });
});

describe('resolveListen', () => {
  const entries = new Map<string, NameIndexEntry>([
    ['n#a#bjork', entry('n#a#bjork', { artistId: 'lastfm-a1' })],
    ['n#t#bjork|joga', entry('n#t#bjork|joga', { trackId: 'sp1', artistId: 'name:bjork' })],
    ['n#a#sigur ros', entry('n#a#sigur ros', { artistId: 'lastfm-a2' }, false)],
  ]);

  it('resolves the artist and the track by name, preferring the artist entry for the artist', () => {
    const r = resolveListen({ artistId: 'name:bjork', artistName: 'Björk', trackName: 'Jóga' }, entries);
    expect(r.event).toMatchObject({ artistId: 'lastfm-a1', trackId: 'sp1' });
    expect(r).toMatchObject({ named: true, artist: 'index', track: 'index', genreKnown: true, unknown: [] });
  });

  it('keeps a stable name-based id and records the display names of unknown names', () => {
    const r = resolveListen({ artistId: 'name:mum', artistName: 'múm', trackName: 'Green Grass of Tunnel' }, entries);
    expect(r.event).toMatchObject({ artistId: 'name:mum', trackId: 'name:mum/green-grass-of-tunnel' });
    expect(r.genreKnown).toBe(false);
    expect(r.unknown).toEqual([
      { kind: 'artist', id: 'name:mum', name: 'múm' },
      {
        kind: 'track',
        id: 'name:mum/green-grass-of-tunnel',
        name: 'Green Grass of Tunnel',
        artistName: 'múm',
        artistId: 'name:mum',
      },
    ]);
  });

  it('leaves catalog ids alone and does not count such listens as named', () => {
    const r = resolveListen({ trackId: 'trk-1', artistId: 'art-1', artistName: 'Björk', trackName: 'Jóga' }, entries);
    expect(r.event).toMatchObject({ trackId: 'trk-1', artistId: 'art-1' });
    expect(r.named).toBe(false);
    expect(lookupKeys({ trackId: 'trk-1', artistId: 'art-1', artistName: 'Björk' })).toEqual([]);
  });

  it('resolves through aliases first, and an mbid placeholder id is replaced when the index knows it', () => {
    const mbid = '0f0a6b4c-1111-4222-8333-444455556666';
    const withAlias = new Map(entries).set(
      aliasKey('mbid', mbid),
      entry(aliasKey('mbid', mbid), { trackId: 'sp9', artistId: 'lastfm-a9' }),
    );
    const r = resolveListen(
      { trackId: `mbid:${mbid}`, artistId: 'name:x', artistName: 'X', trackName: 'Y' },
      withAlias,
      { recordingMbid: mbid },
    );
    expect(r.event).toMatchObject({ trackId: 'sp9', artistId: 'lastfm-a9' });
    const unknown = resolveListen(
      { trackId: `mbid:${mbid}`, artistId: 'name:x', artistName: 'X', trackName: 'Y' },
      entries,
    );
    expect(unknown.event.trackId).toBe(`mbid:${mbid}`);
  });

  it('counts resolution per listen', () => {
    const counts: ResolutionCounts = { named: 0, resolved: 0, withGenres: 0 };
    countResolution(counts, resolveListen({ artistId: 'name:bjork', artistName: 'Björk' }, entries));
    countResolution(counts, resolveListen({ artistId: 'name:sigur-ros', artistName: 'Sigur Rós' }, entries));
    countResolution(counts, resolveListen({ artistId: 'name:mum', artistName: 'múm' }, entries));
    countResolution(counts, resolveListen({ artistId: 'art-1', artistName: 'Björk' }, entries));
    expect(counts).toEqual({ named: 3, resolved: 2, withGenres: 1 });
  });
});
