/**
 * `npm run fuzz`: property-based fuzzing of the local HTTP API with schemathesis, against the
 * committed openapi.json. Creates a Python venv under .data/venv (first run), starts Kafka,
 * DynamoDB Local and the pipeline with a bearer token, seeds a few tracks, then runs schemathesis
 * with the checks not_a_server_error and response_schema_conformance. Exit code is schemathesis's.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { onShutdown, provisionTopology, startInfrastructure } from '../../local/infra/index.ts';
import { openApiRoute } from '../../local/openapi-route.ts';
import { startLocalPipeline } from '../../local/pipeline.ts';
import { createDocumentClient } from '../../shared/adapters/dynamodb/client.ts';
import { registerToken } from '../../shared/adapters/dynamodb/users.ts';
import { ensurePythonPackages, PYTHON_PACKAGES, venvBin } from '../python/venv.ts';

const SCHEMATHESIS = PYTHON_PACKAGES.schemathesis;
const USAGE = `Usage: npm run fuzz -- [options]

Fuzzes the local HTTP API with schemathesis (${SCHEMATHESIS}, installed into .data/venv on first
use) using openapi.json: positive and negative cases for every operation, with the bearer token.

Options:
  --max-examples <n>  cases per operation and phase (default 150; 11 operations)
  --seed <n>          schemathesis seed (default 1)
  --workers <n>       concurrent schemathesis workers (default 2)
  --report <dir>      where the JUnit/JSON reports go (default .data/fuzz-report)
Environment: PYTHON  interpreter for the venv (default: newest of python3.13, python3.12, python3)
  -h, --help          show this help
`;

const { values } = parseArgs({
  options: {
    'max-examples': { type: 'string', default: '150' },
    seed: { type: 'string', default: '1' },
    workers: { type: 'string', default: '2' },
    report: { type: 'string', default: '.data/fuzz-report' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}
const log = (line: string) => process.stderr.write(`[fuzz] ${line}\n`);

ensurePythonPackages(['schemathesis'], log);
const schemathesis = venvBin('schemathesis');
const infra = await startInfrastructure({ log, logDir: '.data/fuzz-logs' });
let stopPipeline: (() => Promise<void>) | undefined;
let child: ReturnType<typeof spawn> | undefined;
onShutdown(async () => {
  child?.kill('SIGINT');
  await stopPipeline?.();
  await infra.stop();
});
const topology = await provisionTopology(infra, `fuzz${randomBytes(3).toString('hex')}-`);
const token = randomBytes(16).toString('hex');
const pipeline = await startLocalPipeline({
  topology,
  kafkaBrokers: infra.kafkaBrokers,
  dynamodbEndpoint: infra.dynamodbEndpoint,
  port: 0,
  authToken: token,
  extraRoutes: [openApiRoute()],
  batchingWindowMs: 100,
});
stopPipeline = pipeline.stop;
// The same token is also a listener's ListenBrainz token, so the /1/ routes are fuzzed past the authorizer.
await registerToken(
  {
    client: createDocumentClient({ endpoint: infra.dynamodbEndpoint, region: 'us-east-1' }),
    table: topology.tableNames.users,
  },
  'fuzz-listener',
  token,
);
log(`API on ${pipeline.url}; fuzzing with ${values['max-examples']} examples per operation…`);

const report = resolve(values.report!);
const args = [
  'run',
  `${pipeline.url}/openapi.json`,
  '--url',
  pipeline.url,
  '--header',
  `Authorization: Bearer ${token}`,
  '--checks',
  'not_a_server_error,response_schema_conformance',
  '--max-examples',
  values['max-examples']!,
  '--seed',
  values.seed!,
  '--workers',
  values.workers!,
  '--generation-database',
  'none',
  '--suppress-health-check',
  'all',
  '--report',
  'junit,json',
  '--report-dir',
  report,
  '--no-color',
];
const code = await new Promise<number>((done) => {
  child = spawn(schemathesis, args, { stdio: 'inherit' });
  child.on('exit', (c, signal) => done(c ?? (signal ? 130 : 1)));
});
child = undefined;
log(`schemathesis exited ${code}; reports in ${report}`);
await pipeline.stop();
stopPipeline = undefined;
await infra.stop();
process.exit(code);
