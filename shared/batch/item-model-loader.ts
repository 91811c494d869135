/**
 * The batch layer's loader: a build's output parts (Athena's or DuckDB's run of the same SQL) into
 * the item-model table. Writes only the lists that changed (and removes the lists of items a build
 * no longer has), then — when anything changed — the build's count shards, then the manifests
 * last, so a reader that follows a manifest finds all it names. An unchanged build writes nothing
 * and publishes no new build; an empty one never replaces a model. Idempotent.
 *
 * It streams (`loadBuild`): the list parts a row group at a time, each chunk diffed against the
 * stored lists it names (one BatchGet per 100), the clean-up one bucket of keys at a time
 * (key-spill.ts), the counts digested and written shard by shard (counts-stream.ts). What it holds
 * is a chunk, a row group and a bucket of keys, whatever the build's size (BENCHMARKS.md, batch).
 * `diffLists` is the same rule over whole maps (the benchmark's drift figures).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  getItemModelManifest,
  type ItemModelManifest,
  type ListsWrite,
  type StoredLists,
} from '../adapters/dynamodb/item-model.ts';
import type { Stores } from '../adapters/dynamodb/stores.ts';
import { type ItemKind, itemKey, parseItemKey } from '../domain/catalog/catalog.ts';
import { packList } from '../domain/item-model/item-model.ts';
import { type BuildSource, resultSource } from './build-source.ts';
import type { ItemModelResult, KindModel } from './item-model-result.ts';
import { KeySpill } from './key-spill.ts';
import { sameList } from './list-drift.ts';
import {
  cleanUpLists,
  type KindLoad,
  loadListsPass,
  type PassContext,
  publishBuild,
  readUsers,
} from './loader-passes.ts';

export { listDrift, sameList } from './list-drift.ts';
export type { KindLoad } from './loader-passes.ts';

export const KINDS: readonly ItemKind[] = ['a', 't'];

export interface LoadSummary {
  /** The build readers now follow (the previous one when nothing changed). */
  modelId: string | undefined;
  /** Whether a new build was published (lists or counts changed). */
  published: boolean;
  kinds: Record<ItemKind, KindLoad>;
  itemsWritten: number;
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

export interface LoadOptions {
  now?: number;
  log?: (line: string) => void;
  retireAfterSeconds?: number;
  /** ITEM_MODEL_LIST_TOLERANCE: how far a stored list may be from the build's and stay. */
  tolerance?: number;
  /** Where the clean-up spills keys (a temporary directory of its own by default). */
  tempDir?: string;
  /** Items diffed per chunk (one BatchGet per 100). */
  chunkItems?: number;
  /** Keys per spill bucket: what the clean-up holds at once. */
  keysPerBucket?: number;
}

/** Loads a build read in bounded batches (see the header). */
export async function loadBuild(stores: Stores, source: BuildSource, opts: LoadOptions = {}): Promise<LoadSummary> {
  const now = opts.now ?? Date.now();
  const log = opts.log ?? (() => {});
  const modelId = new Date(now).toISOString();
  const written = stores.counter.itemsWritten;
  const users = await readUsers(source);
  const manifests = new Map<ItemKind, ItemModelManifest | undefined>();
  for (const kind of KINDS) manifests.set(kind, await getItemModelManifest(stores, kind));
  const current = manifests.get('a')?.modelId;
  if (users.a + users.t === 0 && (manifests.get('a') || manifests.get('t'))) {
    log('loader: the build has no listeners: the current model stays (an empty window never replaces one)');
    return { modelId: current, published: false, kinds: emptyLoads(users), itemsWritten: 0 };
  }
  const dir = mkdtempSync(join(opts.tempDir ?? tmpdir(), 'tunestream-loader-'));
  try {
    const rows = Math.max(
      (await source.rowCount('similar')) + (await source.rowCount('content')),
      ...KINDS.map((k) => manifests.get(k)?.items ?? 0),
    );
    const buckets = Math.min(4096, Math.max(1, Math.ceil(rows / (opts.keysPerBucket ?? 50_000))));
    const ctx: PassContext = {
      stores,
      modelId,
      tolerance: opts.tolerance ?? 0,
      chunkItems: opts.chunkItems ?? 500,
      built: new KeySpill(dir, 'built', buckets),
      kinds: emptyLoads(users),
      log,
    };
    // Content first: its lists follow the catalog's tags and rarely change, so the similar pass
    // (whose lists move with every build) writes each item once, keeping the stored content.
    const t0 = performance.now();
    const phase = (what: string) => log(`loader: ${what} after ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    for (const field of ['content', 'similar'] as const) {
      await loadListsPass(ctx, source, field);
      phase(`${field} pass done`);
    }
    await cleanUpLists(ctx, new KeySpill(dir, 'stored', buckets));
    phase(`clean-up done (${buckets} key buckets)`);
    const published = await publishBuild(ctx, source, manifests, now, opts.retireAfterSeconds ?? 3600);
    phase('counts and manifests done');
    const summary: LoadSummary = {
      modelId: published ? modelId : current,
      published,
      kinds: ctx.kinds,
      itemsWritten: stores.counter.itemsWritten - written,
    };
    log(
      `loader: ${published ? `published ${modelId}` : 'nothing changed: no new build'}, ${summary.itemsWritten} items written`,
    );
    return summary;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A result already in memory, loaded the same way (tests, small in-process builds). */
export function loadItemModel(stores: Stores, result: ItemModelResult, opts: LoadOptions = {}): Promise<LoadSummary> {
  return loadBuild(stores, resultSource(result), opts);
}

function emptyLoads(users: Record<ItemKind, number>): Record<ItemKind, KindLoad> {
  const load = (kind: ItemKind): KindLoad => ({
    users: users[kind],
    items: 0,
    withSimilar: 0,
    withContent: 0,
    listsWritten: 0,
    listsDeleted: 0,
  });
  return { a: load('a'), t: load('t') };
}
