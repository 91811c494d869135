/**
 * Kafka for the handlers: one idempotent producer per Lambda container (connected on first use and
 * reused across invocations), decoding of the MSK event Lambda delivers, and dead-lettering.
 */
import type { MSKEvent, MSKRecord } from 'aws-lambda';
import { type Message, Partitioners, type Producer } from 'kafkajs';
import { type DeadLetterReason, type DeadLetterV1, deadLetterOf } from '../domain/events/events.ts';
import { ConfigurationError, ProduceTimeoutError } from '../errors.ts';
import { type TopicKey, topicEnvVar, topics } from '../topology.ts';
import { createKafka, kafkaConnectionFromEnv } from './kafka-client.ts';

export interface DecodedRecord {
  topic: string;
  partition: number;
  offset: number;
  timestamp: number;
  /** `${topic}-${partition}`, the key Lambda groups records by. */
  topicPartition: string;
  key: string | undefined;
  value: Buffer;
  headers: Record<string, string>;
}

/** Flattens an MSK event into records, partition by partition, in offset order. */
export function decodeMskEvent(event: MSKEvent): DecodedRecord[] {
  const out: DecodedRecord[] = [];
  for (const [topicPartition, records] of Object.entries(event.records ?? {})) {
    for (const r of records as MSKRecord[]) out.push(decodeMskRecord(r, topicPartition));
  }
  return out;
}

function decodeMskRecord(r: MSKRecord, topicPartition: string): DecodedRecord {
  const headers: Record<string, string> = {};
  for (const h of r.headers ?? []) {
    for (const [name, bytes] of Object.entries(h)) headers[name] = Buffer.from(bytes as number[]).toString('utf8');
  }
  return {
    topic: r.topic,
    partition: r.partition,
    offset: Number(r.offset),
    timestamp: r.timestamp,
    topicPartition,
    key: r.key ? Buffer.from(r.key, 'base64').toString('utf8') : undefined,
    value: Buffer.from(r.value ?? '', 'base64'),
    headers,
  };
}

let producerPromise: Promise<Producer> | undefined;

/**
 * The producer's retry budget. Without an explicit `retry`, kafkajs gives an idempotent producer
 * Number.MAX_SAFE_INTEGER retries (overriding the client's), so a send to an unreachable broker
 * never failed inside the ingest function's 10 s timeout: the caller got a gateway timeout instead
 * of the 503 that tells it to retry. Bounded retries can duplicate a record on an ambiguous
 * failure; that is harmless here, since every event carries its eventId and the consumers drop
 * repeats.
 *
 * kafkajs warns "Limiting retries for the idempotent producer may invalidate EoS guarantees" for
 * any idempotent producer with retries below MAX_SAFE_INTEGER (producer/index.js). The two
 * settings that silence it are worse: unbounded retries keep a send going after `produce` has
 * given up at its deadline — and since a send that finds its cluster disconnected reconnects it
 * (producer/sendMessages.js), even after the dropped producer's disconnect; a non-idempotent
 * producer loses the broker's dedup of in-session retries and, with 5 requests in flight, their
 * order. So the warning stays, explained here, and `npm start` keeps it out of the console
 * (shared/adapters/kafka-log.ts).
 */
export const PRODUCER_RETRY = { initialRetryTime: 100, maxRetryTime: 1000, retries: 4 } as const;
/** A hard ceiling on one `produce` (connect + send), whatever kafkajs's nested retries add up to. */
export const PRODUCE_DEADLINE_MS = 5000;
/**
 * The ceiling for producers inside Kafka-triggered and scheduled functions (60 s and more of
 * timeout, nobody waiting on an HTTP answer): 5 s there turns a busy broker into failed batches,
 * retries and in the end dead letters; a batch that cannot produce in 30 s is retried as a whole.
 */
export const TRIGGER_PRODUCE_DEADLINE_MS = 30_000;

/** The container's producer: idempotent, acks from all in-sync replicas, bounded retries. */
export function getProducer(env: Record<string, string | undefined> = process.env): Promise<Producer> {
  if (!producerPromise) {
    const kafka = createKafka(kafkaConnectionFromEnv(env.POWERTOOLS_SERVICE_NAME ?? 'tunestream', env), {
      retry: PRODUCER_RETRY,
      requestTimeout: 4000,
    });
    const producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 5,
      allowAutoTopicCreation: false,
      retry: PRODUCER_RETRY,
      // Murmur2, as the Java client: a userId maps to the same partition whoever produces it.
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    producerPromise = producer.connect().then(
      () => producer,
      (err) => {
        producerPromise = undefined; // let the next invocation try again
        throw err;
      },
    );
  }
  return producerPromise;
}

/** The physical topic names, from the env the CDK stack and the local runtime set (`resourceEnv`). */
export function topicsFromEnv(env: Record<string, string | undefined> = process.env): Record<TopicKey, string> {
  const names = {} as Record<TopicKey, string>;
  for (const key of Object.keys(topics) as TopicKey[]) {
    const name = env[topicEnvVar(key)];
    if (!name) throw new ConfigurationError(`${topicEnvVar(key)} is not set`);
    names[key] = name;
  }
  return names;
}

/** For tests and the local runtime's shutdown. */
export async function disconnectProducer(): Promise<void> {
  const pending = producerPromise;
  producerPromise = undefined;
  if (pending) await (await pending).disconnect().catch(() => {});
}

/**
 * Sends with acks=all within PRODUCE_DEADLINE_MS, or throws. After a failure the producer is
 * dropped (disconnected in the background), so the next invocation starts with a fresh producer
 * id instead of sequence numbers a half-finished send left behind.
 */
export async function produce(topic: string, messages: Message[], deadlineMs = PRODUCE_DEADLINE_MS): Promise<void> {
  if (messages.length === 0) return;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new ProduceTimeoutError(`producing to ${topic} took longer than ${deadlineMs} ms`)),
      deadlineMs,
    );
  });
  const pending = producerPromise ?? getProducer();
  try {
    const sending = pending.then((p) => p.send({ topic, acks: -1, messages }));
    sending.catch(() => {}); // a send that loses the race must not become an unhandled rejection
    await Promise.race([sending, deadline]);
  } catch (err) {
    if (producerPromise === pending) {
      producerPromise = undefined;
      void pending.then((p) => p.disconnect()).catch(() => {});
    }
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

/** The dead-letter wire format is the domain's `DeadLetterV1` (reason, source coordinates, base64 bytes). */
export type DeadLetter = DeadLetterV1;

export function toDeadLetter(
  record: DecodedRecord,
  reason: DeadLetterReason,
  error: string,
  functionName: string,
  now = Date.now(),
): DeadLetter {
  const keyBase64 = record.key === undefined ? undefined : Buffer.from(record.key).toString('base64');
  return deadLetterOf(
    {
      topic: record.topic,
      partition: record.partition,
      offset: record.offset,
      keyBase64,
      valueBase64: record.value.toString('base64'),
    },
    reason,
    error,
    functionName,
    now,
  );
}

export async function publishDeadLetters(topic: string, letters: DeadLetter[]): Promise<void> {
  await produce(
    topic,
    letters.map((l) => ({
      key: `${l.sourceTopic}-${l.partition}`,
      value: JSON.stringify(l),
      headers: { reason: l.reason, 'source-topic': l.sourceTopic },
    })),
    TRIGGER_PRODUCE_DEADLINE_MS,
  );
}
