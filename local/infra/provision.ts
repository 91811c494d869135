/**
 * Creates the topology's topics and tables, idempotently. Locally only: in the cloud the CDK stack
 * provisions the same topology.
 */
import {
  type AttributeDefinition,
  CreateTableCommand,
  type CreateTableCommandInput,
  type DynamoDBClient,
  ListTablesCommand,
  ResourceInUseException,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import type { Kafka } from 'kafkajs';
import {
  type ResolvedTopology,
  type TableKey,
  type TableSpec,
  type TopicKey,
  tables,
  topics,
} from '../../shared/topology.ts';
import { waitUntil } from './wait.ts';

export async function ensureTopics(kafka: Kafka, resolved: ResolvedTopology, only?: TopicKey[]): Promise<string[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const wanted = (Object.keys(topics) as TopicKey[]).filter((k) => !only || only.includes(k));
    const missing = wanted.filter((k) => !existing.has(resolved.topicNames[k]));
    if (missing.length > 0) {
      await admin.createTopics({
        // Leaders are awaited below by polling, which tolerates the broker's transient
        // "does not host this topic-partition" while several files provision at once.
        waitForLeaders: false,
        topics: missing.map((k) => ({
          topic: resolved.topicNames[k],
          numPartitions: topics[k].partitions,
          replicationFactor: 1,
          configEntries: [{ name: 'retention.ms', value: String(topics[k].retentionMs) }],
        })),
      });
    }
    // On KRaft, metadata reaches the broker a moment after creation; a consumer that subscribes
    // before every partition has a leader fails. Wait until all of them do.
    const names = wanted.map((k) => resolved.topicNames[k]);
    await waitUntil(
      'topic leaders',
      async () => {
        const md = await admin.fetchTopicMetadata({ topics: names });
        const led = md.topics.every(
          (t) =>
            t.partitions.length === topics[wanted[names.indexOf(t.name)]!].partitions &&
            t.partitions.every((p) => p.leader >= 0),
        );
        if (!led) return false;
        // A named leader may not serve yet ("not the leader for that topic-partition"): ask it.
        await Promise.all(names.map((topic) => admin.fetchTopicOffsets(topic)));
        return true;
      },
      { timeoutMs: 30_000, intervalMs: 100 },
    );
    return missing.map((k) => resolved.topicNames[k]);
  } finally {
    await admin.disconnect();
  }
}

export function createTableInput(spec: TableSpec, tableName: string): CreateTableCommandInput {
  const attributes = new Map<string, AttributeDefinition>();
  const add = (k: { name: string; type: string }) =>
    attributes.set(k.name, { AttributeName: k.name, AttributeType: k.type as 'S' | 'N' | 'B' });
  add(spec.partitionKey);
  if (spec.sortKey) add(spec.sortKey);
  for (const gsi of spec.globalSecondaryIndexes ?? []) {
    add(gsi.partitionKey);
    if (gsi.sortKey) add(gsi.sortKey);
  }
  const keySchema = (pk: { name: string }, sk?: { name: string }) => [
    { AttributeName: pk.name, KeyType: 'HASH' as const },
    ...(sk ? [{ AttributeName: sk.name, KeyType: 'RANGE' as const }] : []),
  ];
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [...attributes.values()],
    KeySchema: keySchema(spec.partitionKey, spec.sortKey),
    GlobalSecondaryIndexes: spec.globalSecondaryIndexes?.map((gsi) => ({
      IndexName: gsi.name,
      KeySchema: keySchema(gsi.partitionKey, gsi.sortKey),
      Projection:
        gsi.projection === 'ALL' || gsi.projection === 'KEYS_ONLY'
          ? { ProjectionType: gsi.projection }
          : { ProjectionType: 'INCLUDE', NonKeyAttributes: [...gsi.projection] },
    })),
  };
}

export async function ensureTables(client: DynamoDBClient, resolved: ResolvedTopology): Promise<string[]> {
  const existing = new Set<string>();
  let start: string | undefined;
  do {
    const page = await client.send(new ListTablesCommand({ ExclusiveStartTableName: start }));
    for (const name of page.TableNames ?? []) existing.add(name);
    start = page.LastEvaluatedTableName;
  } while (start);
  const created: string[] = [];
  for (const key of Object.keys(tables) as TableKey[]) {
    const spec: TableSpec = tables[key];
    const name = resolved.tableNames[key];
    if (existing.has(name)) continue;
    try {
      await client.send(new CreateTableCommand(createTableInput(spec, name)));
      created.push(name);
    } catch (err) {
      if (!(err instanceof ResourceInUseException)) throw err;
    }
    await waitUntilTableExists({ client, maxWaitTime: 60 }, { TableName: name });
    if (spec.ttlAttribute) {
      await client.send(
        new UpdateTimeToLiveCommand({
          TableName: name,
          TimeToLiveSpecification: { AttributeName: spec.ttlAttribute, Enabled: true },
        }),
      );
    }
  }
  return created;
}
