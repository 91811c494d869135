/**
 * A local Lambda event source mapping for one Kafka trigger: a kafkajs consumer group feeding the
 * function MSK events, with Lambda's batching, retries, bisect-on-error, partial batch responses and
 * on-failure destination (the dead-letter topic).
 *
 * Shape of the machinery:
 * - kafkajs only fetches. `eachBatch` appends records to a per-partition lane and returns at once
 *   (resolving the fetch position, committing nothing), so a partition stuck in retries never stalls
 *   the fetch loop for the others; a lane with too much buffered pauses its partition.
 * - A dispatcher gathers records from idle lanes, across partitions, until `batchSize`, the 6 MB
 *   payload cap or the batching window, and invokes. Lanes in that invocation are busy until it
 *   settles, so each partition has at most one batch in flight (order kept) while other partitions
 *   keep flowing in parallel invocations, as with Lambda's per-partition concurrency.
 * - Offsets are committed (next offset) per partition only once its records succeeded or were
 *   dead-lettered. Nothing else commits: stop or crash means redelivery, never loss.
 * The decisions — dispatch, batch contents, pausing, retry / bisect / dead-letter, commit offsets,
 * lag — are pure functions in esm-policy.ts. This file fetches into the lanes and dispatches;
 * esm-invoke.ts takes a batch through the function (invoke, retries, dead letters, commits).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { MSKEvent } from 'aws-lambda';
import { type Admin, type Consumer, type EachBatchPayload, type Kafka, Partitioners, type Producer } from 'kafkajs';
import type { TriggerSpec } from '../../shared/topology.ts';
import { BatchRunner, type InvokeCounts, type Lane, type Pending } from './esm-invoke.ts';
import {
  type BatchLimits,
  estimatedLag,
  lagFromOffsets,
  nextDispatch,
  planBatch,
  refetchFloor,
  retryPolicy,
  shouldPause,
  shouldResume,
} from './esm-policy.ts';
import { errorMessage, type LogLine, silentLog } from './log.ts';
import { localClusterArn, mskRecordSize, toMskRecord } from './msk-event.ts';

/** Lambda's cap on a synchronous invocation payload. */
export const MAX_PAYLOAD_BYTES = 6 * 1024 * 1024;

export interface EventSourceMappingOptions {
  kafka: Kafka;
  trigger: TriggerSpec;
  /** Physical (prefixed) topic name. */
  topicName: string;
  /** Physical consumer group id, e.g. prefix + trigger.consumerGroupId. */
  groupId: string;
  deadLetterTopic: string;
  invoke: (event: MSKEvent) => Promise<unknown>;
  clusterArn?: string;
  /** For the event's `bootstrapServers`; read from the cluster when omitted. */
  bootstrapServers?: string;
  log?: LogLine;
  /** Overrides trigger.maxBatchingWindowSeconds (tests). */
  batchingWindowMs?: number;
  /** Exponential backoff between retries of a failing batch: initial · 2^n, capped. */
  backoff?: { initialMs?: number; maxMs?: number };
  maxPayloadBytes?: number;
  /** Records buffered per partition before fetching from it pauses. */
  maxBufferedPerPartition?: number;
}

export interface EsmStats {
  /** Handler invocations, retries included. */
  batches: number;
  /** Records the handler processed successfully. */
  records: number;
  /** Invocations that failed: threw, returned an invalid or a non-empty partial batch response. */
  failures: number;
  deadLettered: number;
  /** Committed next offset per partition. */
  committed: Record<number, number>;
  /** High watermark minus committed offset, per partition, as last seen. */
  lagByPartition: Record<number, number>;
  /** Records fetched and waiting for an invocation. */
  buffered: number;
  /** Batches being processed (invoking, retrying or dead-lettering). */
  inFlight: number;
}

export interface EventSourceMapping {
  readonly groupId: string;
  stats(): EsmStats;
  /** Exact lag from the broker (end offsets minus the group's committed offsets). */
  lag(): Promise<Record<number, number>>;
  /** Stops fetching, lets in-flight invocations finish (and commit), drops the rest, disconnects. */
  stop(): Promise<void>;
}

/** The event's `eventSourceArn` and `bootstrapServers`. */
type MskSource = { eventSourceArn: string; bootstrapServers: string };

export async function startEventSourceMapping(opts: EventSourceMappingOptions): Promise<EventSourceMapping> {
  const mapping = new KafkaEventSourceMapping(opts);
  await mapping.start();
  return mapping;
}

