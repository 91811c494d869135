/**
 * Reads every record currently in a topic (up to the end offsets seen at the start), with a
 * throwaway consumer group. Used by the reliability tests and the chaos tool to audit dead letters.
 */
import { randomBytes } from 'node:crypto';
import type { Kafka, KafkaMessage } from 'kafkajs';

export interface ReadRecord {
  topic: string;
  partition: number;
  message: KafkaMessage;
}

export async function readTopic(kafka: Kafka, topic: string, timeoutMs = 30_000): Promise<ReadRecord[]> {
  const admin = kafka.admin();
  await admin.connect();
  const offsets = await admin.fetchTopicOffsets(topic).finally(() => admin.disconnect());
  const end = new Map(offsets.map((o) => [o.partition, Number(o.high)]));
  const total = offsets.reduce((a, o) => a + Number(o.high) - Number(o.low), 0);
  if (total === 0) return [];
  const consumer = kafka.consumer({ groupId: `reader-${randomBytes(4).toString('hex')}` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const out: ReadRecord[] = [];
  try {
    await new Promise<void>((done, fail) => {
      const timer = setTimeout(() => fail(new Error(`read ${out.length}/${total} records of ${topic}`)), timeoutMs);
      consumer
        .run({
          eachMessage: async ({ topic: tp, partition, message }) => {
            // Records produced after we looked at the end offsets are not ours to wait for.
            if (Number(message.offset) >= (end.get(partition) ?? 0)) return;
            out.push({ topic: tp, partition, message });
            if (out.length >= total) {
              clearTimeout(timer);
              done();
            }
          },
        })
        .catch(fail);
    });
  } finally {
    await consumer.disconnect();
  }
  return out;
}

/** Dead letters (parsed) whose source is `sourceTopic`. */
export async function readDeadLetters(
  kafka: Kafka,
  deadLetterTopic: string,
  sourceTopic?: string,
): Promise<
  Array<Record<string, unknown> & { sourceTopic: string; partition: number; offset: number; reason: string }>
> {
  const all = (await readTopic(kafka, deadLetterTopic)).map((r) => JSON.parse(r.message.value!.toString()));
  return sourceTopic === undefined ? all : all.filter((d) => d.sourceTopic === sourceTopic);
}
