/**
 * What the item model's SQL produces, engine-independent: per kind, the listener counts and the
 * items' neighbour lists, plus the listeners to announce the build to. Built from the queries'
 * rows (`ItemModelRows`) by either engine's runner; read by the loader. Pure.
 */
import type { ItemKind } from '../domain/catalog.ts';
import type { PreparedItems } from '../domain/recommend.ts';

export interface KindModel {
  /** Users with at least one item of this kind (no sample: all of them). */
  users: number;
  listeners: Map<string, number>;
  similar: Map<string, PreparedItems>;
  content: Map<string, PreparedItems>;
}

export interface ItemModelResult {
  kinds: Record<ItemKind, KindModel>;
  /** Recently active listeners, newest first (the build is announced to them). */
  activeUsers: string[];
}

export interface ListenerRow {
  kind: string;
  item_id: string;
  listeners: number | bigint;
}

export interface NeighborRow {
  kind: string;
  item_id: string;
  neighbor_id: string;
  weight: number;
  neighbor_rank: number | bigint;
}

export const emptyKind = (): KindModel => ({ users: 0, listeners: new Map(), similar: new Map(), content: new Map() });

const isKind = (k: string): k is ItemKind => k === 'a' || k === 't';

/** Listener rows into the per-kind maps. */
export function addListeners(result: ItemModelResult, rows: Iterable<ListenerRow>): void {
  for (const r of rows) if (isKind(r.kind)) result.kinds[r.kind].listeners.set(r.item_id, Number(r.listeners));
}

/** Neighbour rows (any order) into lists ordered by rank. */
export function addNeighbors(result: ItemModelResult, field: 'similar' | 'content', rows: Iterable<NeighborRow>): void {
  const pending = new Map<string, Map<string, NeighborRow[]>>();
  for (const r of rows) {
    if (!isKind(r.kind)) continue;
    let byItem = pending.get(r.kind);
    if (!byItem) {
      byItem = new Map();
      pending.set(r.kind, byItem);
    }
    let l = byItem.get(r.item_id);
    if (!l) {
      l = [];
      byItem.set(r.item_id, l);
    }
    l.push(r);
  }
  for (const [kind, byItem] of pending) {
    const out = result.kinds[kind as ItemKind][field];
    for (const [id, l] of byItem) {
      l.sort((a, b) => Number(a.neighbor_rank) - Number(b.neighbor_rank));
      out.set(id, { ids: l.map((r) => r.neighbor_id), weights: Float64Array.from(l, (r) => r.weight) });
    }
  }
}

export function emptyResult(): ItemModelResult {
  return { kinds: { a: emptyKind(), t: emptyKind() }, activeUsers: [] };
}
