/**
 * The batch layer in the cloud: the item model from the event archive by SQL on Amazon Athena.
 *
 * - Glue Data Catalog: database `tunestream_<stage>`, tables `events` (the archive's JSON lines,
 *   partition projection over year=/month=/day=/hour=: no crawler, no partition maintenance),
 *   `deletions` (the archive's tombstones), `item_tags` (the catalog's tags, exported by the
 *   loader's `prepare` step) and the staged parts `user_items`, `pair_items`, `pair_basket`
 *   (Parquet a build's first UNLOADs write) — the names the SQL files use, the columns DuckDB sees.
 * - An Athena workgroup (engine v3) that enforces its settings: results encrypted (SSE-S3) in the
 *   batch bucket, a bytes-scanned limit per query, CloudWatch metrics.
 * - A Step Functions state machine on the topology's schedule: the loader's `prepare` (the build
 *   lease, the window of archive hours, the output emptied, the tags exported), then — unless
 *   another build holds the lease or the archive is empty — the staged parts in order, the output
 *   parts in parallel, each an UNLOAD to Parquet (.sync) with the window as execution parameters,
 *   and the loader's `load`. A failure releases the lease before the execution fails. Staging is
 *   DuckDB's materialization in Athena's terms: without it every part would inline user_items
 *   (Trino expands a WITH clause at each reference) and the co-listening part alone would scan
 *   the archive 20 times.
 * - Least privilege: the state machine may run queries in this workgroup only, read these tables
 *   and the archive, and write under the batch bucket's two prefixes; the loader reads the UNLOAD
 *   output, lists the archive's partitions and writes the tags export.
 */
import { Duration, Stack, Validations } from 'aws-cdk-lib';
import * as athena from 'aws-cdk-lib/aws-athena';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { BATCH_PREFIXES } from '../../shared/adapters/batch-bucket.ts';
import {
  type ItemModelPart,
  itemModelSqlParams,
  OUTPUT_PARTS,
  partQuery,
  partRunParams,
  STAGED_PARTS,
  type StagedPart,
} from '../../shared/batch/item-model-sql.ts';
import { batchLayer, resolveSettings, type ScheduleSpec, schedules } from '../../shared/topology.ts';
import type { TunestreamConfig } from '../config.ts';

export interface BatchLayerProps {
  readonly config: TunestreamConfig;
  readonly archiveBucket: s3.IBucket;
  /** The item model's loader (topology function `item-model-builder`). */
  readonly loader: lambda.Function;
}

/** The archive's columns in Glue (lower case: Hive; the JSON SerDe matches keys case-insensitively). */
export const EVENT_TABLE_COLUMNS: readonly glue.CfnTable.ColumnProperty[] = [
  { name: 'eventid', type: 'string' },
  { name: 'userid', type: 'string' },
  { name: 'trackid', type: 'string' },
  { name: 'artistid', type: 'string' },
  { name: 'ts', type: 'bigint' },
  { name: 'type', type: 'string' },
  { name: 'msplayed', type: 'bigint' },
  { name: 'durationms', type: 'bigint' },
  { name: 'rating', type: 'double' },
  { name: 'platform', type: 'string' },
  { name: 'country', type: 'string' },
  { name: 'mood', type: 'string' },
];

const JSON_SERDE = {
  serializationLibrary: 'org.openx.data.jsonserde.JsonSerDe',
  parameters: { 'ignore.malformed.json': 'true' },
};

function jsonTable(
  location: string,
  columns: readonly glue.CfnTable.ColumnProperty[],
  extra: Partial<glue.CfnTable.TableInputProperty> = {},
): glue.CfnTable.TableInputProperty {
  return {
    tableType: 'EXTERNAL_TABLE',
    parameters: { classification: 'json', ...((extra.parameters as Record<string, string>) ?? {}) },
    ...(extra.partitionKeys ? { partitionKeys: extra.partitionKeys } : {}),
    storageDescriptor: {
      location,
      columns: [...columns],
      inputFormat: 'org.apache.hadoop.mapred.TextInputFormat',
      outputFormat: 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat',
      serdeInfo: JSON_SERDE,
    },
  };
}

