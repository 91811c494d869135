/**
 * The event source mapping's decisions, without I/O: when a batch goes out and what it holds,
 * when a partition's fetching pauses and resumes, how a failed batch is retried, bisected or
 * dead-lettered, and which offset a partition commits. kafka-esm.ts (fetching, dispatch) and
 * esm-invoke.ts (invoking, retries, dead letters, commits) do the I/O around them. Pure functions.
 */
import type { TriggerSpec } from '../../shared/topology.ts';

/** Lambda applies at most 10 retries when retries are infinite (-1) and an on-failure destination is set. */
export const INFINITE_RETRY_CAP = 10;

// ---- lanes: one per partition ----------------------------------------------------------------

/** What the decisions read of a partition's lane. */
export interface LaneState<Q extends { arrivedAt: number } = { arrivedAt: number }> {
  partition: number;
  /** A batch of this partition is in flight (at most one: order is kept). */
  busy: boolean;
  queue: readonly Q[];
  paused: boolean;
}

export interface BatchLimits {
  batchSize: number;
  /** The batching window, from the oldest waiting record. */
  windowMs: number;
  maxPayloadBytes: number;
}

export type Dispatch<L> =
  | { kind: 'idle' }
  /** Not enough records yet: look again when the oldest one's window closes. */
  | { kind: 'wait'; ms: number }
  /** Invoke with records from these idle lanes, in partition order. */
  | { kind: 'invoke'; ready: L[] };

/** Whether to invoke now: when the idle lanes hold a full batch, or the oldest record waited out the window. */
export function nextDispatch<L extends LaneState>(lanes: Iterable<L>, now: number, limits: BatchLimits): Dispatch<L> {
  const ready = [...lanes].filter((l) => !l.busy && l.queue.length > 0).sort((a, b) => a.partition - b.partition);
  if (ready.length === 0) return { kind: 'idle' };
  const count = ready.reduce((n, l) => n + l.queue.length, 0);
  const waited = now - Math.min(...ready.map((l) => l.queue[0]!.arrivedAt));
  if (count < limits.batchSize && waited < limits.windowMs) return { kind: 'wait', ms: limits.windowMs - waited };
  return { kind: 'invoke', ready };
}

/**
 * How many records each ready lane gives to the batch, oldest first, lane after lane, up to
 * batchSize and the payload cap (one record alone may exceed the cap: it goes on its own).
 * `complete` is false for the lane the payload cap stopped in.
 */
export function planBatch<Q>(
  ready: readonly { queue: readonly Q[] }[],
  sizeOf: (q: Q) => number,
  limits: Pick<BatchLimits, 'batchSize' | 'maxPayloadBytes'>,
): { count: number; complete: boolean }[] {
  const plan: { count: number; complete: boolean }[] = [];
  let taken = 0;
  let bytes = 0;
  for (const lane of ready) {
    let count = 0;
    while (count < lane.queue.length && taken < limits.batchSize) {
      const size = sizeOf(lane.queue[count]!);
      if (taken > 0 && bytes + size > limits.maxPayloadBytes) {
        plan.push({ count, complete: false });
        return plan;
      }
      count++;
      taken++;
      bytes += size;
    }
    plan.push({ count, complete: true });
    if (taken >= limits.batchSize) break;
  }
  return plan;
}

/** A lane with this much buffered stops fetching its partition… */
export const shouldPause = (lane: LaneState, maxBuffered: number): boolean =>
  !lane.paused && lane.queue.length >= maxBuffered;
/** …and fetches again once it is down to half. */
export const shouldResume = (lane: LaneState, maxBuffered: number): boolean =>
  lane.paused && lane.queue.length < maxBuffered / 2;

/**
 * After a group (re)join kafkajs fetches again from the committed offset: records up to this
 * offset are skipped when they come again — what is in flight is committed by its invocation.
 */
export const refetchFloor = (lane: { inFlightTo?: number | undefined; committed?: number | undefined }): number =>
  lane.inFlightTo ?? (lane.committed ?? 0) - 1;

/** The next offset to commit: after the longest run of settled records from the batch's start, if it moves on. */
export function offsetToCommit(
  records: readonly { done: boolean; record: { offset: number } }[],
  committed: number | undefined,
): number | undefined {
  let last: number | undefined;
  for (const r of records) {
    if (!r.done) break;
    last = r.record.offset;
  }
  if (last === undefined) return undefined;
  const next = last + 1;
  return committed !== undefined && next <= committed ? undefined : next;
}

