/**
 * One batch's way through the function, for the local event source mapping (kafka-esm.ts): invoke;
 * per partition, retry, bisect or dead-letter what failed until it succeeds or lands on the
 * dead-letter topic (the decisions are esm-policy.ts's); commit each partition's settled records;
 * put back what did not settle and free the partition's lane. A stop breaks retries and backoffs
 * off: what is not settled then is redelivered, never lost.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { MSKEvent } from 'aws-lambda';
import type { Consumer, Producer } from 'kafkajs';
import type { TriggerSpec } from '../../shared/topology.ts';
import {
  backoffMs,
  failedFrom,
  failuresOfLane,
  offsetToCommit,
  type RetryPolicy,
  retryStep,
  tooOld,
} from './esm-policy.ts';
import { errorMessage, type LogLine } from './log.ts';
import {
  buildMskEvent,
  type EsmDeadLetterReason,
  type MskRecord,
  readBatchItemFailures,
  toDeadLetterV1,
} from './msk-event.ts';

/** A fetched record, waiting in its lane or in a batch. */
export interface Pending {
  record: MskRecord;
  lane: Lane;
  done: boolean;
  /** When it was fetched: the batching window runs from the oldest waiting record. */
  arrivedAt: number;
}

/** One partition's records, in order, and where the partition stands. */
export interface Lane {
  partition: number;
  queue: Pending[];
  busy: boolean;
  /** Highest offset taken from kafkajs; refetches at or below it are duplicates. */
  lastEnqueued: number;
  /** Last offset of the batch in flight, if any. */
  inFlightTo?: number;
  committed?: number;
  highWatermark?: number;
  low?: number;
  paused: boolean;
}

/** What the mapping counts of its invocations (`EsmStats`). */
export interface InvokeCounts {
  batches: number;
  records: number;
  failures: number;
  deadLettered: number;
}

export interface BatchRunnerOptions {
  trigger: TriggerSpec;
  topicName: string;
  deadLetterTopic: string;
  /** The event's `eventSourceArn` and `bootstrapServers`. */
  source: { eventSourceArn: string; bootstrapServers: string };
  invoke: (event: MSKEvent) => Promise<unknown>;
  policy: RetryPolicy;
  producer: Pick<Producer, 'send'>;
  consumer: Pick<Consumer, 'commitOffsets'>;
  /** Counted into as batches run. */
  counts: InvokeCounts;
  /** Whether the mapping is stopping; `signal` aborts its backoffs. */
  stopping: () => boolean;
  signal: AbortSignal;
  log: LogLine;
  tag: string;
  /** A lane's batch settled and the lane is free: dispatch again. */
  released: () => void;
}

interface InvokeFailure {
  failed: Pending[];
  error: string;
  /** A partial batch response that left fewer records to retry than were sent. */
  shrunk: boolean;
}

class Stopped extends Error {}

export class BatchRunner {
  constructor(private readonly o: BatchRunnerOptions) {}

  /** Invokes with the batch and settles every partition in it: committed, dead-lettered or put back. */
  async run(batch: Pending[]): Promise<void> {
    const { log, tag } = this.o;
    let first: InvokeFailure | null = null;
    try {
      first = await this.invokeOnce(batch);
    } catch (err) {
      if (!(err instanceof Stopped)) log(`${tag} unexpected: ${errorMessage(err)}`);
    }
    const byLane = new Map<Lane, Pending[]>();
    for (const r of batch) {
      const list = byLane.get(r.lane) ?? [];
      if (list.length === 0) byLane.set(r.lane, list);
      list.push(r);
    }
    // Each partition settles its own failures, so one poison record holds back only its partition.
    await Promise.all(
      [...byLane].map(async ([lane, records]) => {
        const own = failuresOfLane(first, records);
        try {
          if (own.failed.length > 0 && first) await this.settle({ ...first, ...own }, 0);
        } catch (err) {
          if (!(err instanceof Stopped)) log(`${tag} unexpected while retrying: ${(err as Error)?.stack ?? err}`);
        }
        await this.commit(lane, records);
        const undone = records.filter((r) => !r.done);
        // Never skip a record: if settling broke off (not a stop), it goes back to the head of the lane.
        if (undone.length > 0 && !this.o.stopping()) lane.queue.unshift(...undone);
        lane.busy = false;
        lane.inFlightTo = undefined;
        this.o.released();
      }),
    );
  }

  private checkRunning(): void {
    if (this.o.stopping()) throw new Stopped('event source mapping stopped');
  }

  private async pause(ms: number): Promise<void> {
    try {
      await sleep(ms, undefined, { signal: this.o.signal });
    } catch {
      throw new Stopped('event source mapping stopped');
    }
  }

