/**
 * The item model as the read path sees it, cached per Lambda container: the latest build's
 * listener counts (reloaded only when the manifest names a new build; the manifest is re-read at
 * most every `ttlMs`) and items' neighbour lists (a BatchGet for the ids not cached; cleared when
 * a new build appears).
 */

import { type ItemKind, itemKey } from '../domain/catalog/catalog.ts';
import { unpackCounts, unpackList } from '../domain/item-model/item-model.ts';
import type { PreparedItems } from '../domain/ranking/types.ts';
import {
  getItemModelCounts,
  getItemModelEntries,
  getItemModelManifest,
  type ItemModelManifest,
} from './dynamodb/item-model.ts';
import type { Stores } from './dynamodb/stores.ts';

export interface ItemLists {
  similar?: PreparedItems;
  content?: PreparedItems;
}

interface KindState {
  checkedAt: number;
  modelId: string | undefined;
  listeners: Map<string, number> | undefined;
  lists: Map<string, { lists: ItemLists | undefined; expires: number }>;
  refreshing: Promise<void> | undefined;
}

export class ItemModelCache {
  private readonly kinds = new Map<ItemKind, KindState>();
  constructor(
    private readonly ttlMs = 5 * 60_000,
    private readonly maxEntries = 50_000,
    /** Until a first build exists, look again this soon (a fresh deployment builds within the hour). */
    private readonly absentTtlMs = 15_000,
  ) {}

  private state(kind: ItemKind): KindState {
    let s = this.kinds.get(kind);
    if (!s) {
      s = {
        checkedAt: Number.NEGATIVE_INFINITY,
        modelId: undefined,
        listeners: undefined,
        lists: new Map(),
        refreshing: undefined,
      };
      this.kinds.set(kind, s);
    }
    return s;
  }

  /** Re-reads the manifest when due; loads the counts of a new build. Concurrent callers share one refresh. */
  private async refresh(stores: Stores, kind: ItemKind, now: number): Promise<KindState> {
    const s = this.state(kind);
    if (now - s.checkedAt < (s.modelId === undefined ? this.absentTtlMs : this.ttlMs)) return s;
    s.refreshing ??= (async () => {
      try {
        const manifest: ItemModelManifest | undefined = await getItemModelManifest(stores, kind);
        if (manifest && manifest.modelId !== s.modelId) {
          s.listeners = unpackCounts(await getItemModelCounts(stores, kind, manifest));
          s.modelId = manifest.modelId;
          s.lists.clear();
        }
        s.checkedAt = now;
      } finally {
        s.refreshing = undefined;
      }
    })();
    await s.refreshing;
    return s;
  }

  /** Re-read the manifests on the next call (a new build was announced). */
  invalidate(): void {
    for (const s of this.kinds.values()) s.checkedAt = Number.NEGATIVE_INFINITY;
  }

  /** The latest build's id; undefined while no build exists. */
  async modelId(stores: Stores, kind: ItemKind, now = Date.now()): Promise<string | undefined> {
    return (await this.refresh(stores, kind, now)).modelId;
  }

  /** Listener counts of the latest build; undefined while no build exists. */
  async listeners(stores: Stores, kind: ItemKind, now = Date.now()): Promise<ReadonlyMap<string, number> | undefined> {
    return (await this.refresh(stores, kind, now)).listeners;
  }

  /** Neighbour lists of the given items (ids without the kind prefix); items without lists are absent. */
  async lists(
    stores: Stores,
    kind: ItemKind,
    ids: readonly string[],
    now = Date.now(),
  ): Promise<Map<string, ItemLists>> {
    const s = await this.refresh(stores, kind, now);
    const out = new Map<string, ItemLists>();
    if (s.modelId === undefined) return out;
    const missing: string[] = [];
    for (const id of ids) {
      const hit = s.lists.get(id);
      if (hit && hit.expires > now) {
        if (hit.lists) out.set(id, hit.lists);
      } else missing.push(id);
    }
    if (missing.length === 0) return out;
    const found = await getItemModelEntries(
      stores,
      missing.map((id) => itemKey(kind, id)),
    );
    if (s.lists.size + missing.length > this.maxEntries) s.lists.clear(); // simple and bounded
    for (const id of missing) {
      const e = found.get(itemKey(kind, id));
      const lists: ItemLists | undefined = e
        ? {
            ...(e.similar ? { similar: unpackList(e.similar) } : {}),
            ...(e.content ? { content: unpackList(e.content) } : {}),
          }
        : undefined;
      s.lists.set(id, { lists, expires: now + this.ttlMs });
      if (lists) out.set(id, lists);
    }
    return out;
  }
}
