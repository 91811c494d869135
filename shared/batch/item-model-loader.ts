/**
 * The batch layer's loader: an `ItemModelResult` (from Athena's or DuckDB's run of the same SQL)
 * into the item-model table. Writes only the lists that changed (and deletes the lists of items a
 * build no longer has), then — when anything changed — the build's count shards, then the
 * manifests last, so a reader that follows a manifest finds all it names. An unchanged result
 * writes nothing and publishes no new build. Idempotent: loading the same result again finds
 * every list equal and the counts equal to the current build's.
 */
import {
  getItemModelCounts,
  getItemModelManifest,
  type ItemModelManifest,
  type ListsWrite,
  publishItemModelManifest,
  putItemModelCounts,
  retireCounts,
  type StoredLists,
  scanItemModelLists,
  writeItemModelLists,
} from '../adapters/dynamodb/item-model.ts';
import type { Stores } from '../adapters/dynamodb/stores.ts';
import { type ItemKind, itemKey, parseItemKey } from '../domain/catalog.ts';
import { type PackedList, packCounts, packList, unpackCounts, unpackList } from '../domain/item-model.ts';
import type { ItemModelResult, KindModel } from './item-model-result.ts';

export const KINDS: readonly ItemKind[] = ['a', 't'];

export interface KindLoad {
  users: number;
  items: number;
  withSimilar: number;
  withContent: number;
  listsWritten: number;
  listsDeleted: number;
}

export interface LoadSummary {
  /** The build readers now follow (the previous one when nothing changed). */
  modelId: string | undefined;
  /** Whether a new build was published (lists or counts changed). */
  published: boolean;
  kinds: Record<ItemKind, KindLoad>;
  itemsWritten: number;
}

/** Below this, two weights are the same number (float32 storage; the engines' parallel sums). */
const FLOAT_NOISE = 2 ** -20;

/**
 * How far apart two lists are, as scores see them: the largest change of any neighbour's weight
 * (0 where a list lacks it) relative to the larger top weight. 0 for equal lists; a reordering
 * of near-equal neighbours or a tail neighbour swapped for another is small, a new strong
 * neighbour is large.
 */
export function listDrift(a: PackedList, b: PackedList): number {
  if (a.ids === b.ids && a.weights.byteLength === b.weights.byteLength) {
    const wa = unpackList(a).weights;
    const wb = unpackList(b).weights;
    let top = 0;
    let d = 0;
    for (let i = 0; i < wa.length; i++) {
      top = Math.max(top, Math.abs(wa[i]!), Math.abs(wb[i]!));
      d = Math.max(d, Math.abs(wa[i]! - wb[i]!));
    }
    return top > 0 ? d / top : 0;
  }
  const la = unpackList(a);
  const lb = unpackList(b);
  const w = new Map<string, number>();
  let top = 0;
  for (let i = 0; i < la.ids.length; i++) {
    w.set(la.ids[i]!, la.weights[i]!);
    top = Math.max(top, Math.abs(la.weights[i]!));
  }
  let d = 0;
  for (let i = 0; i < lb.ids.length; i++) {
    const x = lb.weights[i]!;
    top = Math.max(top, Math.abs(x));
    d = Math.max(d, Math.abs(x - (w.get(lb.ids[i]!) ?? 0)));
    w.delete(lb.ids[i]!);
  }
  for (const x of w.values()) d = Math.max(d, Math.abs(x));
  return top > 0 ? d / top : 0;
}

/**
 * Whether a stored list may stay: within `tolerance` (listDrift) of the build's. At tolerance 0
 * only float noise passes.
 */
export function sameList(a: PackedList | undefined, b: PackedList | undefined, tolerance = 0): boolean {
  if (!a || !b) return a === b;
  return listDrift(a, b) <= Math.max(tolerance, FLOAT_NOISE);
}

