/**
 * The profile's stored form: one compact binary value instead of ~200 DynamoDB map keys.
 *
 * Scores stay float64 so a stored profile is bit-for-bit the folded one (order independence and
 * the chaos comparison rely on exact sums); the savings come from dropping DynamoDB-JSON's
 * per-key overhead and decimal strings, and from the eventId fingerprints stored as numbers.
 * Layout (version 3, little-endian):
 *
 *   u8 3 · f64 anchorTs · f64 firstEventTs (NaN = null) · f64 lastEventTs (NaN = null)
 *   varint plays, skips, likes, dislikes, events
 *   genres, moods: varint n, n × (u8 code, [str key when code = 255], f64 score), keys sorted;
 *     the code is the key's place in a frozen vocabulary (`GENRE_CODES`, `MOOD_CODES`: the first
 *     47 genres and 20 moods of genres.ts, append-only lists), 255 a key outside it
 *   topArtists, topTracks: varint n, n × (u8 shared prefix, str rest of key, f64 score), keys sorted
 *   offsets: varint n, n × (str topic-partition, varint offset)
 *   recent fingerprints: varint n, u8 width (7: each a 56-bit little-endian integer, which every
 *     53-bit cyrb53 value is; 8: each an f64), n × fingerprint
 *   recent listens, newest first: varint n, n × (u8 flags, [track], [artist], ts, [fingerprint])
 *     flags bits 0–1 type (play, skip, like, dislike);
 *     bits 2–3 track and 4–5 artist: 0 none, 1 varint index into the topTracks / topArtists keys
 *       (sorted, as written above), 2 the id as a string;
 *     bit 6 clear: varint index into the recent fingerprints above, set: f64 fingerprint (NaN = none);
 *     bit 7 clear: varint ms before the previous listen's ts (the first's: before lastEventTs),
 *       set: f64 ts.
 *   A session's ids are nearly always in the top lists and its events among the last 64 applied,
 *   so an entry is ~6 bytes (~50 with the ids and numbers written out).
 *
 * Version 3 keeps an established listener's item within one write unit where version 2 took two:
 * a genre or mood entry is 9 bytes instead of ~16 (its name front-coded), a fingerprint 7 instead
 * of 8. Scores stay float64 (see above). Version 2 is version 3 with every genre and mood key
 * front-coded like the top lists and the fingerprints always f64; version 1 is version 2 without
 * the recent listens (`recent: []`). Both still decode.
 * `userId` and `version` are not inside: they are the item's key and the write condition.
 */
import { ByteReader, ByteWriter, CodecError } from '../binary.ts';
import { GENRES, MOODS } from '../genres.ts';
import type { Profile, RecentListen } from './profile.ts';

export const PROFILE_CODEC_VERSION = 3;

/**
 * The genre and mood vocabularies as version 3 codes them: the first 47 genres and 20 moods of
 * genres.ts, whose lists are append-only (their order is already the taste vectors' wire format),
 * so a stored code's meaning never changes; the codec test pins these prefixes. A genre or mood
 * appended later is written out as a key (code 255) until a new codec version takes a longer
 * prefix.
 */
export const GENRE_CODES: readonly string[] = Object.freeze(GENRES.slice(0, 47));
export const MOOD_CODES: readonly string[] = Object.freeze(MOODS.slice(0, 20));
const KEY_INLINE = 255;
const codeIndex = (vocabulary: readonly string[]) => new Map(vocabulary.map((k, i) => [k, i]));
const GENRE_INDEX = codeIndex(GENRE_CODES);
const MOOD_INDEX = codeIndex(MOOD_CODES);
/** Fingerprints stored in 7 bytes (version 3) are below 2^56. */
const FP_7_LIMIT = 2 ** 56;

const LISTEN_TYPES = ['play', 'skip', 'like', 'dislike'] as const;
const TYPE_CODE: Record<RecentListen['type'], number> = { play: 0, skip: 1, like: 2, dislike: 3 };
const REF_NONE = 0;
const REF_INDEX = 1;
const REF_INLINE = 2;
const FP_INLINE = 0x40;
const TS_ABSOLUTE = 0x80;

/**
 * Keys sorted and front-coded (length of the prefix shared with the previous key, then the rest):
 * catalog ids share long prefixes (`lastfm-t-1…`), so a top list's ids shrink to a few bytes each.
 */
