/**
 * CloudWatch dashboard and alarms. Alarms notify an SNS topic encrypted with a customer managed key
 * (CloudWatch cannot publish to a topic encrypted with the AWS managed aws/sns key).
 *
 * Alarms that must see silence treat missing data as breaching: a mapping whose `PolledEventCount`
 * stops (Lambda emits 0 for an empty poll, nothing when it is not polling: a trigger that never
 * connected, or was disabled) and a batch layer with no successful build for three hours. Alarms
 * on counts of bad things (errors, throttles, dead letters, records sent to the on-failure bucket)
 * treat missing data as fine: no data is no errors.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { SERVED_ROUTES } from '../../shared/domain/experiments/served-list.ts';
import {
  experiments,
  type FunctionName,
  functions,
  type TableKey,
  type TableSpec,
  type TriggerSpec,
  tables as tableSpecs,
  topics,
} from '../../shared/topology.ts';
import type { TunestreamConfig } from '../config.ts';
import type { Api } from './api.ts';

export interface ObservabilityProps {
  readonly config: TunestreamConfig;
  readonly functions: Record<FunctionName, lambda.IFunction>;
  /** The Kafka event source mappings (their own metrics: MetricsConfig in functions.ts). */
  readonly mappings: readonly { trigger: TriggerSpec; mapping: lambda.EventSourceMapping }[];
  readonly tables: Record<TableKey, dynamodb.Table>;
  readonly batchStateMachine: sfn.IStateMachine;
  readonly api: Api;
  readonly onFailureBucket: s3.IBucket;
  readonly metricsNamespace: string;
  readonly serviceName: string;
}

/** Offset lag (records) above which a consumer is considered behind. */
export const OFFSET_LAG_ALARM_THRESHOLD = 10_000;
/**
 * How long without a successful item model build (skipped ones count) before alarming: three
 * hourly builds, or two of a longer schedule (a period of at most a day: CloudWatch's limit).
 */
export function batchSilence(everyMinutes: number): { periodHours: number; periods: number } {
  return everyMinutes <= 60
    ? { periodHours: 1, periods: 3 }
    : { periodHours: Math.min(24, Math.ceil(everyMinutes / 60)), periods: 2 };
}

const FIVE_MINUTES = Duration.minutes(5);

/** The attributor's metrics (Powertools: dimensions variant and route besides service and function). */
const ATTRIBUTION_METRICS = {
  served: 'ListsServed',
  withHit: 'ListsWithHit',
  plays: 'Plays',
  fromRecommendations: 'PlaysFromRecommendations',
} as const;
/** The route dimension of the all-plays counts. */
const ALL_ROUTES = '*';

/** A mapping's name on the dashboard: a function may have several triggers. */
const mappingLabel = (t: TriggerSpec) => `${t.function} ← ${topics[t.topic].name}`;

export class Observability extends Construct {
  readonly dashboard: cloudwatch.Dashboard;
  readonly alarmTopic: sns.Topic;
  readonly alarms: cloudwatch.Alarm[] = [];
  private readonly notify: actions.SnsAction;
  private readonly props: ObservabilityProps;

  constructor(scope: Construct, id: string, props: ObservabilityProps) {
    super(scope, id);
    this.props = props;
    this.alarmTopic = this.createTopic(props.config);
    this.notify = new actions.SnsAction(this.alarmTopic);
    this.dashboard = this.createDashboard();
    this.functionAlarms();
    this.mappingAlarms();
    this.tableAlarms();
    this.batchAlarms();
    this.apiAlarms();
  }

