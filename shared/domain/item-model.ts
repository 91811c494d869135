/**
 * The item model: what the ranking knows about items from *all* users, rebuilt on a schedule by
 * the `item-model-builder` function from the profiles table and the catalog (and by the offline
 * evaluation from the training profiles, through this same code):
 *
 * - listener counts per item (users with the item in their top list): the β popularity penalty
 *   of the ranking and the basis of IDF weights;
 * - co-listening neighbours per item (`itemNeighborLists`, RP3beta-style), from a deterministic
 *   sample of users when there are more than `maxUsers` (the pair pass costs Σ|u|²);
 * - content neighbours per item from its tag counts (`contentNeighborLists`), where the catalog
 *   has tags (Last.fm artist tags).
 *
 * User-side state (profiles, user neighbours) stays real-time; item–item similarity moves slowly
 * and is the part a periodic rebuild serves well. Also the compact codecs the store uses.
 */
import { CodecError, ConfigurationError } from '../errors.ts';
import { contentNeighborLists, type ItemGraphParams, itemNeighborLists } from './item-neighbors.ts';
import type { PreparedItems } from './recommend.ts';

export interface ItemModelParams extends ItemGraphParams {
  /** Content (tag) neighbours kept per item. */
  contentTopK: number;
  /** Users whose item sets feed the co-listening pass (a deterministic sample above this). */
  maxUsers: number;
}

/** Defaults = the offline evaluation's tuned values (EVALUATION.md). */
export const DEFAULT_ITEM_MODEL: Readonly<ItemModelParams> = Object.freeze({
  alpha: 0.7,
  beta: 0.4,
  topK: 200,
  contentTopK: 30,
  maxUsers: 20_000,
});

export interface ItemModel {
  /** Users whose items were counted, and how many of them fed the co-listening pass. */
  users: number;
  sampledUsers: number;
  /** Item → number of users with it in their top list. */
  listeners: Map<string, number>;
  /** Item → co-listening neighbours (RP3beta weights, descending). */
  similar: Map<string, PreparedItems>;
  /** Item → content neighbours (tag TF-IDF cosine, descending); only items with tags. */
  content: Map<string, PreparedItems>;
}

/** 32-bit FNV-1a: the sampling hash (stable across runs and machines). */
export function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/**
 * Bottom-hash sample of at most `max` users: keeps the users whose hash is below a threshold that
 * halves whenever more than `max` are kept. The result is every user with hash < the final
 * threshold, whatever order users arrive in (a scan's order is not stable), so rebuilds over the
 * same users pick the same sample.
 */
export class UserSample<T> {
  private threshold = 2 ** 32;
  private readonly kept = new Map<string, { hash: number; value: T }>();
  constructor(private readonly max: number) {
    if (!(max >= 1)) throw new ConfigurationError(`sample size must be at least 1, got ${max}`);
  }

  offer(userId: string, value: T): void {
    const hash = hash32(userId);
    if (hash >= this.threshold) return;
    this.kept.set(userId, { hash, value });
    while (this.kept.size > this.max) {
      this.threshold /= 2;
      for (const [u, e] of this.kept) if (e.hash >= this.threshold) this.kept.delete(u);
    }
  }

  get size(): number {
    return this.kept.size;
  }

  values(): T[] {
    return [...this.kept.values()].map((e) => e.value);
  }
}

/** Incremental builder: offer users as a scan delivers them, then `build`. */
export class ItemModelBuilder {
  private readonly listeners = new Map<string, number>();
  private readonly sample: UserSample<string[]>;
  private users = 0;

  constructor(private readonly params: Readonly<ItemModelParams> = DEFAULT_ITEM_MODEL) {
    this.sample = new UserSample(params.maxUsers);
  }

  /** One user's top list (item → score; items with a positive score count). Offer each user once. */
  addUser(userId: string, topItems: Readonly<Record<string, number>>): void {
    const items = Object.keys(topItems).filter((id) => topItems[id]! > 0);
    if (items.length === 0) return;
    this.users++;
    for (const id of items) this.listeners.set(id, (this.listeners.get(id) ?? 0) + 1);
    this.sample.offer(userId, items);
  }

  build(itemTags?: ReadonlyMap<string, Readonly<Record<string, number>>>): ItemModel {
    const rows = this.sample.values();
    return {
      users: this.users,
      sampledUsers: rows.length,
      listeners: this.listeners,
      similar: itemNeighborLists(rows, this.params),
      content: itemTags && itemTags.size > 0 ? contentNeighborLists(itemTags, this.params.contentTopK) : new Map(),
    };
  }
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
