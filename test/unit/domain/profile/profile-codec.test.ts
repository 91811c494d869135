import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CodecError } from '../../../../shared/domain/binary.ts';
import { GENRES, MOODS } from '../../../../shared/domain/genres.ts';
import {
  applyRecords,
  emptyProfile,
  fingerprintEventId,
  type Profile,
} from '../../../../shared/domain/profile/profile.ts';
import {
  decodeProfileState,
  encodeProfileState,
  GENRE_CODES,
  MOOD_CODES,
} from '../../../../shared/domain/profile/profile-codec.ts';
import { rng } from '../../../../shared/random.ts';

function randomProfile(
  seed: number,
  events: number,
  params: { topTracksCapacity?: number; recentEventIdsCapacity?: number } = {},
): Profile {
  const r = rng(seed);
  const records = Array.from({ length: events }, (_, i) => ({
    event: {
      eventId: `e-${seed}-${i}`,
      userId: 'u1',
      trackId: `trk-${Math.floor(r() * 500)}`,
      artistId: r() < 0.1 ? 'Sigur Rós' : `art-${Math.floor(r() * 80)}`,
      ts: 1_790_000_000_000 + Math.floor(r() * 90 * 86_400_000),
      type: (['play', 'skip', 'like', 'dislike'] as const)[Math.floor(r() * 4)]!,
      mood: r() < 0.2 ? 'chill' : undefined,
    },
    topicPartition: `listen-events-${Math.floor(r() * 6)}`,
    offset: i,
  }));
  return applyRecords(emptyProfile('u1'), records, {
    genresOf: () => ({ rock: 0.7, shoegaze: 0.3 }),
    topArtistsCapacity: 100,
    topTracksCapacity: 100,
    ...params,
  }).profile;
}

/** A profile main's version 1 codec wrote (two events, no `recent`), and what it held. */
const V1_STATE =
  'AQAAgCC0r3lCAACAqm23eUIAACa5bbd5QgEAAQACAQAEcm9ja79CFIbazRJAAQAFY2hpbGzmKfUlqtsLQAEABWFydC0xv0IUhtrNEkACAAV0cmstMTC3ZswVgPM/BAEy5in1JarbC0ABD2xpc3Rlbi1ldmVudHMtMAgCAXnJgqcrPEO/0lTCW9o+Qw==';
const V1_PROFILE: Profile = {
  userId: 'u1',
  version: 1,
  anchorTs: 1765152000000,
  genres: { rock: 4.701028914438836 },
  moods: { chill: 3.482258125824262 },
  topArtists: { 'art-1': 4.701028914438836 },
  topTracks: { 'trk-1': 1.2187707886145738, 'trk-2': 3.482258125824262 },
  counts: { plays: 1, skips: 0, likes: 1, dislikes: 0, events: 2 },
  firstEventTs: 1767225600000,
  lastEventTs: 1767225660000,
  offsets: { 'listen-events-0': 8 },
  recentEventIds: [7929297801672961, 8684336938537663],
  recent: [],
};

/** A profile main's version 2 codec wrote (three events, a genre outside the vocabulary), and what it held. */
const V2_STATE =
  'AgAAgCC0r3lCAACAqm23eUIAAMzHbbd5QgEBAQADAwALbm90LWEtZ2VucmVTbVgvWr7aPwAEcm9ja6hfbemOZgdAAAhzaG9lZ2F6ZVNtWC9avuo/AQAFY2hpbGzmKfUlqtsLQAEABWFydC0xVESXXfi2EEACAAV0cmstMAV75VQaSeY/BAEx5in1JarbC0ABD2xpc3Rlbi1ldmVudHMtMAoDRAnZclQZO0M8EBzgJSk2Q1JY1Zi7ETdDAxUAAAACFgEA4NQDARQAAODUAwA=';