/**
 * The archive's JSON lines with partition projection over `year=/month=/day=/hour=` (the layout
 * the archiver writes; no crawler, no partitions to add). The year range is what the archive can
 * hold (`batchLayer.projectionYears`); builds never enumerate it, they filter on the year range
 * and hour key of their window (sql/item-model/user_items.sql), so Athena lists only those hours.
 * Ad-hoc queries should filter on `year` (and `month`) the same way.
 */
export function eventsTableInput(archiveRoot: string): glue.CfnTable.TableInputProperty {
  const [fromYear, toYear] = batchLayer.projectionYears;
  return jsonTable(archiveRoot, EVENT_TABLE_COLUMNS, {
    partitionKeys: ['year', 'month', 'day', 'hour'].map((name) => ({ name, type: 'string' })),
    parameters: {
      'projection.enabled': 'true',
      'projection.year.type': 'integer',
      'projection.year.range': `${fromYear},${toYear}`,
      'projection.month.type': 'integer',
      'projection.month.range': '1,12',
      'projection.month.digits': '2',
      'projection.day.type': 'integer',
      'projection.day.range': '1,31',
      'projection.day.digits': '2',
      'projection.hour.type': 'integer',
      'projection.hour.range': '0,23',
      'projection.hour.digits': '2',
      'storage.location.template': `${archiveRoot}year=\${year}/month=\${month}/day=\${day}/hour=\${hour}/`,
    },
  });
}

/** The staged parts' columns (what their UNLOADs write; the later parts read them by name). */
export const STAGED_TABLE_COLUMNS: Readonly<Record<StagedPart, readonly glue.CfnTable.ColumnProperty[]>> = {
  user_items: [
    { name: 'kind', type: 'string' },
    { name: 'user_id', type: 'string' },
    { name: 'item_id', type: 'string' },
    { name: 'weight', type: 'double' },
    { name: 'item_rank', type: 'bigint' },
  ],
  pair_items: [
    { name: 'kind', type: 'string' },
    { name: 'item_id', type: 'string' },
    { name: 'item_no', type: 'bigint' },
    { name: 'degree', type: 'double' },
  ],
  pair_basket: [
    { name: 'user_no', type: 'bigint' },
    { name: 'item_no', type: 'bigint' },
    { name: 'step', type: 'double' },
  ],
};

