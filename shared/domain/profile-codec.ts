/**
 * The profile's stored form: one compact binary value instead of ~200 DynamoDB map keys.
 *
 * Scores stay float64 so a stored profile is bit-for-bit the folded one (order independence and
 * the chaos comparison rely on exact sums); the savings come from dropping DynamoDB-JSON's
 * per-key overhead and decimal strings, and from the eventId fingerprints stored as numbers.
 * Layout (version 1, little-endian):
 *
 *   u8 1 · f64 anchorTs · f64 firstEventTs (NaN = null) · f64 lastEventTs (NaN = null)
 *   varint plays, skips, likes, dislikes, events
 *   4 score maps (genres, moods, topArtists, topTracks): varint n, n × (u8 shared prefix,
 *     str rest of key, f64 score), keys sorted
 *   offsets: varint n, n × (str topic-partition, varint offset)
 *   recent fingerprints: varint n, n × f64 (53-bit cyrb53 values)
 *
 * `userId` and `version` are not inside: they are the item's key and the write condition.
 */
import { ByteReader, ByteWriter, CodecError } from './binary.ts';
import type { Profile } from './profile.ts';

export const PROFILE_CODEC_VERSION = 1;

/**
 * Keys sorted and front-coded (length of the prefix shared with the previous key, then the rest):
 * catalog ids share long prefixes (`lastfm-t-1…`), so a top list's ids shrink to a few bytes each.
 */
function writeScores(w: ByteWriter, m: Readonly<Record<string, number>>): void {
  const keys = Object.keys(m).sort();
  w.varint(keys.length);
  let prev = '';
  for (const k of keys) {
    w.frontCoded(prev, k);
    w.f64(m[k]!);
    prev = k;
  }
}

function readScores(r: ByteReader): Record<string, number> {
  const n = r.varint();
  const out: Record<string, number> = {};
  let prev = '';
  for (let i = 0; i < n; i++) {
    const shared = r.u8();
    if (shared > prev.length)
      throw new CodecError(`front-coded key shares ${shared} chars of a ${prev.length}-char key`);
    const rest = r.str();
    const k = shared === 0 ? rest : prev.slice(0, shared) + rest;
    out[k] = r.f64();
    prev = k;
  }
  return out;
}

/** Encodes everything but `userId` and `version`. */
export function encodeProfileState(p: Profile): Uint8Array {
  const w = new ByteWriter(2048);
  w.u8(PROFILE_CODEC_VERSION);
  w.f64(p.anchorTs);
  w.f64(p.firstEventTs ?? Number.NaN);
  w.f64(p.lastEventTs ?? Number.NaN);
  const c = p.counts;
  w.varint(c.plays);
  w.varint(c.skips);
  w.varint(c.likes);
  w.varint(c.dislikes);
  w.varint(c.events);
  writeScores(w, p.genres);
  writeScores(w, p.moods);
  writeScores(w, p.topArtists);
  writeScores(w, p.topTracks);
  const offsets = Object.keys(p.offsets);
  w.varint(offsets.length);
  for (const k of offsets) {
    w.str(k);
    w.varint(p.offsets[k]!);
  }
  w.varint(p.recentEventIds.length);
  for (const fp of p.recentEventIds) w.f64(fp);
  return w.bytes();
}

/** The inverse of `encodeProfileState`; throws `CodecError` on a truncated or unknown value. */
export function decodeProfileState(userId: string, version: number, bytes: Uint8Array): Profile {
  const r = new ByteReader(bytes);
  const v = r.u8();
  if (v !== PROFILE_CODEC_VERSION) throw new CodecError(`profile ${userId}: unknown state version ${v}`);
  const anchorTs = r.f64();
  const first = r.f64();
  const last = r.f64();
  const counts = { plays: r.varint(), skips: r.varint(), likes: r.varint(), dislikes: r.varint(), events: r.varint() };
  const genres = readScores(r);
  const moods = readScores(r);
  const topArtists = readScores(r);
  const topTracks = readScores(r);
  const offsets: Record<string, number> = {};
  const nOffsets = r.varint();
  for (let i = 0; i < nOffsets; i++) {
    const k = r.str();
    offsets[k] = r.varint();
  }
  const nIds = r.varint();
  const recentEventIds: number[] = new Array(nIds);
  for (let i = 0; i < nIds; i++) recentEventIds[i] = r.f64();
  if (!r.done) throw new CodecError(`profile ${userId}: trailing bytes in state`);
  return {
    userId,
    version,
    anchorTs,
    genres,
    moods,
    topArtists,
    topTracks,
    counts,
    firstEventTs: Number.isNaN(first) ? null : first,
    lastEventTs: Number.isNaN(last) ? null : last,
    offsets,
    recentEventIds,
  };
}