function writeScores(w: ByteWriter, m: Readonly<Record<string, number>>): string[] {
  const keys = Object.keys(m).sort();
  w.varint(keys.length);
  let prev = '';
  for (const k of keys) {
    w.frontCoded(prev, k);
    w.f64(m[k]!);
    prev = k;
  }
  return keys;
}

/** A vocabulary-coded score map (version 3's genres and moods): a byte per known key. */
function writeCodedScores(
  w: ByteWriter,
  m: Readonly<Record<string, number>>,
  codes: ReadonlyMap<string, number>,
): void {
  const keys = Object.keys(m).sort();
  w.varint(keys.length);
  for (const k of keys) {
    const code = codes.get(k);
    if (code === undefined) {
      w.u8(KEY_INLINE);
      w.str(k);
    } else w.u8(code);
    w.f64(m[k]!);
  }
}

function readCodedScores(r: ByteReader, vocabulary: readonly string[], what: string): Record<string, number> {
  const n = r.varint();
  const out: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const code = r.u8();
    let k: string | undefined;
    if (code === KEY_INLINE) k = r.str();
    else {
      k = vocabulary[code];
      if (k === undefined) throw new CodecError(`${what}: unknown code ${code}`);
    }
    out[k] = r.f64();
  }
  return out;
}

/** Fingerprints: 7 bytes each when every one is an integer below 2^56 (always, for cyrb53), else f64. */
function writeFingerprints(w: ByteWriter, fps: readonly number[]): void {
  w.varint(fps.length);
  const narrow = fps.every((fp) => Number.isSafeInteger(fp) && fp >= 0 && fp < FP_7_LIMIT);
  w.u8(narrow ? 7 : 8);
  for (const fp of fps) {
    if (!narrow) {
      w.f64(fp);
      continue;
    }
    const lo = fp % 0x1000000; // 24 bits, then 32
    const hi = Math.floor(fp / 0x1000000);
    w.u8(lo);
    w.u8(lo >>> 8);
    w.u8(lo >>> 16);
    w.u8(hi);
    w.u8(hi >>> 8);
    w.u8(hi >>> 16);
    w.u8(hi >>> 24);
  }
}

function readFingerprints(r: ByteReader, version: number): number[] {
  const n = r.varint();
  const width = version >= 3 ? r.u8() : 8;
  if (width !== 7 && width !== 8) throw new CodecError(`fingerprints: unknown width ${width}`);
  const out: number[] = new Array(n);
  for (let i = 0; i < n; i++) {
    if (width === 8) out[i] = r.f64();
    else {
      const lo = r.u8() | (r.u8() << 8) | (r.u8() << 16);
      const hi = (r.u8() | (r.u8() << 8) | (r.u8() << 16) | (r.u8() << 24)) >>> 0;
      out[i] = hi * 0x1000000 + lo;
    }
  }
  return out;
}

/** `keys` receives the keys in stored (sorted) order: recent listens refer to them by index. */
function readScores(r: ByteReader, keys?: string[]): Record<string, number> {
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
    keys?.push(k);
    prev = k;
  }
  return out;
}

