/**
 * The topic provisioner's custom-resource handler (cdk/custom-resources/topic-provisioner.ts) run
 * against the real local broker, as CloudFormation's Provider framework would call it: Create,
 * Update (grow, re-configure), a refused shrink, Delete. Only the auth differs from the cloud
 * (KAFKA_AUTH=none instead of MSK IAM); the replication factor is explicit, 1 on one broker.
 */
import { isDeepStrictEqual } from 'node:util';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { type Admin, ConfigResourceTypes } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { handler, type TopicProvisionerProps } from '../../cdk/custom-resources/topic-provisioner.ts';
import { createKafka } from '../../shared/adapters/kafka-client.ts';
import { eventually, testPrefix } from '../support/infra.ts';

const CLUSTER_ARN =
  'arn:aws:kafka:us-east-1:000000000000:cluster/tunestream-test/00000000-0000-0000-0000-000000000000-1';

function cfnEvent(
  requestType: 'Create' | 'Update' | 'Delete',
  props: TopicProvisionerProps,
): CloudFormationCustomResourceEvent {
  // CloudFormation hands every property over as a string.
  const stringify = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(stringify)
      : v !== null && typeof v === 'object'
        ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, stringify(x)]))
        : String(v);
  const base = {
    ServiceToken: 'arn:aws:lambda:us-east-1:000000000000:function:provider',
    ResponseURL: 'https://example.invalid/response',
    StackId: 'arn:aws:cloudformation:us-east-1:000000000000:stack/tunestream-test/1',
    RequestId: 'r-1',
    LogicalResourceId: 'Topics',
    ResourceType: 'Custom::KafkaTopics',
    ResourceProperties: { ServiceToken: 'x', ...(stringify(props) as Record<string, unknown>) },
  };
  if (requestType === 'Create') return { ...base, RequestType: 'Create' };
  if (requestType === 'Update')
    return {
      ...base,
      RequestType: 'Update',
      PhysicalResourceId: `kafka-topics:${CLUSTER_ARN}`,
      OldResourceProperties: { ServiceToken: 'x' },
    };
  return { ...base, RequestType: 'Delete', PhysicalResourceId: `kafka-topics:${CLUSTER_ARN}` };
}

describe('topic provisioner handler on the real broker', () => {
  let admin: Admin;
  let brokers: string[];
  const prefix = testPrefix('provisioner');
  const name = (n: string) => `${prefix}${n}`;
  const props = (topics: TopicProvisionerProps['topics'], replicationFactor = 1): TopicProvisionerProps => ({
    clusterArn: CLUSTER_ARN,
    brokers: brokers.join(','),
    replicationFactor,
    topics,
  });

  async function describeTopics(names: string[]) {
    const metadata = await admin.fetchTopicMetadata({ topics: names });
    const configs = await admin.describeConfigs({
      includeSynonyms: false,
      resources: names.map((n) => ({ type: ConfigResourceTypes.TOPIC, name: n, configNames: ['retention.ms'] })),
    });
    return Object.fromEntries(
      metadata.topics.map((t) => [
        t.name,
        {
          partitions: t.partitions.length,
          replicas: Math.max(...t.partitions.map((p) => p.replicas.length)),
          retentionMs: Number(
            configs.resources
              .find((r) => r.resourceName === t.name)
              ?.configEntries.find((e) => e.configName === 'retention.ms')?.configValue,
          ),
        },
      ]),
    );
  }

  beforeAll(async () => {
    brokers = inject('kafkaBrokers');
    process.env.KAFKA_AUTH = 'none';
    admin = createKafka({ brokers, auth: 'none', clientId: 'test-provisioner' }).admin();
    await admin.connect();
  });
  afterAll(async () => {
    await admin.disconnect();
  });

  it('Create: the topics with their partitions, retention and the explicit replication factor', async () => {
    const res = await handler(
      cfnEvent(
        'Create',
        props([
          { name: name('a'), partitions: 3, retentionMs: 3_600_000 },
          { name: name('b'), partitions: 1, retentionMs: 86_400_000 },
        ]),
      ),
    );
    expect(res).toEqual({
      PhysicalResourceId: `kafka-topics:${CLUSTER_ARN}`,
      Data: { Topics: `${name('a')},${name('b')}` },
    });
    expect(await describeTopics([name('a'), name('b')])).toEqual({
      [name('a')]: { partitions: 3, replicas: 1, retentionMs: 3_600_000 },
      [name('b')]: { partitions: 1, replicas: 1, retentionMs: 86_400_000 },
    });
  });

  it('Update: grows partitions, changes retention, adds a topic; a repeat changes nothing', async () => {
    const desired = props([
      { name: name('a'), partitions: 6, retentionMs: 3_600_000 },
      { name: name('b'), partitions: 1, retentionMs: 7_200_000 },
      { name: name('c'), partitions: 2, retentionMs: 60_000 },
    ]);
    await handler(cfnEvent('Update', desired));
    const expected = {
      [name('a')]: { partitions: 6, replicas: 1, retentionMs: 3_600_000 },
      [name('b')]: { partitions: 1, replicas: 1, retentionMs: 7_200_000 },
      [name('c')]: { partitions: 2, replicas: 1, retentionMs: 60_000 },
    };
    // A config change reaches DescribeConfigs a moment after AlterConfigs returns (seen once in CI).
    const settled = () =>
      eventually(
        async () => {
          const got = await describeTopics([name('a'), name('b'), name('c')]);
          return isDeepStrictEqual(got, expected) ? got : undefined;
        },
        { what: 'topics as desired' },
      );
    expect(await settled()).toEqual(expected);
    await handler(cfnEvent('Update', desired));
    expect(await settled()).toEqual(expected);
  });

  it('refuses to shrink a topic (the deployment fails with the reason)', async () => {
    await expect(
      handler(cfnEvent('Update', props([{ name: name('a'), partitions: 2, retentionMs: 3_600_000 }]))),
    ).rejects.toThrow(/cannot shrink/);
    expect((await describeTopics([name('a')]))[name('a')]?.partitions).toBe(6);
  });

  it('a replication factor the cluster cannot meet fails loudly instead of falling back', async () => {
    // One local broker: 3 replicas (what prod asks of its 3-broker cluster) is impossible here.
    await expect(
      handler(cfnEvent('Create', props([{ name: name('rf3'), partitions: 1, retentionMs: 60_000 }], 3))),
    ).rejects.toThrow();
    expect(await admin.listTopics()).not.toContain(name('rf3'));
  });

  it('Delete leaves the topics alone', async () => {
    const res = await handler(cfnEvent('Delete', props([{ name: name('a'), partitions: 6, retentionMs: 3_600_000 }])));
    expect(res.PhysicalResourceId).toBe(`kafka-topics:${CLUSTER_ARN}`);
    expect(await admin.listTopics()).toContain(name('a'));
  });
});
