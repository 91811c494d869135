/**
 * Custom resource onEvent handler (Provider framework): makes the cluster's topics match the topology.
 *
 * - Create/Update: creates missing topics (partitions + retention.ms), grows partition counts that are
 *   too small, sets retention.ms on existing topics whose retention differs. Shrinking partitions is impossible in Kafka and
 *   fails the deployment with a clear message instead of drifting silently.
 * - Delete: no-op. Topics hold data; they disappear with the cluster when the stack is destroyed, and a
 *   replaced resource (e.g. new properties) must not delete the topics the new one just reconciled.
 *
 * Connects with `createKafka` from shared/adapters/kafka-client.ts (SASL/OAUTHBEARER with MSK IAM over
 * TLS), the same client the functions use.
 */
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { type Admin, ConfigResourceTypes } from 'kafkajs';
import { createKafka, type KafkaAuth } from '../../shared/adapters/kafka-client.ts';

export interface TopicProvisionerTopic {
  readonly name: string;
  readonly partitions: number;
  readonly retentionMs: number;
}

/** Custom resource properties (CloudFormation delivers numbers as strings; see `parseProps`). */
export interface TopicProvisionerProps {
  readonly clusterArn: string;
  readonly brokers: string;
  /**
   * Replicas of each created topic: explicit (1 on a local single broker, 3 on a prod provisioned
   * cluster) or -1 for the cluster's default (MSK Serverless, which manages replication itself).
   * Existing topics keep theirs: Kafka changes a replication factor only by reassignment.
   */
  readonly replicationFactor: number;
  readonly topics: readonly TopicProvisionerTopic[];
}

export interface TopicPlan {
  readonly create: readonly TopicProvisionerTopic[];
  readonly grow: readonly { readonly topic: string; readonly count: number }[];
  readonly configure: readonly TopicProvisionerTopic[];
}

export interface ExistingTopic {
  readonly partitions: number;
  /** Current retention.ms (undefined = unknown, re-apply). */
  readonly retentionMs?: number;
}

/** Pure: what to do given the topics that already exist. */
export function planTopics(
  desired: readonly TopicProvisionerTopic[],
  existing: ReadonlyMap<string, ExistingTopic>,
): TopicPlan {
  const create: TopicProvisionerTopic[] = [];
  const grow: { topic: string; count: number }[] = [];
  const configure: TopicProvisionerTopic[] = [];
  for (const t of desired) {
    const current = existing.get(t.name);
    if (current === undefined) {
      create.push(t);
      continue;
    }
    if (t.partitions < current.partitions)
      throw new Error(
        `topic ${t.name} has ${current.partitions} partitions; the topology asks for ${t.partitions} and Kafka cannot shrink a topic`,
      );
    if (t.partitions > current.partitions) grow.push({ topic: t.name, count: t.partitions });
    // AlterConfigs (the only config API kafkajs has) replaces the topic's dynamic configs, so only
    // call it when retention actually differs.
    if (current.retentionMs !== t.retentionMs) configure.push(t);
  }
  return { create, grow, configure };
}

export function parseProps(raw: Record<string, unknown>): TopicProvisionerProps {
  const clusterArn = String(raw.clusterArn ?? '');
  const brokers = String(raw.brokers ?? '');
  if (!clusterArn || !brokers) throw new Error('clusterArn and brokers are required');
  const replicationFactor = Number(raw.replicationFactor);
  if (!Number.isInteger(replicationFactor) || (replicationFactor < 1 && replicationFactor !== -1))
    throw new Error(`replicationFactor must be a positive integer or -1, got ${JSON.stringify(raw.replicationFactor)}`);
  if (!Array.isArray(raw.topics) || raw.topics.length === 0) throw new Error('topics must be a non-empty list');
  const topics = raw.topics.map((t: Record<string, unknown>) => {
    const topic = { name: String(t.name ?? ''), partitions: Number(t.partitions), retentionMs: Number(t.retentionMs) };
    if (
      !topic.name ||
      !Number.isInteger(topic.partitions) ||
      topic.partitions < 1 ||
      !Number.isInteger(topic.retentionMs)
    )
      throw new Error(`invalid topic spec ${JSON.stringify(t)}`);
    return topic;
  });
  return { clusterArn, brokers, replicationFactor, topics };
}

