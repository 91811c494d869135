/**
 * The candidate set's binary form: one DynamoDB item holds both kinds (`packCandidateSet`), read
 * with the profile in one BatchGet (on binary.ts, like the profile and neighbour-list states).
 */
import { ByteReader, ByteWriter, CodecError } from '../binary.ts';
import type { CandidateList } from './types.ts';

// List, version 1 (little-endian; varint = unsigned LEB128, str = varint byte length + UTF-8):
//   u8 version · u8 kind (0 track, 1 artist) · u8 flags · varint n
//   n ids, front-coded: u8 UTF-16 units shared with the previous id · str rest (lists from
//     `buildCandidates` are sorted by id, so `lastfm-12345` costs ~5 bytes)
//   collab · supporters (u8, or u16 with FLAG_WIDE_SUPPORTERS) · item (FLAG_ITEM) · content (FLAG_CONTENT)
// where each score array is n × f32, or with FLAG_U16 an f32 scale then n × u16 fractions of it
// (absolute error ≤ scale / 131070, ≤ 8e-6 of the component's max — below the API's 1e-4 score
// rounding; a positive value stays ≥ 1 step so no item loses a component, nor a reason).

const LIST_VERSION = 1;
const SET_VERSION = 1;
const FLAG_ITEM = 1;
const FLAG_CONTENT = 2;
const FLAG_WIDE_SUPPORTERS = 4;
const FLAG_U16 = 8;
const SET_TRACK = 1;
const SET_ARTIST = 2;
const SET_MODEL_ID = 4;
const U16_MAX = 0xffff;

export type ScorePrecision = 'f32' | 'u16';

export interface PackOptions {
  /** Score encoding: 'f32' (default; ~6e-8 relative error) or 'u16' (fractions of the component's max). */
  precision?: ScorePrecision;
}

export interface CandidateSet {
  track?: CandidateList | undefined;
  artist?: CandidateList | undefined;
  /** The item model the lists were built with. */
  modelId?: string | undefined;
  /** Build time, epoch ms. */
  builtAt: number;
  /** The user's profile version the lists were built from. */
  profileVersion: number;
}

function writeScores(w: ByteWriter, values: Float64Array, precision: ScorePrecision): void {
  if (precision === 'f32') {
    for (const v of values) w.f32(v);
    return;
  }
  let max = 0;
  for (const v of values) {
    if (!(v >= 0) || v === Number.POSITIVE_INFINITY) throw new CodecError(`cannot quantize score ${v}`);
    if (v > max) max = v;
  }
  const scale = Math.fround(max);
  w.f32(scale);
  for (const v of values) w.u16(v > 0 ? Math.min(U16_MAX, Math.max(1, Math.round((v / scale) * U16_MAX))) : 0);
}

function readScores(r: ByteReader, n: number, precision: ScorePrecision): Float64Array {
  const out = new Float64Array(n);
  if (precision === 'f32') {
    for (let i = 0; i < n; i++) out[i] = r.f32();
    return out;
  }
  const step = r.f32() / U16_MAX;
  for (let i = 0; i < n; i++) out[i] = r.u16() * step;
  return out;
}

function writeList(w: ByteWriter, list: CandidateList, precision: ScorePrecision): void {
  const n = list.ids.length;
  for (const [name, v] of [
    ['collab', list.collab],
    ['supporters', list.supporters],
    ['item', list.item],
    ['content', list.content],
  ] as const)
    if (v !== undefined && v.length !== n)
      throw new CodecError(`candidate list has ${n} ids but ${v.length} ${name} values`);
  let maxSupporters = 0;
  for (const s of list.supporters) if (s > maxSupporters) maxSupporters = s;
  const wide = maxSupporters > 0xff;
  w.u8(LIST_VERSION);
  w.u8(list.kind === 'track' ? 0 : 1);
  w.u8(
    (list.item ? FLAG_ITEM : 0) |
      (list.content ? FLAG_CONTENT : 0) |
      (wide ? FLAG_WIDE_SUPPORTERS : 0) |
      (precision === 'u16' ? FLAG_U16 : 0),
  );
  w.varint(n);
  let prev = '';
  for (const id of list.ids) {
    w.frontCoded(prev, id);
    prev = id;
  }
  writeScores(w, list.collab, precision);
  for (const s of list.supporters) {
    if (wide) w.u16(s);
    else w.u8(s);
  }
  if (list.item) writeScores(w, list.item, precision);
  if (list.content) writeScores(w, list.content, precision);
}

