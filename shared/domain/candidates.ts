/**
 * Precomputed recommendation candidates: the expensive, collaborative part of `recommend()` moved
 * to write time (when a user's neighbours are refreshed or a new item model is published), and the
 * cheap part left to read time.
 *
 * - `buildCandidates` (write time): for one kind, every candidate's RAW component scores — the
 *   user-neighbour score after the β penalty (before max-normalization) with its supporter count,
 *   the item (co-listening) score and the content (tag) score — kept for at most `size` items.
 * - `rankCandidates` (read time): re-normalizes each component by its max over what is still
 *   allowed (the user's current top items and the genre filter remove candidates), blends them as
 *   `recommend()` does and adds the genre part, reasons and the 'genre' / 'popular' fallbacks.
 *   With an untruncated list and the same inputs it returns exactly what `recommend()` returns.
 * - `packCandidates` / `packCandidateSet`: the compact binary form stored as one DynamoDB item.
 *
 * What read time cannot see: the item/content lists of items the user started playing after the
 * build (their own exclusion is immediate, their neighbours' influence waits for the next build),
 * and the genre part λ at build time (λ = 0 by default; with λ > 0 selection ignores it). A genre
 * filter ranks the kept candidates of that genre: the build does not know item genres, so with a
 * truncated list a genre's best candidates may have been dropped (seeded test worlds, 300 of
 * ~500–700 kept: same top item, ~88 % of recommend()'s top 20).
 *
 * The read-time ranking tail (genre match, reasons, fallbacks) is `recommend()`'s own
 * (`finishRanking`); the property tests in test/unit/domain/candidates.test.ts pin the two to
 * identical results. Both halves live in one file (~500 lines) on purpose: they are one score
 * split in time, and a change to one that the other does not follow breaks that identity.
 */

import { ConfigurationError } from '../errors.ts';
import { ByteReader, ByteWriter, CodecError } from './binary.ts';
import { scoreItemNeighbors } from './item-neighbors.ts';
import type { Profile } from './profile.ts';
import {
  type CandidateItem,
  type CollaborativeScore,
  DEFAULT_RANKING,
  finishRanking,
  type ItemScores,
  type NeighborItems,
  openRanking,
  type PreparedItems,
  type RankingParams,
  type RecommendResult,
  scoreCandidates,
} from './recommend.ts';

export type CandidateKind = 'track' | 'artist';

/**
 * One user's candidates of one kind, position-aligned arrays. A component array is absent when
 * its lists were not given at build time (this matters: `recommend()` gives the user-neighbour part
 * weight 1 − ω whenever item lists are given, even if none of the user's items has one).
 */
export interface CandidateList {
  kind: CandidateKind;
  ids: string[];
  /** User-neighbour score Σ sim^α · norm(w^γ) / pop^β; 0 when no neighbour has the item. */
  collab: Float64Array;
  /** Neighbours that contributed to `collab` (0 ⇔ not a user-neighbour candidate). */
  supporters: Uint16Array;
  /** Σ of the item-model co-listening weights from the user's own items; 0 when none. */
  item?: Float64Array | undefined;
  /** Σ of the content (tag) neighbour weights from the user's own items; 0 when none. */
  content?: Float64Array | undefined;
}

export interface BuildCandidatesInput {
  kind: CandidateKind;
  /** The user's own top items of this kind (id → score): excluded; positive ones seed item/content lists. */
  ownItems: ItemScores;
  neighbors: readonly NeighborItems[];
  /** Listener counts for the β penalty (as `RecommendInput.popularity`). */
  popularity?: ReadonlyMap<string, number> | undefined;
  itemNeighbors?: ((id: string) => PreparedItems | undefined) | undefined;
  contentNeighbors?: ((id: string) => PreparedItems | undefined) | undefined;
  params?: Partial<RankingParams> | undefined;
  /** Candidates kept (default `DEFAULT_CANDIDATE_SIZE`). */
  size?: number | undefined;
}

export interface BuildCandidatesResult {
  /** Kept candidates, sorted by id (stable bytes, and shared id prefixes pack well). */
  list: CandidateList;
  /** Candidates before truncation. */
  total: number;
  /**
   * Best build-time blended score (max-normalized to 1) among the dropped candidates, 0 when none
   * was dropped: read-time results below it may differ from an untruncated ranking.
   */
  droppedBest: number;
}

export const DEFAULT_CANDIDATE_SIZE = 300;

/**
 * Share of `size` reserved for the top items of each component (user-neighbour, item, content)
 * before filling by blended score: read time normalizes each component by its max over what is
 * still allowed, so those maxima must survive a few fresh plays that exclude the top items.
 */
const COMPONENT_RESERVE = 0.05;

