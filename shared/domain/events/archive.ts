/**
 * Layout of the raw event archive (the bronze layer): Hive-style hour partitions by event time,
 * one JSON-lines object per (hour, topic-partition) group of a batch. Pure functions.
 */

/** `year=YYYY/month=MM/day=DD/hour=HH` of an epoch-ms event time, in UTC. */
export function hourPartition(ts: number): string {
  const d = new Date(ts);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `year=${d.getUTCFullYear()}/month=${pad(d.getUTCMonth() + 1)}/day=${pad(d.getUTCDate())}/hour=${pad(d.getUTCHours())}`;
}

/**
 * Object key of one group. Named by its first and last Kafka offset, so a redelivered batch (same
 * records, same offsets) overwrites the same key rather than adding a duplicate file.
 */
export function archiveKey(ts: number, topic: string, partition: number, firstOffset: number, lastOffset: number) {
  return `${hourPartition(ts)}/${topic}-${partition}-${firstOffset}-${lastOffset}.jsonl`;
}

export interface ArchiveInput<T> {
  topic: string;
  partition: number;
  offset: number;
  ts: number;
  value: T;
}

export interface ArchiveGroup<T> {
  key: string;
  /** In offset order. */
  items: ArchiveInput<T>[];
}

/** Groups records by (hour partition, topic-partition); offsets ascending within each group. */
export function groupForArchive<T>(items: readonly ArchiveInput<T>[]): ArchiveGroup<T>[] {
  const groups = new Map<string, ArchiveInput<T>[]>();
  for (const item of items) {
    const id = `${hourPartition(item.ts)}\u0000${item.topic}\u0000${item.partition}`;
    const list = groups.get(id) ?? [];
    if (list.length === 0) groups.set(id, list);
    list.push(item);
  }
  return [...groups.values()].map((list) => {
    list.sort((a, b) => a.offset - b.offset);
    const first = list[0]!;
    const last = list[list.length - 1]!;
    return { key: archiveKey(first.ts, first.topic, first.partition, first.offset, last.offset), items: list };
  });
}
