/**
 * Ingest's name resolution (shared/domain/catalog/name-resolution.ts) over the catalog's name index
 * (dynamodb/name-index.ts), cached per container as catalog-cache.ts caches catalog items; ingest
 * calls it through shared/handlers/name-resolution.ts.
 */
import {
  type ListenAliases,
  lookupKeys,
  type NamedListen,
  type NameIndexEntry,
  type NameOnlyItem,
  type Resolution,
  resolveListen,
} from '../domain/catalog/name-resolution.ts';
import { getIndexEntries, putNameOnlyItem } from './dynamodb/name-index.ts';
import type { Stores } from './dynamodb/stores.ts';

/**
 * Resolves listens through the index with a per-container cache (entries for 5 minutes, misses
 * for 30 s, so a catalog loaded meanwhile is seen soon), and records unknown names once per
 * container.
 */
export class NameResolver {
  private readonly entries = new Map<string, { entry: NameIndexEntry | undefined; expires: number }>();
  private readonly recorded = new Set<string>();
  constructor(
    private readonly maxEntries = 100_000,
    private readonly hitTtlMs = 5 * 60_000,
    private readonly missTtlMs = 30_000,
  ) {}

  async resolve<E extends NamedListen>(
    s: Stores,
    listens: readonly { event: E; aliases?: ListenAliases }[],
    now = Date.now(),
  ): Promise<Resolution<E>[]> {
    const wanted = new Set<string>();
    for (const l of listens) for (const k of lookupKeys(l.event, l.aliases)) wanted.add(k);
    const missing = [...wanted].filter((k) => (this.entries.get(k)?.expires ?? 0) < now);
    if (missing.length > 0) {
      const found = await getIndexEntries(s, missing);
      if (this.entries.size + missing.length > this.maxEntries) this.entries.clear(); // simple and bounded
      for (const k of missing) {
        const entry = found.get(k);
        this.entries.set(k, { entry, expires: now + (entry ? this.hitTtlMs : this.missTtlMs) });
      }
    }
    const view = new Map<string, NameIndexEntry>();
    for (const k of wanted) {
      const entry = this.entries.get(k)?.entry;
      if (entry) view.set(k, entry);
    }
    return listens.map((l) => resolveListen(l.event, view, l.aliases));
  }

  /** Puts name-only items for the unknown names not yet recorded by this container. */
  async recordUnknown(s: Stores, resolutions: readonly Resolution<unknown>[]): Promise<number> {
    const todo = new Map<string, NameOnlyItem>();
    for (const r of resolutions)
      for (const n of r.unknown) {
        const key = `${n.kind}#${n.id}`;
        if (!this.recorded.has(key)) todo.set(key, n);
      }
    let written = 0;
    const items = [...todo];
    for (let i = 0; i < items.length; i += 16) {
      await Promise.all(
        items.slice(i, i + 16).map(async ([key, n]) => {
          if (await putNameOnlyItem(s, n)) written++;
          this.recorded.add(key);
        }),
      );
    }
    if (this.recorded.size > this.maxEntries) this.recorded.clear();
    return written;
  }
}
