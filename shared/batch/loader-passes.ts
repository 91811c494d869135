/**
 * The loader's passes (item-model-loader.ts runs them in order): a list part streamed in chunks
 * and diffed against the stored lists, the clean-up of lists the build no longer has (one bucket
 * of keys at a time), and the counts and manifests when anything changed.
 */
import {
  getStoredLists,
  type ItemModelManifest,
  type ListsWrite,
  publishItemModelManifest,
  retireCounts,
  type StoredLists,
  scanItemModelListKeys,
  writeItemModelLists,
} from '../adapters/dynamodb/item-model.ts';
import type { Stores } from '../adapters/dynamodb/stores.ts';
import { type ItemKind, itemKey, parseItemKey } from '../domain/catalog/catalog.ts';
import type { PackedList } from '../domain/item-model/item-model.ts';
import { type BuildSource, listenerRow, listRow, type Row } from './build-source.ts';
import { CountShardWriter, CountsDigest, storedCountsDigest } from './counts-stream.ts';
import type { KeySpill } from './key-spill.ts';
import { sameList } from './list-drift.ts';

const KINDS: readonly ItemKind[] = ['a', 't'];
type Field = 'similar' | 'content';
/** Spill tags: the build has a similar / content list (S / C); this load wrote the item (w). */
const BUILT_TAG: Record<Field, string> = { similar: 'S', content: 'C' };

/** What a load did for one kind of item (artists or tracks). */
export interface KindLoad {
  users: number;
  items: number;
  withSimilar: number;
  withContent: number;
  listsWritten: number;
  listsDeleted: number;
}

export interface PassContext {
  stores: Stores;
  modelId: string;
  tolerance: number;
  chunkItems: number;
  /** Every key the build has a list for, with its tags. */
  built: KeySpill;
  kinds: Record<ItemKind, KindLoad>;
  log: (line: string) => void;
}

/** Listeners per kind (the `users` part: a row per kind). */
export async function readUsers(source: BuildSource): Promise<Record<ItemKind, number>> {
  const users: Record<ItemKind, number> = { a: 0, t: 0 };
  for await (const batch of source.batches('users'))
    for (const r of batch) if (r.kind === 'a' || r.kind === 't') users[r.kind] = Number(r.users);
  return users;
}

/** Loads one list part: each chunk's changed lists written, the other list kept as stored. */
export async function loadListsPass(ctx: PassContext, source: BuildSource, field: Field): Promise<void> {
  let chunk: { itemId: string; kind: ItemKind; list: PackedList }[] = [];
  let written = 0;
  const flush = async () => {
    written += await writeChunk(ctx, field, chunk);
    chunk = [];
  };
  for await (const batch of source.batches(field)) {
    for (const row of batch as Row[]) {
      const r = listRow(row);
      if (!r) continue;
      chunk.push({ itemId: itemKey(r.kind, r.itemId), kind: r.kind, list: r.list });
      ctx.kinds[r.kind][field === 'similar' ? 'withSimilar' : 'withContent']++;
      if (chunk.length >= ctx.chunkItems) await flush();
    }
  }
  await flush();
  ctx.log(`loader: ${field}: ${written} items written`);
}

/** Requests of a chunk in flight at once (BatchGets of 100 keys, BatchWrites of 25 items). */
const PARALLEL = 4;

/** `items` in slices of `size`, `PARALLEL` slices at a time (one slice's requests in order). */
async function inSlices<T, R>(items: readonly T[], size: number, f: (slice: T[]) => Promise<R>): Promise<R[]> {
  const slices: T[][] = [];
  for (let i = 0; i < items.length; i += size) slices.push(items.slice(i, i + size));
  const out: R[] = [];
  for (let i = 0; i < slices.length; i += PARALLEL)
    out.push(...(await Promise.all(slices.slice(i, i + PARALLEL).map(f))));
  return out;
}

async function storedListsOf(ctx: PassContext, itemIds: readonly string[]): Promise<Map<string, StoredLists>> {
  const maps = await inSlices(itemIds, 100, (ids) => getStoredLists(ctx.stores, ids));
  return new Map(maps.flatMap((m) => [...m]));
}

async function writeChunk(
  ctx: PassContext,
  field: Field,
  chunk: readonly { itemId: string; kind: ItemKind; list: PackedList }[],
): Promise<number> {
  if (chunk.length === 0) return 0;
  const stored = await storedListsOf(
    ctx,
    chunk.map((c) => c.itemId),
  );
  const other: Field = field === 'similar' ? 'content' : 'similar';
  const puts: ListsWrite[] = [];
  for (const c of chunk) {
    const old = stored.get(c.itemId);
    const unchanged = old && old.expiresAt === undefined && sameList(old[field], c.list, ctx.tolerance);
    ctx.built.add(c.itemId, unchanged ? BUILT_TAG[field] : `${BUILT_TAG[field]}w`);
    if (unchanged) continue;
    puts.push({
      itemId: c.itemId,
      modelId: ctx.modelId,
      [field]: c.list,
      ...(old?.[other] ? { [other]: old[other] } : {}),
    });
  }
  await inSlices(puts, 25, (slice) => writeItemModelLists(ctx.stores, slice, []));
  return puts.length;
}

