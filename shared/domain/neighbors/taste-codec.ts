/**
 * The compact forms of a taste that an index entry carries and a profile update ships: the genre
 * vector as "index:weight" pairs, the artist (or track) sketch as "id:weight" pairs, and a key of
 * a sketch's strongest ids. No similarity code here, so the profile fold can use the sketch
 * without pulling in the search (no import cycle).
 */
import { GENRE_COUNT } from '../genres.ts';

// ---------------------------------------------------------------------------------------------
// Compact encoding: "12:999,4:490" — genre index : weight relative to the largest, 0–999. The top 16
// genres are kept (~80 bytes); dropping more costs recall (near neighbours differ in the small ones).

const QUANT = 999;

/** Top `maxDims` positive components, scaled to the largest (so it stays 3 digits) and rounded. */
export function encodeVector(vector: ArrayLike<number>, maxDims = 16): string {
  const idx: number[] = [];
  let max = 0;
  for (let i = 0; i < vector.length; i++) {
    const x = vector[i]!;
    if (x > 0) {
      idx.push(i);
      if (x > max) max = x;
    }
  }
  if (max === 0) return '';
  idx.sort((i, j) => vector[j]! - vector[i]! || i - j);
  const parts: string[] = [];
  for (const i of idx.slice(0, maxDims)) {
    const qv = Math.round((vector[i]! / max) * QUANT);
    if (qv > 0) parts.push(`${i}:${qv}`);
  }
  return parts.join(',');
}

/** Dense L2-normalized vector from `encodeVector` output (unknown or malformed parts ignored). */
export function decodeVector(s: string): Float64Array {
  const v = new Float64Array(GENRE_COUNT);
  if (s === '') return v;
  let norm = 0;
  for (const part of s.split(',')) {
    const colon = part.indexOf(':');
    const i = Number(part.slice(0, colon));
    const x = Number(part.slice(colon + 1));
    if (colon < 0 || !Number.isInteger(i) || i < 0 || i >= GENRE_COUNT || !(x > 0)) continue;
    v[i] = x;
    norm += x * x;
  }
  if (norm > 0) {
    const inv = 1 / Math.sqrt(norm);
    for (let i = 0; i < v.length; i++) v[i]! *= inv;
  }
  return v;
}

// ---------------------------------------------------------------------------------------------
// Artist sketch: the user's top artists in the same compact form, "artistId:weight,…" with the
// id URI-encoded (so ',' and ':' cannot clash) and the weight relative to the largest, 1–999.
// It lets a refresh rank candidates by artist overlap from the index entry alone.

/** Artists kept in a sketch (~32 × (id + 4) bytes). */
export const ARTIST_SKETCH_SIZE = 32;

/**
 * The `limit` largest positive scores, each raised to `exponent` (as `tasteFeatures`'
 * itemExponent: 1 keeps them, 0 binarizes), scaled to the largest and quantized to 1–999.
 * Ties by id, so the sketch is deterministic.
 */
export function encodeArtistSketch(
  scores: Readonly<Record<string, number>>,
  opts: { limit?: number; exponent?: number } = {},
): string {
  const limit = opts.limit ?? ARTIST_SKETCH_SIZE;
  const e = opts.exponent ?? 1;
  const entries: [string, number][] = [];
  for (const k in scores) {
    const v = scores[k]!;
    if (v > 0 && Number.isFinite(v)) entries.push([k, e === 0 ? 1 : v ** e]);
  }
  if (entries.length === 0 || limit <= 0) return '';
  entries.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const top = entries.slice(0, limit);
  const max = top[0]![1];
  return top.map(([k, v]) => `${encodeURIComponent(k)}:${Math.max(1, Math.round((v / max) * QUANT))}`).join(',');
}

/**
 * L2-normalized sparse artist vector from `encodeArtistSketch` output (malformed parts ignored),
 * each artist's weight multiplied by `itemWeight` first when given (IDF from the item model's
 * listener counts, as the exact similarity weighs full profiles).
 */
export function decodeArtistSketch(s: string | undefined, itemWeight?: (id: string) => number): Map<string, number> {
  const out: Map<string, number> = new Map();
  if (!s) return out;
  let norm = 0;
  for (const part of s.split(',')) {
    const colon = part.lastIndexOf(':');
    if (colon <= 0) continue;
    const x = Number(part.slice(colon + 1));
    if (!(x > 0) || !Number.isFinite(x)) continue;
    let id: string;
    try {
      id = decodeURIComponent(part.slice(0, colon));
    } catch {
      continue;
    }
    const w = itemWeight ? x * itemWeight(id) : x;
    if (!(w > 0)) continue;
    out.set(id, w);
    norm += w * w;
  }
  if (norm > 0) {
    const inv = 1 / Math.sqrt(norm);
    for (const [k, x] of out) out.set(k, x * inv);
  }
  return out;
}

/**
 * A key of the sketch's strongest artists (the first `top`, as a set): an index entry is rewritten
 * when this changes, not on every small change of weights. 0 for an empty sketch.
 */
export function artistSketchKey(sketch: string | undefined, top = 8): number {
  if (!sketch) return 0;
  const ids: string[] = [];
  for (const part of sketch.split(',', top)) {
    const colon = part.lastIndexOf(':');
    if (colon > 0) ids.push(part.slice(0, colon));
  }
  ids.sort();
  // FNV-1a over the joined ids (ids are URI-encoded in the sketch, so ',' cannot occur in one).
  let h = 0x811c9dc5;
  const s = ids.join(',');
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0 || 1;
}
