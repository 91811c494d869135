/**
 * `npm run smoke -- --stage dev | --stack <name> | --local [--local-stack <file>]`: the post-deploy
 * smoke test (tools/smoke/steps.ts). Against a deployed stack it reads the stack's outputs, posts
 * listens with SigV4, waits for a profile and a non-empty recommendation, creates a listener token
 * and submits a ListenBrainz listen with it, runs a batch build to success, checks that no alarm is
 * firing, and removes the listener it created. With --local the same steps run against the local
 * pipeline (`npm start`). Prints a report; exits 1 naming the failed step, 2 on bad arguments.
 */
import { parseArgs } from 'node:util';
import { LOCAL_STACK_FILE } from '../local/stack-file.ts';
import { cloudTarget } from './smoke/cloud.ts';
import { localTarget, readSmokeStack } from './smoke/local.ts';
import { formatReport, runSmoke, type SmokeTarget } from './smoke/steps.ts';

const USAGE = `Usage: npm run smoke -- <where> [options]

Where:
  --stage <dev|prod>     the deployed stack tunestream-<stage>
  --stack <name>         a deployed stack by name
  --local                the local pipeline of \`npm start\` (${LOCAL_STACK_FILE}, .data/api-token)
  --local-stack <file>   a local pipeline described by another file (url, dynamodbEndpoint,
                         kafkaBrokers, prefix, archiveDir, token)

Options:
  --region <r>              default AWS_REGION, AWS_DEFAULT_REGION
  --timeout <seconds>       listens → profile and recommendations (default 120 cloud, 60 local)
  --batch-timeout <minutes> one batch build (cloud; default 30)
  --alarm-timeout <seconds> alarms may take this long to settle (default 300 cloud, 10 local)
  --json                    the report as JSON on stdout

The cloud run needs the deploying credentials' kind of access: execute-api:Invoke on the API,
cloudformation:DescribeStacks and ListStackResources, states:StartExecution and DescribeExecution
on the batch state machine, cloudwatch:DescribeAlarms, and dynamodb PutItem / Query / DeleteItem
on the users table (the listener token). It creates one listener (smoke-<date>-<random>), forgets
it at the end (DELETE /users/{id}), and upserts three fixed catalog tracks (smoke-track-1..3).
`;

class UsageError extends Error {}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      stage: { type: 'string' },
      stack: { type: 'string' },
      local: { type: 'boolean', default: false },
      'local-stack': { type: 'string' },
      region: { type: 'string' },
      timeout: { type: 'string' },
      'batch-timeout': { type: 'string' },
      'alarm-timeout': { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const local = values.local || values['local-stack'] !== undefined;
  const stackName = values.stack ?? (values.stage ? `tunestream-${values.stage}` : undefined);
  if (local === (stackName !== undefined)) throw new UsageError('name one of --stage, --stack, --local');
  if (values.stage && !['dev', 'prod'].includes(values.stage)) throw new UsageError('--stage is dev or prod');
  const num = (name: 'timeout' | 'batch-timeout' | 'alarm-timeout', fallback: number) => {
    const v = values[name];
    const n = v === undefined ? fallback : Number(v);
    if (!(n > 0)) throw new UsageError(`--${name} must be a positive number, got ${JSON.stringify(v)}`);
    return n;
  };
  const region = values.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
  const log = (line: string) => process.stderr.write(`[smoke] ${line}\n`);
  let target: SmokeTarget;
  if (local) target = localTarget(readSmokeStack(values['local-stack'] ?? LOCAL_STACK_FILE), region ?? 'us-east-1');
  else {
    if (!region) throw new UsageError('--region (or AWS_REGION) is needed for a deployed stack');
    target = await cloudTarget({
      stackName: stackName!,
      region,
      batchTimeoutMs: num('batch-timeout', 30) * 60_000,
      pollMs: 15_000,
    });
  }
  try {
    const report = await runSmoke(target, {
      pipelineTimeoutMs: num('timeout', local ? 60 : 120) * 1000,
      alarmTimeoutMs: num('alarm-timeout', local ? 10 : 300) * 1000,
      pollMs: local ? 250 : 5000,
      log,
    });
    process.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
    return report.ok ? 0 : 1;
  } finally {
    await target.close();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`smoke: ${(err as Error)?.message ?? err}\n`);
    if (err instanceof UsageError) process.stderr.write('(npm run smoke -- --help)\n');
    process.exit(err instanceof UsageError ? 2 : 1);
  },
);