const byId = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export function buildCandidates(input: BuildCandidatesInput): BuildCandidatesResult {
  const params: RankingParams = { ...DEFAULT_RANKING, ...input.params };
  const size = Math.max(0, Math.floor(input.size ?? DEFAULT_CANDIDATE_SIZE));
  if (Number.isNaN(size)) throw new ConfigurationError(`invalid candidate list size ${input.size}`);
  const own = new Set<string>();
  const seeds: string[] = [];
  forEachScore(input.ownItems, (id, w) => {
    own.add(id);
    if (w > 0) seeds.push(id);
  });
  const isOwn = (id: string) => own.has(id);

  // The same calls recommend() makes, with only the user's own items excluded: the remaining
  // exclusions (fresh plays, genre filter) only remove items, they never change another item's
  // raw score, so they can wait until read time.
  const collab = scoreCandidates(input.neighbors, {
    ...params,
    exclude: isOwn,
    ...(input.popularity ? { popularity: input.popularity } : {}),
  });
  const item = input.itemNeighbors ? scoreItemNeighbors(seeds, input.itemNeighbors, isOwn) : undefined;
  const content = input.contentNeighbors ? scoreItemNeighbors(seeds, input.contentNeighbors, isOwn) : undefined;

  const idSet = new Set<string>(collab.keys());
  for (const id of item?.keys() ?? []) idSet.add(id);
  for (const id of content?.keys() ?? []) idSet.add(id);
  const ids = [...idSet].sort(byId);
  const n = ids.length;
  const full: CandidateList = {
    kind: input.kind,
    ids,
    collab: new Float64Array(n),
    supporters: new Uint16Array(n),
    item: item ? new Float64Array(n) : undefined,
    content: content ? new Float64Array(n) : undefined,
  };
  for (let p = 0; p < n; p++) {
    const id = ids[p]!;
    const c = collab.get(id);
    if (c) {
      full.collab[p] = c.score;
      // Supporters ≤ the number of neighbours; the clamp only guards the storage width.
      full.supporters[p] = Math.min(c.supporters, 0xffff);
    }
    if (full.item) full.item[p] = item!.get(id) ?? 0;
    if (full.content) full.content[p] = content!.get(id) ?? 0;
  }

  return { ...trimCandidates(full, size, params), total: n };
}

/**
 * The best `size` of a list, as `buildCandidates` keeps them: each component's top few first
 * (so its maximum, the read-time normalizer, survives), then by blended score. Also used to fit a
 * built set into a byte budget (one write unit).
 */
export function trimCandidates(
  full: CandidateList,
  size: number,
  params: RankingParams = DEFAULT_RANKING,
): { list: CandidateList; droppedBest: number } {
  const ids = full.ids;
  const n = ids.length;
  if (n <= size) return { list: full, droppedBest: 0 };

  const all = Array.from({ length: n }, (_, p) => p);
  const { scores, max } = blendComponents(full, all, params);
  const blended = Float64Array.from(ids, (id) => (max > 0 ? (scores.get(id)?.score ?? 0) / max : 0));

  const kept = new Set<number>();
  const rankBy = (values: ArrayLike<number>): number[] =>
    all.filter((p) => values[p]! > 0).sort((a, b) => values[b]! - values[a]! || byId(ids[a]!, ids[b]!));
  const reserve = Math.max(1, Math.ceil(size * COMPONENT_RESERVE));
  const components = [full.collab, full.item, full.content].flatMap((v) => (v ? [rankBy(v).slice(0, reserve)] : []));
  // Interleaved by rank so that even a tiny `size` keeps every component's maximum.
  for (let r = 0; r < reserve; r++)
    for (const top of components) if (r < top.length && kept.size < size) kept.add(top[r]!);
  const byBlend = [...all].sort((a, b) => blended[b]! - blended[a]! || byId(ids[a]!, ids[b]!));
  let droppedBest = 0;
  for (const p of byBlend) {
    if (kept.has(p)) continue;
    if (kept.size < size) kept.add(p);
    else {
      droppedBest = blended[p]!;
      break;
    }
  }
  const positions = [...kept].sort((a, b) => a - b); // id order, as `full`
  return { list: subsetCandidates(full, positions), droppedBest };
}

function subsetCandidates(list: CandidateList, positions: readonly number[]): CandidateList {
  const pick = <T extends Float64Array | Uint16Array>(v: T, make: (n: number) => T): T => {
    const out = make(positions.length);
    positions.forEach((p, i) => {
      out[i] = v[p]!;
    });
    return out;
  };
  return {
    kind: list.kind,
    ids: positions.map((p) => list.ids[p]!),
    collab: pick(list.collab, (n) => new Float64Array(n)),
    supporters: pick(list.supporters, (n) => new Uint16Array(n)),
    item: list.item ? pick(list.item, (n) => new Float64Array(n)) : undefined,
    content: list.content ? pick(list.content, (n) => new Float64Array(n)) : undefined,
  };
}

