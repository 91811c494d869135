/**
 * The MSK cluster (Serverless by default, provisioned behind `-c msk=provisioned`), its bootstrap
 * brokers, the topics from the topology (created at deploy time by a custom resource) and helpers
 * for IAM data-plane ARNs.
 */
import * as path from 'node:path';
import { ArnFormat, CustomResource, Duration, Fn, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as msk from 'aws-cdk-lib/aws-msk';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { type ResolvedTopology, type TopicKey, topics } from '../../shared/topology.ts';
import type { TunestreamConfig } from '../config.ts';
import type { TopicProvisionerProps } from '../custom-resources/topic-provisioner.ts';
import { nodeFunctionDefaults, REPO_ROOT } from './function-defaults.ts';
import type { Network } from './network.ts';

export interface KafkaProps {
  readonly config: TunestreamConfig;
  readonly network: Network;
  readonly resolved: ResolvedTopology;
}

export class Kafka extends Construct {
  readonly clusterArn: string;
  readonly clusterName: string;
  readonly clusterUuid: string;
  /** arn:…:cluster/<clusterName>/* — known before the cluster exists (no dependency on it). */
  readonly clusterNamePatternArn: string;
  /** Comma-separated `host:9098` list (SASL/IAM), resolved at deploy time. */
  readonly bootstrapBrokers: string;
  readonly bootstrapBrokersParameter: ssm.StringParameter;
  /** Depend on this before anything consumes or produces (ESMs, functions). */
  readonly topicsResource: CustomResource;
  /** The topic list handed to the provisioner (asserted against the topology in tests). */
  readonly topicSpecs: TopicProvisionerProps['topics'];
  /** Replication factor of created topics (-1: the cluster's default, for MSK Serverless). */
  readonly replicationFactor: number;
  readonly cluster: msk.CfnServerlessCluster | msk.CfnCluster;
  private readonly resolved: ResolvedTopology;

  constructor(scope: Construct, id: string, props: KafkaProps) {
    super(scope, id);
    const { config, network, resolved } = props;
    this.resolved = resolved;
    const name = `tunestream-${config.stage}`;
    this.cluster = this.createCluster(name, config, network);
    this.cluster.applyRemovalPolicy(config.removalPolicy);
    this.clusterArn = this.cluster.attrArn;
    this.clusterNamePatternArn = Stack.of(this).formatArn({
      service: 'kafka',
      resource: 'cluster',
      resourceName: `${name}/*`,
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    });
    // arn:aws:kafka:<region>:<account>:cluster/<clusterName>/<clusterUuid>
    const parts = Fn.split('/', this.clusterArn);
    this.clusterName = Fn.select(1, parts);
    this.clusterUuid = Fn.select(2, parts);
    this.bootstrapBrokers = this.lookUpBootstrapBrokers(name, config);
    this.bootstrapBrokersParameter = new ssm.StringParameter(this, 'BootstrapBrokersParameter', {
      parameterName: `/tunestream/${config.stage}/kafka/bootstrap-brokers`,
      description: 'MSK bootstrap brokers (SASL/IAM, port 9098)',
      stringValue: this.bootstrapBrokers,
    });

    // Topics: created (or grown, or re-configured) at deploy time through the Kafka admin API.
    this.topicSpecs = (Object.keys(topics) as TopicKey[]).map((key) => ({
      name: resolved.topicNames[key],
      partitions: topics[key].partitions,
      retentionMs: topics[key].retentionMs,
    }));
    this.replicationFactor = config.topicReplicationFactor;
    const onEvent = this.createTopicProvisioner(config, network);
    this.topicsResource = this.createTopicsResource(config, network, onEvent);
  }

  /** MSK Serverless, or a provisioned cluster with one broker per AZ (`-c msk=provisioned`). */
  private createCluster(
    name: string,
    config: TunestreamConfig,
    network: Network,
  ): msk.CfnServerlessCluster | msk.CfnCluster {
    if (config.msk === 'serverless') {
      // MSK Serverless: IAM auth only; TLS in transit and encryption at rest are always on.
      return new msk.CfnServerlessCluster(this, 'ServerlessCluster', {
        clusterName: name,
        clientAuthentication: { sasl: { iam: { enabled: true } } },
        vpcConfigs: [{ subnetIds: network.subnetIds, securityGroups: [network.clusterSg.securityGroupId] }],
      });
    }
    const brokerLogs = new logs.LogGroup(this, 'BrokerLogs', {
      retention: config.logRetention,
      removalPolicy: config.removalPolicy,
    });
    return new msk.CfnCluster(this, 'ProvisionedCluster', {
      clusterName: name,
      kafkaVersion: config.mskKafkaVersion,
      // One broker per AZ (3 in prod, 2 in dev); the count must be a multiple of the subnet count.
      // MSK's default replication factor follows: 3 with three brokers, 2 with two.
      numberOfBrokerNodes: config.azCount,
      brokerNodeGroupInfo: {
        instanceType: config.mskBrokerType,
        clientSubnets: network.subnetIds,
        securityGroups: [network.clusterSg.securityGroupId],
        storageInfo: { ebsStorageInfo: { volumeSize: config.mskBrokerVolumeGiB } },
      },
      clientAuthentication: { sasl: { iam: { enabled: true } }, unauthenticated: { enabled: false } },
      encryptionInfo: {
        encryptionInTransit: { clientBroker: 'TLS', inCluster: true },
        // Encryption at rest is always on for MSK; without dataVolumeKmsKeyId it uses the AWS managed
        // key aws/kafka (see docs/deploy.md for why no CMK).
      },
      loggingInfo: {
        brokerLogs: { cloudWatchLogs: { enabled: true, logGroup: brokerLogs.logGroupName } },
      },
      // DEFAULT-level metrics (per broker CPU, disk, bytes in and out, …) are free; PER_BROKER
      // adds ~20 more per broker at CloudWatch's custom-metric price: for prod only.
      enhancedMonitoring: config.stage === 'prod' ? 'PER_BROKER' : 'DEFAULT',
    });
  }

  /**
   * CloudFormation does not return bootstrap brokers for either cluster type: ask the Kafka API.
   * The permission names the cluster by name pattern, not by its ARN: a policy on the ARN could
   * only be created after the cluster, seconds before the call, and IAM propagation can then
   * fail the first deploy with AccessDenied, which AwsCustomResource does not retry
   * (aws/aws-cdk#37085). The cluster name is fixed per stage, so the pattern matches it alone.
   */
  private lookUpBootstrapBrokers(name: string, config: TunestreamConfig): string {
    const brokers = new cr.AwsCustomResource(this, 'BootstrapBrokers', {
      onUpdate: {
        service: '@aws-sdk/client-kafka',
        action: 'GetBootstrapBrokers',
        parameters: { ClusterArn: this.clusterArn },
        physicalResourceId: cr.PhysicalResourceId.of(this.clusterArn),
        outputPaths: ['BootstrapBrokerStringSaslIam'],
      },
      policy: cr.AwsCustomResourcePolicy.fromSdkCalls({ resources: [this.clusterNamePatternArn] }),
      installLatestAwsSdk: false,
      logGroup: new logs.LogGroup(this, 'BootstrapBrokersLogs', {
        retention: config.logRetention,
        removalPolicy: config.removalPolicy,
      }),
    });
    Validations.of(brokers).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:kafka:<AWS::Region>:<AWS::AccountId>:cluster/${name}/*]`,
      reason:
        "kafka:GetBootstrapBrokers only, on clusters named like this stage's (the name is fixed; the UUID suffix is unknown until the cluster exists). Naming the cluster by ARN would race IAM propagation on the first deploy.",
    });
    return brokers.getResponseField('BootstrapBrokerStringSaslIam');
  }

  /** The custom resource's onEvent handler: in the VPC, with topic admin rights on this cluster's topics. */
  private createTopicProvisioner(config: TunestreamConfig, network: Network): nodejs.NodejsFunction {
    const provisionerLogs = new logs.LogGroup(this, 'TopicProvisionerLogs', {
      retention: config.logRetention,
      removalPolicy: config.removalPolicy,
    });
    const onEvent = nodeFunctionDefaults(this, 'TopicProvisioner', {
      entry: path.join(REPO_ROOT, 'cdk/custom-resources/topic-provisioner.ts'),
      description: 'Creates/grows/configures the tunestream Kafka topics (custom resource onEvent)',
      memorySize: 256,
      timeout: Duration.minutes(5),
      logGroup: provisionerLogs,
      vpc: network.vpc,
      vpcSubnets: network.subnets,
      securityGroups: [network.functionsSg],
    });
    onEvent.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'KafkaClusterConnect',
        actions: ['kafka-cluster:Connect', 'kafka-cluster:DescribeCluster'],
        resources: [this.clusterArn],
      }),
    );
    onEvent.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'KafkaTopicAdmin',
        actions: [
          'kafka-cluster:CreateTopic',
          'kafka-cluster:DescribeTopic',
          'kafka-cluster:AlterTopic',
          'kafka-cluster:DescribeTopicDynamicConfiguration',
          'kafka-cluster:AlterTopicDynamicConfiguration',
        ],
        resources: this.topicSpecs.map((t) => this.topicArn(t.name)),
      }),
    );
    return onEvent;
  }

  /** The topics' custom resource: the provider framework over `onEvent`, after the cluster and its rules. */
  private createTopicsResource(
    config: TunestreamConfig,
    network: Network,
    onEvent: nodejs.NodejsFunction,
  ): CustomResource {
    const providerLogs = new logs.LogGroup(this, 'TopicProviderLogs', {
      retention: config.logRetention,
      removalPolicy: config.removalPolicy,
    });
    // The framework function stays outside the VPC: it must PUT the CloudFormation response to a
    // pre-signed S3 URL, and only our onEvent handler needs the brokers.
    const provider = new cr.Provider(this, 'TopicProvider', {
      onEventHandler: onEvent,
      logGroup: providerLogs,
    });
    const properties: TopicProvisionerProps = {
      clusterArn: this.clusterArn,
      brokers: this.bootstrapBrokers,
      replicationFactor: this.replicationFactor,
      topics: this.topicSpecs,
    };
    const topicsResource = new CustomResource(this, 'Topics', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::KafkaTopics',
      properties,
    });
    // Provisioned clusters take 20+ minutes; make sure topic creation waits for brokers and rules.
    topicsResource.node.addDependency(this.cluster, network.clusterSg, network.functionsSg);

    Validations.of(provider).acknowledge(
      {
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason: 'Provider framework function: the AWS managed basic execution role only grants writing its logs.',
      },
      {
        id: `AwsSolutions-IAM5[Resource::<${Stack.of(this).getLogicalId(onEvent.node.defaultChild as lambda.CfnFunction)}.Arn>:*]`,
        reason: 'Provider framework invokes any version/alias of its own onEvent function, nothing else.',
      },
    );
    Validations.of(onEvent).acknowledge(
      {
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason: 'AWS managed basic execution role: only lets the function write its own CloudWatch logs.',
      },
      {
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]',
        reason:
          'Needed for a VPC function (ENI create/describe/delete); those EC2 actions do not support resource-level scoping.',
      },
    );
    return topicsResource;
  }

  /** Physical topic name for a topology topic key. */
  topicName(key: TopicKey): string {
    return this.resolved.topicNames[key];
  }

  /** arn:aws:kafka:<region>:<account>:topic/<clusterName>/<clusterUuid>/<topic> */
  topicArn(topic: string): string {
    return Stack.of(this).formatArn({
      service: 'kafka',
      resource: 'topic',
      resourceName: `${this.clusterName}/${this.clusterUuid}/${topic}`,
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    });
  }

  /** arn:aws:kafka:<region>:<account>:group/<clusterName>/<clusterUuid>/<groupId> */
  groupArn(groupId: string): string {
    return Stack.of(this).formatArn({
      service: 'kafka',
      resource: 'group',
      resourceName: `${this.clusterName}/${this.clusterUuid}/${groupId}`,
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    });
  }
}
