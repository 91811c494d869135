import { describe, expect, it } from 'vitest';
import { CodecError } from '../../../../shared/domain/binary.ts';
import {
  applyRecords,
  emptyProfile,
  fingerprintEventId,
  type Profile,
} from '../../../../shared/domain/profile/profile.ts';
import { decodeProfileState, encodeProfileState } from '../../../../shared/domain/profile/profile-codec.ts';
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
    // Written again, it is version 2 and the same profile.
    const v2 = encodeProfileState(V1_PROFILE);
    expect(v2[0]).toBe(2);
    expect(decodeProfileState('u1', 1, v2)).toEqual(V1_PROFILE);
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
  });
});
