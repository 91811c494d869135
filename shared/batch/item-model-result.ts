/**
 * What the item model's SQL produces, engine-independent: per kind, the listener counts and the
 * items' neighbour lists, plus the listeners to announce the build to. Built from the output
 * parts' rows (`readItemModelResult`), whichever engine produced them; read by the loader. Pure.
 */
import type { ItemKind } from '../domain/catalog/catalog.ts';
import type { PreparedItems } from '../domain/ranking/types.ts';
import type { OutputPart } from './item-model-sql.ts';

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

/** One item's neighbour list as the `similar` and `content` parts give it, neighbours in rank order. */
export interface ListRow {
  kind: string;
  item_id: string;
  neighbor_ids: readonly string[];
  weights: readonly number[];
}

export const emptyKind = (): KindModel => ({ users: 0, listeners: new Map(), similar: new Map(), content: new Map() });

const isKind = (k: string): k is ItemKind => k === 'a' || k === 't';

/** Listener rows into the per-kind maps. */
export function addListeners(result: ItemModelResult, rows: Iterable<ListenerRow>): void {
  for (const r of rows) if (isKind(r.kind)) result.kinds[r.kind].listeners.set(r.item_id, Number(r.listeners));
}

/** List rows into the per-kind maps. */
export function addLists(result: ItemModelResult, field: 'similar' | 'content', rows: Iterable<ListRow>): void {
  for (const r of rows) {
    if (!isKind(r.kind)) continue;
    if (r.neighbor_ids.length !== r.weights.length)
      throw new Error(
        `${field} list of ${r.kind}#${r.item_id}: ${r.neighbor_ids.length} ids, ${r.weights.length} weights`,
      );
    result.kinds[r.kind][field].set(r.item_id, { ids: [...r.neighbor_ids], weights: Float64Array.from(r.weights) });
  }
}

/** A part's result rows, from wherever an engine left them (Parquet files, S3 objects, a query). */
export type PartRows = (part: OutputPart) => Promise<Iterable<Record<string, unknown>>>;

/** The item model result from the output parts' rows (the loader's input, both engines). */
export async function readItemModelResult(rows: PartRows): Promise<ItemModelResult> {
  const result = emptyResult();
  for (const u of await rows('users')) {
    const kind = String(u.kind);
    if (isKind(kind)) result.kinds[kind].users = Number(u.users);
  }
  addListeners(result, (await rows('listeners')) as Iterable<ListenerRow>);
  addLists(result, 'similar', (await rows('similar')) as Iterable<ListRow>);
  addLists(result, 'content', (await rows('content')) as Iterable<ListRow>);
  result.activeUsers = [...(await rows('active_users'))].map((r) => String(r.user_id));
  return result;
}

export function emptyResult(): ItemModelResult {
  return { kinds: { a: emptyKind(), t: emptyKind() }, activeUsers: [] };
}
