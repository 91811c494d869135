/**
 * `-c stage=prod -c msk=provisioned -c capacity=provisioned -c batchEveryMinutes=1440 -c jwtIssuer=…
 * -c jwtAudience=…`: provisioned MSK, provisioned DynamoDB capacity with auto scaling, daily item
 * model builds, prod removal policies and retention, JWT authorizer on the read routes. One
 * synthesis for the whole file.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { PROD_PROVISIONED_MSK } from '../../bench/cost-model.ts';
import {
  type CapacityBounds,
  dashboardRoutes,
  provisionedCapacity,
  routes,
  type TableKey,
  type TableSpec,
  tables,
  triggers,
} from '../../shared/topology.ts';
import { only, resourcesOf, type Synthesized, synthesize } from './synth.ts';

const ISSUER = 'https://auth.example.com/';
const AUDIENCE = 'tunestream-api,tunestream-web';
let s: Synthesized;

beforeAll(() => {
  s = synthesize({
    stage: 'prod',
    msk: 'provisioned',
    capacity: 'provisioned',
    batchEveryMinutes: '1440',
    jwtIssuer: ISSUER,
    jwtAudience: AUDIENCE,
  });
  if (s.synthError) throw s.synthError;
});

describe('cdk-nag (AwsSolutions via Validations)', () => {
  it('synthesizes with zero unacknowledged findings', () => {
    expect(s.synthError).toBeUndefined();
    expect(s.violations).toEqual([]);
  });
});

describe('provisioned MSK (-c msk=provisioned)', () => {
  it('IAM auth only, TLS in transit, broker logs, one broker in each of 3 AZs (replication factor 3)', () => {
    s.template.resourceCountIs('AWS::MSK::ServerlessCluster', 0);
    s.template.resourceCountIs('AWS::MSK::Cluster', 1);
    const [, cluster] = only(resourcesOf(s.template, 'AWS::MSK::Cluster'));
    const p = cluster.Properties as Record<string, unknown> & {
      BrokerNodeGroupInfo: { ClientSubnets: unknown[]; SecurityGroups: unknown[] };
      NumberOfBrokerNodes: number;
    };
    expect(p.ClientAuthentication).toEqual({ Sasl: { Iam: { Enabled: true } }, Unauthenticated: { Enabled: false } });
    expect(p.EncryptionInfo).toMatchObject({ EncryptionInTransit: { ClientBroker: 'TLS', InCluster: true } });
    // Encryption at rest is always on for MSK; no DataVolumeKMSKeyId = AWS managed key aws/kafka.
    expect(p.LoggingInfo).toEqual({
      BrokerLogs: { CloudWatchLogs: { Enabled: true, LogGroup: { Ref: expect.any(String) } } },
    });
    // Prod: three AZs, so MSK's default replication factor (and the topics') is 3, min ISR 2.
    expect(p.BrokerNodeGroupInfo.ClientSubnets).toHaveLength(3);
    expect(p.NumberOfBrokerNodes).toBe(3);
    const azs = resourcesOf(s.template, 'AWS::EC2::Subnet').map(([, sn]) =>
      JSON.stringify(sn.Properties.AvailabilityZone),
    );
    expect(new Set(azs).size).toBe(3);
    const [, topicsCr] = only(resourcesOf(s.template, 'Custom::KafkaTopics'));
    expect(topicsCr.Properties.replicationFactor).toBe(3);
    expect(p.BrokerNodeGroupInfo.SecurityGroups).toEqual([
      { 'Fn::GetAtt': [s.logicalId(s.stack.network.clusterSg), 'GroupId'] },
    ]);
    expect(cluster).toMatchObject({ DeletionPolicy: 'Retain' });
    // Billed per-broker metrics in prod (docs/deploy.md prices them); dev keeps the free DEFAULT level.
    expect((p as { EnhancedMonitoring?: string }).EnhancedMonitoring).toBe('PER_BROKER');
  });

  it('event source mappings, bootstrap brokers and topics point at the provisioned cluster', () => {
    const arn = { 'Fn::GetAtt': [s.logicalId(s.stack.kafka.cluster), 'Arn'] };
    const esms = resourcesOf(s.template, 'AWS::Lambda::EventSourceMapping');
    expect(esms).toHaveLength(triggers.length);
    for (const [, e] of esms) expect(e.Properties.EventSourceArn).toEqual(arn);
    const [, brokers] = only(resourcesOf(s.template, 'Custom::AWS'));
    expect(JSON.stringify(brokers.Properties.Create)).toContain(s.logicalId(s.stack.kafka.cluster));
    const [, topicsCr] = only(resourcesOf(s.template, 'Custom::KafkaTopics'));
    expect(topicsCr.Properties.clusterArn).toEqual(arn);
  });
});

describe('JWT authorizer (-c jwtIssuer / -c jwtAudience)', () => {
  it('JWT for access:read routes, IAM (SigV4) for writes', () => {
    const [authorizerId, authorizer] = only(
      resourcesOf(s.template, 'AWS::ApiGatewayV2::Authorizer').filter(([, a]) => a.Properties.AuthorizerType === 'JWT'),
    );
    expect(authorizer.Properties).toMatchObject({
      AuthorizerType: 'JWT',
      JwtConfiguration: { Issuer: ISSUER, Audience: ['tunestream-api', 'tunestream-web'] },
    });
    // The dashboard's endpoints go with the read routes (the cloud dashboard sends a JWT); the
    // ListenBrainz routes keep their user-token authorizer (test/cdk/stack.test.ts).
    for (const route of [...routes.filter((r) => !('auth' in r)), ...dashboardRoutes]) {
      const [, r] = only(
        Object.entries(
          s.template.findResources('AWS::ApiGatewayV2::Route', {
            Properties: { RouteKey: `${route.method} ${route.path}` },
          }),
        ) as [string, { Properties: Record<string, unknown> }][],
      );
      if (route.access === 'read') {
        expect(r.Properties.AuthorizationType).toBe('JWT');
        expect(r.Properties.AuthorizerId).toEqual({ Ref: authorizerId });
      } else {
        expect(r.Properties.AuthorizationType).toBe('AWS_IAM');
        expect(r.Properties.AuthorizerId).toBeUndefined();
      }
    }
  });
});

describe('prod stage (-c stage=prod)', () => {
  it('tables retained with deletion protection', () => {
    const ts = resourcesOf(s.template, 'AWS::DynamoDB::Table');
    expect(ts).toHaveLength(Object.keys(tables).length);
    for (const [id] of ts) {
      const t = s.template.toJSON().Resources[id];
      expect(t.DeletionPolicy).toBe('Retain');
      expect(t.Properties.DeletionProtectionEnabled).toBe(true);
      expect(t.Properties.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
    }
  });

  it('longer log retention, retained logs and on-failure bucket, no auto-delete', () => {
    for (const [id, lg] of resourcesOf(s.template, 'AWS::Logs::LogGroup')) {
      expect(lg.Properties.RetentionInDays, id).toBe(90);
      expect(s.template.toJSON().Resources[id].DeletionPolicy).toBe('Retain');
    }
    s.template.resourceCountIs('Custom::S3AutoDeleteObjects', 0);
    const bucket = s.template.toJSON().Resources[s.logicalId(s.stack.functions.onFailureBucket)];
    expect(bucket.DeletionPolicy).toBe('Retain');
  });

  it('prod throttling and log level', () => {
    const [, stage] = only(resourcesOf(s.template, 'AWS::ApiGatewayV2::Stage'));
    expect(stage.Properties.DefaultRouteSettings).toEqual({ ThrottlingRateLimit: 500, ThrottlingBurstLimit: 1000 });
    const fn = s.template.toJSON().Resources[s.logicalId(s.stack.functions.byName['read-api'])];
    expect(fn.Properties.Environment.Variables.POWERTOOLS_LOG_LEVEL).toBe('INFO');
    expect(fn.Properties.Environment.Variables.POWERTOOLS_METRICS_NAMESPACE).toBe('tunestream/prod');
  });
});

describe('provisioned DynamoDB capacity (-c capacity=provisioned)', () => {
  type Bounds = { read: CapacityBounds; write: CapacityBounds };
  const bounds = provisionedCapacity.tables as Partial<Record<TableKey, Bounds>>;
  // biome-ignore lint/suspicious/noExplicitAny: CloudFormation properties are untyped JSON
  const resource = (key: TableKey): any => s.template.toJSON().Resources[s.logicalId(s.stack.tables.byKey[key])];

  it("the stream's tables provisioned at their minimums (indexes too); the item model on demand", () => {
    for (const key of Object.keys(tables) as TableKey[]) {
      const t = resource(key).Properties;
      const b = bounds[key];
      if (!b) {
        expect(t.BillingMode, key).toBe('PAY_PER_REQUEST');
        continue;
      }
      expect(t.BillingMode ?? 'PROVISIONED', key).toBe('PROVISIONED');
      const throughput = { ReadCapacityUnits: b.read.min, WriteCapacityUnits: b.write.min };
      expect(t.ProvisionedThroughput, key).toEqual(throughput);
      for (const gsi of t.GlobalSecondaryIndexes ?? []) expect(gsi.ProvisionedThroughput, key).toEqual(throughput);
    }
    expect(bounds.itemModel).toBeUndefined();
  });

  it('the attribution tables are among them: served lists and experiment counters, auto scaled', () => {
    for (const key of ['servedLists', 'experimentCounters'] as const) {
      const b = bounds[key];
      expect(b, key).toBeDefined();
      expect(resource(key).Properties.ProvisionedThroughput, key).toEqual({
        ReadCapacityUnits: b!.read.min,
        WriteCapacityUnits: b!.write.min,
      });
      const id = s.logicalId(s.stack.tables.byKey[key]);
      const scaled = resourcesOf(s.template, 'AWS::ApplicationAutoScaling::ScalableTarget')
        .filter(([, t]) => JSON.stringify(t.Properties.ResourceId).includes(id))
        .map(([, t]) => String(t.Properties.ScalableDimension))
        .sort();
      expect(scaled, key).toEqual(['dynamodb:table:ReadCapacityUnits', 'dynamodb:table:WriteCapacityUnits']);
    }
  });

  it('daily item model builds (-c batchEveryMinutes=1440): the rule, and a silence alarm of two missed builds', () => {
    const rule = resourcesOf(s.template, 'AWS::Events::Rule').find(([, r]) =>
      JSON.stringify(r.Properties.Targets).includes(s.logicalId(s.stack.batch.stateMachine)),
    );
    expect(rule?.[1].Properties.ScheduleExpression).toBe('rate(1 day)');
    const silent = resourcesOf(s.template, 'AWS::CloudWatch::Alarm').find(
      ([, a]) => a.Properties.MetricName === 'ExecutionsSucceeded',
    );
    expect(silent?.[1].Properties).toMatchObject({
      Period: 86_400,
      EvaluationPeriods: 2,
      TreatMissingData: 'breaching',
    });
  });

  it("the cost model's prod deployment has this template's alarms (docs/deploy.md prices them)", () => {
    expect(resourcesOf(s.template, 'AWS::CloudWatch::Alarm')).toHaveLength(PROD_PROVISIONED_MSK.alarms);
  });

  it('target tracking at the topology utilization, between the bounds, on every read and write dimension', () => {
    const targets = resourcesOf(s.template, 'AWS::ApplicationAutoScaling::ScalableTarget');
    const policies = resourcesOf(s.template, 'AWS::ApplicationAutoScaling::ScalingPolicy');
    let expected = 0;
    for (const key of Object.keys(bounds) as TableKey[]) {
      const b = bounds[key]!;
      const id = s.logicalId(s.stack.tables.byKey[key]);
      const gsis = ((tables[key] as TableSpec).globalSecondaryIndexes ?? []).map((g) => g.name);
      const mine = targets.filter(([, t]) => JSON.stringify(t.Properties.ResourceId).includes(id));
      expect(mine, key).toHaveLength(2 * (1 + gsis.length));
      expected += mine.length;
      for (const [, t] of mine) {
        const read = String(t.Properties.ScalableDimension).endsWith('ReadCapacityUnits');
        expect(t.Properties, key).toMatchObject({
          ServiceNamespace: 'dynamodb',
          MinCapacity: (read ? b.read : b.write).min,
          MaxCapacity: (read ? b.read : b.write).max,
        });
      }
      for (const g of gsis)
        expect(mine.some(([, t]) => JSON.stringify(t.Properties.ResourceId).includes(`/index/${g}`))).toBe(true);
    }
    expect(targets).toHaveLength(expected);
    expect(policies).toHaveLength(expected);
    for (const [, p] of policies)
      expect((p.Properties.TargetTrackingScalingPolicyConfiguration as { TargetValue: number }).TargetValue).toBe(
        provisionedCapacity.targetUtilizationPercent,
      );
  });
});
