/**
 * The item model: what the ranking knows about items from *all* users, built on a schedule by the
 * batch layer — the item model's SQL (`sql/item-model/`) over the event archive, on Athena in the
 * cloud and DuckDB locally (the offline evaluation runs the same SQL) — and loaded by
 * `shared/batch/item-model-loader.ts`:
 *
 * - listener counts per item (users with the item among their top items): the β popularity
 *   penalty of the ranking and the basis of IDF weights;
 * - co-listening neighbours per item (RP3beta, as `itemNeighborLists` defines them), over all
 *   users, each user's strongest items bounded;
 * - content neighbours per item from its tag counts (as `contentNeighborLists` defines them).
 *
 * User-side state (profiles, user neighbours) stays real-time; item–item similarity moves slowly
 * and is the part a periodic rebuild serves well. Also the compact codecs the store uses.
 */
import { CodecError } from '../../errors.ts';
import type { PreparedItems } from '../ranking/types.ts';
import type { ItemGraphParams } from './item-neighbors.ts';

export interface ItemModelParams extends ItemGraphParams {
  /** Content (tag) neighbours kept per item. */
  contentTopK: number;
}

/** Defaults = the offline evaluation's tuned values (EVALUATION.md). */
export const DEFAULT_ITEM_MODEL: Readonly<ItemModelParams> = Object.freeze({
  alpha: 0.7,
  beta: 0.4,
  topK: 200,
  contentTopK: 30,
});

export interface ItemModel {
  /** Users whose items were counted, and how many fed the co-listening pass (all of them). */
  users: number;
  sampledUsers: number;
  /** Item → number of users with it in their top list. */
  listeners: Map<string, number>;
  /** Item → co-listening neighbours (RP3beta weights, descending). */
  similar: Map<string, PreparedItems>;
  /** Item → content neighbours (tag TF-IDF cosine, descending); only items with tags. */
  content: Map<string, PreparedItems>;
}

/** 32-bit FNV-1a: a stable hash across runs and machines. */
export function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

// ---------------------------------------------------------------------------------------------
// Codecs: lists and counts as one string of ids plus a packed binary array (a few KB per item
// instead of a DynamoDB list of maps, which costs ~3× the bytes and far more marshalling CPU).

/** Separator of packed ids (ASCII unit separator: cannot appear in a valid id). */
const SEP = '\u001f';

export interface PackedList {
  ids: string;
  weights: Uint8Array;
}

export function packList(list: PreparedItems): PackedList {
  if (list.ids.some((id) => id.includes(SEP))) throw new CodecError('item id contains the list separator');
  const w = Float32Array.from(list.weights);
  return { ids: list.ids.join(SEP), weights: new Uint8Array(w.buffer, w.byteOffset, w.byteLength) };
}

export function unpackList(packed: PackedList): PreparedItems {
  const ids = packed.ids === '' ? [] : packed.ids.split(SEP);
  const bytes = Uint8Array.from(packed.weights); // copy: aligned for Float32Array
  const w = new Float32Array(bytes.buffer, 0, bytes.byteLength / 4);
  if (w.length !== ids.length) throw new CodecError(`packed list has ${ids.length} ids but ${w.length} weights`);
  return { ids, weights: Float64Array.from(w) };
}

export interface PackedCounts {
  ids: string;
  counts: Uint8Array;
}

/** Listener counts, split into shards of at most `maxBytes` (DynamoDB items are ≤ 400 KB). */
export function packCounts(counts: ReadonlyMap<string, number>, maxBytes = 300_000): PackedCounts[] {
  const shards: PackedCounts[] = [];
  let ids: string[] = [];
  let values: number[] = [];
  let bytes = 0;
  const flush = () => {
    if (ids.length === 0) return;
    const c = Uint32Array.from(values);
    shards.push({ ids: ids.join(SEP), counts: new Uint8Array(c.buffer, c.byteOffset, c.byteLength) });
    ids = [];
    values = [];
    bytes = 0;
  };
  for (const [id, n] of [...counts].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))) {
    if (id.includes(SEP)) throw new CodecError('item id contains the list separator');
    const size = id.length * 3 + 5; // worst-case UTF-8 id + separator + 4-byte count
    if (bytes + size > maxBytes) flush();
    ids.push(id);
    values.push(Math.min(n, 0xffffffff));
    bytes += size;
  }
  flush();
  return shards;
}

export function unpackCounts(shards: readonly PackedCounts[], into = new Map<string, number>()): Map<string, number> {
  for (const s of shards) {
    const ids = s.ids === '' ? [] : s.ids.split(SEP);
    const bytes = Uint8Array.from(s.counts);
    const c = new Uint32Array(bytes.buffer, 0, bytes.byteLength / 4);
    if (c.length !== ids.length) throw new CodecError(`packed counts have ${ids.length} ids but ${c.length} counts`);
    for (let i = 0; i < ids.length; i++) into.set(ids[i]!, c[i]!);
  }
  return into;
}
