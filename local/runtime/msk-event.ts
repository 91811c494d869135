/**
 * The MSK event Lambda delivers, built from kafkajs messages; the partial-batch response Lambda
 * reads back; and the dead-letter records the event source mapping emulator writes. Pure functions.
 */
import type { MSKEvent, MSKRecord } from 'aws-lambda';
import type { IHeaders, KafkaMessage } from 'kafkajs';
import { type DeadLetterV1, deadLetterOf } from '../../shared/domain/events/events.ts';

/** Lambda omits `key` for records without one (the @types declare it always present). */
export type MskRecord = Omit<MSKRecord, 'key'> & { key?: string };

export const LOCAL_ACCOUNT_ID = '000000000000';

export function localClusterArn(region = 'us-east-1', name = 'local'): string {
  return `arn:aws:kafka:${region}:${LOCAL_ACCOUNT_ID}:cluster/${name}/00000000-0000-0000-0000-000000000000-1`;
}

/**
 * Header values as Lambda serializes them: Java `byte[]`, i.e. numbers in -128..127 (bytes above
 * 0x7f come out negative). `Buffer.from(numbers)` turns them back into the original bytes.
 */
export function toSignedBytes(value: Buffer | string): number[] {
  const buf = typeof value === 'string' ? Buffer.from(value) : value;
  return Array.from(buf, (b) => (b > 127 ? b - 256 : b));
}

/** One `{ name: bytes }` object per header value, in order; repeated headers stay repeated. */
export function toMskHeaders(headers: IHeaders | undefined): Record<string, number[]>[] {
  const out: Record<string, number[]>[] = [];
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) out.push({ [name]: toSignedBytes(v) });
  }
  return out;
}

/** kafkajs keeps the batch's timestamp type on the decoded record, outside its public types. */
function timestampType(message: KafkaMessage): MSKRecord['timestampType'] {
  const ctx = (message as { batchContext?: { timestampType?: number } }).batchContext;
  return ctx?.timestampType === 1 ? 'LOG_APPEND_TIME' : 'CREATE_TIME';
}

export function toMskRecord(topic: string, partition: number, message: KafkaMessage): MskRecord {
  return {
    topic,
    partition,
    offset: Number(message.offset),
    timestamp: Number(message.timestamp),
    timestampType: timestampType(message),
    ...(message.key === null || message.key === undefined ? {} : { key: message.key.toString('base64') }),
    // A tombstone (null value) has no documented MSK shape; an empty string keeps parsers working.
    value: message.value === null || message.value === undefined ? '' : message.value.toString('base64'),
    headers: toMskHeaders(message.headers),
  };
}

export interface MskEventSource {
  eventSourceArn: string;
  bootstrapServers: string;
}

/** Groups records under `<topic>-<partition>` keys (partitions ascending, offsets ascending). */
export function buildMskEvent(records: readonly MskRecord[], source: MskEventSource): MSKEvent {
  const sorted = [...records].sort((a, b) => a.partition - b.partition || a.offset - b.offset);
  const grouped: Record<string, MskRecord[]> = {};
  for (const r of sorted) {
    const key = `${r.topic}-${r.partition}`;
    const list = grouped[key] ?? [];
    if (list.length === 0) grouped[key] = list;
    list.push(r);
  }
  return {
    eventSource: 'aws:kafka',
    eventSourceArn: source.eventSourceArn,
    bootstrapServers: source.bootstrapServers,
    // MSKRecord declares `key` required; Lambda omits it for keyless records and so do we.
    records: grouped as MSKEvent['records'],
  };
}

export type PartialBatchResult =
  | { kind: 'success' }
  /** Per partition, the lowest failed offset: it and everything after it in the batch are retried. */
  | { kind: 'partial'; failedFrom: Map<number, number> }
  | { kind: 'invalid'; reason: string };

/**
 * Reads a `ReportBatchItemFailures` response as Lambda does for Kafka. The documented identifier is
 * `{ partition: "<topic>-<partition>", offset }`; the string `"<topic>-<partition>-<offset>"` (used by
 * some libraries) is accepted too. An identifier that names no record in the batch fails the batch.
 */
export function readBatchItemFailures(result: unknown, records: readonly MskRecord[]): PartialBatchResult {
  if (result === null || result === undefined || typeof result !== 'object') return { kind: 'success' };
  const failures = (result as { batchItemFailures?: unknown }).batchItemFailures;
  if (failures === null || failures === undefined) return { kind: 'success' };
  if (!Array.isArray(failures)) return { kind: 'invalid', reason: 'batchItemFailures is not an array' };
  if (failures.length === 0) return { kind: 'success' };
  const known = new Set(records.map((r) => `${r.topic}-${r.partition}@${r.offset}`));
  const failedFrom = new Map<number, number>();
  for (const f of failures) {
    const id = (f as { itemIdentifier?: unknown } | null)?.itemIdentifier;
    let tp: string | undefined;
    let offset: number | undefined;
    if (id && typeof id === 'object') {
      const o = id as { partition?: unknown; offset?: unknown };
      if (typeof o.partition === 'string') tp = o.partition;
      offset = typeof o.offset === 'number' ? o.offset : typeof o.offset === 'string' ? Number(o.offset) : undefined;
    } else if (typeof id === 'string') {
      const m = /^(.+-\d+)-(\d+)$/.exec(id);
      if (m) [tp, offset] = [m[1], Number(m[2])];
    }
    if (tp === undefined || offset === undefined || !known.has(`${tp}@${offset}`))
      return { kind: 'invalid', reason: `unknown itemIdentifier ${JSON.stringify(id)}` };
    const partition = Number(tp.slice(tp.lastIndexOf('-') + 1));
    const prev = failedFrom.get(partition);
    if (prev === undefined || offset < prev) failedFrom.set(partition, offset);
  }
  return { kind: 'partial', failedFrom };
}

export type EsmDeadLetterReason = 'retries-exhausted' | 'record-too-old';

export function toDeadLetterV1(
  record: MskRecord,
  reason: EsmDeadLetterReason,
  error: string,
  functionName: string,
  now = Date.now(),
): DeadLetterV1 {
  return deadLetterOf(
    {
      topic: record.topic,
      partition: record.partition,
      offset: record.offset,
      keyBase64: record.key,
      valueBase64: record.value,
    },
    reason,
    error,
    functionName,
    now,
  );
}

/** Approximate JSON size of a record in the event (Lambda caps a synchronous payload at 6 MB). */
export function mskRecordSize(r: MskRecord): number {
  let headers = 0;
  for (const h of r.headers) for (const [k, v] of Object.entries(h)) headers += k.length + v.length * 4 + 8;
  return r.value.length + (r.key?.length ?? 0) + r.topic.length + headers + 120;
}