const V2_PROFILE: Profile = {
  userId: 'u1',
  version: 1,
  anchorTs: 1765152000000,
  genres: { rock: 2.925077270174331, shoegaze: 0.8357363629069517, 'not-a-genre': 0.4178681814534759 },
  moods: { chill: 3.482258125824262 },
  topArtists: { 'art-1': 4.178681814534759 },
  topTracks: { 'trk-0': 0.6964236887104965, 'trk-1': 3.482258125824262 },
  counts: { plays: 1, skips: 1, likes: 1, dislikes: 0, events: 3 },
  firstEventTs: 1767225600000,
  lastEventTs: 1767225720000,
  offsets: { 'listen-events-0': 10 },
  recentEventIds: [7627674865961284, 6237692138098748, 6493421885020242],
  recent: [
    { ts: 1767225720000, type: 'skip', fp: 6493421885020242, trackId: 'trk-0', artistId: 'art-1' },
    { ts: 1767225660000, type: 'like', fp: 6237692138098748, trackId: 'trk-1', artistId: 'art-1' },
    { ts: 1767225600000, type: 'play', fp: 7627674865961284, trackId: 'trk-0', artistId: 'art-1' },
  ],
};

/**
 * An established Last.fm listener as the loader streams one (tools/loaders/lastfm.ts): hundreds of
 * plays of 50 artists (`lastfm-a<n>`) whose tags give ~40 of the genres, and no tracks; the
 * profile's top-artist list, fingerprint window and session are full.
 */
function lastfmListener(seed: number): Profile {
  const r = rng(seed);
  const artists = Array.from({ length: 50 }, () => `lastfm-a${1 + Math.floor(r() * 18_000)}`);
  const genresOf = new Map(
    artists.map((a) => {
      const g: Record<string, number> = {};
      for (let i = 0; i < 6; i++) g[GENRES[Math.floor(r() ** 1.5 * GENRES.length)]!] = r();
      return [a, g];
    }),
  );
  const records = Array.from({ length: 450 }, (_, i) => ({
    event: {
      eventId: `lastfm-${seed}-${i}`,
      artistId: artists[Math.floor(r() ** 2 * 50)]!,
      ts: 1_790_000_000_000 + Math.floor(r() * 365 * 86_400_000),
      type: 'play' as const,
    },
    topicPartition: 'listen-events-3',
    offset: i,
  }));
  records.sort((a, b) => a.event.ts - b.event.ts);
  return applyRecords(emptyProfile(`lastfm-${seed}`), records, { genresOf: (e) => genresOf.get(e.artistId) }).profile;
}

/** The profile item as DynamoDB bills it: `userId`, `version` (a number) and `state`. */
const itemBytes = (p: Profile) =>
  'userId'.length + p.userId.length + 'version'.length + 3 + 'state'.length + encodeProfileState(p).byteLength;

