import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { provisionTopology } from '../../local/infra/index.ts';
import { tables, topics } from '../../shared/topology.ts';
import { provisionedTestEnv } from '../support/infra.ts';

describe('real Kafka broker and DynamoDB Local', () => {
  let t: Awaited<ReturnType<typeof provisionedTestEnv>>;
  beforeAll(async () => {
    t = await provisionedTestEnv('infra');
  });

  it('creates every topology topic with its partitions, idempotently', async () => {
    const admin = t.kafka().admin();
    await admin.connect();
    try {
      const md = await admin.fetchTopicMetadata({ topics: Object.values(t.topology.topicNames) });
      for (const [key, spec] of Object.entries(topics)) {
        const topic = md.topics.find((x) => x.name === t.topology.topicNames[key as keyof typeof topics]);
        expect(topic?.partitions.length, key).toBe(spec.partitions);
      }
      const configs = await admin.describeConfigs({
        includeSynonyms: false,
        resources: [{ type: 2, name: t.topology.topicNames.listenEvents, configNames: ['retention.ms'] }],
      });
      expect(configs.resources[0]?.configEntries[0]?.configValue).toBe(String(topics.listenEvents.retentionMs));
    } finally {
      await admin.disconnect();
    }
    const again = await provisionTopology(
      { kafkaBrokers: t.kafkaBrokers, dynamodbEndpoint: t.dynamodbEndpoint },
      t.prefix,
    );
    expect(again.createdTopics).toEqual([]);
    expect(again.createdTables).toEqual([]);
  });

  it('creates every topology table with its keys and indexes', async () => {
    const client = t.documentClient();
    for (const [key, spec] of Object.entries(tables)) {
      const name = t.topology.tableNames[key as keyof typeof tables];
      const { Table } = await client.send(new DescribeTableCommand({ TableName: name }));
      expect(Table?.KeySchema?.[0]).toEqual({ AttributeName: spec.partitionKey.name, KeyType: 'HASH' });
      const gsis = 'globalSecondaryIndexes' in spec ? spec.globalSecondaryIndexes : [];
      expect((Table?.GlobalSecondaryIndexes ?? []).map((g) => g.IndexName)).toEqual(gsis.map((g) => g.name));
    }
  });

  it('produces and consumes through the real broker', async () => {
    const kafka = t.kafka();
    const topic = t.topology.topicNames.listenEvents;
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const values = Array.from({ length: 20 }, (_, i) => JSON.stringify({ i }));
    await producer.send({ topic, acks: -1, messages: values.map((value, i) => ({ key: `u${i % 4}`, value })) });
    await producer.disconnect();

    const consumer = kafka.consumer({ groupId: `${t.prefix}infra-test` });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const seen: string[] = [];
    await new Promise<void>((done, fail) => {
      const timer = setTimeout(() => fail(new Error(`only ${seen.length} of 20 records consumed`)), 30_000);
      consumer
        .run({
          eachMessage: async ({ message }) => {
            seen.push(message.value!.toString());
            if (seen.length === values.length) {
              clearTimeout(timer);
              done();
            }
          },
        })
        .catch(fail);
    });
    await consumer.disconnect();
    expect(seen.sort()).toEqual([...values].sort());
  });

  it('writes and reads the real DynamoDB Local', async () => {
    const client = t.documentClient();
    const TableName = t.topology.tableNames.profiles;
    await client.send(new PutCommand({ TableName, Item: { userId: 'u1', version: 1, genres: { rock: 1.5 } } }));
    const { Item } = await client.send(new GetCommand({ TableName, Key: { userId: 'u1' } }));
    expect(Item).toEqual({ userId: 'u1', version: 1, genres: { rock: 1.5 } });
  });

  afterAll(() => {});
});
