/**
 * The smoke test's target for a deployed stack: its outputs (ApiUrl, UsersTableName,
 * BatchStateMachineArn) from CloudFormation, API requests signed with SigV4 (the caller's default
 * credential chain: execute-api:Invoke), listener tokens in the users table, one execution of the
 * batch state machine started and followed to its end, and the stack's CloudWatch alarms.
 */
import {
  CloudFormationClient,
  DescribeStacksCommand,
  paginateListStackResources,
} from '@aws-sdk/client-cloudformation';
import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { DescribeExecutionCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { SignatureV4 } from '@smithy/signature-v4';
import type { HttpRequest } from '@smithy/types';
import { createDocumentClient } from '../../shared/adapters/dynamodb/client.ts';
import { createToken, revokeTokens, type UsersStore } from '../../shared/adapters/dynamodb/users.ts';
import { NodeSha256 } from '../../shared/adapters/dynamodb/wire.ts';
import type { SmokeResponse, SmokeTarget } from './steps.ts';

export interface CloudOptions {
  stackName: string;
  region: string;
  /** How long one batch execution may run before the step fails. */
  batchTimeoutMs: number;
  pollMs: number;
}

export async function cloudTarget(o: CloudOptions): Promise<SmokeTarget> {
  const cfn = new CloudFormationClient({ region: o.region });
  const stack = (await cfn.send(new DescribeStacksCommand({ StackName: o.stackName }))).Stacks?.[0];
  if (!stack) throw new Error(`stack ${o.stackName} not found in ${o.region}`);
  const outputs = Object.fromEntries((stack.Outputs ?? []).map((x) => [x.OutputKey, x.OutputValue]));
  const need = (key: string): string => {
    const v = outputs[key];
    if (!v) throw new Error(`stack ${o.stackName} has no output ${key} (deployed from an older version?)`);
    return v;
  };
  const api = new URL(need('ApiUrl'));
  const stateMachineArn = need('BatchStateMachineArn');
  const users: UsersStore = { client: createDocumentClient({ region: o.region }), table: need('UsersTableName') };
  const signer = new SignatureV4({
    service: 'execute-api',
    region: o.region,
    credentials: cfn.config.credentials,
    sha256: NodeSha256,
  });
  const call = async (
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
    sign = true,
  ) => {
    const url = new URL(path.replace(/^\//, ''), api);
    const text = body === undefined ? undefined : JSON.stringify(body);
    let request: HttpRequest = {
      method,
      protocol: url.protocol,
      hostname: url.hostname,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: { host: url.hostname, ...headers, ...(text ? { 'content-type': 'application/json' } : {}) },
      ...(text ? { body: text } : {}),
    };
    if (sign) request = await signer.sign(request);
    const res = await fetch(url, { method, headers: request.headers, ...(text ? { body: text } : {}) });
    const raw = await res.text();
    let parsed: Record<string, unknown> = {};
    try {
      parsed = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
    } catch {
      parsed = { raw };
    }
    return { status: res.status, body: parsed } satisfies SmokeResponse;
  };
  return {
    description: `${o.stackName} (${o.region}), ${api.origin}`,
    request: (method, path, body) => call(method, path, body),
    // The ListenBrainz routes authorize the listener's own token, not SigV4.
    listenerRequest: (token, method, path, body) =>
      call(method, path, body, { authorization: `Token ${token}` }, false),
    createListenerToken: (userId) => createToken(users, userId),
    revokeListenerTokens: (userId) => revokeTokens(users, userId),
    runBatch: () => runExecution(o, stateMachineArn),
    firingAlarms: () => firingAlarms(o, cfn),
    close: async () => {},
  };
}

/** One execution started and followed; a scheduled build holding the lease is waited out. */
async function runExecution(o: CloudOptions, stateMachineArn: string): Promise<string> {
  const sfn = new SFNClient({ region: o.region });
  const deadline = Date.now() + o.batchTimeoutMs;
  for (let attempt = 1; ; attempt++) {
    const started = await sfn.send(
      new StartExecutionCommand({ stateMachineArn, name: `smoke-${Date.now()}`, input: '{}' }),
    );
    const executionArn = started.executionArn ?? '';
    let d = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    while (d.status === 'RUNNING') {
      if (Date.now() > deadline)
        throw new Error(`execution ${executionArn} still running after ${o.batchTimeoutMs / 60_000} min`);
      await new Promise((ok) => setTimeout(ok, o.pollMs));
      d = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    }
    if (d.status !== 'SUCCEEDED')
      throw new Error(`execution ${executionArn} ${d.status}: ${d.error ?? ''} ${d.cause ?? ''}`.trim());
    const out = JSON.parse(d.output ?? '{}') as {
      build?: { status?: string; window?: { hours: number } };
      load?: { published?: boolean; itemsWritten?: number; announced?: number };
    };
    if (out.build?.status === 'ready')
      return `execution ${executionArn.split(':').pop()} succeeded: window ${out.build.window?.hours} hours, ${out.load?.itemsWritten ?? 0} items written, ${out.load?.published ? 'published' : 'unchanged'}, ${out.load?.announced ?? 0} announced`;
    if (out.build?.status === 'empty')
      throw new Error('the build found the archive empty: the listens were not archived');
    // busy: a scheduled build holds the lease; try again once it is done.
    if (Date.now() > deadline)
      throw new Error(`another build held the lease for ${o.batchTimeoutMs / 60_000} min (attempt ${attempt})`);
    await new Promise((ok) => setTimeout(ok, Math.max(o.pollMs, 60_000)));
  }
}

/** The stack's alarms (its AWS::CloudWatch::Alarm resources) in ALARM, with their reasons. */
async function firingAlarms(o: CloudOptions, cfn: CloudFormationClient): Promise<string[]> {
  const names: string[] = [];
  for await (const page of paginateListStackResources({ client: cfn }, { StackName: o.stackName }))
    for (const r of page.StackResourceSummaries ?? [])
      if (r.ResourceType === 'AWS::CloudWatch::Alarm' && r.PhysicalResourceId) names.push(r.PhysicalResourceId);
  const cw = new CloudWatchClient({ region: o.region });
  const firing: string[] = [];
  for (let i = 0; i < names.length; i += 100) {
    const res = await cw.send(new DescribeAlarmsCommand({ AlarmNames: names.slice(i, i + 100), StateValue: 'ALARM' }));
    for (const a of res.MetricAlarms ?? []) firing.push(`${a.AlarmName}: ${a.StateReason ?? ''}`);
  }
  return firing;
}
