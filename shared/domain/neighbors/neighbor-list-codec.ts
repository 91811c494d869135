/**
 * A neighbour list's stored form: one binary value that fits one DynamoDB write unit for K = 50
 * (a reverse insertion rewrites the list, so its size is what every insertion costs).
 *
 * Layout (version 1, little-endian):
 *
 *   u8 1 · f64 refreshedAt · str snapshot · str cell · str indexedVec · f64 indexedArtistsKey ·
 *   str candidatesModelId · f64 candidatesTopKey
 *   varint n, n × (u8 shared prefix, str rest of userId, f32 similarity), ids sorted (front-coded)
 *
 * Similarities are rounded to 6 decimals where they are computed, so float32 plus re-rounding
 * gives them back exactly; the list is re-sorted by similarity on decode.
 */
import { ByteReader, ByteWriter, CodecError } from '../binary.ts';
import type { Neighbor } from './neighbor-search.ts';

export const NEIGHBOR_LIST_CODEC_VERSION = 1;

/** What a stored list holds besides its key and its two conditions (`profileVersion`, `rev`). */
export interface NeighborListState {
  neighbors: Neighbor[];
  /** Epoch ms of the last refresh. */
  refreshedAt: number;
  /** Encoded taste vector the list was computed for (drift check). */
  snapshot: string;
  /** The index cell the user's entry lives in. */
  cell: string;
  /**
   * What the user's index entry was last written with (its vector and `artistSketchKey`), so a
   * refresh rewrites the entry only when it moved materially; '' / 0 when unknown.
   */
  indexedVec: string;
  indexedArtistsKey: number;
  /**
   * The item model the user's candidate list was last built with ('' when none was built): a new
   * model makes the next profile update rebuild it.
   */
  candidatesModelId: string;
  /** Key of the candidate set's top recommendations when it was last written (0: unknown). */
  candidatesTopKey: number;
}

/**
 * A user's neighbour list: the state above, its key and the two write conditions (the store is
 * shared/adapters/dynamodb/neighbors.ts).
 */
export interface NeighborList extends NeighborListState {
  userId: string;
  /** Profile version the list was computed for: an older update never overwrites a newer list. */
  profileVersion: number;
  /** Bumped on every write; reverse insertions (another user entering this list) condition on it. */
  rev: number;
}

const byNeighbor = (a: Neighbor, b: Neighbor) =>
  b.similarity - a.similarity || (a.userId < b.userId ? -1 : a.userId > b.userId ? 1 : 0);

export function encodeNeighborListState(s: NeighborListState): Uint8Array {
  const w = new ByteWriter(256 + s.neighbors.length * 16);
  w.u8(NEIGHBOR_LIST_CODEC_VERSION);
  w.f64(s.refreshedAt);
  w.str(s.snapshot);
  w.str(s.cell);
  w.str(s.indexedVec);
  w.f64(s.indexedArtistsKey);
  w.str(s.candidatesModelId);
  w.f64(s.candidatesTopKey);
  const sorted = [...s.neighbors].sort((a, b) => (a.userId < b.userId ? -1 : a.userId > b.userId ? 1 : 0));
  w.varint(sorted.length);
  let prev = '';
  for (const n of sorted) {
    w.frontCoded(prev, n.userId);
    w.f32(n.similarity);
    prev = n.userId;
  }
  return w.bytes();
}

export function decodeNeighborListState(userId: string, bytes: Uint8Array): NeighborListState {
  const r = new ByteReader(bytes);
  const v = r.u8();
  if (v !== NEIGHBOR_LIST_CODEC_VERSION) throw new CodecError(`neighbour list ${userId}: unknown state version ${v}`);
  const refreshedAt = r.f64();
  const snapshot = r.str();
  const cell = r.str();
  const indexedVec = r.str();
  const indexedArtistsKey = r.f64();
  const candidatesModelId = r.str();
  const candidatesTopKey = r.f64();
  const n = r.varint();
  const neighbors: Neighbor[] = new Array(n);
  let prev = '';
  for (let i = 0; i < n; i++) {
    const id = r.frontCoded(prev);
    neighbors[i] = { userId: id, similarity: Math.round(r.f32() * 1e6) / 1e6 };
    prev = id;
  }
  if (!r.done) throw new CodecError(`neighbour list ${userId}: trailing bytes in state`);
  neighbors.sort(byNeighbor);
  return { neighbors, refreshedAt, snapshot, cell, indexedVec, indexedArtistsKey, candidatesModelId, candidatesTopKey };
}