/** The Kafka side of the event source mapping between Lambda's batching and one kafkajs consumer group. */
class KafkaEventSourceMapping implements EventSourceMapping {
  readonly groupId: string;
  private readonly topicName: string;
  private readonly log: LogLine;
  private readonly tag: string;
  private readonly limits: BatchLimits;
  private readonly maxBuffered: number;
  private readonly counts: InvokeCounts = { batches: 0, records: 0, failures: 0, deadLettered: 0 };
  private readonly lanes = new Map<number, Lane>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly abort = new AbortController();
  private stopping = false;
  private stopped: Promise<void> | undefined;
  private windowTimer: NodeJS.Timeout | undefined;
  private readonly admin: Admin;
  private readonly producer: Producer;
  private readonly consumer: Consumer;
  private runner: BatchRunner | undefined;

  constructor(private readonly opts: EventSourceMappingOptions) {
    const { kafka, trigger } = opts;
    this.groupId = opts.groupId;
    this.topicName = opts.topicName;
    this.log = opts.log ?? silentLog;
    this.tag = `[esm:${trigger.function}]`;
    this.limits = {
      batchSize: trigger.batchSize,
      windowMs: opts.batchingWindowMs ?? trigger.maxBatchingWindowSeconds * 1000,
      maxPayloadBytes: opts.maxPayloadBytes ?? MAX_PAYLOAD_BYTES,
    };
    this.maxBuffered = opts.maxBufferedPerPartition ?? Math.max(2 * trigger.batchSize, 500);
    this.admin = kafka.admin();
    // Idempotent so a retried dead-letter send cannot write the same letter twice.
    this.producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    // Short fetch waits keep stop() quick; the broker answers at once when records are there.
    this.consumer = kafka.consumer({ groupId: this.groupId, allowAutoTopicCreation: false, maxWaitTimeInMs: 250 });
  }

  /** Connects, reads where each partition stands, joins the group and starts fetching. */
  async start(): Promise<void> {
    let source: MskSource;
    try {
      source = await this.connect();
    } catch (err) {
      await this.disconnectAll();
      throw err;
    }
    this.runner = new BatchRunner({
      trigger: this.opts.trigger,
      topicName: this.topicName,
      deadLetterTopic: this.opts.deadLetterTopic,
      source,
      invoke: this.opts.invoke,
      policy: retryPolicy(this.opts.trigger, this.opts.backoff),
      producer: this.producer,
      consumer: this.consumer,
      counts: this.counts,
      stopping: () => this.stopping,
      signal: this.abort.signal,
      log: this.log,
      tag: this.tag,
      released: () => this.schedule(),
    });
    try {
      await this.consume();
    } catch (err) {
      this.stopping = true;
      await this.disconnectAll();
      throw err;
    }
    this.log(
      `${this.tag} consuming ${this.topicName} as ${this.groupId} (batch ${this.limits.batchSize}, window ${this.limits.windowMs} ms)`,
    );
  }

  /** Connects the admin and the dead-letter producer; the event's source and each lane's offsets. */
  private async connect(): Promise<MskSource> {
    const { admin, topicName, groupId, opts } = this;
    await Promise.all([admin.connect(), this.producer.connect()]);
    const [cluster, ends, committed] = await Promise.all([
      opts.bootstrapServers ? undefined : admin.describeCluster(),
      admin.fetchTopicOffsets(topicName),
      admin.fetchOffsets({ groupId, topics: [topicName] }),
    ]);
    for (const e of ends) {
      const lane = this.laneFor(e.partition);
      lane.highWatermark = Number(e.high);
      lane.low = Number(e.low);
    }
    for (const p of committed[0]?.partitions ?? []) {
      if (Number(p.offset) >= 0) this.laneFor(p.partition).committed = Number(p.offset);
    }
    return {
      eventSourceArn: opts.clusterArn ?? localClusterArn(),
      bootstrapServers: opts.bootstrapServers ?? cluster!.brokers.map((b) => `${b.host}:${b.port}`).join(','),
    };
  }

  private laneFor(partition: number): Lane {
    let lane = this.lanes.get(partition);
    if (!lane) {
      lane = { partition, queue: [], busy: false, lastEnqueued: -1, paused: false };
      this.lanes.set(partition, lane);
    }
    return lane;
  }

  private async disconnectAll(): Promise<void> {
    await Promise.allSettled([this.consumer.disconnect(), this.producer.disconnect(), this.admin.disconnect()]);
  }

  // ---- dispatch ------------------------------------------------------------------------------

  private clearWindow(): void {
    if (this.windowTimer) clearTimeout(this.windowTimer);
    this.windowTimer = undefined;
  }

  /** Invokes every batch that is ready now; sets the window timer for the next one. */
  private schedule(): void {
    this.clearWindow();
    while (!this.stopping) {
      const next = nextDispatch(this.lanes.values(), Date.now(), this.limits);
      if (next.kind === 'idle') return;
      if (next.kind === 'wait') {
        this.windowTimer = setTimeout(() => this.schedule(), next.ms);
        return;
      }
      const batch = this.take(next.ready);
      const run = this.runner!.run(batch).finally(() => this.inFlight.delete(run));
      this.inFlight.add(run);
    }
  }