/** Index of `id` in sorted `keys` (the order `Array.prototype.sort` gives), or −1. */
function sortedIndexOf(keys: readonly string[], id: string): number {
  let lo = 0;
  let hi = keys.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const k = keys[mid]!;
    if (k === id) return mid;
    if (k < id) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

function writeRef(w: ByteWriter, mode: number, keys: readonly string[], id: string | undefined): void {
  if (mode === REF_INDEX) w.varint(sortedIndexOf(keys, id!));
  else if (mode === REF_INLINE) w.str(id!);
}

function refMode(keys: readonly string[], id: string | undefined): number {
  if (id === undefined) return REF_NONE;
  return sortedIndexOf(keys, id) >= 0 ? REF_INDEX : REF_INLINE;
}

function writeRecent(w: ByteWriter, p: Profile, artistKeys: readonly string[], trackKeys: readonly string[]): void {
  const recent = p.recent;
  w.varint(recent.length);
  let prevTs = p.lastEventTs ?? Number.NaN;
  for (const l of recent) {
    const track = refMode(trackKeys, l.trackId);
    const artist = refMode(artistKeys, l.artistId);
    const fpIndex = l.fp === undefined ? -1 : p.recentEventIds.lastIndexOf(l.fp);
    const delta = prevTs - l.ts;
    const absolute = !Number.isSafeInteger(l.ts) || !(delta >= 0) || !Number.isSafeInteger(delta);
    w.u8(
      TYPE_CODE[l.type] | (track << 2) | (artist << 4) | (fpIndex < 0 ? FP_INLINE : 0) | (absolute ? TS_ABSOLUTE : 0),
    );
    writeRef(w, track, trackKeys, l.trackId);
    writeRef(w, artist, artistKeys, l.artistId);
    if (absolute) w.f64(l.ts);
    else w.varint(delta);
    if (fpIndex >= 0) w.varint(fpIndex);
    else w.f64(l.fp ?? Number.NaN);
    prevTs = l.ts;
  }
}

function readRef(r: ByteReader, mode: number, keys: readonly string[], what: string): string | undefined {
  if (mode === REF_NONE) return undefined;
  if (mode === REF_INLINE) return r.str();
  if (mode !== REF_INDEX) throw new CodecError(`recent listen: unknown ${what} reference ${mode}`);
  const i = r.varint();
  const id = keys[i];
  if (id === undefined) throw new CodecError(`recent listen: ${what} index ${i} of ${keys.length}`);
  return id;
}

function readRecent(
  r: ByteReader,
  lastEventTs: number,
  fingerprints: readonly number[],
  artistKeys: readonly string[],
  trackKeys: readonly string[],
): RecentListen[] {
  const n = r.varint();
  const out: RecentListen[] = new Array(n);
  let prevTs = lastEventTs;
  for (let i = 0; i < n; i++) {
    const flags = r.u8();
    const track = readRef(r, (flags >> 2) & 3, trackKeys, 'track');
    const artist = readRef(r, (flags >> 4) & 3, artistKeys, 'artist');
    const ts = flags & TS_ABSOLUTE ? r.f64() : prevTs - r.varint();
    let fp: number | undefined;
    if (flags & FP_INLINE) {
      const v = r.f64();
      if (!Number.isNaN(v)) fp = v;
    } else {
      const at = r.varint();
      fp = fingerprints[at];
      if (fp === undefined) throw new CodecError(`recent listen: fingerprint index ${at} of ${fingerprints.length}`);
    }
    const l: RecentListen = { ts, type: LISTEN_TYPES[flags & 3]! };
    if (track !== undefined) l.trackId = track;
    if (artist !== undefined) l.artistId = artist;
    if (fp !== undefined) l.fp = fp;
    out[i] = l;
    prevTs = ts;
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
  writeCodedScores(w, p.genres, GENRE_INDEX);
  writeCodedScores(w, p.moods, MOOD_INDEX);
  const artistKeys = writeScores(w, p.topArtists);
  const trackKeys = writeScores(w, p.topTracks);
  const offsets = Object.keys(p.offsets);
  w.varint(offsets.length);
  for (const k of offsets) {
    w.str(k);
    w.varint(p.offsets[k]!);
  }
  writeFingerprints(w, p.recentEventIds);
  writeRecent(w, p, artistKeys, trackKeys);
  return w.bytes();
}

/** The inverse of `encodeProfileState`; throws `CodecError` on a truncated or unknown value. */
export function decodeProfileState(userId: string, version: number, bytes: Uint8Array): Profile {
  const r = new ByteReader(bytes);
  const v = r.u8();
  if (v < 1 || v > PROFILE_CODEC_VERSION) throw new CodecError(`profile ${userId}: unknown state version ${v}`);
  const anchorTs = r.f64();
  const first = r.f64();
  const last = r.f64();
  const counts = { plays: r.varint(), skips: r.varint(), likes: r.varint(), dislikes: r.varint(), events: r.varint() };
  const genres = v >= 3 ? readCodedScores(r, GENRE_CODES, 'genres') : readScores(r);
  const moods = v >= 3 ? readCodedScores(r, MOOD_CODES, 'moods') : readScores(r);
  const artistKeys: string[] = [];
  const trackKeys: string[] = [];
  const topArtists = readScores(r, artistKeys);
  const topTracks = readScores(r, trackKeys);
  const offsets: Record<string, number> = {};
  const nOffsets = r.varint();
  for (let i = 0; i < nOffsets; i++) {
    const k = r.str();
    offsets[k] = r.varint();
  }
  const recentEventIds = readFingerprints(r, v);
  const recent = v === 1 ? [] : readRecent(r, last, recentEventIds, artistKeys, trackKeys);
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
    recent,
  };
}