function parquetTable(
  location: string,
  columns: readonly glue.CfnTable.ColumnProperty[],
): glue.CfnTable.TableInputProperty {
  return {
    tableType: 'EXTERNAL_TABLE',
    parameters: { classification: 'parquet' },
    storageDescriptor: {
      location,
      columns: [...columns],
      inputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
      outputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
      serdeInfo: { serializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe' },
    },
  };
}

/** The UNLOAD statement of one part (Athena's syntax around the Trino query the tests parse). */
export function unloadStatement(part: ItemModelPart, bucketName: string, query: string): string {
  return `UNLOAD (\n${query}\n) TO 's3://${bucketName}/${BATCH_PREFIXES.unload}${part}/' WITH (format = 'PARQUET', compression = 'SNAPPY')`;
}

export class BatchLayer extends Construct {
  readonly bucket: s3.Bucket;
  readonly databaseName: string;
  readonly workGroup: athena.CfnWorkGroup;
  readonly stateMachine: sfn.StateMachine;
  readonly rule: events.Rule;
  readonly tables: Record<'events' | 'deletions' | 'item_tags' | StagedPart, glue.CfnTable>;

  constructor(scope: Construct, id: string, props: BatchLayerProps) {
    super(scope, id);
    const { config, archiveBucket, loader } = props;
    const schedule = schedules.find((s: ScheduleSpec) => s.cloudStateMachine);
    if (!schedule) throw new Error('no schedule runs the batch layer');
    this.bucket = this.createBucket(config);
    this.databaseName = `tunestream_${config.stage}`;
    this.tables = this.createCatalog(archiveBucket);
    this.workGroup = this.createWorkGroup(config);
    this.stateMachine = this.createStateMachine(config, loader);
    this.grantQueries(this.stateMachine.role, archiveBucket, this.workGroup.name);
    this.grantLoader(loader, archiveBucket);
    this.rule = new events.Rule(this, 'Schedule', {
      description: schedule.description,
      schedule: events.Schedule.rate(Duration.minutes(config.batchEveryMinutes)),
      targets: [new targets.SfnStateMachine(this.stateMachine, { retryAttempts: 2, maxEventAge: Duration.hours(1) })],
    });
  }

  private createBucket(config: TunestreamConfig): s3.Bucket {
    const bucket = new s3.Bucket(this, 'Bucket', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: false,
      removalPolicy: config.removalPolicy,
      autoDeleteObjects: config.stage !== 'prod',
      lifecycleRules: [
        {
          id: 'expire-query-output',
          prefix: BATCH_PREFIXES.athena,
          expiration: Duration.days(batchLayer.resultsExpireDays),
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
        {
          id: 'expire-unload-output',
          prefix: BATCH_PREFIXES.unload,
          expiration: Duration.days(batchLayer.resultsExpireDays),
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
      ],
    });
    Validations.of(bucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'Batch bucket holds derived data only (query output, UNLOAD Parquet, the tags export), written by the state machine and the loader; object-level access is audited through CloudTrail data events, as for the archive bucket.',
    });
    return bucket;
  }

  /** Glue database and tables: the names the SQL files use, the columns DuckDB sees. */
  private createCatalog(
    archiveBucket: s3.IBucket,
  ): Record<'events' | 'deletions' | 'item_tags' | StagedPart, glue.CfnTable> {
    const stack = Stack.of(this);
    const database = new glue.CfnDatabase(this, 'Database', {
      catalogId: stack.account,
      databaseInput: {
        name: this.databaseName,
        description: 'tunestream batch layer: the event archive and the catalog tags',
      },
    });
    const archiveRoot = `s3://${archiveBucket.bucketName}/`;
    const table = (tid: string, name: string, input: glue.CfnTable.TableInputProperty) => {
      const t = new glue.CfnTable(this, tid, {
        catalogId: stack.account,
        databaseName: this.databaseName,
        tableInput: { name, ...input },
      });
      t.addDependency(database);
      return t;
    };
    return {
      events: table('EventsTable', 'events', eventsTableInput(archiveRoot)),
      deletions: table(
        'DeletionsTable',
        'deletions',
        jsonTable(`${archiveRoot}deletions/`, [
          { name: 'userid', type: 'string' },
          { name: 'deletedat', type: 'bigint' },
        ]),
      ),
      item_tags: table(
        'ItemTagsTable',
        'item_tags',
        jsonTable(`s3://${this.bucket.bucketName}/${BATCH_PREFIXES.tags}`, [
          { name: 'kind', type: 'string' },
          { name: 'item_id', type: 'string' },
          { name: 'tag', type: 'string' },
          { name: 'tag_count', type: 'double' },
        ]),
      ),
      ...(Object.fromEntries(
        STAGED_PARTS.map((part) => [
          part,
          table(
            `Staged${part.replace(/(^|_)(\w)/g, (_, __, c: string) => c.toUpperCase())}Table`,
            part,
            parquetTable(`s3://${this.bucket.bucketName}/${BATCH_PREFIXES.unload}${part}/`, STAGED_TABLE_COLUMNS[part]),
          ),
        ]),
      ) as Record<StagedPart, glue.CfnTable>),
    };
  }

  private createWorkGroup(config: TunestreamConfig): athena.CfnWorkGroup {
    return new athena.CfnWorkGroup(this, 'WorkGroup', {
      name: `tunestream-${config.stage}-batch`,
      description: 'tunestream batch layer: the item model from the event archive',
      state: 'ENABLED',
      recursiveDeleteOption: true,
      workGroupConfiguration: {
        enforceWorkGroupConfiguration: true,
        publishCloudWatchMetricsEnabled: true,
        bytesScannedCutoffPerQuery: batchLayer.bytesScannedCutoffPerQuery,
        engineVersion: { selectedEngineVersion: 'Athena engine version 3' },
        resultConfiguration: {
          outputLocation: `s3://${this.bucket.bucketName}/${BATCH_PREFIXES.athena}`,
          encryptionConfiguration: { encryptionOption: 'SSE_S3' },
        },
      },
    });
  }

  /**
   * prepare → (busy or empty: skipped) → the queries → load; a failure after prepare releases the
   * lease, then fails the execution (what the failed-executions alarm counts).
   */
  private createStateMachine(config: TunestreamConfig, loader: lambda.Function): sfn.StateMachine {
    const invoke = (id: string, action: 'prepare' | 'load' | 'release', resultPath: string) =>
      new tasks.LambdaInvoke(this, id, {
        lambdaFunction: loader,
        payload: sfn.TaskInput.fromObject({ action, execution: sfn.JsonPath.stringAt('$$.Execution.Id') }),
        payloadResponseOnly: true,
        resultPath,
        retryOnServiceExceptions: true,
      });
    const release = invoke('Release', 'release', '$.release').next(
      new sfn.Fail(this, 'Failed', { error: 'BuildFailed', causePath: '$.error.Cause' }),
    );
    const queries = new sfn.Parallel(this, 'Queries', { resultPath: sfn.JsonPath.DISCARD });
    const [firstStage, ...laterStages] = STAGED_PARTS.map((part) => this.queryState(part));
    const outputs = new sfn.Parallel(this, 'Outputs', { resultPath: sfn.JsonPath.DISCARD });
    for (const part of OUTPUT_PARTS) outputs.branch(this.queryState(part));
    queries.branch(laterStages.reduce<sfn.Chain>((c, q) => c.next(q), sfn.Chain.start(firstStage!)).next(outputs));
    queries.addCatch(release, { resultPath: '$.error' });
    const load = invoke('Load', 'load', '$.load').addCatch(release, { resultPath: '$.error' });
    const prepare = invoke('Prepare', 'prepare', '$.build').addCatch(release, { resultPath: '$.error' });
    const skipped = new sfn.Succeed(this, 'Skipped', {
      comment: 'Another build holds the lease, or the archive is empty',
    });
    const ready = new sfn.Choice(this, 'Ready?')
      .when(
        sfn.Condition.stringEquals('$.build.status', 'ready'),
        queries.next(load).next(new sfn.Succeed(this, 'Built')),
      )
      .otherwise(skipped);
    // Under /aws/vendedlogs/: Step Functions then needs no CloudWatch Logs resource policy (whose
    // 5,120-character limit per account and region can fail a deploy in a busy account).
    const logGroup = new logs.LogGroup(this, 'StateMachineLogs', {
      logGroupName: `/aws/vendedlogs/states/tunestream-${config.stage}-item-model`,
      retention: config.logRetention,
      removalPolicy: config.removalPolicy,
    });
    const stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      comment:
        'tunestream item model: prepare (lease, window), the staged SQL parts, the output parts (UNLOADs to Parquet on Athena), load',
      definitionBody: sfn.DefinitionBody.fromChainable(prepare.next(ready)),
      timeout: Duration.minutes(batchLayer.timeoutMinutes),
      tracingEnabled: true,
      logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
    });
    const stack = Stack.of(this);
    Validations.of(stateMachine).acknowledge(
      {
        id: `AwsSolutions-IAM5[Resource::<${stack.getLogicalId(loader.node.defaultChild as lambda.CfnFunction)}.Arn>:*]`,
        reason:
          'LambdaInvoke grants lambda:InvokeFunction on the loader and its versions/aliases (ARN:*): the one function, nothing else.',
      },
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'X-Ray tracing (xray:PutTraceSegments, PutTelemetryRecords, GetSampling*) and CloudWatch Logs delivery (logs:CreateLogDelivery, …) support no resource-level permissions; added by aws-cdk-lib for tracing and logging.',
      },
    );
    return stateMachine;
  }

  /**
   * One part's UNLOAD as a raw .sync task (not tasks.AthenaStartQueryExecution, whose generated
   * policy grants Glue writes on the whole catalog). The window's values (from prepare) are the
   * query's execution parameters, in the order of its `?`.
   */
  private queryState(part: ItemModelPart): sfn.CustomState {
    const stack = Stack.of(this);
    const params = partRunParams(part);
    return new sfn.CustomState(this, `Query ${part}`, {
      stateJson: {
        Type: 'Task',
        Resource: `arn:${stack.partition}:states:::athena:startQueryExecution.sync`,
        Parameters: {
          QueryString: unloadStatement(
            part,
            this.bucket.bucketName,
            partQuery(part, itemModelSqlParams(resolveSettings())),
          ),
          WorkGroup: this.workGroup.name,
          QueryExecutionContext: { Database: this.databaseName, Catalog: 'AwsDataCatalog' },
          ...(params.length > 0
            ? { 'ExecutionParameters.$': `States.Array(${params.map((p) => `$.build.sql.${p}`).join(', ')})` }
            : {}),
        },
        ResultPath: null,
        Retry: [
          {
            ErrorEquals: ['Athena.TooManyRequestsException', 'Athena.InternalServerException'],
            IntervalSeconds: 30,
            MaxAttempts: 4,
            BackoffRate: 2,
          },
        ],
      },
    });
  }

  /** The loader: reads and clears the UNLOAD output, lists the archive's partitions, writes the tags export. */
  private grantLoader(loader: lambda.Function, archiveBucket: s3.IBucket): void {
    loader.addEnvironment('BATCH_BUCKET', this.bucket.bucketName);
    loader.addEnvironment('ARCHIVE_BUCKET', archiveBucket.bucketName);
    loader.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'BatchList',
        actions: ['s3:ListBucket'],
        resources: [this.bucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': [`${BATCH_PREFIXES.unload}*`] } },
      }),
    );
    loader.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'BatchUnloadOutput',
        actions: ['s3:GetObject', 's3:DeleteObject'],
        resources: [this.bucket.arnForObjects(`${BATCH_PREFIXES.unload}*`)],
      }),
    );
    loader.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'BatchTagsExport',
        actions: ['s3:PutObject'],
        resources: [this.bucket.arnForObjects(`${BATCH_PREFIXES.tags}*`)],
      }),
    );
    // The window: the archive's hour partitions and their sizes (keys only, no object read).
    loader.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ArchivePartitions',
        actions: ['s3:ListBucket'],
        resources: [archiveBucket.bucketArn],
      }),
    );
    const bucketId = Stack.of(this).getLogicalId(this.bucket.node.defaultChild as s3.CfnBucket);
    Validations.of(loader).acknowledge(
      {
        id: `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/${BATCH_PREFIXES.unload}*]`,
        reason:
          'The loader reads and clears the UNLOAD output, whose file names Athena chooses: objects under builds/current/ of the one batch bucket only.',
      },
      {
        id: `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/${BATCH_PREFIXES.tags}*]`,
        reason: 'The loader writes the catalog tags export (tags/catalog.jsonl): PutObject under tags/ only.',
      },
    );
  }

  /** What the UNLOADs need: this workgroup, these tables, the archive (read) and the batch bucket. */
  private grantQueries(role: iam.IRole, archiveBucket: s3.IBucket, workGroupName: string): void {
    const stack = Stack.of(this);
    const arn = (service: string, resource: string) =>
      `arn:${stack.partition}:${service}:${stack.region}:${stack.account}:${resource}`;
    const policy = new iam.Policy(this, 'QueryPolicy', {
      statements: [
        new iam.PolicyStatement({
          sid: 'AthenaQueries',
          actions: ['athena:StartQueryExecution', 'athena:GetQueryExecution', 'athena:StopQueryExecution'],
          resources: [arn('athena', `workgroup/${workGroupName}`)],
        }),
        // Both in the policy Step Functions generates for athena:startQueryExecution.sync: the
        // catalog a query names, and — where Lake Formation governs the Glue catalog — the
        // temporary credentials for the tables' data (without it such accounts are denied).
        new iam.PolicyStatement({
          sid: 'AthenaCatalog',
          actions: ['athena:GetDataCatalog'],
          resources: [arn('athena', 'datacatalog/AwsDataCatalog')],
        }),
        new iam.PolicyStatement({
          sid: 'LakeFormationData',
          actions: ['lakeformation:GetDataAccess'],
          resources: ['*'],
        }),
        new iam.PolicyStatement({
          sid: 'GlueTables',
          actions: ['glue:GetDatabase', 'glue:GetTable', 'glue:GetPartitions'],
          resources: [
            arn('glue', 'catalog'),
            arn('glue', `database/${this.databaseName}`),
            ...Object.keys(this.tables).map((t) => arn('glue', `table/${this.databaseName}/${t}`)),
          ],
        }),
        new iam.PolicyStatement({
          sid: 'ReadArchiveAndTags',
          actions: ['s3:GetBucketLocation', 's3:ListBucket'],
          resources: [archiveBucket.bucketArn, this.bucket.bucketArn],
        }),
        new iam.PolicyStatement({
          sid: 'ReadObjects',
          actions: ['s3:GetObject'],
          // The staged parts are read from the UNLOAD prefix (WriteQueryOutput below).
          resources: [archiveBucket.arnForObjects('*'), this.bucket.arnForObjects(`${BATCH_PREFIXES.tags}*`)],
        }),
        new iam.PolicyStatement({
          sid: 'WriteQueryOutput',
          actions: ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
          resources: [
            this.bucket.arnForObjects(`${BATCH_PREFIXES.athena}*`),
            this.bucket.arnForObjects(`${BATCH_PREFIXES.unload}*`),
          ],
        }),
      ],
    });
    policy.attachToRole(role);
    const bucketId = stack.getLogicalId(this.bucket.node.defaultChild as s3.CfnBucket);
    const archiveId = stack.getLogicalId(archiveBucket.node.defaultChild as s3.CfnBucket);
    Validations.of(policy).acknowledge(
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'lakeformation:GetDataAccess supports no resource-level permissions (AWS service authorization reference); Lake Formation itself decides which tables the role may read.',
      },
      {
        id: `AwsSolutions-IAM5[Resource::<${archiveId}.Arn>/*]`,
        reason:
          'Athena reads the archive objects the partitions name (per batch, unknown in advance): s3:GetObject on the one archive bucket, read-only.',
      },
      {
        id: `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/${BATCH_PREFIXES.tags}*]`,
        reason: 'Athena reads the tags export for the item_tags table: GetObject under tags/ only.',
      },
      {
        id: `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/${BATCH_PREFIXES.athena}*]`,
        reason: 'Athena writes query results (named by query id) under athena/ of the batch bucket only.',
      },
      {
        id: `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/${BATCH_PREFIXES.unload}*]`,
        reason:
          'UNLOAD writes Parquet files (named by Athena) under builds/current/ of the batch bucket only, and the later parts read the staged ones back.',
      },
    );
  }
}