function readList(r: ByteReader): CandidateList {
  const version = r.u8();
  if (version !== LIST_VERSION) throw new CodecError(`unsupported list version ${version} (expected ${LIST_VERSION})`);
  const kindByte = r.u8();
  if (kindByte > 1) throw new CodecError(`invalid kind ${kindByte}`);
  const flags = r.u8();
  if (flags & ~(FLAG_ITEM | FLAG_CONTENT | FLAG_WIDE_SUPPORTERS | FLAG_U16))
    throw new CodecError(`invalid flags ${flags}`);
  const n = r.varint();
  const ids: string[] = [];
  let prev = '';
  for (let i = 0; i < n; i++) {
    prev = r.frontCoded(prev);
    ids.push(prev);
  }
  const precision: ScorePrecision = flags & FLAG_U16 ? 'u16' : 'f32';
  const collab = readScores(r, n, precision);
  const supporters = new Uint16Array(n);
  for (let i = 0; i < n; i++) supporters[i] = flags & FLAG_WIDE_SUPPORTERS ? r.u16() : r.u8();
  return {
    kind: kindByte === 0 ? 'track' : 'artist',
    ids,
    collab,
    supporters,
    item: flags & FLAG_ITEM ? readScores(r, n, precision) : undefined,
    content: flags & FLAG_CONTENT ? readScores(r, n, precision) : undefined,
  };
}

/** Decodes with `read`, naming the value in any error (truncation, bad version, trailing bytes). */
function decode<T>(what: string, bytes: Uint8Array, read: (r: ByteReader) => T): T {
  try {
    const r = new ByteReader(bytes);
    const value = read(r);
    if (!r.done) throw new CodecError('trailing bytes');
    return value;
  } catch (e) {
    if (e instanceof CodecError) throw new CodecError(`${what}: ${e.message}`);
    throw e;
  }
}

export function packCandidates(list: CandidateList, opts: PackOptions = {}): Uint8Array {
  const w = new ByteWriter(64 + list.ids.length * 24);
  writeList(w, list, opts.precision ?? 'f32');
  return w.bytes();
}

/** Inverse of `packCandidates`; throws a `CodecError` naming the problem on a malformed buffer. */
export function unpackCandidates(bytes: Uint8Array): CandidateList {
  return decode('candidate list', bytes, readList);
}

/**
 * Set, version 1: u8 version · u8 flags (1 track, 2 artist, 4 modelId) · f64 builtAt ·
 * varint profileVersion · [str modelId] · [track list] · [artist list] (lists as above).
 */
export function packCandidateSet(set: CandidateSet, opts: PackOptions = {}): Uint8Array {
  if (set.track && set.track.kind !== 'track') throw new CodecError(`the track list holds ${set.track.kind}s`);
  if (set.artist && set.artist.kind !== 'artist') throw new CodecError(`the artist list holds ${set.artist.kind}s`);
  if (!Number.isFinite(set.builtAt)) throw new CodecError(`invalid builtAt ${set.builtAt}`);
  const precision = opts.precision ?? 'f32';
  const w = new ByteWriter(64 + ((set.track?.ids.length ?? 0) + (set.artist?.ids.length ?? 0)) * 24);
  w.u8(SET_VERSION);
  w.u8((set.track ? SET_TRACK : 0) | (set.artist ? SET_ARTIST : 0) | (set.modelId !== undefined ? SET_MODEL_ID : 0));
  w.f64(set.builtAt);
  w.varint(set.profileVersion);
  if (set.modelId !== undefined) w.str(set.modelId);
  if (set.track) writeList(w, set.track, precision);
  if (set.artist) writeList(w, set.artist, precision);
  return w.bytes();
}

/** Inverse of `packCandidateSet`; throws a `CodecError` naming the problem on a malformed buffer. */
export function unpackCandidateSet(bytes: Uint8Array): CandidateSet {
  return decode('candidate set', bytes, (r) => {
    const version = r.u8();
    if (version !== SET_VERSION) throw new CodecError(`unsupported version ${version} (expected ${SET_VERSION})`);
    const flags = r.u8();
    if (flags & ~(SET_TRACK | SET_ARTIST | SET_MODEL_ID)) throw new CodecError(`invalid flags ${flags}`);
    const set: CandidateSet = { builtAt: r.f64(), profileVersion: r.varint() };
    if (flags & SET_MODEL_ID) set.modelId = r.str();
    for (const kind of ['track', 'artist'] as const) {
      if (!(flags & (kind === 'track' ? SET_TRACK : SET_ARTIST))) continue;
      const list = readList(r);
      if (list.kind !== kind) throw new CodecError(`the ${kind} list holds ${list.kind}s`);
      set[kind] = list;
    }
    return set;
  });
}

/**
 * The key of the item model builds a candidate set depends on (artists' and tracks' build ids;
 * '' for a kind without a build): a set built under another key is rebuilt.
 */
export function candidatesModelKey(artistModelId: string | undefined, trackModelId: string | undefined): string {
  return `${artistModelId ?? ''}|${trackModelId ?? ''}`;
}
