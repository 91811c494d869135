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
 * - A Step Functions state machine on the topology's schedule: the loader's `prepare`, the staged
 *   parts in order, then the output parts in parallel — each an UNLOAD to Parquet (.sync) — and the
 *   loader's `load`. Staging is DuckDB's materialization in Athena's terms: without it every part
 *   would inline user_items (Trino expands a WITH clause at each reference) and the co-listening
 *   part alone would scan the archive 20 times.
 * - Least privilege: the state machine may run queries in this workgroup only, read these tables
 *   and the archive, and write under the batch bucket's two prefixes; the loader reads the UNLOAD
 *   output and writes the tags export.
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
    const stack = Stack.of(this);
    const schedule = schedules.find((s: ScheduleSpec) => s.cloudStateMachine);
    if (!schedule) throw new Error('no schedule runs the batch layer');

    this.bucket = new s3.Bucket(this, 'Bucket', {
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
    Validations.of(this.bucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'Batch bucket holds derived data only (query output, UNLOAD Parquet, the tags export), written by the state machine and the loader; object-level access is audited through CloudTrail data events, as for the archive bucket.',
    });

    // --- Glue Data Catalog -------------------------------------------------------------------
    this.databaseName = `tunestream_${config.stage}`;
    const database = new glue.CfnDatabase(this, 'Database', {
      catalogId: stack.account,
      databaseInput: {
        name: this.databaseName,
        description: 'tunestream batch layer: the event archive and the catalog tags',
      },
    });
    const archiveRoot = `s3://${archiveBucket.bucketName}/`;
    const [fromYear, toYear] = batchLayer.projectionYears;
    const partition = (name: string) => ({ name, type: 'string' });
    const table = (tid: string, name: string, input: glue.CfnTable.TableInputProperty) => {
      const t = new glue.CfnTable(this, tid, {
        catalogId: stack.account,
        databaseName: this.databaseName,
        tableInput: { name, ...input },
      });
      t.addDependency(database);
      return t;
    };
    this.tables = {
      events: table(
        'EventsTable',
        'events',
        jsonTable(archiveRoot, EVENT_TABLE_COLUMNS, {
          partitionKeys: ['year', 'month', 'day', 'hour'].map(partition),
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
        }),
      ),
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

    // --- Athena workgroup ---------------------------------------------------------------------
    const workGroupName = `tunestream-${config.stage}-batch`;
    this.workGroup = new athena.CfnWorkGroup(this, 'WorkGroup', {
      name: workGroupName,
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

    // --- State machine ------------------------------------------------------------------------
    const params = itemModelSqlParams(resolveSettings());
    const invoke = (action: 'prepare' | 'load') =>
      new tasks.LambdaInvoke(this, action === 'prepare' ? 'Prepare' : 'Load', {
        lambdaFunction: loader,
        payload: sfn.TaskInput.fromObject({ action }),
        payloadResponseOnly: true,
        resultPath: action === 'prepare' ? sfn.JsonPath.DISCARD : '$.load',
        retryOnServiceExceptions: true,
      });
    // A raw .sync task (not tasks.AthenaStartQueryExecution, whose generated policy grants Glue
    // writes on the whole catalog): the role below has exactly what these queries need.
    const query = (part: ItemModelPart) =>
      new sfn.CustomState(this, `Query ${part}`, {
        stateJson: {
          Type: 'Task',
          Resource: `arn:${stack.partition}:states:::athena:startQueryExecution.sync`,
          Parameters: {
            QueryString: unloadStatement(part, this.bucket.bucketName, partQuery(part, params)),
            WorkGroup: workGroupName,
            QueryExecutionContext: { Database: this.databaseName, Catalog: 'AwsDataCatalog' },
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
    const [firstStage, ...laterStages] = STAGED_PARTS.map(query);
    const stages = laterStages.reduce<sfn.Chain>((chain, q) => chain.next(q), sfn.Chain.start(firstStage!));
    const outputs = new sfn.Parallel(this, 'Outputs', { resultPath: sfn.JsonPath.DISCARD });
    for (const part of OUTPUT_PARTS) outputs.branch(query(part));
    const logGroup = new logs.LogGroup(this, 'StateMachineLogs', {
      retention: config.logRetention,
      removalPolicy: config.removalPolicy,
    });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      comment:
        'tunestream item model: prepare, the staged SQL parts, the output parts (UNLOADs to Parquet on Athena), load',
      definitionBody: sfn.DefinitionBody.fromChainable(
        invoke('prepare').next(stages).next(outputs).next(invoke('load')),
      ),
      timeout: Duration.minutes(batchLayer.timeoutMinutes),
      tracingEnabled: true,
      logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
    });
    this.grantQueries(this.stateMachine.role, archiveBucket, workGroupName);
    Validations.of(this.stateMachine).acknowledge(
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

    // The loader: reads the UNLOAD output, clears it before a build, writes the tags export.
    loader.addEnvironment('BATCH_BUCKET', this.bucket.bucketName);
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
    const bucketId = stack.getLogicalId(this.bucket.node.defaultChild as s3.CfnBucket);
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

    // --- Schedule -----------------------------------------------------------------------------
    this.rule = new events.Rule(this, 'Schedule', {
      description: schedule.description,
      schedule: events.Schedule.rate(Duration.minutes(schedule.everyMinutes)),
      targets: [new targets.SfnStateMachine(this.stateMachine, { retryAttempts: 2, maxEventAge: Duration.hours(1) })],
    });
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
