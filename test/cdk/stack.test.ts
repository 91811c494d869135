/**
 * Default configuration (`cdk synth` with no context): stage dev, MSK Serverless, IAM-only API.
 * One synthesis shared by every assertion in this file.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { apiPathPatterns, CONTENT_SECURITY_POLICY } from '../../cdk/constructs/dashboard-site.ts';
import { batchSilence, OFFSET_LAG_ALARM_THRESHOLD } from '../../cdk/constructs/observability.ts';
import { SERVED_LIST_FIELD, SERVED_ROUTES } from '../../shared/domain/experiments/served-list.ts';
import {
  dashboardRoutes,
  experiments,
  type FunctionName,
  type FunctionSpec,
  functions,
  logSubscriptions,
  resolveTopology,
  resourceEnv,
  routes,
  type ScheduleSpec,
  schedules,
  settings,
  type TableKey,
  type TableSpec,
  type TopicKey,
  tables,
  topics,
  triggers,
} from '../../shared/topology.ts';
import { type BundleProbe, bundlesOf, probeBundle } from '../../tools/bundle-check.ts';
import {
  actionsOf,
  describeJoinArn,
  isWildcard,
  only,
  resourcesOf,
  resourcesOfStatement,
  type Statement,
  type Synthesized,
  statementsForRole,
  synthesize,
} from './synth.ts';

let s: Synthesized;
const fnNames = Object.keys(functions) as FunctionName[];
const functionSpec = (name: FunctionName): FunctionSpec => functions[name];
const allRoutes = [...routes, ...dashboardRoutes];

beforeAll(() => {
  s = synthesize();
  if (s.synthError) throw s.synthError;
});

const fnId = (name: FunctionName) => s.logicalId(s.stack.functions.byName[name]);
const roleId = (name: FunctionName) => s.logicalId(s.stack.functions.byName[name].role!);
const clusterArn = () => ({ 'Fn::GetAtt': [s.logicalId(s.stack.kafka.cluster), 'Arn'] });
const topicsResourceId = () => s.logicalId(s.stack.kafka.topicsResource);
const bucketArn = () => ({ 'Fn::GetAtt': [s.logicalId(s.stack.functions.onFailureBucket), 'Arn'] });

describe('cdk-nag (AwsSolutions via Validations)', () => {
  it('synthesizes with zero unacknowledged findings', () => {
    expect(s.synthError).toBeUndefined();
    expect(s.violations).toEqual([]);
  });

  it('is env-agnostic (no account/region lookups)', () => {
    expect(s.stack.environment).toBe('aws://unknown-account/unknown-region');
  });
});

describe('function bundles, as NodejsFunction built them for this synthesis', () => {
  let probes: BundleProbe[];
  beforeAll(async () => {
    probes = [];
    for (const b of bundlesOf(s.stack, s.outdir)) probes.push(await probeBundle(b.function.node.path, b.file));
  }, 120_000);

  it('one bundle per topology function and the topic provisioner', () => {
    const paths = probes.map((p) => p.function);
    for (const name of fnNames) expect(paths).toContain(`tunestream-dev/Functions/${name}`);
    expect(paths).toContain('tunestream-dev/Kafka/TopicProvisioner');
  });

  it('each imports in a plain Node process: async handler exported, no module missing', () => {
    for (const p of probes) {
      expect({ function: p.function, error: p.error, unresolved: p.nonBuiltinImports }).toEqual({
        function: p.function,
        error: undefined,
        unresolved: [],
      });
      expect(p.handlerType, p.function).toBe('function');
      expect(p.handlerIsAsync, p.function).toBe(true);
      expect(p.importMs, p.function).toBeGreaterThan(0);
    }
  });

  it('negative control: a bundle importing a module Lambda does not have is caught', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tunestream-bad-bundle-'));
    const file = path.join(dir, 'index.mjs');
    writeFileSync(file, "import pad from 'left-pad-not-bundled'; export const handler = (e) => pad(e);\n");
    const probe = await probeBundle('bad', file);
    expect(probe.error).toMatch(/left-pad-not-bundled/);
    expect(probe.nonBuiltinImports.join(' ')).toMatch(/left-pad-not-bundled/);
    expect(probe.handlerIsAsync).toBe(false);
  });
});

describe('Lambda functions', () => {
  it('one NodejsFunction per topology function: Node 24, arm64, memory/timeout from the topology', () => {
    for (const name of fnNames) {
      const fn = s.template.toJSON().Resources[fnId(name)];
      expect(fn.Type).toBe('AWS::Lambda::Function');
      expect(fn.Properties).toMatchObject({
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
        MemorySize: functions[name].memoryMb,
        Timeout: functions[name].timeoutSeconds,
      });
    }
  });

  it('env = resourceEnv + KAFKA_BROKERS (deploy-time) + KAFKA_AUTH=iam + Powertools settings', () => {
    const tableRefs = {} as Record<TableKey, unknown>;
    for (const key of Object.keys(tables) as TableKey[])
      tableRefs[key] = { Ref: s.logicalId(s.stack.tables.byKey[key]) };
    for (const name of fnNames) {
      const vars = s.template.toJSON().Resources[fnId(name)].Properties.Environment.Variables;
      const expectedResourceEnv = resourceEnv({
        prefix: '',
        topicNames: resolveTopology('').topicNames,
        tableNames: tableRefs as unknown as Record<TableKey, string>,
      });
      expect(vars).toMatchObject(expectedResourceEnv);
      if (functionSpec(name).outsideVpc) {
        // No route to the brokers, so no Kafka settings.
        expect(vars.KAFKA_AUTH).toBeUndefined();
        expect(vars.KAFKA_BROKERS).toBeUndefined();
      } else {
        expect(vars.KAFKA_AUTH).toBe('iam');
        const [brokersCr] = only(resourcesOf(s.template, 'Custom::AWS'));
        expect(vars.KAFKA_BROKERS).toEqual({ 'Fn::GetAtt': [brokersCr, 'BootstrapBrokerStringSaslIam'] });
      }
      expect(vars.POWERTOOLS_SERVICE_NAME).toBe('tunestream');
      expect(vars.POWERTOOLS_LOG_LEVEL).toBe('DEBUG');
      expect(vars.POWERTOOLS_METRICS_NAMESPACE).toBe('tunestream/dev');
    }
  });

  it('runs in the private subnets with the functions security group (but the dashboard stats)', () => {
    const sg = { 'Fn::GetAtt': [s.logicalId(s.stack.network.functionsSg), 'GroupId'] };
    const subnets = s.stack.network.vpc.isolatedSubnets.map((sn) => ({ Ref: s.logicalId(sn) }));
    expect(subnets).toHaveLength(2);
    expect(fnNames.filter((n) => functionSpec(n).outsideVpc)).toEqual(['dashboard-stats']);
    for (const name of fnNames) {
      const vpc = s.template.toJSON().Resources[fnId(name)].Properties.VpcConfig;
      if (functionSpec(name).outsideVpc) {
        expect(vpc).toBeUndefined();
        continue;
      }
      expect(vpc.SecurityGroupIds).toEqual([sg]);
      expect(vpc.SubnetIds).toEqual(subnets);
    }
  });

  it('log groups with retention for every function', () => {
    for (const name of fnNames) {
      const lg = s.template.toJSON().Resources[fnId(name)].Properties.LoggingConfig.LogGroup.Ref as string;
      expect(s.template.toJSON().Resources[lg].Properties.RetentionInDays).toBe(7);
      expect(s.template.toJSON().Resources[lg].DeletionPolicy).toBe('Delete');
    }
  });

  it("every Lambda function in the stack logs to a log group of the stack's, and every log group expires", () => {
    const resources = s.template.toJSON().Resources as Record<
      string,
      { Type: string; Properties: Record<string, unknown> }
    >;
    const fns = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::Lambda::Function');
    // Ours, the custom resource frameworks', and aws-cdk-lib's raw providers (S3 auto-delete, the
    // VPC's default security group): none may fall back to a never-expiring /aws/lambda/<name>.
    expect(fns.length).toBeGreaterThan(fnNames.length + 3);
    for (const [id, fn] of fns) {
      const lg = (fn.Properties.LoggingConfig as { LogGroup?: { Ref?: string } } | undefined)?.LogGroup?.Ref;
      expect(lg, id).toBeDefined();
      expect(resources[lg!]!.Type, id).toBe('AWS::Logs::LogGroup');
    }
    for (const [id, lg] of Object.entries(resources).filter(([, r]) => r.Type === 'AWS::Logs::LogGroup'))
      expect(lg.Properties.RetentionInDays, id).toBe(7);
  });
});

describe('Kafka event source mappings', () => {
  it('one mapping per topology trigger, nothing else', () => {
    expect(resourcesOf(s.template, 'AWS::Lambda::EventSourceMapping')).toHaveLength(triggers.length);
  });

  for (const trigger of triggers) {
    it(`${trigger.function} ← ${trigger.topic}: batch, retries, bisect, max age, destination, pollers`, () => {
      // A function may have several triggers: its mapping of this topic.
      const [, esm] = only(
        Object.entries(
          s.template.findResources('AWS::Lambda::EventSourceMapping', {
            Properties: { FunctionName: { Ref: fnId(trigger.function) }, Topics: [topics[trigger.topic].name] },
          }),
        ) as [string, { Properties: Record<string, unknown>; DependsOn: string[] }][],
      );
      const p = esm.Properties;
      expect(p.EventSourceArn).toEqual(clusterArn());
      expect(p.Topics).toEqual([topics[trigger.topic].name]);
      expect(p.StartingPosition).toBe(trigger.startingPosition);
      expect(p.AmazonManagedKafkaEventSourceConfig).toEqual({ ConsumerGroupId: trigger.consumerGroupId });
      expect(p.BatchSize).toBe(trigger.batchSize);
      if (trigger.maxBatchingWindowSeconds === 0.5) expect(p.MaximumBatchingWindowInSeconds).toBeUndefined();
      else expect(p.MaximumBatchingWindowInSeconds).toBe(trigger.maxBatchingWindowSeconds);
      expect(p.MaximumRetryAttempts).toBe(trigger.retryAttempts);
      expect(p.MaximumRetryAttempts).toBeGreaterThanOrEqual(0); // never -1 (infinite)
      expect(p.BisectBatchOnFunctionError).toBe(trigger.bisectBatchOnError);
      expect(p.MaximumRecordAgeInSeconds).toBe(trigger.maxRecordAgeSeconds);
      expect(p.FunctionResponseTypes).toEqual(
        trigger.reportBatchItemFailures ? ['ReportBatchItemFailures'] : undefined,
      );
      expect(p.DestinationConfig).toEqual({ OnFailure: { Destination: bucketArn() } });
      expect(p.ProvisionedPollerConfig).toEqual({
        MinimumPollers: 1,
        MaximumPollers: topics[trigger.topic].partitions,
        PollerGroupName: 'tunestream-dev',
      });
      // Created only after the topics exist.
      expect(esm.DependsOn).toContain(topicsResourceId());
      // …and after the endpoints the pollers need (STS, Lambda, S3).
      for (const endpoint of s.stack.network.esmEndpoints) expect(esm.DependsOn).toContain(s.logicalId(endpoint));
    });
  }

  it('all mappings share one provisioned poller group (no poller unit per mapping)', () => {
    const groups = resourcesOf(s.template, 'AWS::Lambda::EventSourceMapping').map(
      ([, e]) => (e.Properties.ProvisionedPollerConfig as { PollerGroupName?: string }).PollerGroupName,
    );
    expect(groups).toHaveLength(triggers.length);
    expect(new Set(groups)).toEqual(new Set(['tunestream-dev']));
    // A group holds at most 100 mappings and 2,000 pollers in total (Lambda's limits).
    const maxPollers = triggers.reduce((n, t) => n + topics[t.topic].partitions, 0);
    expect(maxPollers).toBeLessThanOrEqual(2000);
  });

  it('on-failure bucket: encrypted, SSL enforced, public access blocked, lifecycle expiry', () => {
    const id = s.logicalId(s.stack.functions.onFailureBucket);
    const bucket = s.template.toJSON().Resources[id];
    expect(
      bucket.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault,
    ).toEqual({
      SSEAlgorithm: 'AES256',
    });
    expect(bucket.Properties.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    expect(bucket.Properties.LifecycleConfiguration.Rules).toEqual(
      expect.arrayContaining([expect.objectContaining({ Status: 'Enabled', ExpirationInDays: 14 })]),
    );
    s.template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: id },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it('consumers may only put objects into the on-failure bucket (no read/delete)', () => {
    const archiveId = s.logicalId(s.stack.functions.archiveBucket);
    for (const t of triggers) {
      const s3Actions = statementsForRole(s.template, roleId(t.function))
        // The archiver's archive grant is asserted on its own below.
        .filter((st) => !JSON.stringify(st.Resource).includes(archiveId))
        .flatMap(actionsOf)
        .filter((a) => a.startsWith('s3:'));
      expect(s3Actions.sort()).toEqual(['s3:ListBucket', 's3:PutObject']);
    }
  });
});

describe('event archive', () => {
  const archiveId = () => s.logicalId(s.stack.functions.archiveBucket);
  const archivers = fnNames.filter((n) => (functions[n] as { writesArchive?: boolean }).writesArchive);

  it('archive bucket: encrypted, SSL enforced, public access blocked, expires in dev', () => {
    const bucket = s.template.toJSON().Resources[archiveId()];
    expect(
      bucket.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault,
    ).toEqual({ SSEAlgorithm: 'AES256' });
    expect(bucket.Properties.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    expect(bucket.Properties.LifecycleConfiguration.Rules).toEqual(
      expect.arrayContaining([expect.objectContaining({ Status: 'Enabled', ExpirationInDays: 30 })]),
    );
    s.template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: archiveId() },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it('only the archive writers get ARCHIVE_BUCKET and s3:PutObject on the archive objects (the loader lists it; nothing else)', () => {
    // user-admin writes the deletion tombstones (deletions/<userId>.json) that archive replays honour.
    expect(archivers).toEqual(['event-archiver', 'user-admin']);
    for (const name of fnNames) {
      const vars = s.template.toJSON().Resources[fnId(name)].Properties.Environment.Variables;
      const onArchive = statementsForRole(s.template, roleId(name)).filter((st) =>
        JSON.stringify(st.Resource).includes(archiveId()),
      );
      if (functionSpec(name).readsArchive) {
        // The dashboard's recent events: list and read, never write or delete.
        expect(vars.ARCHIVE_BUCKET, name).toEqual({ Ref: archiveId() });
        expect(onArchive.flatMap(actionsOf).sort(), name).toEqual(['s3:GetObject', 's3:ListBucket']);
        continue;
      }
      if (name === 'item-model-builder') {
        // The batch layer's loader chooses a build's window from the archive's partitions: it
        // lists them, and reads or writes no object (cdk/constructs/batch.ts; Athena reads them).
        expect(vars.ARCHIVE_BUCKET, name).toEqual({ Ref: archiveId() });
        expect(onArchive.flatMap(actionsOf), name).toEqual(['s3:ListBucket']);
        continue;
      }
      if (!archivers.includes(name)) {
        expect(vars.ARCHIVE_BUCKET, name).toBeUndefined();
        expect(onArchive, name).toEqual([]);
        continue;
      }
      expect(vars.ARCHIVE_BUCKET).toEqual({ Ref: archiveId() });
      expect(onArchive).toEqual([
        {
          Sid: 'ArchivePut',
          Effect: 'Allow',
          Action: 's3:PutObject',
          Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [archiveId(), 'Arn'] }, '/*']] },
        },
      ]);
    }
  });
});

describe('IAM least privilege', () => {
  const allStatements = (): Statement[] =>
    resourcesOf(s.template, 'AWS::IAM::Policy').flatMap(
      ([, p]) => (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement,
    );

  it('no "*" resource on kafka-cluster data-plane or DynamoDB actions', () => {
    for (const st of allStatements()) {
      const scoped = actionsOf(st).some((a) => a.startsWith('kafka-cluster:') || a.startsWith('dynamodb:'));
      if (!scoped) continue;
      expect(resourcesOfStatement(st).some(isWildcard), JSON.stringify(st.Action)).toBe(false);
      expect(actionsOf(st).some((a) => a.endsWith(':*'))).toBe(false);
    }
  });

  it('kafka data plane per function: WriteData on producesTo topics, ReadData + group on the trigger', () => {
    for (const name of fnNames) {
      const st = statementsForRole(s.template, roleId(name));
      const topicsFor = (action: string) =>
        st
          .filter((x) => actionsOf(x).includes(action))
          .flatMap(resourcesOfStatement)
          .map((r) => {
            const d = describeJoinArn(r);
            expect(d?.kind, `${name} ${action} must target topic ARNs`).toBe('topic');
            return d?.suffix;
          })
          .sort();
      const groupsFor = (action: string) =>
        st
          .filter((x) => actionsOf(x).includes(action))
          .flatMap(resourcesOfStatement)
          .map((r) => {
            const d = describeJoinArn(r);
            expect(d?.kind).toBe('group');
            return d?.suffix;
          })
          .sort();
      const spec = functions[name];
      const consumed = triggers.filter((t) => t.function === name);
      expect(topicsFor('kafka-cluster:WriteData')).toEqual(
        (spec.producesTo as readonly TopicKey[]).map((k) => `/${topics[k].name}`).sort(),
      );
      expect(topicsFor('kafka-cluster:ReadData')).toEqual(consumed.map((t) => `/${topics[t.topic].name}`).sort());
      expect(groupsFor('kafka-cluster:AlterGroup')).toEqual(consumed.map((t) => `/${t.consumerGroupId}`).sort());
      expect(groupsFor('kafka-cluster:DescribeGroup')).toEqual(consumed.map((t) => `/${t.consumerGroupId}`).sort());
      const connect = st.filter((x) => actionsOf(x).includes('kafka-cluster:Connect'));
      if (spec.producesTo.length > 0 || consumed.length > 0) {
        expect(connect.length).toBeGreaterThan(0);
        for (const c of connect) expect(resourcesOfStatement(c)).toEqual([clusterArn()]);
      } else {
        expect(connect).toEqual([]);
      }
    }
  });

  it('ingest producers write only to their topics and read nothing (ingest-events: only the catalog, below)', () => {
    for (const name of ['ingest-tracks'] as const) {
      const actions = statementsForRole(s.template, roleId(name)).flatMap(actionsOf);
      expect(actions).not.toContain('kafka-cluster:ReadData');
      expect(actions.filter((a) => a.startsWith('dynamodb:'))).toEqual([]);
    }
  });

  it('DynamoDB grants follow topology reads/writes (read-only functions get no write actions)', () => {
    const writeActions = [
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'dynamodb:DeleteItem',
      'dynamodb:BatchWriteItem',
      'dynamodb:PartiQLInsert',
      'dynamodb:PartiQLUpdate',
    ];
    for (const name of fnNames) {
      const spec = functions[name];
      const st = statementsForRole(s.template, roleId(name));
      const tablesWith = (action: string) =>
        st
          .filter((x) => actionsOf(x).includes(action))
          .flatMap(resourcesOfStatement)
          .filter((r) => typeof r === 'object' && r !== null && 'Fn::GetAtt' in r)
          .map((r) => (r as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0])
          .sort();
      const idsOf = (keys: readonly TableKey[]) => keys.map((k) => s.logicalId(s.stack.tables.byKey[k])).sort();
      expect(tablesWith('dynamodb:GetItem')).toEqual(idsOf(spec.reads));
      for (const a of writeActions) expect(tablesWith(a)).toEqual(idsOf(spec.writes));
    }
    expect(functions['read-api'].writes).toEqual([]);
  });

  it('no function may run PartiQL reads or deletes (scans through SELECT, deletes outside the topology)', () => {
    for (const name of fnNames) {
      const actions = statementsForRole(s.template, roleId(name)).flatMap(actionsOf);
      expect(actions).not.toContain('dynamodb:PartiQLSelect');
      expect(actions).not.toContain('dynamodb:PartiQLDelete');
    }
  });
});

describe('network', () => {
  it('VPC: two isolated private subnets, no NAT gateway or internet gateway', () => {
    s.template.resourceCountIs('AWS::EC2::Subnet', 2);
    s.template.resourceCountIs('AWS::EC2::NatGateway', 0);
    s.template.resourceCountIs('AWS::EC2::InternetGateway', 0);
    s.template.resourceCountIs('AWS::EC2::FlowLog', 1);
  });

  it('VPC endpoints: STS + Lambda (interface), S3 + DynamoDB (gateway)', () => {
    const endpoints = resourcesOf(s.template, 'AWS::EC2::VPCEndpoint').map(([, e]) =>
      JSON.stringify(e.Properties.ServiceName),
    );
    for (const svc of ['.sts', '.lambda', '.s3', '.dynamodb'])
      expect(endpoints.some((e) => e.includes(svc))).toBe(true);
    s.template.resourcePropertiesCountIs('AWS::EC2::VPCEndpoint', { VpcEndpointType: 'Interface' }, 2);
  });

  it('no 0.0.0.0/0 or ::/0 ingress anywhere', () => {
    const json = s.template.toJSON().Resources as Record<string, { Type: string; Properties: Record<string, unknown> }>;
    for (const r of Object.values(json)) {
      const ingress =
        r.Type === 'AWS::EC2::SecurityGroupIngress'
          ? [r.Properties]
          : r.Type === 'AWS::EC2::SecurityGroup'
            ? ((r.Properties.SecurityGroupIngress as Record<string, unknown>[]) ?? [])
            : [];
      for (const rule of ingress) {
        expect(rule.CidrIp).not.toBe('0.0.0.0/0');
        expect(rule.CidrIpv6).not.toBe('::/0');
      }
    }
  });

  it('cluster group admits itself and the functions group on 9098 only', () => {
    const clusterSg = { 'Fn::GetAtt': [s.logicalId(s.stack.network.clusterSg), 'GroupId'] };
    const fnSg = { 'Fn::GetAtt': [s.logicalId(s.stack.network.functionsSg), 'GroupId'] };
    const rules = resourcesOf(s.template, 'AWS::EC2::SecurityGroupIngress')
      .map(([, r]) => r.Properties)
      .filter((p) => JSON.stringify(p.GroupId) === JSON.stringify(clusterSg));
    expect(rules).toHaveLength(2);
    for (const r of rules) expect([r.FromPort, r.ToPort, r.IpProtocol]).toEqual([9098, 9098, 'tcp']);
    expect(rules.map((r) => r.SourceSecurityGroupId)).toEqual(expect.arrayContaining([clusterSg, fnSg]));
  });
});

describe('MSK Serverless (default)', () => {
  it('IAM auth, in the private subnets with the cluster group', () => {
    s.template.resourceCountIs('AWS::MSK::ServerlessCluster', 1);
    s.template.resourceCountIs('AWS::MSK::Cluster', 0);
    s.template.hasResourceProperties('AWS::MSK::ServerlessCluster', {
      ClusterName: 'tunestream-dev',
      ClientAuthentication: { Sasl: { Iam: { Enabled: true } } },
      VpcConfigs: [
        {
          SecurityGroups: [{ 'Fn::GetAtt': [s.logicalId(s.stack.network.clusterSg), 'GroupId'] }],
          SubnetIds: Match.arrayWith([Match.objectLike({ Ref: Match.anyValue() })]),
        },
      ],
    });
  });

  it('the broker lookup is allowed by cluster name before the cluster exists (no IAM race on first deploy)', () => {
    const [crId, cr] = only(resourcesOf(s.template, 'Custom::AWS'));
    const clusterId = s.logicalId(s.stack.kafka.cluster);
    // The policy the AwsCustomResource waits for (it DependsOn it)…
    const [policyId, policy] = only(
      resourcesOf(s.template, 'AWS::IAM::Policy').filter(([id]) => (cr.DependsOn ?? []).includes(id)),
    );
    expect(policyId).toBeTruthy();
    // …must not need the cluster: no reference to it, and no explicit dependency either.
    expect(JSON.stringify(policy.Properties)).not.toContain(clusterId);
    expect(policy.DependsOn ?? []).not.toContain(clusterId);
    const [statement] = (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement;
    expect(actionsOf(statement!)).toEqual(['kafka:GetBootstrapBrokers']);
    expect(JSON.stringify(statement!.Resource)).toContain(':cluster/tunestream-dev/*');
    expect(crId).toBeTruthy();
  });

  it('bootstrap brokers from Kafka:GetBootstrapBrokers into an SSM parameter', () => {
    const [, cr] = only(resourcesOf(s.template, 'Custom::AWS'));
    const create = JSON.stringify(cr.Properties.Create);
    expect(create).toContain('GetBootstrapBrokers');
    expect(create).toContain('BootstrapBrokerStringSaslIam');
    s.template.hasResourceProperties('AWS::SSM::Parameter', {
      Name: '/tunestream/dev/kafka/bootstrap-brokers',
      Type: 'String',
    });
  });

  it('topic provisioner: Provider-framework custom resource, IAM scoped to the topology topics', () => {
    const [, topicsCr] = only(resourcesOf(s.template, 'Custom::KafkaTopics'));
    expect(topicsCr.Properties.clusterArn).toEqual(clusterArn());
    const provisioner = s.stack.node.findAll().find((c) => c.node.path.endsWith('Kafka/TopicProvisioner'));
    expect(provisioner).toBeDefined();
    const provisionerFn = s.template.toJSON().Resources[s.logicalId(provisioner!)];
    expect(provisionerFn.Properties.Runtime).toBe('nodejs24.x');
    expect(provisionerFn.Properties.VpcConfig).toBeDefined();
    const role = (provisionerFn.Properties.Role as { 'Fn::GetAtt': [string] })['Fn::GetAtt'][0];
    const st = statementsForRole(s.template, role);
    const create = st.filter((x) => actionsOf(x).includes('kafka-cluster:CreateTopic')).flatMap(resourcesOfStatement);
    expect(create.map((r) => describeJoinArn(r)?.suffix).sort()).toEqual(
      Object.values(topics)
        .map((t) => `/${t.name}`)
        .sort(),
    );
  });
});

describe('DynamoDB', () => {
  it('tables: on-demand, PITR, KMS (AWS managed) encryption, no deletion protection in dev', () => {
    s.template.resourceCountIs('AWS::DynamoDB::Table', Object.keys(tables).length);
    for (const [, t] of resourcesOf(s.template, 'AWS::DynamoDB::Table')) {
      expect(t.Properties.BillingMode).toBe('PAY_PER_REQUEST');
      expect(t.Properties.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
      // SSEEnabled without a key = KMS with the AWS managed key aws/dynamodb.
      expect(t.Properties.SSESpecification).toEqual({ SSEEnabled: true });
      expect(t.Properties.DeletionProtectionEnabled).toBe(false);
    }
    // On-demand by default: no capacity to scale.
    s.template.resourceCountIs('AWS::ApplicationAutoScaling::ScalableTarget', 0);
  });
});

describe('HTTP API', () => {
  it('every route IAM-authorized (SigV4) when no JWT context is given, but the user-token routes', () => {
    const rs = resourcesOf(s.template, 'AWS::ApiGatewayV2::Route');
    expect(rs).toHaveLength(allRoutes.length);
    const userTokenRoutes = new Set(routes.filter((r) => 'auth' in r).map((r) => `${r.method} ${r.path}`));
    expect(userTokenRoutes.size).toBe(3);
    const [authorizerId] = only(resourcesOf(s.template, 'AWS::ApiGatewayV2::Authorizer'));
    for (const [, r] of rs) {
      if (userTokenRoutes.has(r.Properties.RouteKey as string)) {
        expect(r.Properties.AuthorizationType).toBe('CUSTOM');
        expect(r.Properties.AuthorizerId).toEqual({ Ref: authorizerId });
      } else expect(r.Properties.AuthorizationType).toBe('AWS_IAM');
    }
  });

  it('user-token authorizer: the token-authorizer function, simple responses, cached per Authorization header', () => {
    const [, authorizer] = only(resourcesOf(s.template, 'AWS::ApiGatewayV2::Authorizer'));
    expect(authorizer.Properties).toMatchObject({
      AuthorizerType: 'REQUEST',
      AuthorizerPayloadFormatVersion: '2.0',
      EnableSimpleResponses: true,
      IdentitySource: ['$request.header.Authorization'],
      AuthorizerResultTtlInSeconds: settings.USER_TOKEN_CACHE_SECONDS,
    });
    expect(JSON.stringify(authorizer.Properties.AuthorizerUri)).toContain(fnId('token-authorizer'));
    // API Gateway may invoke the authorizer, and only it.
    const permissions = resourcesOf(s.template, 'AWS::Lambda::Permission').filter(
      ([, p]) =>
        JSON.stringify(p.Properties.FunctionName).includes(fnId('token-authorizer')) &&
        p.Properties.Principal === 'apigateway.amazonaws.com',
    );
    expect(permissions.length).toBeGreaterThan(0);
  });

  it('the users table: read by the authorizer, the ListenBrainz function (feedback state) and user-admin (deletion)', () => {
    const users = s.logicalId(s.stack.tables.byKey.users);
    const readers = fnNames.filter((name) =>
      statementsForRole(s.template, roleId(name))
        .filter((x) => actionsOf(x).includes('dynamodb:Query'))
        .flatMap(resourcesOfStatement)
        .some((r) => JSON.stringify(r).includes(users)),
    );
    expect(readers.sort()).toEqual(['listenbrainz-api', 'token-authorizer', 'user-admin']);
    expect(functions['token-authorizer'].writes).toEqual([]);
  });

  it('each route integrates its topology function', () => {
    const integrations = s.template.toJSON().Resources as Record<string, { Properties: Record<string, unknown> }>;
    for (const route of allRoutes) {
      const [, r] = only(
        Object.entries(
          s.template.findResources('AWS::ApiGatewayV2::Route', {
            Properties: { RouteKey: `${route.method} ${route.path}` },
          }),
        ) as [string, { Properties: { Target: { 'Fn::Join': [string, unknown[]] } } }][],
      );
      const integrationRef = r.Properties.Target['Fn::Join'][1][1] as { Ref: string };
      const integration = integrations[integrationRef.Ref];
      expect(integration?.Properties.IntegrationUri).toEqual({ 'Fn::GetAtt': [fnId(route.function), 'Arn'] });
      expect(integration?.Properties.IntegrationType).toBe('AWS_PROXY');
    }
  });

  it('$default stage: throttling and JSON access logs', () => {
    const [, stage] = only(resourcesOf(s.template, 'AWS::ApiGatewayV2::Stage'));
    expect(stage.Properties.StageName).toBe('$default');
    expect(stage.Properties.DefaultRouteSettings).toEqual({ ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 });
    const logs = stage.Properties.AccessLogSettings as { Format: string; DestinationArn: unknown };
    expect(JSON.parse(logs.Format)).toMatchObject({ requestId: '$context.requestId', status: '$context.status' });
    expect(logs.DestinationArn).toEqual({ 'Fn::GetAtt': [s.logicalId(s.stack.api.accessLogs), 'Arn'] });
  });
});

describe('observability', () => {
  it('dashboard: ingest rate, OffsetLag per trigger, errors/duration/throttles, dead letters, API', () => {
    const [, dash] = only(resourcesOf(s.template, 'AWS::CloudWatch::Dashboard'));
    const body = JSON.stringify(dash.Properties.DashboardBody);
    for (const needle of [
      'EventsAccepted',
      'OffsetLag',
      'Errors',
      'Duration',
      'Throttles',
      'DeadLettered',
      'NumberOfObjects',
      '4xx',
      '5xx',
      'Latency',
    ])
      expect(body, needle).toContain(needle);
    for (const t of triggers) expect(body).toContain(fnId(t.function));
  });

  // biome-ignore lint/suspicious/noExplicitAny: CloudFormation properties are untyped JSON
  type Alarm = { Properties: any };
  const alarms = () => resourcesOf(s.template, 'AWS::CloudWatch::Alarm') as unknown as [string, Alarm][];
  const mappingAlarms = (metricName: string) =>
    alarms().filter(([, a]) => a.Properties.MetricName === metricName && a.Properties.Namespace === 'AWS/Lambda');
  const mappingIds = () => s.stack.functions.mappings.map(({ mapping }) => s.logicalId(mapping));
  const dimensionRef = (a: Alarm) => (a.Properties.Dimensions as { Name: string; Value: { Ref: string } }[])[0]!;

  it('alarms notify a KMS-encrypted SNS topic (errors, throttles, dead letters, API 5xx)', () => {
    const topicId = s.logicalId(s.stack.observability.alarmTopic);
    s.template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    s.template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    for (const [, a] of alarms()) expect(a.Properties.AlarmActions).toEqual([{ Ref: topicId }]);
    expect(alarms().some(([, a]) => a.Properties.MetricName === 'DeadLettered')).toBe(true);
    expect(alarms().some(([, a]) => a.Properties.MetricName === '5xx')).toBe(true);
  });

  it('the mappings publish their own metrics (MetricsConfig): events, errors, Kafka lag', () => {
    for (const [, m] of resourcesOf(s.template, 'AWS::Lambda::EventSourceMapping'))
      expect(m.Properties.MetricsConfig).toEqual({ Metrics: ['EventCount', 'ErrorCount', 'KafkaMetrics'] });
  });

  it('silence alarms: a mapping that stops polling (missing data breaches), and its lag', () => {
    const polling = mappingAlarms('PolledEventCount');
    expect(polling).toHaveLength(triggers.length);
    for (const [, a] of polling) {
      expect(a.Properties).toMatchObject({
        Statistic: 'SampleCount',
        ComparisonOperator: 'LessThanThreshold',
        Threshold: 1,
        TreatMissingData: 'breaching',
      });
      expect(dimensionRef(a).Name).toBe('EventSourceMappingUUID');
    }
    expect(polling.map(([, a]) => dimensionRef(a).Value.Ref).sort()).toEqual(mappingIds().sort());
    const lag = mappingAlarms('MaxOffsetLag');
    expect(lag).toHaveLength(triggers.length);
    for (const [, a] of lag) expect(a.Properties.Threshold).toBe(OFFSET_LAG_ALARM_THRESHOLD);
  });

  it('records given up on: sent to the on-failure bucket, or dropped, alarm per mapping', () => {
    for (const metric of ['OnFailureDestinationDeliveredEventCount', 'DroppedEventCount']) {
      const found = mappingAlarms(metric);
      expect(found.map(([, a]) => dimensionRef(a).Value.Ref).sort(), metric).toEqual(mappingIds().sort());
      for (const [, a] of found)
        expect(a.Properties).toMatchObject({ Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold' });
    }
  });

  it('DynamoDB throttles: one alarm per table, over its reads, writes and indexes', () => {
    const throttles = alarms().filter(([, a]) =>
      JSON.stringify(a.Properties.Metrics ?? []).includes('WriteThrottleEvents'),
    );
    expect(throttles).toHaveLength(Object.keys(tables).length);
    for (const key of Object.keys(tables) as TableKey[]) {
      const tableId = s.logicalId(s.stack.tables.byKey[key]);
      const mine = throttles.filter(([, a]) => JSON.stringify(a.Properties.Metrics).includes(tableId));
      expect(mine, key).toHaveLength(1);
      const body = JSON.stringify(mine[0]![1].Properties.Metrics);
      expect(body).toContain('ReadThrottleEvents');
      for (const gsi of (tables[key] as TableSpec).globalSecondaryIndexes ?? []) expect(body).toContain(gsi.name);
    }
  });

  it('batch builds: failed and timed-out executions alarm; no success for hours alarms (missing data breaches)', () => {
    const smId = s.logicalId(s.stack.batch.stateMachine);
    const sfnAlarms = alarms().filter(([, a]) => a.Properties.Namespace === 'AWS/States');
    const byMetric = Object.fromEntries(sfnAlarms.map(([, a]) => [a.Properties.MetricName as string, a.Properties]));
    expect(Object.keys(byMetric).sort()).toEqual(['ExecutionsFailed', 'ExecutionsSucceeded', 'ExecutionsTimedOut']);
    for (const p of Object.values(byMetric)) expect(JSON.stringify(p.Dimensions)).toContain(smId);
    expect(byMetric.ExecutionsSucceeded).toMatchObject({
      TreatMissingData: 'breaching',
      ComparisonOperator: 'LessThanThreshold',
      EvaluationPeriods: 3,
      Period: 3600,
    });
    // A daily schedule (-c batchEveryMinutes=1440) waits two missed builds, not three hours.
    expect(batchSilence(1440)).toEqual({ periodHours: 24, periods: 2 });
  });
});

describe('dashboard in the cloud (S3 + CloudFront, the HTTP API as second origin)', () => {
  const distribution = () => {
    const [, d] = only(resourcesOf(s.template, 'AWS::CloudFront::Distribution'));
    return d.Properties.DistributionConfig as {
      DefaultRootObject: string;
      DefaultCacheBehavior: Record<string, unknown>;
      CacheBehaviors: (Record<string, unknown> & { PathPattern: string })[];
      Origins: (Record<string, unknown> & { Id: string })[];
    };
  };

  it('private bucket: public access blocked, SSL enforced, encrypted; readable only by the distribution (OAC)', () => {
    const bucketId = s.logicalId(s.stack.dashboardSite.bucket);
    const bucket = s.template.toJSON().Resources[bucketId];
    expect(bucket.Properties.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    s.template.resourceCountIs('AWS::CloudFront::OriginAccessControl', 1);
    s.template.resourceCountIs('AWS::CloudFront::CloudFrontOriginAccessIdentity', 0);
    const [, policy] = only(
      resourcesOf(s.template, 'AWS::S3::BucketPolicy').filter(([, p]) =>
        JSON.stringify(p.Properties.Bucket).includes(bucketId),
      ),
    );
    const statements = (policy.Properties.PolicyDocument as { Statement: Record<string, unknown>[] }).Statement;
    const allows = statements.filter((st) => st.Effect === 'Allow');
    const read = allows.find((st) => JSON.stringify(st.Action).includes('s3:GetObject'))!;
    expect(read.Principal).toEqual({ Service: 'cloudfront.amazonaws.com' });
    expect(JSON.stringify(read.Condition)).toContain(s.logicalId(s.stack.dashboardSite.distribution));
    // TLS-only access to the bucket itself.
    expect(
      statements.some((st) => st.Effect === 'Deny' && JSON.stringify(st.Condition).includes('aws:SecureTransport')),
    ).toBe(true);
  });

  it('HTTPS only, index.html at /, security headers on every behavior', () => {
    const d = distribution();
    expect(d.DefaultRootObject).toBe('index.html');
    const headersPolicy = { Ref: s.logicalId(s.stack.dashboardSite.responseHeaders) };
    for (const b of [d.DefaultCacheBehavior, ...d.CacheBehaviors]) {
      expect(b.ViewerProtocolPolicy).toBe('https-only');
      expect(b.ResponseHeadersPolicyId).toEqual(headersPolicy);
    }
    const [, policy] = only(resourcesOf(s.template, 'AWS::CloudFront::ResponseHeadersPolicy'));
    const security = (
      policy.Properties.ResponseHeadersPolicyConfig as { SecurityHeadersConfig: Record<string, unknown> }
    ).SecurityHeadersConfig;
    expect(security).toMatchObject({
      StrictTransportSecurity: { AccessControlMaxAgeSec: 730 * 86400, IncludeSubdomains: true, Override: true },
      ContentSecurityPolicy: { ContentSecurityPolicy: CONTENT_SECURITY_POLICY },
      ContentTypeOptions: { Override: true },
      FrameOptions: { FrameOption: 'DENY' },
      ReferrerPolicy: { ReferrerPolicy: 'no-referrer' },
    });
  });

  it('the API is the second origin for every GET route of the topology: HTTPS, uncached, Authorization forwarded, no writes', () => {
    const d = distribution();
    expect(d.CacheBehaviors.map((b) => b.PathPattern).sort()).toEqual(apiPathPatterns());
    expect(apiPathPatterns()).toEqual([
      '/api/experiments',
      '/api/stats',
      '/api/stream',
      '/artists/*',
      '/genres',
      '/tracks/*',
      '/users/*',
    ]);
    const apiOrigin = d.Origins.find((o) => 'CustomOriginConfig' in o)!;
    expect(apiOrigin.CustomOriginConfig).toMatchObject({
      OriginProtocolPolicy: 'https-only',
      OriginSSLProtocols: ['TLSv1.2'],
    });
    expect(JSON.stringify(apiOrigin.DomainName)).toContain(s.logicalId(s.stack.api.httpApi));
    for (const b of d.CacheBehaviors) {
      expect(b.TargetOriginId).toBe(apiOrigin.Id);
      expect(b.AllowedMethods).toEqual(['GET', 'HEAD', 'OPTIONS']);
      expect(b.CachePolicyId).toBe('4135ea2d-6df8-44a3-9df3-4b5a84be39ad'); // managed CachingDisabled
      expect(b.OriginRequestPolicyId).toBe('b689b0a8-53d0-40ab-baf2-68738e2966ac'); // AllViewerExceptHostHeader
    }
  });

  it('stats and stream are API routes from the topology, authorized like the read routes', () => {
    for (const route of dashboardRoutes) {
      expect(route.access).toBe('read');
      const [, r] = only(
        resourcesOf(s.template, 'AWS::ApiGatewayV2::Route').filter(
          ([, x]) => x.Properties.RouteKey === `${route.method} ${route.path}`,
        ),
      );
      expect(r.Properties.AuthorizationType).toBe('AWS_IAM');
    }
  });

  it('dashboard-stats reads metrics, the archive and the catalog, and nothing else', () => {
    const st = statementsForRole(s.template, roleId('dashboard-stats'));
    const actions = st.flatMap(actionsOf).sort();
    expect(actions.filter((a) => !a.startsWith('dynamodb:'))).toEqual([
      'cloudwatch:GetMetricData',
      's3:GetObject',
      's3:ListBucket',
    ]);
    expect(actions.filter((a) => /dynamodb:(Put|Update|Delete|Batch?Write|PartiQL)/.test(a))).toEqual([]);
    const archive = s.logicalId(s.stack.functions.archiveBucket);
    const get = st.find((x) => actionsOf(x).includes('s3:GetObject'))!;
    expect(JSON.stringify(get.Resource)).toContain(archive);
    const vars = s.template.toJSON().Resources[fnId('dashboard-stats')].Properties.Environment.Variables;
    expect(vars.ARCHIVE_BUCKET).toEqual({ Ref: archive });
    // Deployed names of the other functions, for their AWS/Lambda metrics.
    for (const name of fnNames.filter((n) => n !== 'dashboard-stats'))
      expect(JSON.stringify(vars.FUNCTION_NAMES)).toContain(fnId(name));
  });

  it('the build is uploaded with the stack and the cache invalidated (no Docker)', () => {
    const [, upload] = only(resourcesOf(s.template, 'Custom::CDKBucketDeployment'));
    expect(upload.Properties.DestinationBucketName).toEqual({ Ref: s.logicalId(s.stack.dashboardSite.bucket) });
    expect(upload.Properties.DistributionPaths).toEqual(['/*']);
    expect(upload.Properties.Prune).toBe(true);
  });
});

describe('outputs', () => {
  it('API URL, cluster ARN, bootstrap brokers parameter, on-failure bucket, dashboard name', () => {
    const outputs = Object.keys(s.template.findOutputs('*'));
    expect(outputs).toEqual(
      expect.arrayContaining([
        'ApiUrl',
        'ClusterArn',
        'BootstrapBrokersParameter',
        'OnFailureBucket',
        'DashboardName',
        'UsersTableName',
      ]),
    );
  });
});

describe('synthesized topology equals shared/topology.ts (and therefore the local runtime)', () => {
  it('topics handed to the provisioner', () => {
    const [, cr] = only(resourcesOf(s.template, 'Custom::KafkaTopics'));
    expect(cr.Properties.topics).toEqual(
      Object.values(topics).map((t) => ({ name: t.name, partitions: t.partitions, retentionMs: t.retentionMs })),
    );
    // Serverless: the cluster's own replication (MSK Serverless does not let clients choose).
    expect(cr.Properties.replicationFactor).toBe(-1);
  });

  it('tables: keys, GSIs, TTL', () => {
    const type = (k: { type: string }): string => k.type;
    for (const key of Object.keys(tables) as TableKey[]) {
      const spec: TableSpec = tables[key];
      const t = s.template.toJSON().Resources[s.logicalId(s.stack.tables.byKey[key])].Properties;
      const keySchema: { AttributeName: string; KeyType: string }[] = [
        { AttributeName: spec.partitionKey.name, KeyType: 'HASH' },
      ];
      if (spec.sortKey) keySchema.push({ AttributeName: spec.sortKey.name, KeyType: 'RANGE' });
      expect(t.KeySchema).toEqual(keySchema);
      const attrs = new Map<string, string>([[spec.partitionKey.name, type(spec.partitionKey)]]);
      if (spec.sortKey) attrs.set(spec.sortKey.name, type(spec.sortKey));
      for (const g of spec.globalSecondaryIndexes ?? []) {
        attrs.set(g.partitionKey.name, type(g.partitionKey));
        if (g.sortKey) attrs.set(g.sortKey.name, type(g.sortKey));
      }
      expect(
        (t.AttributeDefinitions as { AttributeName: string; AttributeType: string }[])
          .map((a) => [a.AttributeName, a.AttributeType])
          .sort(),
      ).toEqual([...attrs.entries()].sort());
      const gsis = (t.GlobalSecondaryIndexes ?? []) as {
        IndexName: string;
        KeySchema: unknown[];
        Projection: { ProjectionType: string; NonKeyAttributes?: string[] };
      }[];
      expect(gsis.map((g) => g.IndexName)).toEqual((spec.globalSecondaryIndexes ?? []).map((g) => g.name));
      for (const g of spec.globalSecondaryIndexes ?? []) {
        const synthesized = gsis.find((x) => x.IndexName === g.name)!;
        const ks: { AttributeName: string; KeyType: string }[] = [
          { AttributeName: g.partitionKey.name, KeyType: 'HASH' },
        ];
        if (g.sortKey) ks.push({ AttributeName: g.sortKey.name, KeyType: 'RANGE' });
        expect(synthesized.KeySchema).toEqual(ks);
        if (typeof g.projection === 'string') expect(synthesized.Projection.ProjectionType).toBe(g.projection);
        else expect(synthesized.Projection).toEqual({ ProjectionType: 'INCLUDE', NonKeyAttributes: [...g.projection] });
      }
      if (spec.ttlAttribute)
        expect(t.TimeToLiveSpecification).toEqual({ AttributeName: spec.ttlAttribute, Enabled: true });
      else expect(t.TimeToLiveSpecification).toBeUndefined();
    }
  });

  it('routes: method + path → function', () => {
    const integrations = s.template.toJSON().Resources as Record<string, { Properties: Record<string, unknown> }>;
    const fnByLogicalId = new Map(fnNames.map((n) => [fnId(n), n]));
    const synthesized = resourcesOf(s.template, 'AWS::ApiGatewayV2::Route')
      .map(([, r]) => {
        const target = r.Properties.Target as { 'Fn::Join': [string, unknown[]] };
        const integration = integrations[(target['Fn::Join'][1][1] as { Ref: string }).Ref];
        const fn = (integration!.Properties.IntegrationUri as { 'Fn::GetAtt': [string] })['Fn::GetAtt'][0];
        return `${r.Properties.RouteKey} → ${fnByLogicalId.get(fn)}`;
      })
      .sort();
    expect(synthesized).toEqual(allRoutes.map((r) => `${r.method} ${r.path} → ${r.function}`).sort());
  });

  it('triggers: function, topic, group, batching, error handling', () => {
    const fnByLogicalId = new Map(fnNames.map((n) => [fnId(n), n]));
    const topicKeyByName = new Map<string, string>(Object.entries(topics).map(([k, t]) => [t.name, k]));
    const synthesized = resourcesOf(s.template, 'AWS::Lambda::EventSourceMapping')
      .map(([, e]) => {
        const p = e.Properties as Record<string, unknown> & {
          FunctionName: { Ref: string };
          Topics: string[];
          AmazonManagedKafkaEventSourceConfig: { ConsumerGroupId: string };
        };
        return {
          function: fnByLogicalId.get(p.FunctionName.Ref),
          topic: topicKeyByName.get(p.Topics[0]!),
          consumerGroupId: p.AmazonManagedKafkaEventSourceConfig.ConsumerGroupId,
          batchSize: p.BatchSize,
          // Unset = Lambda's Kafka default of 500 ms.
          maxBatchingWindowSeconds: p.MaximumBatchingWindowInSeconds ?? 0.5,
          retryAttempts: p.MaximumRetryAttempts,
          bisectBatchOnError: p.BisectBatchOnFunctionError,
          maxRecordAgeSeconds: p.MaximumRecordAgeInSeconds,
          reportBatchItemFailures: p.FunctionResponseTypes !== undefined,
          onFailure: p.DestinationConfig ? 'dead-letters' : undefined,
          startingPosition: p.StartingPosition,
        };
      })
      .sort((a, b) => String(a.function).localeCompare(String(b.function)));
    const expected = [...triggers].map((t) => ({ ...t })).sort((a, b) => a.function.localeCompare(b.function));
    expect(synthesized).toEqual(expected);
  });

  it('schedules: one EventBridge rate rule per function schedule, targeting its function with retries', () => {
    // Schedules with cloudStateMachine start the batch layer's state machine (test/cdk/batch.test.ts).
    const fnSchedules = schedules.filter((sc) => !(sc as ScheduleSpec).cloudStateMachine);
    const fnByLogicalId = new Map(fnNames.map((n) => [fnId(n), n]));
    const rules = resourcesOf(s.template, 'AWS::Events::Rule')
      .filter(([, r]) => !JSON.stringify(r.Properties.Targets).includes(s.logicalId(s.stack.batch.stateMachine)))
      .map(([, r]) => {
        const p = r.Properties as {
          ScheduleExpression: string;
          State: string;
          Targets: { Arn: { 'Fn::GetAtt': [string, string] }; RetryPolicy?: Record<string, number> }[];
        };
        expect(p.State).toBe('ENABLED');
        expect(p.Targets).toHaveLength(1);
        return {
          function: fnByLogicalId.get(p.Targets[0]!.Arn['Fn::GetAtt'][0]),
          schedule: p.ScheduleExpression,
          retry: p.Targets[0]!.RetryPolicy,
        };
      });
    expect(rules).toEqual(
      fnSchedules.map((sc) => ({
        function: sc.function,
        schedule: sc.everyMinutes === 60 ? 'rate(1 hour)' : `rate(${sc.everyMinutes} minutes)`,
        retry: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 3600 },
      })),
    );
    // Only EventBridge (for that rule) may invoke a scheduled function.
    for (const sc of fnSchedules) {
      const perms = resourcesOf(s.template, 'AWS::Lambda::Permission').filter(([, p]) =>
        JSON.stringify((p.Properties as { FunctionName: unknown }).FunctionName).includes(fnId(sc.function)),
      );
      expect(perms.map(([, p]) => (p.Properties as { Principal: string }).Principal)).toEqual(['events.amazonaws.com']);
    }
  });
});

describe('attribution: served lists from the read API’s log, attributed plays, the variants’ hit rates', () => {
  const recorder: FunctionName = 'served-list-recorder';
  const attributor: FunctionName = 'recommendation-attributor';
  const tableArn = (key: TableKey) => ({ 'Fn::GetAtt': [s.logicalId(s.stack.tables.byKey[key]), 'Arn'] });
  const dynamoStatements = (name: FunctionName) =>
    statementsForRole(s.template, roleId(name)).filter((st) => actionsOf(st).some((a) => a.startsWith('dynamodb:')));
  /** The log group a function writes to, as its LoggingConfig names it. */
  const logGroupOf = (name: FunctionName): string =>
    s.template.toJSON().Resources[fnId(name)].Properties.LoggingConfig.LogGroup.Ref;

  it('a subscription filter per topology log subscription: the source’s log group, its pattern, the target function', () => {
    const filters = resourcesOf(s.template, 'AWS::Logs::SubscriptionFilter');
    expect(filters).toHaveLength(logSubscriptions.length);
    for (const sub of logSubscriptions) {
      const [, filter] = only(
        filters.filter(([, f]) => (f.Properties.LogGroupName as { Ref: string }).Ref === logGroupOf(sub.from)),
      );
      expect(filter.Properties.FilterPattern).toBe(sub.filterPattern);
      expect(filter.Properties.DestinationArn).toEqual({ 'Fn::GetAtt': [fnId(sub.to), 'Arn'] });
    }
    // The read API's served-list lines: `{"served": {"v": 1, …}}`, one JSON object a line.
    const [served] = logSubscriptions;
    expect([served.from, served.to, served.field]).toEqual(['read-api', recorder, SERVED_LIST_FIELD]);
    expect(served.filterPattern).toBe(`{ $.${SERVED_LIST_FIELD}.v = 1 }`);
  });

  it('only CloudWatch Logs may invoke the recorder, only from the read API’s log group, before the filter exists', () => {
    const perms = resourcesOf(s.template, 'AWS::Lambda::Permission').filter(([, p]) =>
      JSON.stringify(p.Properties.FunctionName).includes(fnId(recorder)),
    );
    const [permId, perm] = only(perms);
    expect(perm.Properties).toEqual({
      Action: 'lambda:InvokeFunction',
      FunctionName: { 'Fn::GetAtt': [fnId(recorder), 'Arn'] },
      Principal: 'logs.amazonaws.com',
      SourceArn: { 'Fn::GetAtt': [logGroupOf('read-api'), 'Arn'] },
    });
    const [, filter] = only(resourcesOf(s.template, 'AWS::Logs::SubscriptionFilter'));
    expect(filter.DependsOn).toContain(permId);
  });

  it('the recorder: in the VPC, writes served-lists and dead-letters, consumes nothing, no DynamoDB; failed deliveries kept', () => {
    const fn = s.template.toJSON().Resources[fnId(recorder)].Properties;
    expect(fn.VpcConfig).toBeDefined();
    const st = statementsForRole(s.template, roleId(recorder));
    const write = st.filter((x) => actionsOf(x).includes('kafka-cluster:WriteData')).flatMap(resourcesOfStatement);
    expect(write.map((r) => describeJoinArn(r)?.suffix).sort()).toEqual(['/dead-letters', '/served-lists']);
    const actions = st.flatMap(actionsOf);
    expect(actions.filter((a) => a.startsWith('dynamodb:'))).toEqual([]);
    // S3: only putting a failed delivery into the on-failure bucket (after Lambda's two retries).
    expect(actions.filter((a) => a.startsWith('s3:')).sort()).toEqual(['s3:ListBucket', 's3:PutObject']);
    const [, invokeConfig] = only(
      resourcesOf(s.template, 'AWS::Lambda::EventInvokeConfig').filter(
        ([, c]) => (c.Properties.FunctionName as { Ref: string }).Ref === fnId(recorder),
      ),
    );
    expect(invokeConfig.Properties.MaximumRetryAttempts).toBe(2);
    expect(JSON.stringify(invokeConfig.Properties.DestinationConfig)).toContain('OnFailureBucket');
    expect(actions).not.toContain('kafka-cluster:ReadData');
    expect(
      resourcesOf(s.template, 'AWS::Lambda::EventSourceMapping').filter(
        ([, e]) => (e.Properties.FunctionName as { Ref: string }).Ref === fnId(recorder),
      ),
    ).toEqual([]);
  });

  it('the attributor: one mapping per topic it reads, each with its own consumer group', () => {
    const mine = resourcesOf(s.template, 'AWS::Lambda::EventSourceMapping')
      .filter(([, e]) => (e.Properties.FunctionName as { Ref: string }).Ref === fnId(attributor))
      .map(([, e]) => [
        (e.Properties.Topics as string[])[0],
        (e.Properties.AmazonManagedKafkaEventSourceConfig as { ConsumerGroupId: string }).ConsumerGroupId,
      ])
      .sort();
    expect(mine).toEqual([
      ['listen-events', 'attribution-listens'],
      ['served-lists', 'attribution-served'],
    ]);
    // A group shared with another consumer would split listen-events between them.
    const groups = resourcesOf(s.template, 'AWS::Lambda::EventSourceMapping').map(
      ([, e]) => (e.Properties.AmazonManagedKafkaEventSourceConfig as { ConsumerGroupId: string }).ConsumerGroupId,
    );
    expect(new Set(groups).size).toBe(groups.length);
  });

  it('each attributor mapping alarms on its own: not polling, lag, on-failure, dropped', () => {
    const ids = s.stack.functions.mappings
      .filter(({ trigger }) => trigger.function === attributor)
      .map(({ mapping }) => s.logicalId(mapping));
    expect(ids).toHaveLength(2);
    const alarms = resourcesOf(s.template, 'AWS::CloudWatch::Alarm');
    for (const id of ids)
      for (const metric of [
        'PolledEventCount',
        'MaxOffsetLag',
        'OnFailureDestinationDeliveredEventCount',
        'DroppedEventCount',
      ])
        expect(
          alarms.filter(
            ([, a]) => a.Properties.MetricName === metric && JSON.stringify(a.Properties.Dimensions).includes(id),
          ),
          `${id} ${metric}`,
        ).toHaveLength(1);
  });

  it('the attributor reads and writes its two tables and no other; they are touched only by it, user-admin and the panel', () => {
    const own = [tableArn('servedLists'), tableArn('experimentCounters')];
    const st = dynamoStatements(attributor);
    expect(st.length).toBeGreaterThan(0);
    // Every DynamoDB resource it may touch is one of the two tables (no other table, no index).
    for (const x of st) for (const r of resourcesOfStatement(x)) expect(own).toContainEqual(r);
    for (const key of ['servedLists', 'experimentCounters'] as const) {
      const arn = JSON.stringify(tableArn(key));
      const users = (action: string) =>
        fnNames
          .filter((n) =>
            dynamoStatements(n).some(
              (x) => actionsOf(x).includes(action) && resourcesOfStatement(x).some((r) => JSON.stringify(r) === arn),
            ),
          )
          .sort();
      const readers = { servedLists: [attributor, 'user-admin'], experimentCounters: ['dashboard-stats', attributor] };
      const writers = { servedLists: [attributor, 'user-admin'], experimentCounters: [attributor] };
      expect(users('dynamodb:Query'), key).toEqual(readers[key]);
      expect(users('dynamodb:UpdateItem'), key).toEqual(writers[key]);
    }
  });

  it('served lists and experiment counters: their keys, and items that expire (TTL)', () => {
    const props = (key: TableKey) =>
      s.template.toJSON().Resources[s.logicalId(s.stack.tables.byKey[key])].Properties as Record<string, unknown>;
    expect(props('servedLists')).toMatchObject({
      KeySchema: [
        { AttributeName: 'userId', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
    });
    expect(props('experimentCounters')).toMatchObject({
      KeySchema: [
        { AttributeName: 'day', KeyType: 'HASH' },
        { AttributeName: 'key', KeyType: 'RANGE' },
      ],
      AttributeDefinitions: expect.arrayContaining([{ AttributeName: 'day', AttributeType: 'N' }]),
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
    });
  });

  describe('dashboard: “Are recommendations working?”', () => {
    type Widget = { type: string; properties: { title?: string; markdown?: string; metrics?: unknown[][] } };
    type MetricRef = { namespace: string; name: string; dimensions: Record<string, string> };
    const widgets = (): Widget[] => {
      const [, dash] = only(resourcesOf(s.template, 'AWS::CloudWatch::Dashboard'));
      const [, parts] = (dash.Properties.DashboardBody as { 'Fn::Join': [string, unknown[]] })['Fn::Join'];
      // Tokens (region, names) sit inside JSON strings: a placeholder keeps the body parseable.
      const body = parts.map((p) => (typeof p === 'string' ? p : 'TOKEN')).join('');
      return (JSON.parse(body) as { widgets: Widget[] }).widgets;
    };
    const graph = (title: string): Widget => only(widgets().filter((w) => w.properties.title === title));
    /** A graph's expressions with the metrics each one reads (by their ids). */
    const expressionsOf = (w: Widget) => {
      const byId = new Map<string, MetricRef>();
      const expressions: { expression: string; label: string }[] = [];
      for (const row of w.properties.metrics ?? []) {
        const opts = row.at(-1) as { id?: string; expression?: string; label?: string };
        if (opts.expression !== undefined) {
          expressions.push({ expression: opts.expression, label: opts.label ?? '' });
          continue;
        }
        const [namespace, name, ...rest] = row.slice(0, -1) as string[];
        const dimensions: Record<string, string> = {};
        for (let i = 0; i < rest.length; i += 2) dimensions[rest[i]!] = rest[i + 1]!;
        if (opts.id) byId.set(opts.id, { namespace: namespace!, name: name!, dimensions });
      }
      return expressions.map((e) => ({
        ...e,
        reads: [...e.expression.matchAll(/\b[a-z]\w*\b/g)].flatMap((m) => byId.get(m[0]) ?? []),
      }));
    };
    const variants = () => experiments.variants.map((v) => v.name);
    /** What the attributor's metrics carry: its namespace and service (env), the function dimension. */
    const emitted = () => {
      const vars = s.template.toJSON().Resources[fnId(attributor)].Properties.Environment.Variables;
      return {
        namespace: vars.POWERTOOLS_METRICS_NAMESPACE as string,
        dimensions: { service: vars.POWERTOOLS_SERVICE_NAME as string, function: attributor },
      };
    };

    it('a heading, then the widgets', () => {
      expect(widgets().some((w) => w.properties.markdown?.includes('Are recommendations working?'))).toBe(true);
    });

    it('hit rate = ListsWithHit / ListsServed for every declared variant × served route', () => {
      const found = expressionsOf(graph('Hit rate per route and variant (%)'));
      const { namespace, dimensions } = emitted();
      expect(found).toHaveLength(variants().length * SERVED_ROUTES.length);
      for (const variant of variants())
        for (const route of SERVED_ROUTES) {
          const e = only(found.filter((x) => x.label === `${variant} · ${route}`));
          const metric = (name: string) => ({ namespace, name, dimensions: { ...dimensions, variant, route } });
          expect(e.reads).toEqual([metric('ListsWithHit'), metric('ListsServed')]);
          // Hits over lists served, not the other way round.
          expect(e.expression).toMatch(/FILL\(hit_\w+, 0\) \/ served_\w+$/);
        }
    });

    it('share of listening = PlaysFromRecommendations / Plays (route *) per declared variant', () => {
      const found = expressionsOf(graph('Share of listening from recommendations per variant (%)'));
      const { namespace, dimensions } = emitted();
      expect(found.map((e) => e.label)).toEqual(variants());
      for (const e of found) {
        const metric = (name: string) => ({
          namespace,
          name,
          dimensions: { ...dimensions, variant: e.label, route: '*' },
        });
        expect(e.reads).toEqual([metric('PlaysFromRecommendations'), metric('Plays')]);
        expect(e.expression).toMatch(/FILL\(rec_\w+, 0\) \/ plays_\w+$/);
      }
    });
  });
});