interface OnEventResponse {
  PhysicalResourceId: string;
  Data?: Record<string, string>;
}

/**
 * KAFKA_AUTH=none lets the integration test run this very handler against the local broker; the
 * deployed function leaves it unset (IAM).
 */
const authFromEnv = (): KafkaAuth => (process.env.KAFKA_AUTH === 'none' ? 'none' : 'iam');

export async function handler(event: CloudFormationCustomResourceEvent): Promise<OnEventResponse> {
  if (event.RequestType === 'Delete') return { PhysicalResourceId: event.PhysicalResourceId };

  const props = parseProps(event.ResourceProperties as Record<string, unknown>);
  const region = process.env.AWS_REGION;
  const kafka = createKafka({
    brokers: props.brokers
      .split(',')
      .map((b) => b.trim())
      .filter(Boolean),
    auth: authFromEnv(),
    region,
    clientId: 'tunestream-topic-provisioner',
  });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const names = new Set(await admin.listTopics());
    const present = props.topics.filter((t) => names.has(t.name)).map((t) => t.name);
    const existing = new Map<string, ExistingTopic>();
    if (present.length > 0) {
      const metadata = await admin.fetchTopicMetadata({ topics: present });
      const configs = await admin.describeConfigs({
        includeSynonyms: false,
        resources: present.map((name) => ({
          type: ConfigResourceTypes.TOPIC,
          name,
          configNames: ['retention.ms'],
        })),
      });
      const retention = new Map<string, number>();
      for (const r of configs.resources) {
        const v = r.configEntries.find((e) => e.configName === 'retention.ms')?.configValue;
        if (v !== undefined) retention.set(r.resourceName, Number(v));
      }
      for (const t of metadata.topics)
        existing.set(t.name, { partitions: t.partitions.length, retentionMs: retention.get(t.name) });
    }
    const plan = planTopics(props.topics, existing);
    console.log(JSON.stringify({ message: 'topic plan', clusterArn: props.clusterArn, plan }));

    if (plan.create.length > 0) {
      // Not kafkajs's waitForLeaders: its metadata poll gives up on UNKNOWN_TOPIC_OR_PARTITION,
      // which a broker answers for a moment after creating a topic (seen under load).
      await admin.createTopics({
        waitForLeaders: false,
        topics: plan.create.map((t) => ({
          topic: t.name,
          numPartitions: t.partitions,
          replicationFactor: props.replicationFactor,
          configEntries: [{ name: 'retention.ms', value: String(t.retentionMs) }],
        })),
      });
    }
    if (plan.create.length > 0) await untilTopicsAre(admin, new Map(plan.create.map((t) => [t.name, t.partitions])));
    if (plan.grow.length > 0) {
      await admin.createPartitions({ topicPartitions: [...plan.grow] });
      await untilTopicsAre(admin, new Map(plan.grow.map((g) => [g.topic, g.count])));
    }
    if (plan.configure.length > 0) {
      await admin.alterConfigs({
        validateOnly: false,
        resources: plan.configure.map((t) => ({
          type: ConfigResourceTypes.TOPIC,
          name: t.name,
          configEntries: [{ name: 'retention.ms', value: String(t.retentionMs) }],
        })),
      });
    }
  } finally {
    await admin.disconnect();
  }
  return {
    // One physical resource per cluster: a new cluster means a new resource (and a no-op delete of the old).
    PhysicalResourceId: `kafka-topics:${props.clusterArn}`,
    Data: { Topics: props.topics.map((t) => t.name).join(',') },
  };
}

/**
 * Waits (≤ 60 s) until every topic has its partitions, each with a leader, in the cluster's
 * metadata: the mappings created after this resource must find them. Metadata errors in between
 * (a topic a broker does not host yet) are retried, not fatal.
 */
async function untilTopicsAre(admin: Admin, partitions: ReadonlyMap<string, number>): Promise<void> {
  const deadline = Date.now() + 60_000;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const { topics } = await admin.fetchTopicMetadata({ topics: [...partitions.keys()] });
      const ready = topics.every(
        (t) => t.partitions.length >= (partitions.get(t.name) ?? 0) && t.partitions.every((p) => p.leader >= 0),
      );
      if (ready && topics.length === partitions.size) return;
      last = 'not all partitions have a leader yet';
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`topics not ready within 60 s: ${[...partitions.keys()].join(', ')} (${last})`);
}
