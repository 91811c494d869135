/**
 * Item sizes of the pipeline's state as DynamoDB bills them (`attributeSize`, the write-unit
 * rule): each stored item as it is, and the same state in the former wide format (profile fields,
 * neighbour entries and index fields as top-level DynamoDB-JSON attributes), so one replay gives
 * the before and after side by side. p50 / p99 / max bytes and the mean write units per write.
 */
import { convertToAttr } from '@aws-sdk/util-dynamodb';
import { attributeSize } from '../../shared/adapters/dynamodb/item-size.ts';
import { DIRECTORY_PK } from '../../shared/adapters/dynamodb/neighbor-index.ts';
import { neighborListFromItem } from '../../shared/adapters/dynamodb/neighbors.ts';
import { profileFromItem } from '../../shared/adapters/dynamodb/profiles.ts';
import { scanTable } from '../../shared/adapters/dynamodb/requests.ts';
import type { Stores } from '../../shared/adapters/dynamodb/stores.ts';
import { unpackTopItems } from '../../shared/domain/neighbors/top-items-codec.ts';
import type { TableKey } from '../../shared/topology.ts';

export interface SizeStats {
  items: number;
  p50: number;
  p99: number;
  max: number;
  /** Mean write units to write one item (1 KB units, rounded up per item). */
  meanWriteUnits: number;
}

export interface ItemSizeReport {
  profiles: { compact: SizeStats; legacy: SizeStats };
  neighborLists: { compact: SizeStats; legacy: SizeStats };
  indexEntries: { compact: SizeStats; legacy: SizeStats };
  candidateSets: { compact: SizeStats };
}

const MARSHALL = { removeUndefinedValues: true } as const;
const sizeOf = (item: Record<string, unknown>): number => {
  let size = 0;
  for (const [k, v] of Object.entries(item))
    if (v !== undefined) size += k.length + attributeSize(convertToAttr(v, MARSHALL));
  return size;
};

export function sizeStats(sizes: number[]): SizeStats {
  const sorted = [...sizes].sort((a, b) => a - b);
  const at = (p: number) =>
    sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]! : 0;
  const units = sorted.reduce((a, b) => a + Math.max(1, Math.ceil(b / 1024)), 0);
  return {
    items: sorted.length,
    p50: at(50),
    p99: at(99),
    max: sorted.at(-1) ?? 0,
    meanWriteUnits: units / Math.max(1, sorted.length),
  };
}

export async function itemSizeReport(stores: Stores): Promise<ItemSizeReport> {
  const collect = async (table: TableKey, f: (item: Record<string, unknown>) => [number, number] | undefined) => {
    const compact: number[] = [];
    const legacy: number[] = [];
    await scanTable(stores, table, (item) => {
      const r = f(item);
      if (!r) return;
      compact.push(r[0]);
      legacy.push(r[1]);
    });
    return { compact: sizeStats(compact), legacy: sizeStats(legacy) };
  };
  const profiles = await collect('profiles', (item) => {
    const p = profileFromItem(item);
    return [sizeOf(item), sizeOf({ ...p, recentEventIds: p.recentEventIds.map((fp) => fp.toString(36)) })];
  });
  const neighborLists = await collect('neighbors', (item) => {
    const l = neighborListFromItem(item);
    const { userId, neighbors, refreshedAt, snapshot, profileVersion, cell, rev } = l;
    return [sizeOf(item), sizeOf({ userId, neighbors, refreshedAt, snapshot, profileVersion, cell, rev })];
  });
  const indexEntries = await collect('neighborIndex', (item) => {
    if (item.cell === DIRECTORY_PK) return undefined;
    // The former entry had no top items; the legacy figure is the same entry without them.
    const { top, ...rest } = item;
    if (top instanceof Uint8Array) unpackTopItems(top); // a damaged value fails the report, loudly
    return [sizeOf(item), sizeOf(rest)];
  });
  const candidates = await collect('candidates', (item) => [sizeOf(item), 0]);
  return { profiles, neighborLists, indexEntries, candidateSets: { compact: candidates.compact } };
}

export function formatItemSizes(r: ItemSizeReport): string[] {
  const row = (name: string, s: SizeStats) =>
    `${name.padEnd(28)} ${String(s.items).padStart(6)} items  p50 ${String(s.p50).padStart(6)} B  p99 ${String(s.p99).padStart(6)} B  max ${String(s.max).padStart(6)} B  ${s.meanWriteUnits.toFixed(2)} WU/write`;
  return [
    row('profiles (compact)', r.profiles.compact),
    row('profiles (former format)', r.profiles.legacy),
    row('neighbour lists (compact)', r.neighborLists.compact),
    row('neighbour lists (former)', r.neighborLists.legacy),
    row('index entries (with top)', r.indexEntries.compact),
    row('index entries (former)', r.indexEntries.legacy),
    row('candidate sets', r.candidateSets.compact),
  ];
}