/** Lag as last seen: high watermark minus the committed offset (or where consuming starts). */
export function estimatedLag(
  lane: { committed?: number | undefined; highWatermark?: number | undefined; low?: number | undefined },
  startingPosition: TriggerSpec['startingPosition'],
): number | undefined {
  if (lane.highWatermark === undefined) return undefined;
  const start = lane.committed ?? (startingPosition === 'TRIM_HORIZON' ? (lane.low ?? 0) : lane.highWatermark);
  return Math.max(0, lane.highWatermark - start);
}

/** Exact lag per partition from the broker's end offsets and the group's committed offsets (-1: none). */
export function lagFromOffsets(
  ends: readonly { partition: number; high: string; low: string }[],
  committed: readonly { partition: number; offset: string }[],
): Record<number, number> {
  const byPartition = new Map(committed.map((p) => [p.partition, Number(p.offset)]));
  const out: Record<number, number> = {};
  for (const e of ends) {
    const c = byPartition.get(e.partition) ?? -1;
    out[e.partition] = Number(e.high) - (c >= 0 ? c : Number(e.low));
  }
  return out;
}

// ---- retries ---------------------------------------------------------------------------------

export interface RetryPolicy {
  maxRetries: number;
  maxAgeMs: number;
  bisect: boolean;
  backoffInitialMs: number;
  backoffMaxMs: number;
}

/** The trigger's retry settings as Lambda applies them (-1: infinite, capped / unbounded age). */
export function retryPolicy(
  trigger: Pick<TriggerSpec, 'retryAttempts' | 'maxRecordAgeSeconds' | 'bisectBatchOnError'>,
  backoff: { initialMs?: number; maxMs?: number } = {},
): RetryPolicy {
  return {
    maxRetries: trigger.retryAttempts < 0 ? INFINITE_RETRY_CAP : trigger.retryAttempts,
    maxAgeMs: trigger.maxRecordAgeSeconds < 0 ? Number.POSITIVE_INFINITY : trigger.maxRecordAgeSeconds * 1000,
    bisect: trigger.bisectBatchOnError,
    backoffInitialMs: backoff.initialMs ?? 1000,
    backoffMaxMs: backoff.maxMs ?? 30_000,
  };
}

/** Exponential backoff before retry n (0-based): initial · 2^n, capped. */
export const backoffMs = (policy: RetryPolicy, n: number): number =>
  Math.min(policy.backoffMaxMs, policy.backoffInitialMs * 2 ** n);

/** Records older than the trigger's maximum record age (they are dead-lettered, not retried). */
export const tooOld = <R extends { record: { timestamp: number } }>(
  records: readonly R[],
  now: number,
  maxAgeMs: number,
) => records.filter((r) => now - r.record.timestamp > maxAgeMs);

/** The records a partial batch response reports as failed: from the reported offset on, per partition. */
export const failedFrom = <R extends { record: { partition: number; offset: number } }>(
  records: readonly R[],
  firstFailed: ReadonlyMap<number, number>,
): R[] =>
  records.filter((r) => {
    const from = firstFailed.get(r.record.partition);
    return from !== undefined && r.record.offset >= from;
  });

export type RetryStep =
  /** A partial response left fewer records, with bisect on: retry those at once (Lambda splits there). */
  | { kind: 'retry-now' }
  /** Invoke the two halves (the first `at` records, then the rest), each settling its own failures. */
  | { kind: 'bisect'; at: number }
  | { kind: 'dead-letter' }
  | { kind: 'retry-after'; delayMs: number };

/**
 * What to do with a partition's records that failed again. Bisecting does not use up retries (as
 * in Lambda); each unsplittable retry does, after an exponential backoff.
 */
export function retryStep(
  failed: { count: number; shrunk: boolean },
  retriesUsed: number,
  policy: RetryPolicy,
): RetryStep {
  if (policy.bisect && failed.shrunk) return { kind: 'retry-now' };
  if (policy.bisect && failed.count > 1) return { kind: 'bisect', at: Math.ceil(failed.count / 2) };
  if (retriesUsed >= policy.maxRetries) return { kind: 'dead-letter' };
  return { kind: 'retry-after', delayMs: backoffMs(policy, retriesUsed) };
}

/**
 * A batch's failed records per partition, each partition settling its own (one poison record
 * holds back only its partition); `shrunk` only where the partition's records were cut down too.
 */
export function failuresOfLane<R>(
  failure: { failed: readonly R[]; shrunk: boolean } | null,
  laneRecords: readonly R[],
): { failed: R[]; shrunk: boolean } {
  const mine = new Set(laneRecords);
  const failed = failure?.failed.filter((r) => mine.has(r)) ?? [];
  return { failed, shrunk: failed.length < laneRecords.length && (failure?.shrunk ?? false) };
}