function forEachScore(items: ItemScores, fn: (id: string, w: number) => void): void {
  if (items instanceof Map) for (const [id, w] of items) fn(id, w);
  else for (const id in items as Record<string, number>) fn(id, (items as Record<string, number>)[id]!);
}

/**
 * The collaborative part over the allowed positions, in recommend()'s exact operation order (so
 * scores are bit-identical): user-neighbour scores, and when item/content parts apply, each part
 * max-normalized and added with its weight to the user-neighbour score scaled by (1 − ω) / max.
 * Returns the un-normalized blend per candidate and its max.
 */
function blendComponents(
  list: CandidateList,
  positions: readonly number[],
  params: RankingParams,
): { scores: Map<string, CollaborativeScore>; max: number } {
  const scores = new Map<string, CollaborativeScore>();
  let max = 0;
  for (const p of positions) {
    const supporters = list.supporters[p]!;
    if (supporters === 0) continue;
    const score = list.collab[p]!;
    scores.set(list.ids[p]!, { score, supporters });
    if (score > max) max = score;
  }
  const parts: [number, Float64Array][] = [];
  if (params.itemBlend > 0 && list.item) parts.push([params.itemBlend, list.item]);
  if (params.contentBlend > 0 && list.content) parts.push([params.contentBlend, list.content]);
  if (parts.length === 0) return { scores, max };

  const wu = max > 0 ? (1 - (list.item ? params.itemBlend : 0)) / max : 0;
  for (const c of scores.values()) c.score *= wu;
  for (const [weight, values] of parts) {
    let maxPart = 0;
    for (const p of positions) if (values[p]! > maxPart) maxPart = values[p]!;
    if (!(maxPart > 0)) continue;
    for (const p of positions) {
      const s = values[p]!;
      if (!(s > 0)) continue;
      const add = (weight * s) / maxPart;
      const id = list.ids[p]!;
      const cur = scores.get(id);
      if (cur === undefined) scores.set(id, { score: add, supporters: 0, similarItems: true });
      else {
        cur.score += add;
        cur.similarItems = true;
      }
    }
  }
  max = 0;
  for (const c of scores.values()) if (c.score > max) max = c.score;
  return { scores, max };
}

// ---------------------------------------------------------------------------------------------
// Read time

export interface RankCandidatesInput {
  kind: CandidateKind;
  /** The stored list of this kind; undefined when none was built yet (genre / popular fallback). */
  list?: CandidateList | undefined;
  /** The user's CURRENT profile: its genres, and its top items of the kind are excluded. */
  profile?: Pick<Profile, 'genres' | 'topArtists' | 'topTracks'> | undefined;
  /** Excluded on top of the profile's items. */
  exclude?: ReadonlySet<string> | undefined;
  /** Catalog items (popular in genre): genre info, genre filter and fallbacks, as `RecommendInput.candidates`. */
  catalog?: readonly CandidateItem[] | undefined;
  /** Only items of this genre (any tag spelling; an unknown genre matches nothing). */
  genre?: string | undefined;
  limit?: number | undefined;
  params?: Partial<RankingParams> | undefined;
}

/**
 * Read-time ranking of a stored candidate list: the result `recommend()` gives for the same
 * inputs (with its `exclude` = the profile's items ∪ `exclude`), whenever the list kept every
 * candidate that matters (see `BuildCandidatesResult.droppedBest`).
 */
export function rankCandidates(input: RankCandidatesInput): RecommendResult {
  const list = input.list;
  if (list && list.kind !== input.kind)
    throw new Error(`candidate list is for ${list.kind}s, asked for ${input.kind}s`);
  const opened = openRanking({
    ...input,
    exclude: (own) => {
      const exclude = new Set(Object.keys(own));
      for (const id of input.exclude ?? []) exclude.add(id);
      return exclude;
    },
  });
  if ('answer' in opened) return opened.answer;
  const { params, allowed } = opened;

  const positions: number[] = [];
  if (list) for (let p = 0; p < list.ids.length; p++) if (allowed(list.ids[p]!)) positions.push(p);
  const { scores: collab, max: maxCollab } = list
    ? blendComponents(list, positions, params)
    : { scores: new Map<string, CollaborativeScore>(), max: 0 };

  return finishRanking(opened, collab, maxCollab);
}

// ---------------------------------------------------------------------------------------------
// Binary codec (on binary.ts, like the profile and neighbour-list states). One DynamoDB item
// holds both kinds (`packCandidateSet`), read with the profile in one BatchGet.
//
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
