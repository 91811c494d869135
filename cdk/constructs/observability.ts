/**
 * CloudWatch dashboard and alarms. Alarms notify an SNS topic encrypted with a customer managed key
 * (CloudWatch cannot publish to a topic encrypted with the AWS managed aws/sns key).
 */
import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { type FunctionName, functions, triggers } from '../../shared/topology.ts';
import type { TunestreamConfig } from '../config.ts';
import type { Api } from './api.ts';

export interface ObservabilityProps {
  readonly config: TunestreamConfig;
  readonly functions: Record<FunctionName, lambda.IFunction>;
  readonly api: Api;
  readonly onFailureBucket: s3.IBucket;
  readonly metricsNamespace: string;
  readonly serviceName: string;
}

/** Offset lag (records) above which a consumer is considered behind. */
export const OFFSET_LAG_ALARM_THRESHOLD = 10_000;

export class Observability extends Construct {
  readonly dashboard: cloudwatch.Dashboard;
  readonly alarmTopic: sns.Topic;
  readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: ObservabilityProps) {
    super(scope, id);
    const { config, api } = props;
    const fnNames = Object.keys(functions) as FunctionName[];
    const period = Duration.minutes(1);

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
    this.alarmTopic = new sns.Topic(this, 'AlarmTopic', {
      displayName: `tunestream ${config.stage} alarms`,
      masterKey: key,
      enforceSSL: true,
    });
    if (config.alarmEmail) this.alarmTopic.addSubscription(new subscriptions.EmailSubscription(config.alarmEmail));
    const notify = new actions.SnsAction(this.alarmTopic);

    const appMetric = (metricName: string, fn: FunctionName) =>
      new cloudwatch.Metric({
        namespace: props.metricsNamespace,
        metricName,
        // Powertools emits the service dimension plus the `function` default dimension.
        dimensionsMap: { service: props.serviceName, function: fn },
        statistic: 'Sum',
        period,
      });
    const offsetLag = (fn: FunctionName, metricPeriod = period) =>
      new cloudwatch.Metric({
        namespace: 'AWS/Lambda',
        metricName: 'OffsetLag',
        dimensionsMap: { FunctionName: props.functions[fn].functionName },
        statistic: 'Maximum',
        period: metricPeriod,
      });
    const deadLetterProducers = fnNames.filter((n) =>
      (functions[n].producesTo as readonly string[]).includes('deadLetters'),
    );

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: `tunestream-${config.stage}`,
      defaultInterval: Duration.hours(3),
    });
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Ingest rate (accepted per minute)',
        left: [
          appMetric('EventsAccepted', 'ingest-events').with({ label: 'listen events' }),
          appMetric('CatalogItemsAccepted', 'ingest-tracks').with({ label: 'catalog items' }),
        ],
        right: [
          props.functions['ingest-events'].metricInvocations({ period, label: 'POST /events invocations' }),
          props.functions['ingest-tracks'].metricInvocations({ period, label: 'POST /tracks invocations' }),
        ],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Kafka consumer offset lag (max per trigger)',
        left: triggers.map((t) => offsetLag(t.function).with({ label: `${t.function} offset lag` })),
        leftAnnotations: [{ value: OFFSET_LAG_ALARM_THRESHOLD, label: 'alarm', color: '#d62728' }],
        width: 12,
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Lambda errors',
        left: fnNames.map((n) => props.functions[n].metricErrors({ period, label: n })),
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Lambda duration p99 (ms)',
        left: fnNames.map((n) => props.functions[n].metricDuration({ period, statistic: 'p99', label: n })),
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Lambda throttles',
        left: fnNames.map((n) => props.functions[n].metricThrottles({ period, label: n })),
        width: 8,
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Dead letters (DeadLettered records per minute)',
        left: deadLetterProducers.map((n) => appMetric('DeadLettered', n).with({ label: n })),
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'On-failure bucket objects (failed batches, daily)',
        left: [
          new cloudwatch.Metric({
            namespace: 'AWS/S3',
            metricName: 'NumberOfObjects',
            dimensionsMap: { BucketName: props.onFailureBucket.bucketName, StorageType: 'AllStorageTypes' },
            statistic: 'Average',
            period: Duration.days(1),
          }),
        ],
        width: 12,
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'API requests and errors',
        left: [
          api.httpApi.metricCount({ period, label: 'requests' }),
          api.httpApi.metricClientError({ period, label: '4xx' }),
          api.httpApi.metricServerError({ period, label: '5xx' }),
        ],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'API latency (ms)',
        left: [
          api.httpApi.metricLatency({ period, statistic: 'p50', label: 'p50' }),
          api.httpApi.metricLatency({ period, statistic: 'p99', label: 'p99' }),
          api.httpApi.metricIntegrationLatency({ period, statistic: 'p99', label: 'integration p99' }),
        ],
        width: 12,
      }),
    );

    const alarm = (id: string, a: cloudwatch.AlarmProps) => {
      const created = new cloudwatch.Alarm(this, id, {
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        ...a,
      });
      created.addAlarmAction(notify);
      created.addOkAction(notify);
      this.alarms.push(created);
      return created;
    };
    for (const n of fnNames) {
      alarm(`${n}-errors`, {
        alarmDescription: `${n}: Lambda errors`,
        metric: props.functions[n].metricErrors({ period: Duration.minutes(5) }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      });
      alarm(`${n}-throttles`, {
        alarmDescription: `${n}: Lambda throttles`,
        metric: props.functions[n].metricThrottles({ period: Duration.minutes(5) }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      });
    }
    for (const t of triggers) {
      alarm(`${t.function}-offset-lag`, {
        alarmDescription: `${t.function}: consumer lag on ${t.topic} above ${OFFSET_LAG_ALARM_THRESHOLD} for 15 minutes`,
        metric: offsetLag(t.function, Duration.minutes(5)),
        threshold: OFFSET_LAG_ALARM_THRESHOLD,
        evaluationPeriods: 3,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      });
    }
    for (const n of deadLetterProducers) {
      alarm(`${n}-dead-lettered`, {
        alarmDescription: `${n}: records dead-lettered`,
        metric: appMetric('DeadLettered', n).with({ period: Duration.minutes(5) }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      });
    }
    alarm('api-5xx', {
      alarmDescription: 'HTTP API 5xx responses',
      metric: api.httpApi.metricServerError({ period: Duration.minutes(5) }),
      threshold: 5,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    });
    alarm('api-latency', {
      alarmDescription: 'HTTP API p99 latency above 2 s for 15 minutes',
      metric: api.httpApi.metricLatency({ period: Duration.minutes(5), statistic: 'p99' }),
      threshold: 2000,
      evaluationPeriods: 3,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    });
  }
}