  private createTopic(config: TunestreamConfig): sns.Topic {
    const key = new kms.Key(this, 'AlarmTopicKey', {
      description: 'tunestream alarm topic encryption',
      enableKeyRotation: true,
      removalPolicy: config.removalPolicy,
    });
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarms',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
    );
    const topic = new sns.Topic(this, 'AlarmTopic', {
      displayName: `tunestream ${config.stage} alarms`,
      masterKey: key,
      enforceSSL: true,
    });
    if (config.alarmEmail) topic.addSubscription(new subscriptions.EmailSubscription(config.alarmEmail));
    return topic;
  }

  private alarm(id: string, a: cloudwatch.AlarmProps): cloudwatch.Alarm {
    const created = new cloudwatch.Alarm(this, id, {
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      ...a,
    });
    created.addAlarmAction(this.notify);
    created.addOkAction(this.notify);
    this.alarms.push(created);
    return created;
  }

  private appMetric(
    metricName: string,
    fn: FunctionName,
    period = Duration.minutes(1),
    dimensions: Record<string, string> = {},
  ): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: this.props.metricsNamespace,
      metricName,
      // Powertools emits the service dimension plus the `function` default dimension.
      dimensionsMap: { service: this.props.serviceName, function: fn, ...dimensions },
      statistic: 'Sum',
      period,
    });
  }

  /** A metric of an event source mapping's own (AWS/Lambda by EventSourceMappingUUID). */
  private mappingMetric(
    mapping: lambda.EventSourceMapping,
    metricName: string,
    statistic = 'Sum',
    period = FIVE_MINUTES,
  ) {
    return new cloudwatch.Metric({
      namespace: 'AWS/Lambda',
      metricName,
      dimensionsMap: { EventSourceMappingUUID: mapping.eventSourceMappingId },
      statistic,
      period,
    });
  }

  private deadLetterProducers(): FunctionName[] {
    return (Object.keys(functions) as FunctionName[]).filter((n) =>
      (functions[n].producesTo as readonly string[]).includes('deadLetters'),
    );
  }

  private createDashboard(): cloudwatch.Dashboard {
    const { config, api } = this.props;
    const fns = this.props.functions;
    const fnNames = Object.keys(functions) as FunctionName[];
    const period = Duration.minutes(1);
    const dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: `tunestream-${config.stage}`,
      defaultInterval: Duration.hours(3),
    });
    const byTrigger = (metricName: string, statistic: string) =>
      this.props.mappings.map(({ trigger, mapping }) =>
        this.mappingMetric(mapping, metricName, statistic, period).with({ label: mappingLabel(trigger) }),
      );
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Ingest rate (accepted per minute)',
        left: [
          this.appMetric('EventsAccepted', 'ingest-events').with({ label: 'listen events' }),
          this.appMetric('CatalogItemsAccepted', 'ingest-tracks').with({ label: 'catalog items' }),
        ],
        right: [
          fns['ingest-events'].metricInvocations({ period, label: 'POST /events invocations' }),
          fns['ingest-tracks'].metricInvocations({ period, label: 'POST /tracks invocations' }),
        ],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Kafka consumer offset lag (max per trigger)',
        // The mapping's own lag, as its alarm reads it: a function's OffsetLag would merge its triggers.
        left: byTrigger('MaxOffsetLag', 'Maximum'),
        leftAnnotations: [{ value: OFFSET_LAG_ALARM_THRESHOLD, label: 'alarm', color: '#d62728' }],
        width: 12,
      }),
    );
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Lambda errors',
        left: fnNames.map((n) => fns[n].metricErrors({ period, label: n })),
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Lambda duration p99 (ms)',
        left: fnNames.map((n) => fns[n].metricDuration({ period, statistic: 'p99', label: n })),
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Lambda throttles',
        left: fnNames.map((n) => fns[n].metricThrottles({ period, label: n })),
        width: 8,
      }),
    );
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Mappings: records polled per minute (0 when idle, gone when not polling)',
        left: byTrigger('PolledEventCount', 'Sum'),
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Mappings: records sent to the on-failure bucket / dropped',
        left: byTrigger('OnFailureDestinationDeliveredEventCount', 'Sum'),
        right: byTrigger('DroppedEventCount', 'Sum'),
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Dead letters (DeadLettered records per minute)',
        left: this.deadLetterProducers().map((n) => this.appMetric('DeadLettered', n).with({ label: n })),
        width: 8,
      }),
    );
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'API requests and errors',
        left: [
          api.httpApi.metricCount({ period, label: 'requests' }),
          api.httpApi.metricClientError({ period, label: '4xx' }),
          api.httpApi.metricServerError({ period, label: '5xx' }),
        ],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'API latency (ms)',
        left: [
          api.httpApi.metricLatency({ period, statistic: 'p50', label: 'p50' }),
          api.httpApi.metricLatency({ period, statistic: 'p99', label: 'p99' }),
          api.httpApi.metricIntegrationLatency({ period, statistic: 'p99', label: 'integration p99' }),
        ],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'On-failure bucket objects (failed batches, daily)',
        left: [
          new cloudwatch.Metric({
            namespace: 'AWS/S3',
            metricName: 'NumberOfObjects',
            dimensionsMap: { BucketName: this.props.onFailureBucket.bucketName, StorageType: 'AllStorageTypes' },
            statistic: 'Average',
            period: Duration.days(1),
          }),
        ],
        width: 8,
      }),
    );
    dashboard.addWidgets(...this.attributionWidgets());
    return dashboard;
  }

  /**
   * "Are recommendations working?": per declared variant and served route the share of served
   * lists that got a play (ListsWithHit / ListsServed), and per variant the share of all plays
   * that came from a recommendation. Hourly: a list's hit is counted when the play comes, up to
   * the attribution window later, so a shorter period mostly shows noise; the dashboard panel
   * (GET /api/experiments) has the exact rates and their intervals.
   */
  private attributionWidgets(): cloudwatch.IWidget[] {
    const fn: FunctionName = 'recommendation-attributor';
    const period = Duration.hours(1);
    const metric = (name: string, variant: string, route: string) =>
      this.appMetric(name, fn, period, { variant, route });
    const percent = { min: 0, max: 100, label: '%', showUnits: false };
    const variants = experiments.variants.map((v) => v.name);
    const hitRates: cloudwatch.IMetric[] = [];
    const served: cloudwatch.IMetric[] = [];
    variants.forEach((variant, v) => {
      SERVED_ROUTES.forEach((route, r) => {
        const lists = metric(ATTRIBUTION_METRICS.served, variant, route);
        served.push(lists.with({ label: `${variant} · ${route}` }));
        hitRates.push(
          new cloudwatch.MathExpression({
            // No hit yet is 0 %; no list served is no point.
            expression: `100 * FILL(hit_${v}_${r}, 0) / served_${v}_${r}`,
            usingMetrics: {
              [`hit_${v}_${r}`]: metric(ATTRIBUTION_METRICS.withHit, variant, route),
              [`served_${v}_${r}`]: lists,
            },
            label: `${variant} · ${route}`,
            period,
          }),
        );
      });
    });
    const shares = variants.map(
      (variant, v) =>
        new cloudwatch.MathExpression({
          expression: `100 * FILL(rec_${v}, 0) / plays_${v}`,
          usingMetrics: {
            [`rec_${v}`]: metric(ATTRIBUTION_METRICS.fromRecommendations, variant, ALL_ROUTES),
            [`plays_${v}`]: metric(ATTRIBUTION_METRICS.plays, variant, ALL_ROUTES),
          },
          label: variant,
          period,
        }),
    );
    return [
      new cloudwatch.TextWidget({
        markdown:
          '### Are recommendations working?\nHit rate: served lists that got a play within the attribution window. Share of listening: plays that came from a recommendation. Per variant (topology `experiments`), hourly.',
        width: 24,
        height: 2,
      }),
      new cloudwatch.GraphWidget({
        title: 'Hit rate per route and variant (%)',
        left: hitRates,
        leftYAxis: percent,
        width: 8,
      }),
      new cloudwatch.GraphWidget({ title: 'Lists served per route and variant (per hour)', left: served, width: 8 }),
      new cloudwatch.GraphWidget({
        title: 'Share of listening from recommendations per variant (%)',
        left: shares,
        leftYAxis: percent,
        width: 8,
      }),
    ];
  }

  private functionAlarms(): void {
    const fns = this.props.functions;
    for (const n of Object.keys(functions) as FunctionName[]) {
      this.alarm(`${n}-errors`, {
        alarmDescription: `${n}: Lambda errors`,
        metric: fns[n].metricErrors({ period: FIVE_MINUTES }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      });
      this.alarm(`${n}-throttles`, {
        alarmDescription: `${n}: Lambda throttles`,
        metric: fns[n].metricThrottles({ period: FIVE_MINUTES }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      });
    }
    for (const n of this.deadLetterProducers())
      this.alarm(`${n}-dead-lettered`, {
        alarmDescription: `${n}: records dead-lettered`,
        metric: this.appMetric('DeadLettered', n, FIVE_MINUTES),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      });
  }

  /**
   * Per Kafka mapping: not polling (silence breaches), lag, batches given up on. Named by consumer
   * group: unique per mapping, where a function may have several triggers (the attributor).
   */
  private mappingAlarms(): void {
    for (const { trigger: t, mapping } of this.props.mappings) {
      const id = t.consumerGroupId;
      this.alarm(`${id}-not-polling`, {
        alarmDescription: `${t.function}: its ${t.topic} mapping has not polled for 15 minutes (never connected, disabled, or failing)`,
        metric: this.mappingMetric(mapping, 'PolledEventCount', 'SampleCount'),
        threshold: 1,
        evaluationPeriods: 3,
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      });
      this.alarm(`${id}-offset-lag`, {
        alarmDescription: `${t.function}: consumer lag on ${t.topic} above ${OFFSET_LAG_ALARM_THRESHOLD} for 15 minutes`,
        metric: this.mappingMetric(mapping, 'MaxOffsetLag', 'Maximum'),
        threshold: OFFSET_LAG_ALARM_THRESHOLD,
        evaluationPeriods: 3,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      });
      this.alarm(`${id}-on-failure`, {
        alarmDescription: `${t.function}: records of ${t.topic} sent to the on-failure bucket (retries or max age exhausted)`,
        metric: this.mappingMetric(mapping, 'OnFailureDestinationDeliveredEventCount'),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      });
      this.alarm(`${id}-dropped`, {
        alarmDescription: `${t.function}: records of ${t.topic} dropped (the on-failure bucket could not take them)`,
        metric: this.mappingMetric(mapping, 'DroppedEventCount'),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      });
    }
  }

  /** Per table: read and write throttle events, the table's and its indexes'. */
  private tableAlarms(): void {
    for (const [key, table] of Object.entries(this.props.tables) as [TableKey, dynamodb.Table][]) {
      const spec: TableSpec = tableSpecs[key];
      const metrics: Record<string, cloudwatch.IMetric> = {};
      const throttles = (index?: string) => {
        for (const name of ['ReadThrottleEvents', 'WriteThrottleEvents'])
          metrics[`m${Object.keys(metrics).length}`] = new cloudwatch.Metric({
            namespace: 'AWS/DynamoDB',
            metricName: name,
            dimensionsMap: { TableName: table.tableName, ...(index ? { GlobalSecondaryIndexName: index } : {}) },
            statistic: 'Sum',
            period: FIVE_MINUTES,
          });
      };
      throttles();
      for (const gsi of spec.globalSecondaryIndexes ?? []) throttles(gsi.name);
      this.alarm(`${spec.name}-throttles`, {
        alarmDescription: `DynamoDB ${spec.name}: throttled reads or writes (table or index)`,
        metric: new cloudwatch.MathExpression({
          expression: Object.keys(metrics)
            .map((m) => `FILL(${m}, 0)`)
            .join(' + '),
          usingMetrics: metrics,
          period: FIVE_MINUTES,
          label: `${spec.name} throttle events`,
        }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      });
    }
  }

  /** The item model build: failed or timed-out executions, and no successful one for hours. */
  private batchAlarms(): void {
    const sm = this.props.batchStateMachine;
    const hour = Duration.hours(1);
    this.alarm('item-model-failed', {
      alarmDescription: 'Item model build: an execution failed (the lease was released; the next hour retries)',
      metric: sm.metricFailed({ period: hour }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    });
    this.alarm('item-model-timed-out', {
      alarmDescription: 'Item model build: an execution timed out (its lease blocks builds until it expires)',
      metric: sm.metricTimedOut({ period: hour }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    });
    const silence = batchSilence(this.props.config.batchEveryMinutes);
    this.alarm('item-model-silent', {
      alarmDescription: `Item model build: no successful execution for ${silence.periodHours * silence.periods} hours (schedule, permissions, or every build failing)`,
      metric: sm.metricSucceeded({ period: Duration.hours(silence.periodHours) }),
      threshold: 1,
      evaluationPeriods: silence.periods,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    });
  }

  private apiAlarms(): void {
    const { api } = this.props;
    this.alarm('api-5xx', {
      alarmDescription: 'HTTP API 5xx responses',
      metric: api.httpApi.metricServerError({ period: FIVE_MINUTES }),
      threshold: 5,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    });
    this.alarm('api-latency', {
      alarmDescription: 'HTTP API p99 latency above 2 s for 15 minutes',
      metric: api.httpApi.metricLatency({ period: FIVE_MINUTES, statistic: 'p99' }),
      threshold: 2000,
      evaluationPeriods: 3,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    });
  }
}