  /** One invocation; null when every record succeeded, else the records to retry. */
  private async invokeOnce(records: Pending[]): Promise<InvokeFailure | null> {
    const { counts, log, tag } = this.o;
    this.checkRunning();
    counts.batches++;
    const event = buildMskEvent(
      records.map((r) => r.record),
      this.o.source,
    );
    let result: unknown;
    try {
      result = await this.o.invoke(event);
    } catch (err) {
      counts.failures++;
      log(`${tag} invocation of ${records.length} record(s) failed: ${errorMessage(err)}`);
      return { failed: records, error: errorMessage(err), shrunk: false };
    }
    if (this.o.trigger.reportBatchItemFailures) {
      const partial = readBatchItemFailures(
        result,
        records.map((r) => r.record),
      );
      if (partial.kind === 'invalid') {
        counts.failures++;
        log(`${tag} invalid partial batch response: ${partial.reason}`);
        return { failed: records, error: `invalid partial batch response: ${partial.reason}`, shrunk: false };
      }
      if (partial.kind === 'partial') {
        counts.failures++;
        const failed = failedFrom(records, partial.failedFrom);
        for (const r of records) if (!failed.includes(r)) r.done = true;
        counts.records += records.length - failed.length;
        return {
          failed,
          error: `function reported ${failed.length} of ${records.length} record(s) as failed (batchItemFailures)`,
          shrunk: failed.length < records.length,
        };
      }
    }
    for (const r of records) r.done = true;
    counts.records += records.length;
    return null;
  }

  /** Retries records of one partition that failed, until they succeed or are dead-lettered (`retryStep`). */
  private async settle(failure: InvokeFailure, retriesUsed: number): Promise<void> {
    const { policy } = this.o;
    let { failed: records, error, shrunk } = failure;
    for (;;) {
      this.checkRunning();
      const expired = tooOld(records, Date.now(), policy.maxAgeMs);
      if (expired.length > 0) {
        await this.deadLetter(expired, 'record-too-old', error);
        records = records.filter((r) => !r.done);
      }
      if (records.length === 0) return;

      const step = retryStep({ count: records.length, shrunk }, retriesUsed, policy);
      if (step.kind === 'bisect') {
        for (const half of [records.slice(0, step.at), records.slice(step.at)]) {
          const next = await this.invokeOnce(half);
          if (next) await this.settle(next, retriesUsed);
        }
        return;
      }
      if (step.kind === 'dead-letter') {
        await this.deadLetter(records, 'retries-exhausted', error);
        return;
      }
      if (step.kind === 'retry-after') {
        await this.pause(step.delayMs);
        retriesUsed++;
      }
      const next = await this.invokeOnce(records);
      if (!next) return;
      ({ failed: records, error, shrunk } = next);
    }
  }

  private async deadLetter(records: Pending[], reason: EsmDeadLetterReason, error: string): Promise<void> {
    if (records.length === 0) return;
    const { trigger, log, tag } = this.o;
    const now = Date.now();
    const messages = records.map((r) => {
      const letter = toDeadLetterV1(r.record, reason, error, trigger.function, now);
      return {
        key: `${letter.sourceTopic}-${letter.partition}`,
        value: JSON.stringify(letter),
        headers: { reason, 'source-topic': letter.sourceTopic },
      };
    });
    // Losing a record is worse than stalling its partition: keep trying until it lands or we stop.
    for (let attempt = 0; ; attempt++) {
      try {
        await this.o.producer.send({ topic: this.o.deadLetterTopic, acks: -1, messages });
        break;
      } catch (err) {
        log(`${tag} dead-letter produce failed (attempt ${attempt + 1}): ${errorMessage(err)}`);
        this.checkRunning();
        await this.pause(backoffMs(this.o.policy, attempt));
      }
    }
    for (const r of records) r.done = true;
    this.o.counts.deadLettered += records.length;
    const p = records[0]!.record.partition;
    log(
      `${tag} dead-lettered ${records.length} record(s) from ${this.o.topicName}-${p} ` +
        `(offsets ${records.map((r) => r.record.offset).join(',')}): ${reason}`,
    );
  }

  private async commit(lane: Lane, records: Pending[]): Promise<void> {
    const { topicName, log, tag } = this.o;
    const next = offsetToCommit(records, lane.committed);
    if (next === undefined) return;
    try {
      await this.o.consumer.commitOffsets([{ topic: topicName, partition: lane.partition, offset: String(next) }]);
      lane.committed = next;
    } catch (err) {
      log(
        `${tag} commit of ${topicName}-${lane.partition}@${next} failed (records will be redelivered): ${errorMessage(err)}`,
      );
    }
  }
}