describe('profile codec', () => {
  it('round-trips a folded profile exactly (float64 scores, fingerprints, offsets, nulls)', () => {
    for (const [seed, n] of [
      [1, 1],
      [2, 40],
      [3, 600],
    ] as const) {
      const p = randomProfile(seed, n);
      expect(p.recent).toHaveLength(Math.min(20, n));
      const back = decodeProfileState(p.userId, p.version, encodeProfileState(p));
      expect(back).toEqual(p);
    }
    const empty = emptyProfile('nobody');
    expect(decodeProfileState('nobody', 0, encodeProfileState(empty))).toEqual(empty);
  });

  it('round-trips recent listens whose ids, fingerprints or times cannot be referenced', () => {
    // Small top lists and fingerprint window: most of the session's ids and fingerprints are inline.
    const p = randomProfile(6, 300, { topTracksCapacity: 3, recentEventIdsCapacity: 2 });
    expect(p.recent.some((l) => !(l.trackId! in p.topTracks))).toBe(true);
    expect(decodeProfileState('u1', p.version, encodeProfileState(p))).toEqual(p);
    // Hand-made: a listen newer than lastEventTs, a fractional ts, no fingerprint, no track, a non-ASCII id.
    const q: Profile = {
      ...emptyProfile('u2'),
      lastEventTs: 1_000,
      recent: [
        { trackId: 'trk-ü', ts: 2_000.5, type: 'like' },
        { artistId: 'Sigur Rós', ts: 1_000, type: 'dislike', fp: fingerprintEventId('x') },
        { trackId: 't', artistId: 'a', ts: 0, type: 'skip', fp: 0 },
      ],
    };
    expect(decodeProfileState('u2', 0, encodeProfileState(q))).toEqual(q);
  });

  it('still reads version 1 states, with an empty session', () => {
    expect(decodeProfileState('u1', 1, Buffer.from(V1_STATE, 'base64'))).toEqual(V1_PROFILE);
    // Written again, it is the current version and the same profile.
    const again = encodeProfileState(V1_PROFILE);
    expect(again[0]).toBe(3);
    expect(decodeProfileState('u1', 1, again)).toEqual(V1_PROFILE);
  });

  it('still reads version 2 states (front-coded genres, float64 fingerprints)', () => {
    const v2 = Buffer.from(V2_STATE, 'base64');
    expect(decodeProfileState('u1', 1, v2)).toEqual(V2_PROFILE);
    const v3 = encodeProfileState(V2_PROFILE);
    expect(v3[0]).toBe(3);
    expect(decodeProfileState('u1', 1, v3)).toEqual(V2_PROFILE);
    // A genre and a mood code a byte each, a fingerprint 7 bytes: smaller with the same content.
    expect(v3.byteLength).toBeLessThan(v2.byteLength - 3 * 1 - 15);
  });

  it('codes genres and moods by a frozen vocabulary: today every known one, unknown keys written out', () => {
    expect(GENRE_CODES).toEqual(GENRES);
    expect(MOOD_CODES).toEqual(MOODS);
    // Version 3's codes, pinned: a reordered, renamed or removed genre or mood in genres.ts (which
    // must only ever be appended to) changes what stored profiles mean, and fails here.
    const digest = (words: readonly string[]) => createHash('sha256').update(words.join('\n')).digest('hex');
    expect([GENRE_CODES.length, digest(GENRE_CODES).slice(0, 16)]).toEqual([47, 'c07ffd0b7f7c6052']);
    expect([MOOD_CODES.length, digest(MOOD_CODES).slice(0, 16)]).toEqual([20, '1574b868a1f202e1']);
    expect(GENRE_CODES.length).toBeLessThan(255);
    const p: Profile = {
      ...emptyProfile('u4'),
      genres: { 'zz-new-genre': 1.5, rock: -0.25 },
      moods: { 'not-a-mood': 2 },
      recentEventIds: [0, 2 ** 53 - 1, 1.5, -1],
    };
    // A fingerprint that is not a 53-bit integer (never written by the fold) keeps the f64 form.
    expect(decodeProfileState('u4', 0, encodeProfileState(p))).toEqual(p);
    const fps = { ...p, recentEventIds: [0, 2 ** 53 - 1, fingerprintEventId('e')] };
    expect(decodeProfileState('u4', 0, encodeProfileState(fps))).toEqual(fps);
  });

  it('keeps an established Last.fm listener in two write units (version 2 took three at the tail)', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const p = lastfmListener(seed);
      expect(Object.keys(p.topArtists)).toHaveLength(50);
      expect(p.recentEventIds).toHaveLength(64);
      expect(Object.keys(p.genres).length).toBeGreaterThanOrEqual(35);
      expect(decodeProfileState(p.userId, p.version, encodeProfileState(p))).toEqual(p);
      // 50 artists × ~15 bytes, ~40 genres × 9, 64 fingerprints × 7, 20 listens × ~8, the rest ~60
      // (the loaded data set: p50 / p99 1,634 / 1,705 B; version 2: 1,982 / 2,102 B).
      expect(itemBytes(p)).toBeLessThanOrEqual(1_850);
      expect(Math.ceil(itemBytes(p) / 1024)).toBe(2);
    }
  });

  it('stores a 20-listen session in a few bytes per listen', () => {
    // Listens arriving in time order, a few minutes apart: ids in the top lists, fingerprints
    // among the last 64 applied.
    const r = rng(7);
    let ts = 1_790_000_000_000;
    const records = Array.from({ length: 600 }, (_, i) => {
      ts += 60_000 + Math.floor(r() * 240_000);
      const event = {
        eventId: `e-${i}`,
        trackId: `lastfm-t-${1000 + Math.floor(r() * 60)}`,
        artistId: `lastfm-a-${100 + Math.floor(r() * 20)}`,
        ts,
        type: 'play' as const,
      };
      return { event };
    });
    const p = applyRecords(emptyProfile('u1'), records).profile;
    const without = encodeProfileState({ ...p, recent: [] }).byteLength;
    const bytes = encodeProfileState(p).byteLength;
    // flags, two index references, a 3-byte time delta and a fingerprint index: 7 bytes each.
    expect(bytes - without).toBeLessThanOrEqual(20 * 7);
    // Arriving shuffled over 90 days, the fingerprints and longer gaps are written out (~17 bytes).
    const shuffled = randomProfile(7, 600);
    expect(
      encodeProfileState(shuffled).byteLength - encodeProfileState({ ...shuffled, recent: [] }).byteLength,
    ).toBeLessThanOrEqual(20 * 18);
  });

  it('rejects a recent listen pointing past the top lists or fingerprints', () => {
    const p: Profile = {
      ...emptyProfile('u3'),
      topTracks: { t: 1 },
      lastEventTs: 10,
      recentEventIds: [42],
      recent: [{ trackId: 't', ts: 10, type: 'play', fp: 42 }],
    };
    const bytes = encodeProfileState(p);
    // The listen's tail: flags, track index 0, ts delta 0, fingerprint index 0.
    expect([...bytes.slice(-4)]).toEqual([0b0000_0100, 0, 0, 0]);
    const badTrack = Uint8Array.from(bytes);
    badTrack[bytes.length - 3] = 1;
    expect(() => decodeProfileState('u3', 1, badTrack)).toThrow(/track index 1 of 1/);
    const badFp = Uint8Array.from(bytes);
    badFp[bytes.length - 1] = 5;
    expect(() => decodeProfileState('u3', 1, badFp)).toThrow(/fingerprint index 5 of 1/);
  });

  it('is several times smaller than the DynamoDB-JSON it replaces', () => {
    const p = randomProfile(4, 600);
    const bytes = encodeProfileState(p).byteLength;
    expect(bytes).toBeLessThan(JSON.stringify(p).length / 2);
  });

  it('rejects truncated, trailing or unknown-version bytes with a CodecError', () => {
    const bytes = encodeProfileState(randomProfile(5, 30));
    expect(() => decodeProfileState('u1', 1, bytes.slice(0, bytes.length - 3))).toThrow(CodecError);
    expect(() => decodeProfileState('u1', 1, Uint8Array.from([...bytes, 0]))).toThrow(/trailing/);
    const other = Uint8Array.from(bytes);
    other[0] = 99;
    expect(() => decodeProfileState('u1', 1, other)).toThrow(/unknown state version 99/);
    // An unknown genre code.
    const p: Profile = { ...emptyProfile('u5'), genres: { rock: 1 } };
    const coded = encodeProfileState(p);
    const at = 1 + 24 + 5 + 1; // version, three f64, five counts, the genre count
    expect(coded[at]).toBe(0);
    const bad = Uint8Array.from(coded);
    bad[at] = 200;
    expect(() => decodeProfileState('u5', 1, bad)).toThrow(/genres: unknown code 200/);
  });
});
