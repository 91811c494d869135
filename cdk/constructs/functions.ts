/**
 * One NodejsFunction per topology function, its IAM grants (Kafka data plane + DynamoDB, derived from
 * producesTo/reads/writes and the triggers), one Kafka event source mapping per topology trigger
 * and one CloudWatch Logs subscription filter per topology log subscription.
 */
import * as path from 'node:path';
import { Duration, Stack, Validations } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { ManagedKafkaEventSource, S3OnFailureDestination } from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as logsDestinations from 'aws-cdk-lib/aws-logs-destinations';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import {
  type FunctionName,
  type FunctionSpec,
  functions,
  type LogSubscriptionSpec,
  logSubscriptions,
  type ResolvedTopology,
  resourceEnv,
  type ScheduleSpec,
  schedules,
  type TableSpec,
  type TopicKey,
  type TriggerSpec,
  tables as tableSpecs,
  topics,
  triggers,
} from '../../shared/topology.ts';
import type { TunestreamConfig } from '../config.ts';
import { nodeFunctionDefaults, REPO_ROOT } from './function-defaults.ts';
import type { Kafka } from './kafka.ts';
import type { Network } from './network.ts';
import type { Tables } from './tables.ts';

export interface FunctionsProps {
  readonly config: TunestreamConfig;
  readonly network: Network;
  readonly kafka: Kafka;
  readonly tables: Tables;
  readonly resolved: ResolvedTopology;
  readonly metricsNamespace: string;
  readonly serviceName: string;
}

/**
 * The same bucket as the failed-event destination of an asynchronous invoke (a log subscription's
 * deliveries): after Lambda's retries the event is kept there, not dropped. Put and list only.
 */
export class PutOnlyS3AsyncDestination implements lambda.IDestination {
  constructor(private readonly target: s3.IBucket) {}

  bind(_scope: Construct, fn: lambda.IFunction): lambda.DestinationConfig {
    grantFailedEventPuts(fn, this.target);
    return { destination: this.target.bucketArn };
  }
}

/** s3:PutObject + s3:ListBucket on the failed-event bucket, per the Lambda docs. */
function grantFailedEventPuts(fn: lambda.IFunction, target: s3.IBucket): void {
  fn.addToRolePolicy(
    new iam.PolicyStatement({
      sid: 'OnFailureDestinationList',
      actions: ['s3:ListBucket'],
      resources: [target.bucketArn],
    }),
  );
  fn.addToRolePolicy(
    new iam.PolicyStatement({
      sid: 'OnFailureDestinationPut',
      actions: ['s3:PutObject'],
      resources: [target.arnForObjects('*')],
    }),
  );
}

/**
 * The S3 on-failure destination, granting only what the event source mapping needs to write the
 * failed batch (s3:PutObject + s3:ListBucket, per the Lambda docs) instead of the
 * `grantReadWrite` (get/put/delete) of aws-cdk-lib's S3OnFailureDestination.
 */
export class PutOnlyS3OnFailureDestination extends S3OnFailureDestination {
  constructor(private readonly target: s3.IBucket) {
    super(target);
  }

  override bind(_mapping: lambda.IEventSourceMapping, fn: lambda.IFunction): lambda.DlqDestinationConfig {
    grantFailedEventPuts(fn, this.target);
    return { destination: this.target.bucketArn };
  }
}