/** The list writes and deletes that take the stored lists to the result's (pure). */
export function diffLists(
  kind: ItemKind,
  model: KindModel,
  stored: ReadonlyMap<string, StoredLists>,
  modelId: string,
  tolerance = 0,
): { puts: ListsWrite[]; deletes: string[]; withSimilar: number; withContent: number; items: number } {
  const puts: ListsWrite[] = [];
  const ids = new Set<string>();
  let withSimilar = 0;
  let withContent = 0;
  for (const id of [...model.similar.keys(), ...model.content.keys()]) {
    if (ids.has(id)) continue;
    ids.add(id);
    const s = model.similar.get(id);
    const c = model.content.get(id);
    const similar = s && s.ids.length > 0 ? packList(s) : undefined;
    const content = c && c.ids.length > 0 ? packList(c) : undefined;
    if (similar) withSimilar++;
    if (content) withContent++;
    if (!similar && !content) continue;
    const itemId = itemKey(kind, id);
    const old = stored.get(itemId);
    if (
      old &&
      old.expiresAt === undefined &&
      sameList(old.similar, similar, tolerance) &&
      sameList(old.content, content, tolerance)
    )
      continue;
    puts.push({
      itemId,
      modelId,
      listeners: model.listeners.get(id) ?? 0,
      ...(similar ? { similar } : {}),
      ...(content ? { content } : {}),
    });
  }
  const deletes: string[] = [];
  for (const itemId of stored.keys()) {
    const key = parseItemKey(itemId);
    if (key?.kind !== kind) continue;
    const id = key.id;
    const s = model.similar.get(id);
    const c = model.content.get(id);
    if (!((s && s.ids.length > 0) || (c && c.ids.length > 0))) deletes.push(itemId);
  }
  return { puts, deletes, withSimilar, withContent, items: ids.size };
}

function sameCounts(a: ReadonlyMap<string, number>, b: ReadonlyMap<string, number>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (b.get(k) !== v) return false;
  return true;
}

export async function loadItemModel(
  stores: Stores,
  result: ItemModelResult,
  opts: {
    now?: number;
    log?: (line: string) => void;
    retireAfterSeconds?: number;
    /** ITEM_MODEL_LIST_TOLERANCE: how far a stored list may be from the build's and stay. */
    tolerance?: number;
  } = {},
): Promise<LoadSummary> {
  const now = opts.now ?? Date.now();
  const log = opts.log ?? (() => {});
  const modelId = new Date(now).toISOString();
  const written = stores.counter.itemsWritten;
  const stored = new Map<string, StoredLists>();
  await scanItemModelLists(stores, (item) => stored.set(item.itemId, item));
  log(`loader: ${stored.size} stored lists`);

  const kinds = {} as Record<ItemKind, KindLoad>;
  let listsChanged = false;
  for (const kind of KINDS) {
    const model = result.kinds[kind];
    const d = diffLists(kind, model, stored, modelId, opts.tolerance ?? 0);
    await writeItemModelLists(stores, d.puts, d.deletes);
    listsChanged ||= d.puts.length > 0 || d.deletes.length > 0;
    kinds[kind] = {
      users: model.users,
      items: d.items,
      withSimilar: d.withSimilar,
      withContent: d.withContent,
      listsWritten: d.puts.length,
      listsDeleted: d.deletes.length,
    };
    log(
      `loader: ${kind}: ${d.puts.length} lists written, ${d.deletes.length} deleted, ${d.items - d.puts.length} unchanged`,
    );
  }

  // Counts: a new build only when they or any list changed (an unchanged archive writes nothing).
  const manifests = new Map<ItemKind, ItemModelManifest | undefined>();
  let countsChanged = false;
  for (const kind of KINDS) {
    const m = await getItemModelManifest(stores, kind);
    manifests.set(kind, m);
    if (!m) {
      countsChanged = true;
      continue;
    }
    if (!countsChanged) {
      const current = unpackCounts(await getItemModelCounts(stores, kind, m));
      countsChanged = !sameCounts(current, result.kinds[kind].listeners);
    }
  }
  const published = listsChanged || countsChanged;
  if (published) {
    const shards = new Map(KINDS.map((k) => [k, packCounts(result.kinds[k].listeners)] as const));
    for (const kind of KINDS) await putItemModelCounts(stores, kind, modelId, shards.get(kind)!);
    for (const kind of KINDS) {
      const model = result.kinds[kind];
      await publishItemModelManifest(stores, kind, {
        modelId,
        builtAt: now,
        users: model.users,
        sampledUsers: model.users,
        items: kinds[kind].items,
        countShards: shards.get(kind)!.length,
      });
    }
    const retireAt = Math.ceil(now / 1000 + (opts.retireAfterSeconds ?? 3600));
    for (const kind of KINDS) {
      const old = manifests.get(kind);
      if (old && old.modelId !== modelId) await retireCounts(stores, kind, old, retireAt);
    }
  }
  const summary: LoadSummary = {
    modelId: published ? modelId : manifests.get('a')?.modelId,
    published,
    kinds,
    itemsWritten: stores.counter.itemsWritten - written,
  };
  log(
    `loader: ${published ? `published ${modelId}` : 'nothing changed: no new build'}, ${summary.itemsWritten} items written`,
  );
  return summary;
}
