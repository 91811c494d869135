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
import { type Admin, type Consumer, type Kafka, Partitioners, type Producer } from 'kafkajs';
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

export async function startEventSourceMapping(opts: EventSourceMappingOptions): Promise<EventSourceMapping> {
  const { kafka, trigger, topicName, groupId, deadLetterTopic } = opts;
  const log = opts.log ?? silentLog;
  const tag = `[esm:${trigger.function}]`;
  const limits: BatchLimits = {
    batchSize: trigger.batchSize,
    windowMs: opts.batchingWindowMs ?? trigger.maxBatchingWindowSeconds * 1000,
    maxPayloadBytes: opts.maxPayloadBytes ?? MAX_PAYLOAD_BYTES,
  };
  const policy = retryPolicy(trigger, opts.backoff);
  const maxBuffered = opts.maxBufferedPerPartition ?? Math.max(2 * trigger.batchSize, 500);

  const stats: InvokeCounts = { batches: 0, records: 0, failures: 0, deadLettered: 0 };
  const lanes = new Map<number, Lane>();
  const inFlight = new Set<Promise<void>>();
  const abort = new AbortController();
  let stopping = false;
  let windowTimer: NodeJS.Timeout | undefined;

  const admin: Admin = kafka.admin();
  // Idempotent so a retried dead-letter send cannot write the same letter twice.
  const producer: Producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  // Short fetch waits keep stop() quick; the broker answers at once when records are there.
  const consumer: Consumer = kafka.consumer({ groupId, allowAutoTopicCreation: false, maxWaitTimeInMs: 250 });

  const laneFor = (partition: number): Lane => {
    let lane = lanes.get(partition);
    if (!lane) {
      lane = { partition, queue: [], busy: false, lastEnqueued: -1, paused: false };
      lanes.set(partition, lane);
    }
    return lane;
  };

  const disconnectAll = async () => {
    await Promise.allSettled([consumer.disconnect(), producer.disconnect(), admin.disconnect()]);
  };

  let source: { eventSourceArn: string; bootstrapServers: string };
  try {
    await Promise.all([admin.connect(), producer.connect()]);
    const [cluster, ends, committed] = await Promise.all([
      opts.bootstrapServers ? undefined : admin.describeCluster(),
      admin.fetchTopicOffsets(topicName),
      admin.fetchOffsets({ groupId, topics: [topicName] }),
    ]);
    source = {
      eventSourceArn: opts.clusterArn ?? localClusterArn(),
      bootstrapServers: opts.bootstrapServers ?? cluster!.brokers.map((b) => `${b.host}:${b.port}`).join(','),
    };
    for (const e of ends) {
      const lane = laneFor(e.partition);
      lane.highWatermark = Number(e.high);
      lane.low = Number(e.low);
    }
    for (const p of committed[0]?.partitions ?? []) {
      if (Number(p.offset) >= 0) laneFor(p.partition).committed = Number(p.offset);
    }
  } catch (err) {
    await disconnectAll();
    throw err;
  }

  const runner = new BatchRunner({
    trigger,
    topicName,
    deadLetterTopic,
    source,
    invoke: opts.invoke,
    policy,
    producer,
    consumer,
    counts: stats,
    stopping: () => stopping,
    signal: abort.signal,
    log,
    tag,
    released: () => schedule(),
  });

  // ---- dispatch ------------------------------------------------------------------------------

  const clearWindow = () => {
    if (windowTimer) clearTimeout(windowTimer);
    windowTimer = undefined;
  };

  const schedule = () => {
    clearWindow();
    while (!stopping) {
      const next = nextDispatch(lanes.values(), Date.now(), limits);
      if (next.kind === 'idle') return;
      if (next.kind === 'wait') {
        windowTimer = setTimeout(schedule, next.ms);
        return;
      }
      const batch = take(next.ready);
      const run = runner.run(batch).finally(() => inFlight.delete(run));
      inFlight.add(run);
    }
  };

  /** Takes the planned records off their lanes, which are busy until the batch settles. */
  const take = (ready: Lane[]): Pending[] => {
    const out: Pending[] = [];
    planBatch(ready, (p: Pending) => mskRecordSize(p.record), limits).forEach(({ count, complete }, i) => {
      const lane = ready[i]!;
      if (count > 0) {
        out.push(...lane.queue.splice(0, count));
        lane.busy = true;
        lane.inFlightTo = out[out.length - 1]!.record.offset;
      }
      if (complete && shouldResume(lane, maxBuffered)) {
        consumer.resume([{ topic: topicName, partitions: [lane.partition] }]);
        lane.paused = false;
      }
    });
    return out;
  };

  // ---- consumer ------------------------------------------------------------------------------

  let joined: () => void = () => {};
  const joinedOnce = new Promise<void>((resolve) => {
    joined = resolve;
  });
  consumer.on(consumer.events.GROUP_JOIN, () => {
    // After a (re)join kafkajs fetches from the committed offsets: drop what was buffered (it comes
    // again) but keep skipping what is in flight (it will be committed by its invocation).
    for (const lane of lanes.values()) {
      lane.queue = [];
      lane.lastEnqueued = refetchFloor(lane);
      if (lane.paused) {
        consumer.resume([{ topic: topicName, partitions: [lane.partition] }]);
        lane.paused = false;
      }
    }
    joined();
  });
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    log(`${tag} consumer crashed (restart: ${payload.restart}): ${errorMessage(payload.error)}`);
  });

  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [topicName], fromBeginning: trigger.startingPosition === 'TRIM_HORIZON' });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, resolveOffset, isRunning, isStale }) => {
        if (stopping || !isRunning() || isStale()) return;
        const lane = laneFor(batch.partition);
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
        if (shouldPause(lane, maxBuffered)) {
          consumer.pause([{ topic: topicName, partitions: [lane.partition] }]);
          lane.paused = true;
        }
        schedule();
      },
    });
    await Promise.race([
      joinedOnce,
      sleep(30_000, undefined, { ref: false }).then(() => {
        throw new Error(`consumer group ${groupId} did not join within 30 s`);
      }),
    ]);
  } catch (err) {
    stopping = true;
    await disconnectAll();
    throw err;
  }
  log(`${tag} consuming ${topicName} as ${groupId} (batch ${limits.batchSize}, window ${limits.windowMs} ms)`);

  let stopped: Promise<void> | undefined;
  return {
    groupId,
    stats: () => {
      const committed: Record<number, number> = {};
      const lagByPartition: Record<number, number> = {};
      let buffered = 0;
      for (const lane of lanes.values()) {
        buffered += lane.queue.length;
        if (lane.committed !== undefined) committed[lane.partition] = lane.committed;
        const lag = estimatedLag(lane, trigger.startingPosition);
        if (lag !== undefined) lagByPartition[lane.partition] = lag;
      }
      return { ...stats, committed, lagByPartition, buffered, inFlight: inFlight.size };
    },
    lag: async () => {
      const [ends, committed] = await Promise.all([
        admin.fetchTopicOffsets(topicName),
        admin.fetchOffsets({ groupId, topics: [topicName] }),
      ]);
      return lagFromOffsets(ends, committed[0]?.partitions ?? []);
    },
    stop: () => {
      stopped ??= (async () => {
        stopping = true;
        abort.abort();
        clearWindow();
        for (const lane of lanes.values()) lane.queue = [];
        // In-flight invocations finish and commit what succeeded; retries and backoffs break off.
        const drained = Promise.allSettled([...inFlight]);
        await Promise.race([drained, sleep(30_000, undefined, { ref: false })]);
        await disconnectAll();
        log(`${tag} stopped`);
      })();
      return stopped;
    },
  };
}