/**
 * Lists the build no longer has: the stored keys (a scan) and the build's (spilled while the
 * passes ran) compared one bucket at a time. An item without any list in the build is deleted; an
 * item that lost one list is rewritten with the other. Also counts the build's items per kind.
 */
export async function cleanUpLists(ctx: PassContext, stored: KeySpill): Promise<void> {
  await scanItemModelListKeys(ctx.stores, (itemId, has) =>
    stored.add(itemId, `${has.similar ? 's' : ''}${has.content ? 'c' : ''}`),
  );
  for (let b = 0; b < stored.buckets; b++) {
    const built = ctx.built.read(b);
    const deletes: string[] = [];
    const trims: { itemId: string; keep: Field[] }[] = [];
    for (const [itemId, tags] of built) {
      const kind = parseItemKey(itemId)?.kind;
      if (!kind) continue;
      ctx.kinds[kind].items++;
      if (tags.includes('w')) ctx.kinds[kind].listsWritten++;
    }
    for (const [itemId, tags] of stored.read(b)) {
      const have = built.get(itemId) ?? '';
      const stale = (['similar', 'content'] as const).filter(
        (f) => tags.includes(f[0]!) && !have.includes(BUILT_TAG[f]),
      );
      if (stale.length === 0) continue;
      const kind = parseItemKey(itemId)?.kind;
      const keep = (['similar', 'content'] as const).filter((f) => have.includes(BUILT_TAG[f]));
      if (keep.length === 0) {
        deletes.push(itemId);
        if (kind) ctx.kinds[kind].listsDeleted++;
      } else trims.push({ itemId, keep });
    }
    await inSlices(await trimmed(ctx, trims), 25, (slice) => writeItemModelLists(ctx.stores, slice, []));
    await inSlices(deletes, 25, (slice) => writeItemModelLists(ctx.stores, [], slice));
  }
}

/** Items rewritten with only the lists the build still has (read back, then put whole). */
async function trimmed(ctx: PassContext, trims: readonly { itemId: string; keep: Field[] }[]): Promise<ListsWrite[]> {
  const puts: ListsWrite[] = [];
  for (let i = 0; i < trims.length; i += 100) {
    const slice = trims.slice(i, i + 100);
    const stored = await storedListsOf(
      ctx,
      slice.map((t) => t.itemId),
    );
    for (const t of slice) {
      const old: StoredLists | undefined = stored.get(t.itemId);
      if (!old) continue;
      const kind = parseItemKey(t.itemId)?.kind;
      if (kind) ctx.kinds[kind].listsWritten++;
      puts.push({ itemId: t.itemId, modelId: ctx.modelId, ...Object.fromEntries(t.keep.map((f) => [f, old[f]])) });
    }
  }
  return puts;
}

/**
 * When lists or counts changed: the count shards (the `listeners` part streamed into them), the
 * manifests, then the superseded build's shards retired. Whether counts changed is told by their
 * digests, so neither build's counts are held. Returns whether a new build was published.
 */
export async function publishBuild(
  ctx: PassContext,
  source: BuildSource,
  manifests: ReadonlyMap<ItemKind, ItemModelManifest | undefined>,
  now: number,
  retireAfterSeconds: number,
): Promise<boolean> {
  const digests = { a: new CountsDigest(), t: new CountsDigest() };
  for await (const batch of source.batches('listeners'))
    for (const row of batch) {
      const r = listenerRow(row);
      if (r) digests[r.kind].add(r.itemId, r.listeners);
    }
  let changed = KINDS.some((k) => ctx.kinds[k].listsWritten > 0 || ctx.kinds[k].listsDeleted > 0);
  for (const kind of KINDS) {
    const m = manifests.get(kind);
    if (changed) break;
    changed = !m || (await storedCountsDigest(ctx.stores, kind, m)) !== digests[kind].toString();
  }
  if (!changed) return false;
  const writers = {
    a: new CountShardWriter(ctx.stores, 'a', ctx.modelId),
    t: new CountShardWriter(ctx.stores, 't', ctx.modelId),
  };
  for await (const batch of source.batches('listeners'))
    for (const row of batch) {
      const r = listenerRow(row);
      if (r) await writers[r.kind].add(r.itemId, r.listeners);
    }
  for (const kind of KINDS) await writers[kind].flush();
  for (const kind of KINDS)
    await publishItemModelManifest(ctx.stores, kind, {
      modelId: ctx.modelId,
      builtAt: now,
      users: ctx.kinds[kind].users,
      sampledUsers: ctx.kinds[kind].users,
      items: ctx.kinds[kind].items,
      countShards: writers[kind].shards,
      countsDigest: digests[kind].toString(),
    });
  const retireAt = Math.ceil(now / 1000 + retireAfterSeconds);
  for (const kind of KINDS) {
    const old = manifests.get(kind);
    if (old && old.modelId !== ctx.modelId) await retireCounts(ctx.stores, kind, old, retireAt);
  }
  return true;
}
