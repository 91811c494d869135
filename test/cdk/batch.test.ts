/**
 * The batch layer as synthesized: Glue tables over the archive with partition projection (the
 * columns DuckDB sees locally), the Athena workgroup (enforced, encrypted results, bytes-scanned
 * limit), the state machine (prepare → the staged parts → the output parts, each an UNLOAD → load) on the topology's
 * schedule, and the least-privilege grants of the state machine and the loader.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { STAGED_TABLE_COLUMNS } from '../../cdk/constructs/batch.ts';
import { BATCH_PREFIXES } from '../../shared/adapters/batch-bucket.ts';
import { EVENT_COLUMNS } from '../../shared/adapters/duckdb.ts';
import {
  itemModelSqlParams,
  OUTPUT_PARTS,
  partQuery,
  partRunParams,
  STAGED_PARTS,
} from '../../shared/batch/item-model-sql.ts';
import { batchLayer, resolveSettings, schedules } from '../../shared/topology.ts';
import { resourcesOf, type Synthesized, synthesize } from './synth.ts';

let s: Synthesized;
beforeAll(() => {
  s = synthesize();
}, 600_000);

// biome-ignore lint/suspicious/noExplicitAny: CloudFormation properties are untyped JSON
type Cfn = any;
type Statement = { Sid?: string; Action: string | string[]; Resource: unknown; Condition?: unknown };
const actions = (st: Statement) => (Array.isArray(st.Action) ? st.Action : [st.Action]);
const policyStatements = (filter: (p: Record<string, unknown>) => boolean): Statement[] =>
  resourcesOf(s.template, 'AWS::IAM::Policy')
    .filter(([, p]) => filter(p.Properties))
    .flatMap(([, p]) => (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
const rolesOf = (p: Record<string, unknown>) => JSON.stringify(p.Roles);

describe('batch layer', () => {
  it('Glue tables: events over the archive with hour partition projection, the columns DuckDB reads', () => {
    const tables = resourcesOf(s.template, 'AWS::Glue::Table').map(([, t]) => t.Properties.TableInput as Cfn);
    expect(tables.map((t) => t.Name).sort()).toEqual(
      ['deletions', 'events', 'item_tags', 'pair_basket', 'pair_items', 'user_items'].sort(),
    );
    // The staged parts: Parquet tables over their UNLOAD prefixes, with the columns the UNLOADs write.
    for (const part of STAGED_PARTS) {
      const t = tables.find((x) => x.Name === part)!;
      expect(t.StorageDescriptor.SerdeInfo.SerializationLibrary).toBe(
        'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe',
      );
      expect(JSON.stringify(t.StorageDescriptor.Location)).toContain(`/${BATCH_PREFIXES.unload}${part}/`);
      expect(t.StorageDescriptor.Columns.map((c: { Name: string }) => c.Name)).toEqual(
        STAGED_TABLE_COLUMNS[part].map((c) => c.name),
      );
    }
    const events = tables.find((t) => t.Name === 'events')!;
    expect(events.PartitionKeys.map((k: { Name: string }) => k.Name)).toEqual(['year', 'month', 'day', 'hour']);
    expect(events.Parameters).toMatchObject({
      'projection.enabled': 'true',
      'projection.year.range': batchLayer.projectionYears.join(','),
      'projection.month.range': '1,12',
      'projection.month.digits': '2',
      'projection.day.range': '1,31',
      'projection.hour.range': '0,23',
    });
    expect(JSON.stringify(events.Parameters['storage.location.template'])).toContain(
      `year=\${year}/month=\${month}/day=\${day}/hour=\${hour}/`,
    );
    expect(JSON.stringify(events.StorageDescriptor.Location)).toContain(
      s.logicalId(s.stack.functions.archiveBucket.node.defaultChild as never),
    );
    expect(events.StorageDescriptor.SerdeInfo.SerializationLibrary).toBe('org.openx.data.jsonserde.JsonSerDe');
    const glueTypes: Record<string, string> = { VARCHAR: 'string', BIGINT: 'bigint', DOUBLE: 'double' };
    expect(events.StorageDescriptor.Columns).toEqual(
      Object.entries(EVENT_COLUMNS).map(([name, type]) => ({ Name: name.toLowerCase(), Type: glueTypes[type] })),
    );
  });

  it('Athena workgroup: enforced, engine v3, SSE-S3 results in the batch bucket, bytes-scanned limit', () => {
    const [[, wg]] = resourcesOf(s.template, 'AWS::Athena::WorkGroup') as [[string, { Properties: Cfn }]];
    const c = wg.Properties.WorkGroupConfiguration;
    expect(c.EnforceWorkGroupConfiguration).toBe(true);
    expect(c.BytesScannedCutoffPerQuery).toBe(batchLayer.bytesScannedCutoffPerQuery);
    expect(c.EngineVersion.SelectedEngineVersion).toBe('Athena engine version 3');
    expect(c.ResultConfiguration.EncryptionConfiguration.EncryptionOption).toBe('SSE_S3');
    expect(JSON.stringify(c.ResultConfiguration.OutputLocation)).toContain(BATCH_PREFIXES.athena);
  });

  const definition = () => {
    const [[, sm]] = resourcesOf(s.template, 'AWS::StepFunctions::StateMachine') as [[string, { Properties: Cfn }]];
    const parts = (sm.Properties.DefinitionString['Fn::Join'][1] as unknown[])
      .map((p) => (typeof p === 'string' ? p : 'TOKEN'))
      .join('');
    return { sm, def: JSON.parse(parts) as { StartAt: string; States: Cfn } };
  };

  it('state machine: prepare, the staged parts in order, the output parts in parallel (the repo SQL, .sync, the window as execution parameters), load', () => {
    const { sm, def } = definition();
    const params = itemModelSqlParams(resolveSettings());
    const expectUnload = (q: Cfn, part: (typeof STAGED_PARTS)[number] | (typeof OUTPUT_PARTS)[number]) => {
      expect(q.Resource).toContain('athena:startQueryExecution.sync');
      const text = q.Parameters.QueryString as string;
      expect(text.startsWith('UNLOAD (\n')).toBe(true);
      expect(text).toContain(partQuery(part, params));
      expect(text).toContain(`/${BATCH_PREFIXES.unload}${part}/' WITH (format = 'PARQUET', compression = 'SNAPPY')`);
      const run = partRunParams(part);
      if (run.length === 0) expect(q.Parameters['ExecutionParameters.$']).toBeUndefined();
      else
        expect(q.Parameters['ExecutionParameters.$']).toBe(
          `States.Array(${run.map((r) => `$.build.sql.${r}`).join(', ')})`,
        );
    };
    expect(def.StartAt).toBe('Prepare');
    expect(def.States.Prepare.Next).toBe('Ready?');
    const queries = def.States.Queries;
    expect(def.States['Ready?'].Choices).toEqual([
      { Variable: '$.build.status', StringEquals: 'ready', Next: 'Queries' },
    ]);
    expect(def.States['Ready?'].Default).toBe('Skipped');
    const branch = queries.Branches[0] as { StartAt: string; States: Cfn };
    let next = branch.StartAt;
    for (const part of STAGED_PARTS) {
      expect(next).toBe(`Query ${part}`);
      expectUnload(branch.States[next], part);
      next = branch.States[next].Next;
    }
    expect(next).toBe('Outputs');
    const outputs = branch.States.Outputs;
    expect(outputs.Branches).toHaveLength(OUTPUT_PARTS.length);
    for (const [i, part] of OUTPUT_PARTS.entries()) expectUnload(outputs.Branches[i]!.States[`Query ${part}`], part);
    expect(queries.Next).toBe('Load');
    expect(def.States.Load.Next).toBe('Built');
    expect(sm.Properties.LoggingConfiguration.Level).toBe('ALL');
    expect(sm.Properties.TracingConfiguration.Enabled).toBe(true);
  });

  it('no overlapping builds: prepare takes the lease (busy → skipped); any failure after it releases the lease, then fails', () => {
    const { def } = definition();
    const payload = (state: string) => def.States[state].Parameters ?? def.States[state];
    for (const [state, action] of [
      ['Prepare', 'prepare'],
      ['Load', 'load'],
      ['Release', 'release'],
    ] as const)
      expect(JSON.stringify(payload(state))).toContain(`"action":"${action}","execution.$":"$$.Execution.Id"`);
    expect(def.States.Skipped.Type).toBe('Succeed');
    for (const state of ['Prepare', 'Queries', 'Load'])
      expect(def.States[state].Catch).toEqual([
        { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Release' },
      ]);
    expect(def.States.Release.Next).toBe('Failed');
    expect(def.States.Failed.Type).toBe('Fail');
    // The lease outlives the state machine's timeout: a timed-out build cannot leave one forever,
    // nor a running build lose it.
    expect(batchLayer.leaseSeconds).toBeGreaterThan(batchLayer.timeoutMinutes * 60);
  });

  it('the state machine logs to a vended log group, with retention', () => {
    const { sm } = definition();
    const dest = JSON.stringify(sm.Properties.LoggingConfiguration.Destinations);
    const [[id, lg]] = resourcesOf(s.template, 'AWS::Logs::LogGroup').filter(([, g]) =>
      String(g.Properties.LogGroupName ?? '').startsWith('/aws/vendedlogs/states/'),
    ) as [[string, { Properties: Cfn }]];
    expect(dest).toContain(id);
    expect(lg.Properties.LogGroupName).toBe(`/aws/vendedlogs/states/tunestream-${s.stack.config.stage}-item-model`);
    expect(lg.Properties.RetentionInDays).toBeGreaterThan(0);
  });

  it("runs on the topology's schedule; the loader is not invoked by EventBridge", () => {
    const sc = schedules.find((x) => x.cloudStateMachine)!;
    const rules = resourcesOf(s.template, 'AWS::Events::Rule').filter(([, r]) =>
      JSON.stringify(r.Properties.Targets).includes(s.logicalId(s.stack.batch.stateMachine)),
    );
    expect(rules).toHaveLength(1);
    expect(rules[0]![1].Properties.ScheduleExpression).toBe(
      sc.everyMinutes === 60 ? 'rate(1 hour)' : `rate(${sc.everyMinutes} minutes)`,
    );
    const loader = s.logicalId(s.stack.functions.byName['item-model-builder']);
    const perms = resourcesOf(s.template, 'AWS::Lambda::Permission').filter(([, p]) =>
      JSON.stringify(p.Properties.FunctionName).includes(loader),
    );
    expect(perms).toEqual([]);
  });

  it('least privilege: queries in this workgroup, Glue reads of these tables, S3 writes under two prefixes', () => {
    const role = s.logicalId(s.stack.batch.stateMachine.role);
    const st = policyStatements((p) => rolesOf(p).includes(role));
    const all = st.flatMap(actions);
    expect(all.filter((a) => a.startsWith('glue:')).sort()).toEqual([
      'glue:GetDatabase',
      'glue:GetPartitions',
      'glue:GetTable',
    ]);
    expect(all.filter((a) => a.startsWith('athena:')).sort()).toEqual([
      'athena:GetDataCatalog',
      'athena:GetQueryExecution',
      'athena:StartQueryExecution',
      'athena:StopQueryExecution',
    ]);
    // What Step Functions' own policy for startQueryExecution.sync has: Lake Formation accounts.
    expect(all).toContain('lakeformation:GetDataAccess');
    expect(JSON.stringify(st.find((x) => x.Sid === 'AthenaCatalog')!.Resource)).toContain('datacatalog/AwsDataCatalog');
    expect(all.some((a) => a.endsWith(':*') || a === '*')).toBe(false);
    expect(all).not.toContain('s3:DeleteObject');
    const athena = st.find((x) => x.Sid === 'AthenaQueries')!;
    expect(JSON.stringify(athena.Resource)).toContain(`workgroup/tunestream-${s.stack.config.stage}-batch`);
    const writes = st.find((x) => x.Sid === 'WriteQueryOutput')!;
    expect(JSON.stringify(writes.Resource)).toContain(`/${BATCH_PREFIXES.athena}*`);
    expect(JSON.stringify(writes.Resource)).toContain(`/${BATCH_PREFIXES.unload}*`);
    // The loader: the UNLOAD output (read, clear) and the tags export (put), nothing else in the bucket.
    const loaderRole = s.logicalId(s.stack.functions.byName['item-model-builder'].role!);
    const ls = policyStatements((p) => rolesOf(p).includes(loaderRole)).filter((x) => x.Sid?.startsWith('Batch'));
    expect(ls.map((x) => [x.Sid, actions(x).sort()])).toEqual([
      ['BatchList', ['s3:ListBucket']],
      ['BatchUnloadOutput', ['s3:DeleteObject', 's3:GetObject']],
      ['BatchTagsExport', ['s3:PutObject']],
    ]);
    // The window: the archive's partitions listed, no object read.
    const archive = policyStatements((p) => rolesOf(p).includes(loaderRole)).filter(
      (x) => x.Sid === 'ArchivePartitions',
    );
    expect(archive.map((x) => actions(x))).toEqual([['s3:ListBucket']]);
  });
});
