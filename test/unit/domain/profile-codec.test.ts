import { describe, expect, it } from 'vitest';
import { CodecError } from '../../../shared/domain/binary.ts';
import { applyRecords, emptyProfile, type Profile } from '../../../shared/domain/profile.ts';
import { decodeProfileState, encodeProfileState } from '../../../shared/domain/profile-codec.ts';
import { rng } from '../../../shared/random.ts';

function randomProfile(seed: number, events: number): Profile {
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
  }).profile;
}

describe('profile codec', () => {
  it('round-trips a folded profile exactly (float64 scores, fingerprints, offsets, nulls)', () => {
    for (const [seed, n] of [
      [1, 1],
      [2, 40],
      [3, 600],
    ] as const) {
      const p = randomProfile(seed, n);
      const back = decodeProfileState(p.userId, p.version, encodeProfileState(p));
      expect(back).toEqual(p);
    }
    const empty = emptyProfile('nobody');
    expect(decodeProfileState('nobody', 0, encodeProfileState(empty))).toEqual(empty);
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