  /** Takes the planned records off their lanes, which are busy until the batch settles. */
  private take(ready: Lane[]): Pending[] {
    const out: Pending[] = [];
    planBatch(ready, (p: Pending) => mskRecordSize(p.record), this.limits).forEach(({ count, complete }, i) => {
      const lane = ready[i]!;
      if (count > 0) {
        out.push(...lane.queue.splice(0, count));
        lane.busy = true;
        lane.inFlightTo = out[out.length - 1]!.record.offset;
      }
      if (complete && shouldResume(lane, this.maxBuffered)) this.resume(lane);
    });
    return out;
  }

  private resume(lane: Lane): void {
    this.consumer.resume([{ topic: this.topicName, partitions: [lane.partition] }]);
    lane.paused = false;
  }

  // ---- consumer ------------------------------------------------------------------------------

  /** Subscribes and runs the consumer; resolves once the group is joined (at most 30 s). */
  private async consume(): Promise<void> {
    const { consumer } = this;
    let joined: () => void = () => {};
    const joinedOnce = new Promise<void>((resolve) => {
      joined = resolve;
    });
    consumer.on(consumer.events.GROUP_JOIN, () => {
      this.rejoined();
      joined();
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      this.log(`${this.tag} consumer crashed (restart: ${payload.restart}): ${errorMessage(payload.error)}`);
    });
    await consumer.connect();
    await consumer.subscribe({
      topics: [this.topicName],
      fromBeginning: this.opts.trigger.startingPosition === 'TRIM_HORIZON',
    });
    await consumer.run({ autoCommit: false, eachBatchAutoResolve: false, eachBatch: (p) => this.enqueue(p) });
    await Promise.race([
      joinedOnce,
      sleep(30_000, undefined, { ref: false }).then(() => {
        throw new Error(`consumer group ${this.groupId} did not join within 30 s`);
      }),
    ]);
  }

  /**
   * After a (re)join kafkajs fetches from the committed offsets: drop what was buffered (it comes
   * again) but keep skipping what is in flight (it will be committed by its invocation).
   */
  private rejoined(): void {
    for (const lane of this.lanes.values()) {
      lane.queue = [];
      lane.lastEnqueued = refetchFloor(lane);
      if (lane.paused) this.resume(lane);
    }
  }

  /** kafkajs's eachBatch: appends the records to the partition's lane and returns at once. */
  private async enqueue({ batch, resolveOffset, isRunning, isStale }: EachBatchPayload): Promise<void> {
    if (this.stopping || !isRunning() || isStale()) return;
    const lane = this.laneFor(batch.partition);
    const arrivedAt = Date.now();
    lane.highWatermark = Number(batch.highWatermark);
    for (const message of batch.messages) {
      const offset = Number(message.offset);
      if (offset <= lane.lastEnqueued) continue;
      lane.queue.push({ record: toMskRecord(batch.topic, batch.partition, message), lane, done: false, arrivedAt });
      lane.lastEnqueued = offset;
    }
    // Moves kafkajs's fetch position only; commits happen after processing.
    resolveOffset(batch.lastOffset());
    if (shouldPause(lane, this.maxBuffered)) {
      this.consumer.pause([{ topic: this.topicName, partitions: [lane.partition] }]);
      lane.paused = true;
    }
    this.schedule();
  }

  // ---- the mapping's interface ---------------------------------------------------------------

  stats(): EsmStats {
    const committed: Record<number, number> = {};
    const lagByPartition: Record<number, number> = {};
    let buffered = 0;
    for (const lane of this.lanes.values()) {
      buffered += lane.queue.length;
      if (lane.committed !== undefined) committed[lane.partition] = lane.committed;
      const lag = estimatedLag(lane, this.opts.trigger.startingPosition);
      if (lag !== undefined) lagByPartition[lane.partition] = lag;
    }
    return { ...this.counts, committed, lagByPartition, buffered, inFlight: this.inFlight.size };
  }

  async lag(): Promise<Record<number, number>> {
    const [ends, committed] = await Promise.all([
      this.admin.fetchTopicOffsets(this.topicName),
      this.admin.fetchOffsets({ groupId: this.groupId, topics: [this.topicName] }),
    ]);
    return lagFromOffsets(ends, committed[0]?.partitions ?? []);
  }

  stop(): Promise<void> {
    this.stopped ??= (async () => {
      this.stopping = true;
      this.abort.abort();
      this.clearWindow();
      for (const lane of this.lanes.values()) lane.queue = [];
      // In-flight invocations finish and commit what succeeded; retries and backoffs break off.
      const drained = Promise.allSettled([...this.inFlight]);
      await Promise.race([drained, sleep(30_000, undefined, { ref: false })]);
      await this.disconnectAll();
      this.log(`${this.tag} stopped`);
    })();
    return this.stopped;
  }
}
