/**
 * The tunestream stack: everything topology-shaped is derived from shared/topology.ts.
 * Env-agnostic (no account/region lookups), so `cdk synth` needs neither credentials nor Docker.
 */
import { CfnOutput, Fn, Stack, type StackProps, Tags } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { type ResolvedTopology, resolveTopology } from '../shared/topology.ts';
import type { TunestreamConfig } from './config.ts';
import { Api } from './constructs/api.ts';
import { BatchLayer } from './constructs/batch.ts';
import { assertDashboardBuild, DashboardSite } from './constructs/dashboard-site.ts';
import { Functions } from './constructs/functions.ts';
import { Kafka } from './constructs/kafka.ts';
import { acknowledgeFindings } from './constructs/nag.ts';
import { Network } from './constructs/network.ts';
import { Observability } from './constructs/observability.ts';
import { giveProviderFunctionsLogGroups } from './constructs/provider-logs.ts';
import { Tables } from './constructs/tables.ts';

export interface TunestreamStackProps extends StackProps {
  readonly config: TunestreamConfig;
}

export class TunestreamStack extends Stack {
  readonly config: TunestreamConfig;
  readonly network: Network;
  readonly kafka: Kafka;
  readonly tables: Tables;
  readonly functions: Functions;
  readonly api: Api;
  readonly observability: Observability;
  readonly dashboardSite: DashboardSite;
  readonly batch: BatchLayer;
  /** Physical names handed to the functions through `resourceEnv`. */
  readonly resolved: ResolvedTopology;

  /** Set before the VPC reads `availabilityZones` (the super constructor does not). */
  private readonly azCount: number;

  /**
   * Env-agnostic stacks get only two AZ tokens from aws-cdk-lib; prod wants three (one broker and
   * one replica per zone). Fn::GetAZs at deploy time, so synthesis still needs no lookup.
   */
  override get availabilityZones(): string[] {
    return Array.from({ length: this.azCount ?? 2 }, (_, i) => Fn.select(i, Fn.getAzs()));
  }

  constructor(scope: Construct, id: string, props: TunestreamStackProps) {
    super(scope, id, props);
    const { config } = props;
    this.config = config;
    this.azCount = config.azCount;
    assertDashboardBuild(config.dashboardDist);
    Tags.of(this).add('app', 'tunestream');
    Tags.of(this).add('stage', config.stage);

    const serviceName = 'tunestream';
    const metricsNamespace = `tunestream/${config.stage}`;

    this.network = new Network(this, 'Network', config);
    this.tables = new Tables(this, 'Tables', config);
    // Topics keep their topology names: each stage has its own cluster. Tables get CloudFormation
    // generated names (replaceable without a name clash), passed to the functions via resourceEnv.
    const topicsOnly = resolveTopology('');
    this.resolved = { prefix: '', topicNames: topicsOnly.topicNames, tableNames: this.tables.names };

    this.kafka = new Kafka(this, 'Kafka', { config, network: this.network, resolved: this.resolved });
    this.functions = new Functions(this, 'Functions', {
      config,
      network: this.network,
      kafka: this.kafka,
      tables: this.tables,
      resolved: this.resolved,
      metricsNamespace,
      serviceName,
    });
    this.batch = new BatchLayer(this, 'Batch', {
      config,
      archiveBucket: this.functions.archiveBucket,
      loader: this.functions.byName['item-model-builder'],
    });
    this.api = new Api(this, 'Api', { config, functions: this.functions.byName });
    this.observability = new Observability(this, 'Observability', {
      config,
      functions: this.functions.byName,
      mappings: this.functions.mappings,
      tables: this.tables.byKey,
      batchStateMachine: this.batch.stateMachine,
      api: this.api,
      onFailureBucket: this.functions.onFailureBucket,
      metricsNamespace,
      serviceName,
    });

    this.dashboardSite = new DashboardSite(this, 'DashboardSite', { config, api: this.api });

    new CfnOutput(this, 'ApiUrl', { value: this.api.url, description: 'HTTP API base URL (SigV4 / JWT)' });
    new CfnOutput(this, 'ClusterArn', { value: this.kafka.clusterArn, description: `MSK ${config.msk} cluster` });
    new CfnOutput(this, 'BootstrapBrokersParameter', {
      value: this.kafka.bootstrapBrokersParameter.parameterName,
      description: 'SSM parameter holding the SASL/IAM bootstrap brokers',
    });
    new CfnOutput(this, 'OnFailureBucket', {
      value: this.functions.onFailureBucket.bucketName,
      description: 'Failed Kafka batches (event source mapping on-failure destination)',
    });
    new CfnOutput(this, 'ArchiveBucket', {
      value: this.functions.archiveBucket.bucketName,
      description: 'Raw listen-event archive (year=/month=/day=/hour= JSON lines)',
    });
    new CfnOutput(this, 'BatchBucket', {
      value: this.batch.bucket.bucketName,
      description: 'Batch layer: Athena results, the item model UNLOAD output, the catalog tags export',
    });
    new CfnOutput(this, 'BatchStateMachineArn', {
      value: this.batch.stateMachine.stateMachineArn,
      description: 'The item model build (aws stepfunctions start-execution to run one now)',
    });
    new CfnOutput(this, 'AthenaWorkGroup', { value: this.batch.workGroup.ref });
    new CfnOutput(this, 'UsersTableName', {
      value: this.tables.byKey.users.tableName,
      description: 'Listener tokens (npm run users -- create <userId> --cloud --table <this>)',
    });
    new CfnOutput(this, 'DashboardName', { value: this.observability.dashboard.dashboardName });
    new CfnOutput(this, 'DashboardUrl', {
      value: this.dashboardSite.url,
      description: 'Live dashboard (CloudFront); its API calls need a token of the JWT authorizer',
    });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.observability.alarmTopic.topicArn });

    giveProviderFunctionsLogGroups(this, config);
    acknowledgeFindings(this);
  }
}