/** Acknowledge the cdk-nag findings every function role has, each with its reason. */
function acknowledgeFunctionRole(fn: nodejs.NodejsFunction, spec: FunctionSpec, tables: Tables): void {
  Validations.of(fn).acknowledge(
    {
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason: 'AWS managed basic execution role: only lets the function write its own CloudWatch logs.',
    },
    {
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]',
      reason:
        'Needed for a VPC function (ENI create/describe/delete); those EC2 actions do not support resource-level scoping, so a customer policy would carry the same wildcard.',
    },
  );
  const indexed = [...new Set([...spec.reads, ...spec.writes])].filter(
    (t) => ((tableSpecs[t] as TableSpec).globalSecondaryIndexes?.length ?? 0) > 0,
  );
  for (const t of indexed) {
    const cfn = tables.byKey[t].node.defaultChild as dynamodb.CfnTable;
    Validations.of(fn).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${Stack.of(fn).getLogicalId(cfn)}.Arn>/index/*]`,
      reason: `Queries the GSIs of the ${tableSpecs[t].name} table (topology reads/writes); the wildcard covers only that table's indexes.`,
    });
  }
}

/**
 * The raw event archive: private, encrypted, TLS-only. Dev data expires after 30 days; in prod the
 * archive is the system of record for rebuilds, so it is kept and moved to cheaper storage classes.
 */
function archiveBucket(scope: Construct, config: TunestreamConfig): s3.Bucket {
  const prod = config.stage === 'prod';
  const bucket = new s3.Bucket(scope, 'ArchiveBucket', {
    encryption: s3.BucketEncryption.S3_MANAGED,
    enforceSSL: true,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    versioned: false,
    removalPolicy: config.removalPolicy,
    autoDeleteObjects: !prod,
    lifecycleRules: [
      prod
        ? {
            id: 'tier-archive',
            transitions: [
              { storageClass: s3.StorageClass.INFREQUENT_ACCESS, transitionAfter: Duration.days(30) },
              { storageClass: s3.StorageClass.GLACIER_INSTANT_RETRIEVAL, transitionAfter: Duration.days(90) },
            ],
            abortIncompleteMultipartUploadAfter: Duration.days(1),
          }
        : {
            id: 'expire-archive',
            expiration: Duration.days(30),
            abortIncompleteMultipartUploadAfter: Duration.days(1),
          },
    ],
  });
  Validations.of(bucket).acknowledge({
    id: 'AwsSolutions-S1',
    reason:
      'Archive bucket is written only by the event-archiver role and read by operators; as for the on-failure bucket, object-level access is audited through CloudTrail data events (the stack has no access-log bucket to reuse).',
  });
  return bucket;
}

/**
 * MaximumBatchingWindowInSeconds is an integer in CloudFormation. The topology may say 0.5 s, which is
 * exactly Lambda's default for Kafka sources: leave the property unset then. Anything else fractional
 * cannot be represented and fails synthesis.
 */
export function batchingWindow(seconds: number): Duration | undefined {
  if (seconds === 0.5) return undefined;
  if (!Number.isInteger(seconds) || seconds < 0 || seconds > 300)
    throw new Error(`maxBatchingWindowSeconds ${seconds} must be 0.5 or a whole number 0–300`);
  return Duration.seconds(seconds);
}

/** The functions' environment: the topology's resources, Kafka and Powertools settings. */
function functionEnvironment(props: FunctionsProps): {
  inVpc: Record<string, string>;
  outsideVpc: Record<string, string>;
} {
  const { config, kafka, resolved } = props;
  const env = {
    ...resourceEnv(resolved),
    KAFKA_BROKERS: kafka.bootstrapBrokers,
    KAFKA_AUTH: 'iam',
    POWERTOOLS_SERVICE_NAME: props.serviceName,
    POWERTOOLS_LOG_LEVEL: config.logLevel,
    POWERTOOLS_METRICS_NAMESPACE: props.metricsNamespace,
  };
  // Functions outside the VPC have no route to the brokers, so no Kafka settings either.
  const { KAFKA_BROKERS: _brokers, KAFKA_AUTH: _auth, ...envWithoutKafka } = env;
  return { inVpc: env, outsideVpc: envWithoutKafka };
}

/** Full failed records (not just metadata) land here once retries/max age are exhausted. */
function onFailureBucket(scope: Construct, config: TunestreamConfig): s3.Bucket {
  const bucket = new s3.Bucket(scope, 'OnFailureBucket', {
    encryption: s3.BucketEncryption.S3_MANAGED,
    enforceSSL: true,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    versioned: false,
    removalPolicy: config.removalPolicy,
    autoDeleteObjects: config.stage === 'dev',
    lifecycleRules: [
      {
        id: 'expire-dead-letters',
        expiration: config.deadLetterExpiration,
        abortIncompleteMultipartUploadAfter: Duration.days(1),
      },
    ],
  });
  Validations.of(bucket).acknowledge({
    id: 'AwsSolutions-S1',
    reason:
      'On-failure bucket is written only by Lambda (event source mappings, failed log subscription deliveries) and read by operators; object-level access is audited through CloudTrail data events rather than a second (itself unlogged) access-log bucket.',
  });
  return bucket;
}

export class Functions extends Construct {
  readonly byName: Record<FunctionName, nodejs.NodejsFunction>;
  readonly mappings: { trigger: TriggerSpec; mapping: lambda.EventSourceMapping }[] = [];
  readonly scheduleRules: { schedule: ScheduleSpec; rule: events.Rule }[] = [];
  /** Each function's log group (what a log subscription reads). */
  readonly logGroups = {} as Record<FunctionName, logs.LogGroup>;
  readonly subscriptionFilters: { subscription: LogSubscriptionSpec; filter: logs.SubscriptionFilter }[] = [];
  readonly onFailureBucket: s3.Bucket;
  /** The raw event archive (bronze layer), written by the functions with `writesArchive`. */
  readonly archiveBucket: s3.Bucket;
  /** The provisioned poller group every Kafka mapping of the stack joins (one per stage). */
  readonly pollerGroupName: string;

  constructor(scope: Construct, id: string, props: FunctionsProps) {
    super(scope, id);
    const { config } = props;
    this.pollerGroupName = `tunestream-${config.stage}`;
    const env = functionEnvironment(props);
    this.archiveBucket = archiveBucket(this, config);
    const byName = {} as Record<FunctionName, nodejs.NodejsFunction>;
    for (const [name, spec] of Object.entries(functions) as [FunctionName, FunctionSpec][])
      byName[name] = this.createFunction(name, spec, env, props);
    this.byName = byName;
    this.shareFunctionNames();
    this.onFailureBucket = onFailureBucket(this, config);
    this.scheduleFunctions();
    const destination = new PutOnlyS3OnFailureDestination(this.onFailureBucket);
    for (const trigger of triggers) this.connectTrigger(trigger, destination, props);
    for (const subscription of logSubscriptions) this.subscribe(subscription);
  }

  /**
   * One log subscription: the lines of `from`'s log group that match its pattern, delivered to
   * `to`. LambdaDestination also adds the invoke permission for logs.amazonaws.com, scoped to that
   * one log group (its ARN as the source ARN).
   */
  private subscribe(subscription: LogSubscriptionSpec): void {
    const filter = new logs.SubscriptionFilter(this, `${subscription.from}-to-${subscription.to}`, {
      logGroup: this.logGroups[subscription.from],
      destination: new logsDestinations.LambdaDestination(this.byName[subscription.to]),
      filterPattern: logs.FilterPattern.literal(subscription.filterPattern),
    });
    // CloudWatch Logs invokes asynchronously: a delivery that still fails after Lambda's two
    // retries goes to the on-failure bucket (its lines kept), like a Kafka batch that exhausts its.
    this.byName[subscription.to].configureAsyncInvoke({
      retryAttempts: 2,
      maxEventAge: Duration.hours(6),
      onFailure: new PutOnlyS3AsyncDestination(this.onFailureBucket),
    });
    Validations.of(this.byName[subscription.to]).acknowledge(this.failedEventObjectsFinding());
    this.subscriptionFilters.push({ subscription, filter });
  }

  /** One function: its log group, its settings and environment, and its grants. */
  private createFunction(
    name: FunctionName,
    spec: FunctionSpec,
    env: { inVpc: Record<string, string>; outsideVpc: Record<string, string> },
    props: FunctionsProps,
  ): nodejs.NodejsFunction {
    const { config, network, kafka, tables } = props;
    const logGroup = new logs.LogGroup(this, `${name}-logs`, {
      retention: config.logRetention,
      removalPolicy: config.removalPolicy,
    });
    this.logGroups[name] = logGroup;
    const usesArchive = spec.writesArchive || spec.readsArchive;
    const fnEnv: Record<string, string> = spec.outsideVpc ? { ...env.outsideVpc } : { ...env.inVpc };
    if (usesArchive) fnEnv.ARCHIVE_BUCKET = this.archiveBucket.bucketName;
    const fn = nodeFunctionDefaults(this, name, {
      entry: path.join(REPO_ROOT, 'functions', name, 'handler.ts'),
      handler: 'handler',
      description: spec.description,
      memorySize: spec.memoryMb,
      timeout: Duration.seconds(spec.timeoutSeconds),
      logGroup,
      // Outside the VPC only what needs no broker and calls AWS APIs without a free endpoint.
      ...(spec.outsideVpc
        ? {}
        : { vpc: network.vpc, vpcSubnets: network.subnets, securityGroups: [network.functionsSg] }),
      environment: fnEnv,
    });
    // Functions read KAFKA_BROKERS at startup; topics must exist before anything produces.
    if (!spec.outsideVpc) fn.node.addDependency(kafka.topicsResource);
    this.grantKafka(fn, spec, kafka);
    for (const t of spec.reads) tables.byKey[t].grantReadData(fn);
    for (const t of spec.writes) {
      tables.byKey[t].grantWriteData(fn);
      // Conditional writes batched 25 per request (BatchExecuteStatement) are authorized per
      // statement as PartiQL actions: the same power as PutItem / UpdateItem, on the same tables.
      tables.byKey[t].grant(fn, 'dynamodb:PartiQLInsert', 'dynamodb:PartiQLUpdate');
    }
    if (spec.readsArchive) this.grantArchiveRead(fn);
    if (spec.readsMetrics) this.grantMetricsRead(fn);
    if (spec.writesArchive) this.grantArchiveWrite(fn);
    acknowledgeFunctionRole(fn, spec, tables);
    return fn;
  }

  /** The dashboard's recent events: list the hour partitions and read the newest objects. */
  private grantArchiveRead(fn: nodejs.NodejsFunction): void {
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ArchiveList',
        actions: ['s3:ListBucket'],
        resources: [this.archiveBucket.bucketArn],
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ArchiveRead',
        actions: ['s3:GetObject'],
        resources: [this.archiveBucket.arnForObjects('*')],
      }),
    );
    Validations.of(fn).acknowledge({
      id: this.archiveObjectsFinding(),
      reason:
        'Reads the newest archive objects (named per batch, unknown in advance): s3:GetObject on the objects of the one archive bucket, no write or delete.',
    });
  }

  /** cdk-nag's finding for a statement on every object of the archive bucket (`<bucket>.Arn/*`). */
  private archiveObjectsFinding(): string {
    const bucket = Stack.of(this).getLogicalId(this.archiveBucket.node.defaultChild as s3.CfnBucket);
    return `AwsSolutions-IAM5[Resource::<${bucket}.Arn>/*]`;
  }

  /** The dashboard's stats: CloudWatch metrics, read only. */
  private grantMetricsRead(fn: nodejs.NodejsFunction): void {
    fn.addToRolePolicy(
      new iam.PolicyStatement({ sid: 'MetricsRead', actions: ['cloudwatch:GetMetricData'], resources: ['*'] }),
    );
    Validations.of(fn).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'cloudwatch:GetMetricData supports no resource-level permissions (AWS service authorization reference); read-only metrics.',
    });
  }

  /** PutObject only (grantPut would add tagging/retention/abort): the archiver never reads or deletes. */
  private grantArchiveWrite(fn: nodejs.NodejsFunction): void {
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ArchivePut',
        actions: ['s3:PutObject'],
        resources: [this.archiveBucket.arnForObjects('*')],
      }),
    );
    Validations.of(fn).acknowledge({
      id: this.archiveObjectsFinding(),
      reason:
        'Archive objects are named per batch (hour partition, topic-partition, offsets), so s3:PutObject is scoped to the objects of the one archive bucket (no read, list or delete).',
    });
  }

  /** The dashboard's stats read each function's AWS/Lambda metrics by its deployed name. */
  private shareFunctionNames(): void {
    for (const [name, spec] of Object.entries(functions) as [FunctionName, FunctionSpec][]) {
      if (!spec.readsMetrics) continue;
      const names = Object.fromEntries(
        (Object.keys(functions) as FunctionName[])
          .filter((n) => n !== name)
          .map((n) => [n, this.byName[n].functionName]),
      );
      this.byName[name].addEnvironment('FUNCTION_NAMES', Stack.of(this).toJsonString(names));
    }
  }

  /**
   * Scheduled functions: an EventBridge rate rule each. Two retries within an hour; a build that
   * still fails is superseded by the next one (it is a pure function of the tables).
   */
  private scheduleFunctions(): void {
    for (const schedule of schedules) {
      // The batch layer's schedule starts its state machine (cdk/constructs/batch.ts) instead.
      if ((schedule as ScheduleSpec).cloudStateMachine) continue;
      const rule = new events.Rule(this, `${schedule.function}-schedule`, {
        description: schedule.description,
        schedule: events.Schedule.rate(Duration.minutes(schedule.everyMinutes)),
        targets: [
          new targets.LambdaFunction(this.byName[schedule.function], {
            retryAttempts: 2,
            maxEventAge: Duration.hours(1),
          }),
        ],
      });
      this.scheduleRules.push({ schedule, rule });
    }
  }

  /** One topology trigger: its Kafka event source mapping, the consumer's grants and their findings. */
  private connectTrigger(trigger: TriggerSpec, destination: PutOnlyS3OnFailureDestination, props: FunctionsProps) {
    const { network, kafka, resolved } = props;
    const fn = this.byName[trigger.function];
    const topic = topics[trigger.topic];
    const source = new ManagedKafkaEventSource({
      clusterArn: kafka.clusterArn,
      topic: resolved.topicNames[trigger.topic],
      consumerGroupId: trigger.consumerGroupId,
      startingPosition: lambda.StartingPosition[trigger.startingPosition],
      batchSize: trigger.batchSize,
      maxBatchingWindow: batchingWindow(trigger.maxBatchingWindowSeconds),
      retryAttempts: trigger.retryAttempts,
      bisectBatchOnError: trigger.bisectBatchOnError,
      maxRecordAge: Duration.seconds(trigger.maxRecordAgeSeconds),
      reportBatchItemFailures: trigger.reportBatchItemFailures,
      onFailure: destination,
      // Provisioned pollers: required for the error-handling settings above on Kafka ESMs. One
      // poller group for all the stack's mappings: they share event poller units instead of
      // each keeping its own warm (the idle bill, docs/deploy.md). More pollers than partitions
      // would sit idle.
      provisionedPollerConfig: {
        minimumPollers: 1,
        maximumPollers: topic.partitions,
        pollerGroupName: this.pollerGroupName,
      },
      // The mapping's own metrics (by EventSourceMappingUUID): PolledEventCount is the heartbeat
      // the not-polling alarm watches (observability.ts), the on-failure and dropped counts say
      // when records leave the stream, MaxOffsetLag the mapping's lag.
      metricsConfig: {
        metrics: [lambda.MetricType.EVENT_COUNT, lambda.MetricType.ERROR_COUNT, lambda.MetricType.KAFKA_METRICS],
      },
    });
    // A function may have several triggers: the mapping is the child this source just added.
    const before = new Set(fn.node.children);
    fn.addEventSource(source);
    const mapping = fn.node.children.find(
      (c): c is lambda.EventSourceMapping => c instanceof lambda.EventSourceMapping && !before.has(c),
    );
    if (!mapping) throw new Error(`no event source mapping on ${trigger.function} for ${trigger.topic}`);
    // The topic must exist before the mapping is enabled (auto-creation is off on MSK).
    mapping.node.addDependency(kafka.topicsResource, ...network.esmEndpoints);
    this.mappings.push({ trigger, mapping });
    this.grantConsumer(fn, trigger, kafka);
    Validations.of(fn).acknowledge(
      {
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaMSKExecutionRole]',
        reason:
          'Attached by ManagedKafkaEventSource: the event source mapping needs kafka:DescribeCluster(V2)/GetBootstrapBrokers and ENI management in the cluster VPC; data-plane access is granted separately, scoped to topic and group ARNs.',
      },
      this.failedEventObjectsFinding(),
    );
  }

  /** The failed-event bucket's object wildcard (Lambda names what it writes), acknowledged once. */
  private failedEventObjectsFinding() {
    return {
      id: `AwsSolutions-IAM5[Resource::<${Stack.of(this).getLogicalId(this.onFailureBucket.node.defaultChild as s3.CfnBucket)}.Arn>/*]`,
      reason:
        'On-failure destination: Lambda names the objects it writes, so s3:PutObject is scoped to the objects of this one bucket (no read or delete).',
    };
  }

  /** WriteData on producesTo topics (idempotent producer: WriteDataIdempotently on the cluster). */
  private grantKafka(fn: lambda.IFunction, spec: FunctionSpec, kafka: Kafka): void {
    if (spec.producesTo.length === 0) return;
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'KafkaProducerCluster',
        actions: ['kafka-cluster:Connect', 'kafka-cluster:WriteDataIdempotently'],
        resources: [kafka.clusterArn],
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'KafkaProducerTopics',
        actions: ['kafka-cluster:DescribeTopic', 'kafka-cluster:WriteData'],
        resources: spec.producesTo.map((t: TopicKey) => kafka.topicArn(kafka.topicName(t))),
      }),
    );
  }

  /** ReadData on the trigger's topic, group permissions on its consumer group. */
  private grantConsumer(fn: lambda.IFunction, trigger: TriggerSpec, kafka: Kafka): void {
    const sid = trigger.consumerGroupId.replace(/[^A-Za-z0-9]/g, '');
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: `KafkaConsumerCluster${sid}`,
        actions: ['kafka-cluster:Connect', 'kafka-cluster:DescribeClusterDynamicConfiguration'],
        resources: [kafka.clusterArn],
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: `KafkaConsumerTopic${sid}`,
        actions: ['kafka-cluster:DescribeTopic', 'kafka-cluster:ReadData'],
        resources: [kafka.topicArn(kafka.topicName(trigger.topic))],
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: `KafkaConsumerGroup${sid}`,
        actions: ['kafka-cluster:DescribeGroup', 'kafka-cluster:AlterGroup'],
        resources: [kafka.groupArn(trigger.consumerGroupId)],
      }),
    );
  }
}
